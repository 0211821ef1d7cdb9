"""The console against a real broker on loopback: it shows, it acts, the broker decides."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QSpinBox

from broker.wire import protocol as p
from supervisor.common.rowmodel import STALE_FG
from supervisor.console.models import INQUIRY_MIME
from supervisor.console.settings import ConsoleSettings
from supervisor.console.window import MainWindow

from helpers import agent_spec
from console_helpers import DEADLINE_MS, cell, floor, free_port, submit


def test_shows_an_arriving_inquiry_and_a_grab(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"))
    window = open_console(broker)
    assert window.agents.model.rowCount() == 2
    submit(broker, "q1")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "state") == "queued", timeout=DEADLINE_MS)
    broker.client("agent", "a1").call(p.Grab, grab_id="g1", inquiry="q1")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "owner") == "a1", timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: cell(window, "agents", "a1", "load") == "1 / 5", timeout=DEADLINE_MS)
    assert cell(window, "agents", "a1", "grabs") == "1 / 300"
    assert window.state.queue.held == 1


def edit_cell(window: MainWindow, qtbot, agent_id: str, column: str, value) -> None:
    """Type a value into the table's in-place editor and press Enter, as a user would."""
    view, model = window.agents.view, window.agents.model
    index = model.index(model.row_of(agent_id), model.column_of(column))
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(QSpinBox)
    assert editor is not None, "the quota cell opens a spin box"
    editor.setValue(value)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_quota_changed_in_place_is_accepted_by_the_broker(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    edit_cell(window, qtbot, "a1", "load", 7)
    qtbot.waitUntil(lambda: cell(window, "agents", "a1", "load") == "0 / 7", timeout=DEADLINE_MS)
    assert broker.core.agents["a1"].effective.concurrent_cap == 7
    assert "accepted" in window.last_result.text()
    qtbot.waitUntil(lambda: any(e.kind == "set_quotas" and e.ok and e.actor == "boss"
                                for e in window.state.audit_by_seq.values()), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: window.audit.model.rowCount() >= 1, timeout=DEADLINE_MS)


def test_refused_quota_change_reverts_and_shows_the_reason(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    edit_cell(window, qtbot, "a1", "grabs", 200_000)  # the broker allows at most 100,000
    qtbot.waitUntil(lambda: "daily_grabs must be between" in window.last_result.text(), timeout=DEADLINE_MS)
    assert window.last_result.text().startswith("Quota change for a1 refused")
    assert ("a1", "daily_grabs") not in window.state.pending
    qtbot.waitUntil(lambda: cell(window, "agents", "a1", "grabs") == "0 / 300", timeout=DEADLINE_MS)
    assert broker.core.agents["a1"].effective.daily_grabs == 300
    # the refusal is in the audit log, and the refusal filter finds it
    qtbot.waitUntil(lambda: any(not e.ok for e in window.state.audit_by_seq.values()), timeout=DEADLINE_MS)
    window.audit.refusals.setChecked(True)
    assert window.audit.model.rowCount() >= 1
    assert window.audit.model.index(0, window.audit.model.column_of("result")).data() == "refused"


def test_group_quota_from_the_dialog(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"))
    window = open_console(broker)
    dialog = window.open_quota_dialog("a1")
    dialog.scope.setCurrentIndex(1)  # a whole group
    assert dialog.target.currentData() == "g1"
    dialog.spins["concurrent_cap"].setValue(3)
    assert dialog.requested() == p.Quotas(concurrent_cap=3)
    dialog.reason.setText("evening peak")
    with qtbot.waitSignal(dialog.finished, timeout=DEADLINE_MS):
        dialog.apply()
    qtbot.waitUntil(lambda: cell(window, "agents", "a2", "load") == "0 / 3", timeout=DEADLINE_MS)
    assert broker.core.groups["g1"].quotas.concurrent_cap == 3


def test_refused_change_in_the_dialog_stays_open_with_the_reason(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    dialog = window.open_quota_dialog("a1")
    dialog.spins["concurrent_cap"].setValue(5_000)
    dialog.apply()
    qtbot.waitUntil(lambda: "concurrent_cap must be between" in dialog.status.text(), timeout=DEADLINE_MS)
    assert dialog.isVisible()
    assert dialog.spins["concurrent_cap"].value() == 5, "back to the broker's value"


def test_reassign_by_dialog_and_ineligible_targets_explained(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"),
          agent_spec("a3", group="g1", skills=("logistics",)))
    window = open_console(broker)
    submit(broker, "q1")
    broker.client("agent", "a1").call(p.Grab, grab_id="g1", inquiry="q1")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "owner") == "a1", timeout=DEADLINE_MS)
    assert window.inquiries.show_inquiry("q1")
    window.inquiries.reassign_button.click()
    dialog = window.dialog
    assert dialog is not None and dialog.inquiry_ids == ["q1"]
    notes = {dialog.targets.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole):
             dialog.targets.topLevelItem(i).text(3) for i in range(dialog.targets.topLevelItemCount())}
    assert "lacks skill pre_sales" in notes["a3"]
    assert "already holds q1" in notes["a1"]
    # the broker decides: an ineligible target can be chosen, and its refusal is shown
    assert dialog.select_target("a3")
    dialog.apply()
    qtbot.waitUntil(lambda: "agent a3 lacks skill pre_sales" in dialog.status.text(), timeout=DEADLINE_MS)
    assert dialog.select_target("a2")
    with qtbot.waitSignal(dialog.finished, timeout=DEADLINE_MS):
        dialog.apply()
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "owner") == "a2", timeout=DEADLINE_MS)
    # and back to the pool
    dialog = window.open_reassign_dialog(["q1"])
    assert dialog.select_target(None)
    dialog.apply()
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "state") == "queued", timeout=DEADLINE_MS)


