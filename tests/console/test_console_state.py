"""The console's plain state: derived from a Mirror, no Qt, no sockets."""
from __future__ import annotations

import math

import numpy as np
import pytest

from broker.wire import protocol as p
from broker.wire.mirror import Mirror
from supervisor.common.rows import Insert
from supervisor.console.history import QueueHistory
from supervisor.common.records import continuous_service_s
from supervisor.console.state import (QUOTA_FIELDS, AuditFilter, ConsoleState, LatencyProbe, QueueTracker,
                                      agent_matcher, at_cap, fraction, inquiry_matcher, on_break,
                                      target_hints)

from console_helpers import NOW, agent, event, inquiry, snapshot
def make_state(*records) -> tuple[Mirror, ConsoleState]:
    mirror = Mirror()
    snapshot(mirror, *records)
    state = ConsoleState(mirror, clock=lambda: NOW)
    return mirror, state


def apply(mirror: Mirror, state: ConsoleState, *events: p.Event) -> None:
    mirror.apply(events)
    state.apply(events)


# ---------------------------------------------------------------------- derivations

def test_agent_derivations():
    a = agent("a1", held=5)
    assert at_cap(a)
    assert fraction(a.held, a.effective.concurrent_cap) == 1.0
    assert fraction(3, None) is None and fraction(0, 0) == 1.0
    assert continuous_service_s(a, NOW) == 3600
    assert continuous_service_s(agent("a2", status="away"), NOW) is None
    assert on_break(agent("a3", status="break"))
    assert not on_break(a)


def test_quota_fields_cover_every_quota_the_broker_knows():
    assert sorted(QUOTA_FIELDS) == sorted(p.Quotas.__struct_fields__)


def test_target_hints_explain_with_the_broker_rules_and_flags():
    inq = inquiry("q1", skill="complaint", language="en")
    [(rule, sentence)] = target_hints(agent("a1"), inq)
    assert rule == "skill" and "lacks skill complaint" in sentence
    ok_agent = agent("a2", skills={"complaint": 3}, languages=["en"])
    assert target_hints(ok_agent, inq) == []
    away = agent("a3", skills={"complaint": 3}, languages=["en"], status="away")
    assert [r for r, _ in target_hints(away, inq)] == ["not-eligible"]
    capped = agent("a4", skills={"complaint": 3}, languages=["en"], held=5)
    assert [r for r, _ in target_hints(capped, inq)] == ["quota-concurrent"]
    assert [r for r, _ in target_hints(ok_agent, inquiry("q2", skill="complaint", language="en", owner="a2",
                                                            state="held"))] == ["owner"]
    assert [r for r, _ in target_hints(agent("a5", status="away"), inq)] == ["skill", "not-eligible"], \
        "every reason that applies"


def test_availability_is_the_brokers_flag_not_a_local_estimate():
    # what the broker sent wins over what the numbers on the record would suggest
    flagged = agent("a1", held=1, unavailable=p.ErrorCode.QUOTA_CONCURRENT.value)
    assert at_cap(flagged)
    assert [r for r, _ in target_hints(flagged, inquiry("q1"))] == ["quota-concurrent"]
    unflagged = agent("a2", held=5, unavailable="")
    assert not at_cap(unflagged) and target_hints(unflagged, inquiry("q1")) == []


def test_refusal_hints_skip_inquiries_no_longer_open():
    a1 = agent("a1")
    _mirror, state = make_state(a1, inquiry("q1", skill="complaint", language="en"), inquiry("q2"))
    hints = state.refusal_hints(a1, ["q1", "q2", "gone"])
    assert [(h.rule, h.inquiry.id, h.agent.id) for h in hints] == [("skill", "q1", "a1")]


# ---------------------------------------------------------------------- queue and history

