"""The robot first line in the arbiter: pure calls, a FakeClock, no sockets.

An inquiry of a shop with the robot on goes to a connected robot first (state
``robot``: not in the pool, not grabbable); the robot answers it (it awaits the
customer, then is resolved without a person) or escalates it (to the pool with
the inferred skill, reason and priority bump, its arrival time kept). A robot
that dies or stops answering strands nothing.
"""
from __future__ import annotations

import msgspec
import pytest

from broker.arbiter.core import Arbiter, CoreConfig, Refusal
from broker.wire.mirror import Mirror
from broker.wire.protocol import AgentSpec, ErrorCode, Event, NewInquiry, ShopRecord

from helpers import FakeClock

_event = msgspec.msgpack.Decoder(Event)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def robot_floor(clock, **config) -> Arbiter:
    core = Arbiter(CoreConfig(robot_timeout_s=5.0, robot_await_s=60.0, **config), clock=clock)
    core.define_shop(ShopRecord(id="s1", robot=True))
    core.define_shop(ShopRecord(id="plain"))
    core.define_agent(AgentSpec(id="a1", skills={"pre_sales": 3, "after_sales": 3, "complaint": 3}))
    core.set_status("a1", "online", "test")
    core.robot_seen("r1")
    return core


def arrive(core, inquiry_id, message="我的订单到哪了", shop="s1", skill="", **kw):
    return core.submit(NewInquiry(id=inquiry_id, shop=shop, skill=skill, message=message, **kw), "intake")


def kinds(core) -> list[str]:
    return [e.kind for e in core.drain().events]


def test_a_new_inquiry_goes_to_the_robot_not_the_pool(clock):
    core = robot_floor(clock)
    inq = arrive(core, "i1")
    assert (inq.state, inq.robot, inq.owner) == ("robot", "r1", None)
    assert core.queue_count.get("pre_sales", 0) == 0
    assert core.transcript("i1").lines[0].text == "我的订单到哪了"
    assert core.transcript("i1").robot == "r1"
    verdict = core.grab("a1", "i1", "g1")
    assert verdict.outcome == "refused" and verdict.code == ErrorCode.INVALID_STATE.value
    core.check_invariants()


def test_without_a_robot_or_with_the_robot_off_the_pool_gets_it_with_the_fallback_skill(clock):
    core = robot_floor(clock)
    assert arrive(core, "i1", shop="plain").state == "queued"
    assert core.inquiries["i1"].skill == "pre_sales"
    clock.advance(6.0)
    core.tick()  # r1's lease ran out
    assert not core.robots["r1"].connected
    assert arrive(core, "i2").state == "queued"
    assert core.transcript("i2").lines[0].text == "我的订单到哪了"
    core.check_invariants()


def test_an_answer_awaits_the_customer_then_resolves_without_a_person(clock):
    core = robot_floor(clock)
    arrive(core, "i1")
    clock.advance(1.0)
    inq = core.robot_answer("r1", "i1", "您的订单已发货", skill="logistics")
    assert inq.first_response_at == clock.now and inq.state == "robot" and inq.skill == "logistics"
    clock.advance(59.0)
    core.tick()
    assert "i1" in core.inquiries
    clock.advance(2.0)
    core.tick()
    assert "i1" not in core.inquiries
    closed = core.closed_inquiries()["i1"]
    assert closed.state == "resolved" and closed.owner is None
    core.check_invariants()


def test_the_customer_writing_again_goes_back_to_the_robot(clock):
    core = robot_floor(clock)
    arrive(core, "i1")
    core.robot_answer("r1", "i1", "您的订单已发货")
    clock.advance(10.0)
    core.customer_message("i1", "没用，还是没收到", "intake")
    inq = core.inquiries["i1"]
    assert inq.state == "robot" and inq.robot_answered_at is None
    assert [line.who for line in core.transcript("i1").lines] == ["customer", "robot", "customer"]
    assert core.transcript("i1").robot == "r1"
    clock.advance(200.0)  # the old answer's await timer must not resolve it now
    core.robot_seen("r1")
    core.tick()
    assert core.inquiries["i1"].state == "queued"  # undecided past the timeout: to people
    assert core.inquiries["i1"].escalation == "robot-timeout"


def test_escalation_keeps_arrival_and_carries_skill_reason_priority(clock):
    core = robot_floor(clock)
    arrived = clock.now
    arrive(core, "i1", message="我要投诉，差评！", priority=1)
    clock.advance(2.0)
    inq = core.robot_escalate("r1", "i1", "complaint", "complaint", 3, note="投诉 (complaint, 0.91)")
    assert (inq.state, inq.skill, inq.escalation, inq.priority) == ("queued", "complaint", "complaint", 4)
    assert inq.arrived_at == arrived and inq.queued_at == clock.now
    assert inq.first_response_due == arrived + 600.0  # the SLA counts from arrival
    assert core.robots["r1"].holding == 0 and inq.robot == ""
    assert core.grab("a1", "i1", "g1").outcome == "won"
    assert "inquiry.escalated" in kinds(core)
    core.check_invariants()


