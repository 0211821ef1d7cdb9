"""The console's Qt models over plain state, without any widget."""
from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from broker.wire import protocol as p
from broker.wire.mirror import Mirror
from supervisor.console.coverage_models import CoverageModel, NowCoverageModel
from supervisor.common.rowmodel import KeyRole
from supervisor.console.models import (AT_CAP_BG, BREACH_BG, INQUIRY_MIME, AgentModel, AlertModel, AuditModel, FractionRole,
                                       InquiryModel, PendingRole, QueueNowModel, inquiry_ids)
from supervisor.console.state import ConsoleState, agent_matcher, inquiry_matcher

from console_helpers import NOW, agent, event, inquiry, snapshot
def make(*records):
    mirror = Mirror()
    snapshot(mirror, *records)
    return mirror, ConsoleState(mirror, clock=lambda: NOW)


def apply(mirror, state, *events):
    mirror.apply(events)
    state.apply(events)


def texts(model, column: str) -> list:
    col = model.columns.index(column)
    return [model.index(r, col).data() for r in range(model.rowCount())]


def test_agent_model_contract_and_cells(qtmodeltester):
    mirror, state = make(p.GroupRecord(id="g1", name="售前"), agent("a1", held=5),
                         agent("a2", status="break", forced_break=True, break_until=NOW + 600),
                         agent("a3", status="offline", effective=p.Quotas()))
    model = AgentModel(state)
    qtmodeltester.check(model)
    assert texts(model, "agent") == ["a1", "a2", "a3"]
    assert texts(model, "group")[0] == "售前"
    load = model.index(0, model.column_of("load"))
    assert load.data() == "5 / 5"
    assert load.data(FractionRole) == 1.0
    assert load.data(Qt.ItemDataRole.EditRole) == 5
    assert load.data(Qt.ItemDataRole.BackgroundRole) is not None, "at cap stands out"
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None, "on break stands out"
    assert model.index(2, model.column_of("load")).data() == "0 / ∞"
    assert model.index(0, model.column_of("service")).data() == "1:00:00 / 4:00:00", "service and its limit in one form"
    assert model.flags(load) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable


def test_the_brokers_flags_and_deadlines_drive_the_colours():
    mirror, state = make(agent("flagged", held=1, unavailable=p.ErrorCode.QUOTA_CONCURRENT.value),
                         agent("numbers", held=5, unavailable=""),
                         inquiry("late", first_response_due=NOW - 1),
                         inquiry("early", arrived_at=NOW - 3600, first_response_due=NOW + 60))
    agents = AgentModel(state)
    background = {agents.index(r, 0).data(KeyRole): agents.index(r, 0).data(Qt.ItemDataRole.BackgroundRole)
                  for r in range(agents.rowCount())}
    assert background["flagged"] == AT_CAP_BG, "the broker's at-cap flag, whatever the counts say"
    assert background["numbers"] is None, "no flag from the broker: not shown at cap"
    inquiries = InquiryModel(state)
    column = inquiries.column_of("waiting")
    colour = {inquiries.index(r, 0).data(KeyRole): inquiries.index(r, column).data(Qt.ItemDataRole.BackgroundRole)
              for r in range(inquiries.rowCount())}
    assert colour["late"] == BREACH_BG, "past the deadline the broker set"
    assert colour["early"] is None, "an hour's wait is fine when the broker's deadline says so"


def test_agent_edit_asks_the_broker_and_shows_its_value_until_answered(qtbot):
    mirror, state = make(agent("a1", held=2))
    model = AgentModel(state)
    load = model.index(0, model.column_of("load"))
    with qtbot.waitSignal(model.quota_edit_requested) as blocker:
        assert model.setData(load, 8)
    assert blocker.args == ["a1", "concurrent_cap", 8]
    assert load.data() == "2 / 5", "the broker's value stays until it says otherwise"
    state.begin_edit("a1", "concurrent_cap", 8)
    model.flush()
    assert load.data() == "2 / 5 → 8…" and load.data(PendingRole)
    state.end_edit("a1", "concurrent_cap")
    model.flush()
    assert load.data() == "2 / 5"
    model.set_stale(True)
    assert not model.setData(load, 9), "no edits on stale data"
    assert load.data(Qt.ItemDataRole.ForegroundRole) is not None


def test_inquiry_model_follows_state_with_row_operations(qtmodeltester, qtbot):
    mirror, state = make(agent("a1"), inquiry("q1", arrived_at=NOW - 300), inquiry("q2", arrived_at=NOW - 30))
    model = InquiryModel(state)
    qtmodeltester.check(model)
    kept = QPersistentModelIndex(model.index(1, 0))  # q2, e.g. the selection
    with qtbot.waitSignal(model.rowsInserted):
        apply(mirror, state, event(inquiry("q0", arrived_at=NOW - 900)),
              event(inquiry("q3", arrived_at=NOW - 1)))
        model.flush()
    assert texts(model, "inquiry") == ["q0", "q1", "q2", "q3"]
    assert kept.row() == 2 and kept.data() == "q2"
    with qtbot.waitSignal(model.dataChanged) as changed:
        apply(mirror, state, event(inquiry("q1", arrived_at=NOW - 300, state="held", owner="a1")))
        model.flush()
    assert changed.args[0].row() == 1 and changed.args[1].row() == 1, "row-scoped"
    assert model.index(1, model.column_of("owner")).data() == "a1"
    with qtbot.waitSignal(model.rowsRemoved):
        apply(mirror, state, event(inquiry("q0", state="abandoned"), "inquiry.abandoned", removed=True))
        model.flush()
    assert texts(model, "inquiry") == ["q1", "q2", "q3"]
    assert model.index(0, model.column_of("waiting")).data() == "5:00"
    # sort on request, then back; persistent indexes follow the rows
    model.sort(model.column_of("inquiry"), Qt.SortOrder.DescendingOrder)
    assert texts(model, "inquiry") == ["q3", "q2", "q1"]
    assert kept.data() == "q2"
    state.inquiries.set_filter(inquiry_matcher("queued"))
    model.flush()
    assert set(texts(model, "inquiry")) == {"q2", "q3"}
    qtmodeltester.check(model)