def test_queue_tracker_counts_and_longest_waiter():
    qt = QueueTracker()
    qt.reset([inquiry("q1", arrived_at=100.0), inquiry("q2", arrived_at=50.0),
              inquiry("q3", skill="logistics", arrived_at=70.0)])
    assert qt.depth == {"pre_sales": 2, "logistics": 1}
    assert qt.longest("pre_sales") == ("q2", 50.0)
    qt.update("q2", inquiry("q2", arrived_at=50.0, state="held", owner="a1"))
    assert qt.depth["pre_sales"] == 1 and qt.held == 1
    assert qt.longest("pre_sales") == ("q1", 100.0)
    qt.update("q2", inquiry("q2", arrived_at=50.0))  # released: keeps its wait
    assert qt.longest("pre_sales") == ("q2", 50.0)
    qt.update("q2", None)
    qt.update("q1", None)
    assert qt.longest("pre_sales") is None and qt.depth["pre_sales"] == 0 and qt.held == 0


def test_queue_tracker_heap_stays_bounded_under_churn():
    qt = QueueTracker()
    for i in range(5_000):
        qt.update("q", inquiry("q", arrived_at=float(i)))
        qt.update("q", inquiry("q", arrived_at=float(i), state="held", owner="a"))
    assert len(qt._heaps["pre_sales"]) <= 1_002