def drag_payload(window: MainWindow, inquiry_id: str) -> QMimeData:
    """What dragging the inquiry's row carries (the model's own mime data)."""
    model = window.inquiries.model
    return model.mimeData([model.index(model.row_of(inquiry_id), 0)])


def agent_point(window: MainWindow, agent_id: str) -> QPoint:
    view = window.agents.view
    index = view.model().index(view.model().row_of(agent_id), 1)
    view.scrollTo(index)
    return view.visualRect(index).center()


def drag_enter(window: MainWindow, mime: QMimeData) -> None:
    """A drag entering the agent table (Qt delivers moves and drops only to an accepted target)."""
    enter = QDragEnterEvent(QPoint(2, 2), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.agents.view.viewport(), enter)
    assert enter.isAccepted(), "the agent table takes inquiry drags"


def test_reassign_by_drag_and_drop(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"),
          agent_spec("a3", group="g1", skills=("logistics",)))
    window = open_console(broker)
    submit(broker, "q1")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "state") == "queued", timeout=DEADLINE_MS)
    mime = drag_payload(window, "q1")
    assert mime.hasFormat(INQUIRY_MIME)
    viewport = window.agents.view.viewport()
    hints: list[str] = []
    window.agents.view.drop_hint.connect(hints.append)
    drag_enter(window, mime)
    # hovering over an agent who lacks the skill explains the likely refusal
    move = QDragMoveEvent(agent_point(window, "a3"), Qt.DropAction.MoveAction, mime,
                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    assert any("lacks skill pre_sales" in h for h in hints)
    drop = QDropEvent(QPointF(agent_point(window, "a2")), Qt.DropAction.MoveAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "owner") == "a2", timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: "reassigned to a2" in window.last_result.text(), timeout=DEADLINE_MS)
    # a drop the broker refuses: its verdict is shown, nothing moves
    mime = drag_payload(window, "q1")
    drag_enter(window, mime)
    drop = QDropEvent(QPointF(agent_point(window, "a3")), Qt.DropAction.MoveAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    qtbot.waitUntil(lambda: "agent a3 lacks skill pre_sales" in window.last_result.text(), timeout=DEADLINE_MS)
    assert broker.core.inquiries["q1"].owner == "a2"


def test_broker_restart_marks_data_stale_then_resyncs(start_broker, open_console, qtbot):
    endpoints = dict(command_endpoint=f"tcp://127.0.0.1:{free_port()}",
                     events_endpoint=f"tcp://127.0.0.1:{free_port()}")
    first = start_broker(**endpoints)
    first.define()
    floor(first, agent_spec("a1", group="g1"))
    submit(first, "q1")
    window = open_console(first)
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "state") == "queued", timeout=DEADLINE_MS)
    first.stop()
    qtbot.waitUntil(lambda: window.stale, timeout=DEADLINE_MS)
    model = window.inquiries.model
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).color() == STALE_FG.color(), "rows greyed"
    assert window.stale_banner.text(), "the stale banner says since when"
    assert window.badge.stale
    assert not window.quota_action.isEnabled(), "no edits on stale data"
    assert cell(window, "inquiries", "q1", "state") == "queued", "the last known data stays visible"
    second = start_broker(**endpoints)  # same database, same ports
    qtbot.waitUntil(lambda: window.link.live and not window.stale, timeout=3 * DEADLINE_MS)
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert window.stale_banner.text() == ""
    submit(second, "q2")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q2", "state") == "queued", timeout=DEADLINE_MS)
    assert cell(window, "inquiries", "q1", "state") == "queued", "the durable queue survived"
    assert window.link.status.epoch and window.quota_action.isEnabled()