def test_inquiry_mime_carries_ids():
    mirror, state = make(inquiry("q1"), inquiry("q2", arrived_at=NOW - 5))
    model = InquiryModel(state)
    assert model.mimeTypes() == [INQUIRY_MIME]
    mime = model.mimeData([model.index(0, 0), model.index(0, 3), model.index(1, 0)])
    assert json.loads(bytes(mime.data(INQUIRY_MIME)).decode()) == ["q1", "q2"]
    assert inquiry_ids(mime) == ["q1", "q2"]
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled


def test_a_burst_larger_than_the_log_is_synced(qtmodeltester):
    mirror, state = make()
    model = InquiryModel(state)
    events = [event(inquiry(f"q{i:05d}", arrived_at=NOW - i)) for i in range(3_000)]
    apply(mirror, state, *events)
    model.flush()
    assert model.rowCount() == 3_000
    assert model.index(0, 0).data() == "q02999"
    qtmodeltester.check(model)


def test_agent_filter_inserts_and_removes_rows(qtmodeltester):
    mirror, state = make(agent("a1"), agent("a2", status="away"), agent("a3"))
    model = AgentModel(state)
    state.agents.set_filter(agent_matcher("away"))
    model.flush()
    assert texts(model, "agent") == ["a2"]
    apply(mirror, state, event(agent("a3", status="away")))
    model.flush()
    assert texts(model, "agent") == ["a2", "a3"]
    qtmodeltester.check(model)


def test_alert_and_audit_models(qtmodeltester):
    mirror, state = make()
    alerts, audit = AlertModel(state), AuditModel(state)
    apply(mirror, state,
          event(p.Alert(id="x1", kind="sla.breach", severity="critical", at=NOW, text="q1 breached",
                        inquiry="q1")),
          event(p.Alert(id="x2", kind="uneven_grabbing", severity="warning", at=NOW + 1, text="gini",
                        group="g1")),
          event(p.AuditEntry(seq=5, at=NOW, actor="boss", role="supervisor", kind="set_quotas",
                             subject="a1", reason="cap must be between 0 and 1000", ok=False)))
    alerts.flush()
    audit.flush()
    qtmodeltester.check(alerts)
    qtmodeltester.check(audit)
    assert texts(alerts, "link") == ["g1", "q1"]
    assert alerts.index(1, 0).data(KeyRole) == "x1"
    assert texts(audit, "result") == ["refused"]


def test_coverage_models(qtmodeltester):
    mirror, state = make()
    heat, now_model, queue_now = CoverageModel(state), NowCoverageModel(state), QueueNowModel(state)
    heat.refresh()
    now_model.refresh()
    assert heat.rowCount() == 0 and now_model.rowCount() == 0
    hour = 3600.0 * (int(NOW) // 3600)
    coverage = p.CoverageRecord(at=NOW, cells=[
        p.CoverageCellRecord(hour + h * 3600, skill, rostered=3, required=3 + (h % 3) - 1,
                             gap=1 - (h % 3))
        for h in range(24) for skill in ("pre_sales", "logistics")],
        now=[p.NowCoverage("pre_sales", 4, 3, 1), p.NowCoverage("logistics", 2, 2, 0)])
    apply(mirror, state, event(coverage))
    heat.refresh()
    now_model.refresh()
    qtmodeltester.check(heat)
    qtmodeltester.check(now_model)
    assert heat.rowCount() == 24 and heat.columnCount() == 2, "hours down, skills across"
    assert heat.headerData(0, Qt.Orientation.Horizontal) == "logistics"
    assert heat.headerData(0, Qt.Orientation.Vertical).endswith(":00")
    short = heat.index(2, 0)
    assert short.data() == "-1"
    assert "required 4" in short.data(Qt.ItemDataRole.ToolTipRole)
    assert short.data(Qt.ItemDataRole.BackgroundRole).color().red() > 150
    assert [now_model.index(r, 1).data() for r in range(3)] == [4, 3, 1], "pre_sales: rostered, online, at cap"
    assert now_model.headerData(1, Qt.Orientation.Vertical) == "Online"
    apply(mirror, state, event(inquiry("q1", arrived_at=NOW - 42)))
    queue_now.refresh(NOW, stale=False)
    qtmodeltester.check(queue_now)
    assert [queue_now.index(0, c).data() for c in range(4)] == ["pre_sales", 1, "0:42", "q1"]
    assert queue_now.index(0, 2).data(Qt.ItemDataRole.BackgroundRole) is None
    apply(mirror, state, event(inquiry("q0", arrived_at=NOW - 700, first_response_due=NOW - 1)))
    queue_now.refresh(NOW, stale=False)
    assert queue_now.index(0, 2).data(Qt.ItemDataRole.BackgroundRole) == BREACH_BG, "past the broker's deadline"


def test_header_titles_come_from_tr():
    mirror, state = make()
    model = AgentModel(state)
    assert model.headerData(5, Qt.Orientation.Horizontal) == "Held / cap"
    assert model.headerData(99, Qt.Orientation.Horizontal) is None
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None
