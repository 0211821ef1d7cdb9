"""The agent desk's plain state: no Qt, no sockets."""
from __future__ import annotations

import msgspec
import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from broker.wire.mirror import Mirror
from supervisor.agentwin.state import (
    SLA_BREACH, SLA_OK, SLA_WARN, AgentDeskState, BrokerClock, first_response_countdown,
    me_view, resolution_countdown, sla_level,
)

NOW = 1_795_000_000.0


class FixedClock(BrokerClock):
    def __init__(self, now: float):
        super().__init__(lambda: now)


def agent(agent_id="a1", skills=("pre_sales",), languages=("zh",), **kw) -> p.AgentRecord:
    return p.AgentRecord(id=agent_id, name=kw.pop("name", agent_id.upper()),
                         skills={s: 3 for s in skills}, languages=list(languages),
                         status=kw.pop("status", "online"), **kw)


def inquiry(inquiry_id, skill="pre_sales", language="zh", arrived=NOW - 60, queued=None, **kw):
    return p.InquiryRecord(id=inquiry_id, shop="s1", skill=skill, language=language,
                           arrived_at=arrived, queued_at=queued if queued is not None else arrived, **kw)


def event(seq, kind, record, removed=False, at=NOW):
    return p.Event(seq=seq, kind=kind, at=at, record=record, removed=removed)


def mirror_with(*records) -> Mirror:
    m = Mirror()
    m.reset([p.ShopRecord(id="s1"), *records], p.SnapshotEnd(re="x", epoch="e", seq=1, streams={},
                                                              now=NOW, records=len(records)))
    return m


def desk_for(*records, me="a1") -> AgentDeskState:
    desk = AgentDeskState(me, FixedClock(NOW))
    desk.reset(mirror_with(*records))
    return desk


def test_pool_holds_only_eligible_queued_oldest_first():
    desk = desk_for(agent(), inquiry("new", arrived=NOW - 10), inquiry("old", arrived=NOW - 90),
                    inquiry("en", language="en"), inquiry("after", skill="after_sales"),
                    inquiry("held", state="held", owner="a2"),
                    inquiry("mine", state="held", owner="a1", taken_at=NOW - 5))
    assert desk.pool.rows == ["old", "new"]
    assert desk.mine.rows == ["mine"]
    assert desk.oldest() == "old"


def test_events_move_inquiries_and_report_arrivals():
    desk = desk_for(agent())
    m = desk.mirror
    q1 = inquiry("q1")
    m.apply([event(2, "inquiry.queued", q1)])
    assert desk.apply([event(2, "inquiry.queued", q1)]) == ["q1"]
    taken = msgspec.structs.replace(q1, state="held", owner="a2", taken_at=NOW)
    m.apply([event(3, "inquiry.grabbed", taken)])
    assert desk.apply([event(3, "inquiry.grabbed", taken)]) == []
    assert len(desk.pool) == 0
    back = msgspec.structs.replace(taken, state="queued", owner=None, queued_at=NOW + 1)
    released = event(4, "inquiry.released", back, at=NOW + 1)
    m.apply([released])
    assert desk.apply([released]) == ["q1"]
    assert desk.pool.records.get("q1").arrived_at == q1.arrived_at


def test_visibility_delay_holds_an_inquiry_back_until_it_passes():
    now = [NOW]
    desk = AgentDeskState("a1", BrokerClock(lambda: now[0]))
    desk.reset(mirror_with(agent(visibility_delay_s=5.0), inquiry("q1", arrived=NOW - 1, queued=NOW - 1)))
    assert desk.pool.rows == []
    assert desk.tick() == []
    now[0] += 4.5
    assert desk.tick() == ["q1"]
    assert desk.pool.rows == ["q1"]


def test_a_change_to_my_skills_rebuilds_the_pool():
    desk = desk_for(agent(), inquiry("q1", skill="after_sales"))
    assert len(desk.pool) == 0
    wider = agent(skills=("pre_sales", "after_sales"))
    desk.mirror.apply([event(2, "agent.defined", wider)])
    assert desk.apply([event(2, "agent.defined", wider)]) == ["q1"]