def test_connect_to_another_broker_starts_over(start_broker, open_console, qtbot, tmp_path):
    first = start_broker()
    first.define()
    floor(first, agent_spec("a1", group="g1"))
    submit(first, "q1")
    second = start_broker(db=str(tmp_path / "second.db"))
    second.define()
    floor(second, agent_spec("b1", group="g1"), agent_spec("b2", group="g1"))
    window = open_console(first)
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q1", "state") == "queued", timeout=DEADLINE_MS)
    old_link = window.link
    window.connect_to(ConsoleSettings(command_endpoint=second.server.command_endpoint,
                                      events_endpoint=second.server.events_endpoint, who="boss"))
    assert window.link is not old_link
    qtbot.waitUntil(lambda: window.link.live and window.agents.model.rowCount() == 2, timeout=DEADLINE_MS)
    assert window.inquiries.model.rowCount() == 0, "nothing of the first floor is left"
    assert old_link.status.state == "stopped"
    submit(second, "q2")
    qtbot.waitUntil(lambda: cell(window, "inquiries", "q2", "state") == "queued", timeout=DEADLINE_MS)
    assert second.server.command_endpoint in window.windowTitle()


def test_alert_links_to_its_inquiry(broker, open_console, qtbot):
    broker.define(shops=[p.ShopRecord(id="fast", sla=p.SlaPolicy(first_response_s=1.0, warn_pct=50.0))],
                  agents=[agent_spec("a1")])
    window = open_console(broker)
    broker.submit(p.NewInquiry(id="q9", shop="fast", skill="pre_sales"))
    qtbot.waitUntil(lambda: any(a.kind == "sla.breach" for a in window.state.alerts_by_id.values()),
                    timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: window.alerts.model.rowCount() >= 2, timeout=DEADLINE_MS)
    window.alerts.activate_row(0)
    selected = window.inquiries.view.selected_ids()
    assert selected == ["q9"]
    assert cell(window, "inquiries", "q9", "sla")


def test_exports_tables_and_charts(broker, open_console, qtbot, tmp_path):
    floor(broker, agent_spec("a1", group="g1", name="周敏"))
    window = open_console(broker)
    submit(broker, "q1")
    qtbot.waitUntil(lambda: window.inquiries.model.rowCount() == 1, timeout=DEADLINE_MS)
    assert window.export_csv("agents", str(tmp_path / "agents.csv")) == 1
    text = (tmp_path / "agents.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Agent,Name,Group")
    assert "周敏" in text
    assert window.export_csv("inquiries", str(tmp_path / "inquiries.csv")) == 1
    assert window.export_png("chart", str(tmp_path / "chart.png"))
    assert window.export_png("coverage", str(tmp_path / "coverage.png"))
    assert (tmp_path / "chart.png").stat().st_size > 1_000


def test_layout_is_remembered(broker, open_console, qtbot):
    window = open_console(broker)
    window.docks["alerts"].hide()
    window.setGeometry(30, 40, 1240, 660)
    window.close()
    again = open_console(broker)
    again.restore_layout()
    assert not again.docks["alerts"].isVisible()
    assert again.height() == 660, "the size comes back (the offscreen screen caps the width)"


def test_placed_left_and_right_the_console_and_an_agent_window_do_not_overlap(qapp):
    from PySide6.QtWidgets import QMainWindow

    from supervisor.common.widgets import place

    console, agent = QMainWindow(), QMainWindow()
    place(console, "left")
    place(agent, "right")
    area = console.screen().availableGeometry()
    assert console.geometry().left() == area.left() and agent.geometry().right() <= area.right()
    assert console.geometry().right() < agent.geometry().left(), "side by side, the agent window in view"
