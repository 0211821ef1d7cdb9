"""What the broker publishes so clients need not work it out: availability and SLA deadlines.

The windows show an agent at its cap, a likely-refused reassignment and SLA
countdowns from these fields alone (docs/protocol.md 8.1 and 8.2), so each must
be what the arbiter itself enforces, on every record it publishes.
"""
from __future__ import annotations

import msgspec
import pytest

from broker.arbiter.core import Arbiter, CoreConfig
from broker.wire.protocol import (
    AgentSpec, ErrorCode, Event, InquiryRecord, NewInquiry, Quotas, ShopRecord, SlaPolicy,
)

START = 1_795_000_000.0
_event = msgspec.msgpack.Decoder(Event)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def floor():
    clock = Clock()
    core = Arbiter(CoreConfig(), clock=clock)
    core.define_shop(ShopRecord(id="s1", sla=SlaPolicy(first_response_s=600, resolution_s=1200, warn_pct=50),
                                sla_by_skill={"complaint": SlaPolicy(first_response_s=60, resolution_s=300)}))
    core.define_agent(AgentSpec(id="a1", skills={"pre_sales": 3, "complaint": 3}, languages=["zh"], quality=95.0,
                                quotas=Quotas(concurrent_cap=1, continuous_hours=1.0, break_minutes=15.0)))
    core.drain()
    return core, clock


def published(core: Arbiter) -> list[Event]:
    return [_event.decode(e.raw) for e in core.drain().events]


def last_agent(core: Arbiter, agent_id: str = "a1"):
    return [e.record for e in published(core) if getattr(e.record, "id", None) == agent_id
            and e.kind.startswith("agent.")][-1]


def test_every_published_agent_record_says_whether_it_can_be_handed_work(floor):
    core, clock = floor
    core.set_status("a1", "away", "test")
    assert last_agent(core).unavailable == ErrorCode.NOT_ELIGIBLE
    core.set_status("a1", "online", "test")
    raw = [e.raw for e in core.drain().events]
    assert _event.decode(raw[-1]).record.unavailable == ""
    assert b"unavailable" not in raw[-1], "available: the field is left out of the event"
    core.submit(NewInquiry(id="q1", shop="s1", skill="pre_sales"), "intake")
    assert core.grab("a1", "q1", "g1").outcome == "won"
    at_cap = last_agent(core)
    assert at_cap.held == 1 and at_cap.unavailable == ErrorCode.QUOTA_CONCURRENT, "the at-cap flag"
    core.resolve("a1", "q1", None)
    assert last_agent(core).unavailable == ""
    clock.now += 3600.0 + 2  # the continuous-service limit: the broker forces a break
    core.tick()
    on_break = last_agent(core)
    assert on_break.forced_break and on_break.unavailable == ErrorCode.QUOTA_HOURS


def test_the_flag_is_the_refusal_a_transfer_gets(floor):
    core, _clock = floor
    core.define_agent(AgentSpec(id="a2", skills={"pre_sales": 3}, languages=["zh"], quality=95.0,
                                quotas=Quotas(concurrent_cap=1)))
    core.set_status("a1", "online", "test")
    core.set_status("a2", "online", "test")
    for inquiry_id, agent_id in (("q1", "a1"), ("q2", "a2")):
        core.submit(NewInquiry(id=inquiry_id, shop="s1", skill="pre_sales"), "intake")
        assert core.grab(agent_id, inquiry_id, f"g-{inquiry_id}").outcome == "won"
    published(core)
    with pytest.raises(Exception) as refused:
        core.transfer("a1", "q1", "a2")
    assert refused.value.code == ErrorCode.QUOTA_CONCURRENT == core.agents["a2"].unavailable


def test_inquiries_carry_the_deadlines_the_timers_check(floor):
    core, clock = floor
    core.submit(NewInquiry(id="q1", shop="s1", skill="pre_sales", arrived_at=START - 100), "intake")
    core.submit(NewInquiry(id="c1", shop="s1", skill="complaint"), "intake")
    records = {e.record.id: e.record for e in published(core) if isinstance(e.record, InquiryRecord)}
    assert (records["q1"].first_response_due, records["q1"].resolution_due) == (START + 500, START + 1100)
    assert (records["c1"].first_response_due, records["c1"].resolution_due) == (START + 60, START + 300), \
        "the policy for the skill"
    # a policy changed later does not move a deadline already published, and the timers keep to it
    core.define_shop(ShopRecord(id="s1", sla=SlaPolicy(first_response_s=60, resolution_s=120, warn_pct=50)))
    published(core)
    clock.now = START + 149.0  # past 50 % of the new policy's 60 s, short of 50 % of the published 600 s
    core.tick()
    assert "first_response.warn" not in core.inquiries["q1"].sla
    clock.now = START + 200.0 + 1  # 50 % of the way from arrival to the published deadline
    core.tick()
    assert core.inquiries["q1"].sla == ("first_response.warn",)
    clock.now = START + 500.0
    core.tick()
    assert "first_response.breach" in core.inquiries["q1"].sla, "breached at the published deadline"