def test_history_ring_keeps_the_last_samples_contiguous():
    h = QueueHistory(capacity=5)
    for t in range(8):
        h.append(float(t), {"a": t}, {"a": 10.0 * t})
    assert len(h) == 5
    assert list(h.times()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert list(h.depth("a")) == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert list(h.wait("a")) == [30.0, 40.0, 50.0, 60.0, 70.0]
    h.append(8.0, None)  # not live: a gap
    assert math.isnan(h.depth("a")[-1])
    h.append(9.0, {"a": 1, "b": 2})  # a new skill: its past is unknown (NaN), not zero
    assert np.isnan(h.depth("b")[:-1]).all() and h.depth("b")[-1] == 2
    assert h.skills == ["a", "b"]


# ---------------------------------------------------------------------- following events

def test_state_follows_inquiries_agents_and_sla_results():
    mirror, state = make_state(agent("a1"), agent("a2"), inquiry("q1", arrived_at=NOW - 300),
                               inquiry("q2", arrived_at=NOW - 100))
    assert state.inquiries.rows == ["q1", "q2"], "longest wait first"
    assert state.queue.depth["pre_sales"] == 2
    state.agents.take(), state.inquiries.take()
    apply(mirror, state, event(inquiry("q3", arrived_at=NOW - 10)),
          event(inquiry("q1", arrived_at=NOW - 300, state="held", owner="a1")),
          event(agent("a1", held=1)))
    assert state.inquiries.rows == ["q1", "q2", "q3"]
    ops, dirty = state.inquiries.take()
    assert ops == [Insert(2, "q3")] and dirty == {"q1"}
    assert state.queue.depth["pre_sales"] == 2 and state.queue.held == 1
    assert state.longest_waits(NOW) == {"pre_sales": ("q2", 100.0)}
    resolved = inquiry("q1", arrived_at=NOW - 300, state="resolved", owner="a1",
                       sla=["first_response.warn"])
    apply(mirror, state, event(resolved, "inquiry.resolved", removed=True), event(agent("a1")))
    assert state.inquiries.rows == ["q2", "q3"]
    assert state.sla_met("a1") == (1, 1)
    breached = inquiry("q2", state="resolved", owner="a1", sla=["resolution.breach"])
    apply(mirror, state, event(breached, "inquiry.resolved", removed=True))
    assert state.sla_met("a1") == (1, 2)
    _, agent_dirty = state.agents.take()
    assert "a1" in agent_dirty


def test_summary_and_samples_without_metrics_then_with():
    mirror, state = make_state(agent("a1", held=5), agent("a2", status="away"),
                               inquiry("q1", arrived_at=NOW - 90),
                               inquiry("q2", skill="logistics", arrived_at=NOW - 30))
    s = state.summary(NOW)
    assert (s.queued, s.agents_online, s.agents_at_cap) == (2, 1, 1)
    assert s.longest == ("pre_sales", "q1", 90.0)
    assert s.metrics is None
    state.sample(NOW, live=True)
    assert state.history.latest_depth("pre_sales") == 1
    assert state.history.wait("pre_sales")[-1] == 90.0
    metrics = p.FloorMetrics(at=NOW, queue_by_skill={"pre_sales": 1}, agents_online=1,
                             sla_attainment={"first_response.today": 0.97})
    before = state.metrics_version
    apply(mirror, state, event(metrics))
    assert state.metrics_version == before + 1
    assert state.summary(NOW).metrics.sla_attainment["first_response.today"] == 0.97
    state.sample(NOW + 1, live=False)
    assert math.isnan(state.history.latest_depth("pre_sales"))


def test_alerts_are_kept_newest_first_and_trimmed(monkeypatch):
    import supervisor.console.state as state_module
    monkeypatch.setattr(state_module, "ALERTS_KEPT", 3)
    mirror, state = make_state()
    for i in range(5):
        alert = p.Alert(id=f"x{i}", kind="sla.warn", severity="warning", at=NOW + i, text=f"t{i}",
                        inquiry=f"q{i}")
        apply(mirror, state, event(alert))
    assert state.alerts.rows == ["x4", "x3", "x2"]


def test_audit_merges_query_results_with_live_entries_and_filters():
    mirror, state = make_state()
    state.add_audit([p.AuditEntry(seq=3, at=NOW, actor="boss", role="supervisor", kind="set_quotas",
                                  subject="a1", reason="busy day"),
                     p.AuditEntry(seq=1, at=NOW, actor="root", role="admin", kind="define_agents")])
    apply(mirror, state, event(p.AuditEntry(seq=7, at=NOW, actor="boss", role="supervisor",
                                            kind="reassign", subject="q1", reason="not eligible",
                                            ok=False)))
    state.add_audit([p.AuditEntry(seq=3, at=NOW, actor="boss", role="supervisor", kind="set_quotas",
                                  subject="a1", reason="busy day")])  # a duplicate is one row
    assert state.audit.rows == [7, 3, 1]
    state.set_audit_filter(AuditFilter(actor="boss"))
    assert state.audit.rows == [7, 3]
    state.set_audit_filter(AuditFilter(only_refusals=True))
    assert state.audit.rows == [7]
    state.set_audit_filter(AuditFilter(kind_prefix="set_"))
    assert state.audit.rows == [3]
    state.set_audit_filter(AuditFilter(text="busy"))
    assert state.audit.rows == [3]


def test_filters_and_pending_edits():
    mirror, state = make_state(agent("a1", name="周敏"), agent("a2", status="break", group="g2"),
                               inquiry("q1"), inquiry("q2", state="held", owner="a1"))
    state.agents.set_filter(agent_matcher("break"))
    assert state.agents.rows == ["a2"]
    state.agents.set_filter(agent_matcher("周"))
    assert state.agents.rows == ["a1"]
    state.inquiries.set_filter(inquiry_matcher("held"))
    assert state.inquiries.rows == ["q2"]
    state.inquiries.set_filter(inquiry_matcher("all", "q1"))
    assert state.inquiries.rows == ["q1"]
    state.agents.take()
    state.begin_edit("a1", "concurrent_cap", 7)
    assert state.pending == {("a1", "concurrent_cap"): 7}
    assert state.agents.take()[1] == {"a1"}
    state.end_edit("a1", "concurrent_cap")
    assert not state.pending


def test_latency_probe_measures_from_the_broker_change():
    mirror, state = make_state()
    state.probe = LatencyProbe()
    apply(mirror, state, event(inquiry("q9"), at=NOW - 0.05))
    state.probe.shown(NOW)
    assert state.probe.samples_ms == [pytest.approx(50.0)]
    assert not state.probe.pending


def test_sla_thresholds_follow_the_strictest_shop():
    mirror, state = make_state(p.ShopRecord(id="s1", sla=p.SlaPolicy(first_response_s=300, warn_pct=50)),
                               p.ShopRecord(id="s2"))
    assert state.sla_thresholds_s() == (150.0, 300.0)