def test_a_robot_acting_on_an_inquiry_it_does_not_hold_is_refused(clock):
    core = robot_floor(clock)
    core.robot_seen("r2")
    arrive(core, "i1")  # goes to r1 (both hold none; the first wins the tie)
    holder = core.inquiries["i1"].robot
    other = "r2" if holder == "r1" else "r1"
    with pytest.raises(Refusal) as refused:
        core.robot_answer(other, "i1", "hello")
    assert refused.value.code == ErrorCode.FORBIDDEN and refused.value.key == "robot.not_held"
    with pytest.raises(Refusal) as missing:
        core.robot_escalate(holder, "nope", "complaint", "complaint", 0)
    assert missing.value.code == ErrorCode.NOT_FOUND
    core.robot_answer(holder, "i1", "hello")
    with pytest.raises(Refusal) as twice:
        core.robot_answer(holder, "i1", "hello again")
    assert twice.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(Refusal):
        core.robot_escalate(holder, "i1", "complaint", "complaint", 99)
    core.check_invariants()


def test_a_silent_robot_loses_every_undecided_inquiry_to_the_pool_with_its_arrival(clock):
    core = robot_floor(clock)
    arrivals = {}
    for n in range(5):
        arrivals[f"i{n}"] = clock.now
        arrive(core, f"i{n}")
        clock.advance(0.5)
    core.robot_answer("r1", "i4", "ok")  # answered: awaits the customer, not stranded
    clock.advance(4.0)
    core.tick()
    queued = {i.id: i for i in core.inquiries.values() if i.state == "queued"}
    assert set(queued) == {"i0", "i1", "i2", "i3"}
    assert all(queued[i].arrived_at == arrivals[i] and queued[i].escalation == "robot-timeout" for i in queued)
    assert not core.robots["r1"].connected
    core.customer_message("i4", "not helpful", "intake")  # its robot is gone: to people
    assert core.inquiries["i4"].state == "queued" and core.inquiries["i4"].escalation == "robot-unavailable"
    core.check_invariants()


def test_the_transcript_is_bounded_keeping_the_first_message(clock):
    core = robot_floor(clock, transcript_max_chars=300, transcript_line_chars=100)
    arrive(core, "i1", message="first " * 50)
    first = core.transcript("i1").lines[0].text
    assert len(first) == 100 and first.endswith("[…]")
    core.robot_escalate("r1", "i1", "pre_sales", "pre-sales", 0)
    for n in range(20):
        core.customer_message("i1", f"line {n} " + "x" * 40, "intake")
    record = core.transcript("i1")
    assert record.lines[0].text == first and record.lines[-1].text.startswith("line 19")
    assert sum(len(line.text) for line in record.lines) <= 300 and record.dropped > 0
    with pytest.raises(Refusal):
        core.customer_message("i1", "   ", "intake")


def test_a_mirror_fed_by_events_sees_the_robot_state_and_the_robots(clock):
    core = robot_floor(clock)
    mirror = Mirror()
    mirror.reset(core.snapshot_records(), _end(core))
    core.drain()
    arrive(core, "i1")
    mirror.apply([_event.decode(e.raw) for e in core.drain().events])
    assert mirror.inquiries["i1"].state == "robot" and mirror.robots["r1"].connected
    core.robot_escalate("r1", "i1", "after_sales", "low-confidence", 0)
    mirror.apply([_event.decode(e.raw) for e in core.drain().events])
    assert mirror.inquiries["i1"].state == "queued" and mirror.inquiries["i1"].escalation == "low-confidence"


def test_restart_restores_robot_inquiries_and_transcripts(clock):
    core = robot_floor(clock)
    arrive(core, "i1")
    arrive(core, "i2")
    core.robot_answer("r1", "i2", "ok")
    reborn = Arbiter(CoreConfig(robot_timeout_s=5.0, robot_await_s=60.0), clock=clock)
    reborn.load(core.shops.values(), core.groups.values(), core.agents.values(),
                [msgspec.structs.replace(i) for i in core.inquiries.values()], core.seq, core.stream_last,
                transcripts=list(core.transcripts.values()))
    reborn.check_invariants()
    assert reborn.transcript("i1").lines[0].text == "我的订单到哪了"
    clock.advance(6.0)
    reborn.tick()  # no robot came back: i1 goes to people, i2 still awaits its customer
    assert reborn.inquiries["i1"].state == "queued" and reborn.inquiries["i2"].state == "robot"
    reborn.check_invariants()


def _end(core):
    from broker.wire.protocol import SnapshotEnd

    return SnapshotEnd(re="", epoch="e", seq=core.seq, streams=dict(core.stream_last), now=core.clock(), records=0)