def test_won_verdict_moves_the_row_before_the_event_arrives():
    desk = desk_for(agent(), inquiry("q1"))
    grab = desk.begin_grab("q1", 0.0)
    assert grab is not None
    assert desk.begin_grab("q1", 0.1) is None, "a second grab while one is in flight"
    step = desk.grab_reply(grab.grab_id, p.Verdict(re="m", grab_id=grab.grab_id, inquiry="q1",
                                                   outcome="won", winner="a1", won_at=NOW), 0.2)
    assert step.verdict.outcome == "won"
    assert desk.pool.rows == [] and desk.mine.rows == ["q1"]
    assert desk.grab is None


def test_lost_verdict_names_the_winner():
    desk = desk_for(agent(), agent("a2", name="Bob"), inquiry("q1"))
    grab = desk.begin_grab("q1", 0.0)
    step = desk.grab_reply(grab.grab_id, p.Verdict(
        re="m", grab_id=grab.grab_id, inquiry="q1", outcome="lost", code=p.ErrorCode.ALREADY_TAKEN,
        reason="taken by a2", winner="a2"), 0.1)
    assert step.verdict.winner_name == "Bob"
    assert desk.pool.rows == []


def test_a_timed_out_grab_is_retried_with_the_same_grab_id():
    desk = desk_for(agent(), inquiry("q1"))
    grab = desk.begin_grab("q1", 0.0)
    step = desk.grab_reply(grab.grab_id, TimeoutError("no reply"), 2.0)
    assert step.retry is not None and step.retry.grab_id == grab.grab_id
    assert step.retry.attempts == 2
    step = desk.grab_reply(grab.grab_id, ConnectionError("lost"), 4.0)
    assert step.retry.grab_id == grab.grab_id
    assert desk.grab_reply("stale", TimeoutError(), 4.1) is None
    step = desk.grab_reply(grab.grab_id, TimeoutError(), 60.0)
    assert step.verdict.outcome == "failed" and desk.grab is None


def test_an_error_reply_ends_the_grab_with_its_code():
    desk = desk_for(agent(), inquiry("q1"))
    grab = desk.begin_grab("q1", 0.0)
    error = p.Error(re="m", code=p.ErrorCode.RATE_LIMITED, reason="slow down")
    step = desk.grab_reply(grab.grab_id, BrokerRefused(error), 0.1)
    assert step.verdict.outcome == "failed" and step.verdict.code == "rate-limited"


@pytest.mark.parametrize("remaining, flags, expected", [
    (100, (), SLA_OK), (100, ("first_response.warn",), SLA_WARN), (0, (), SLA_BREACH), (-5, (), SLA_BREACH),
    (10, ("first_response.breach",), SLA_BREACH), (10, ("resolution.warn",), SLA_OK), (None, (), SLA_OK),
])
def test_sla_level_is_the_brokers_flag_or_a_passed_deadline(remaining, flags, expected):
    assert sla_level(remaining, flags, "first_response") == expected


def test_countdowns_run_to_the_deadlines_the_broker_sent():
    # deadlines no shop policy would give: the window counts to what the record says
    inq = inquiry("q", skill="complaint", arrived=NOW - 50, first_response_due=NOW + 10,
                  resolution_due=NOW + 250, sla=("first_response.warn",))
    first = first_response_countdown(inq, NOW)
    assert first.remaining_s == pytest.approx(10) and first.level == SLA_WARN and not first.met
    assert resolution_countdown(inq, NOW).remaining_s == pytest.approx(250)
    assert resolution_countdown(inq, NOW + 300).level == SLA_BREACH
    replied = msgspec.structs.replace(inq, first_response_at=NOW - 1)
    assert first_response_countdown(replied, NOW).met
    undated = inquiry("old")  # from a broker that sent no deadline: nothing to count down to
    assert first_response_countdown(undated, NOW).remaining_s is None


def test_me_view_uses_the_brokers_numbers():
    rec = agent(held=2, grabs_today=7, service_since=NOW - 3600,
                effective=p.Quotas(concurrent_cap=5, daily_grabs=300, continuous_hours=4.0))
    view = me_view(rec, NOW)
    assert (view.held, view.concurrent_cap, view.grabs_today, view.daily_grabs) == (2, 5, 7, 300)
    assert view.service_s == pytest.approx(3600) and view.continuous_hours == 4.0


def test_the_plain_state_does_not_import_qt():
    import subprocess
    import sys

    code = "import sys, supervisor.agentwin.state; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
