"""The agent window for the whole job: hand an inquiry to another skill's pool with a note, see the
customer's earlier inquiries, and name inquiries as the console does."""
from __future__ import annotations

import pytest

from PySide6.QtWidgets import QDialogButtonBox

from broker.wire import protocol as p
from supervisor.common.link import BrokerLink
from supervisor.console.settings import ConsoleSettings
from supervisor.console.window import MainWindow

from helpers import agent_spec
from agent_helpers import DEADLINE_MS, submit

pytestmark = pytest.mark.usefixtures("isolated_settings")


def floor(broker, *agents: p.AgentSpec) -> None:
    broker.define(agents=list(agents))
    broker.online(*(a.id for a in agents))


def grab(window, qtbot, inquiry_id: str) -> None:
    qtbot.waitUntil(lambda: inquiry_id in window.desk.pool, timeout=DEADLINE_MS)
    window.grab_inquiry(inquiry_id)
    qtbot.waitUntil(lambda: inquiry_id in window.desk.mine and window.desk.grab is None, timeout=DEADLINE_MS)
    window.mine_panel.select(inquiry_id)


def test_transfer_to_the_after_sales_pool_with_a_note(broker, open_window, qtbot):
    floor(broker, agent_spec("pre", skills=("pre_sales",)), agent_spec("post", skills=("after_sales",)))
    w_pre, w_post = open_window(broker, "pre"), open_window(broker, "post")
    submit(broker, "q1", customer="王女士")
    arrived = broker.core.inquiries["q1"].arrived_at
    grab(w_pre, qtbot, "q1")
    dialog = w_pre.open_pool_transfer()
    assert [dialog.skill.itemData(i) for i in range(dialog.skill.count())] == ["after_sales"]
    dialog.note.setPlainText("收到货有破损，想退款")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "q1" in w_post.desk.pool and "q1" not in w_pre.desk.mine, timeout=DEADLINE_MS)
    inq = broker.core.inquiries["q1"]
    assert (inq.skill, inq.arrived_at, inq.note) == ("after_sales", arrived, "收到货有破损，想退款")
    assert "Transferred q1 to the after_sales pool" in w_pre.statusBar().currentMessage()
    grab(w_post, qtbot, "q1")
    panel = w_post.customer_panel
    qtbot.waitUntil(lambda: panel.note.isVisible() and "想退款" in panel.note.text(), timeout=DEADLINE_MS)


def test_the_customers_earlier_inquiries_show_when_taking_a_new_one(broker, open_window, qtbot):
    floor(broker, agent_spec("a1", name="Alice"), agent_spec("a2", name="Bob"))
    w1, w2 = open_window(broker, "a1"), open_window(broker, "a2")
    submit(broker, "old", customer="c-88")
    grab(w1, qtbot, "old")
    w1.resolve("old", 5)
    qtbot.waitUntil(lambda: "old" not in w1.desk.mine, timeout=DEADLINE_MS)
    submit(broker, "new", customer="c-88")
    grab(w2, qtbot, "new")
    table = w2.customer_panel.table
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=DEADLINE_MS)
    assert [table.item(0, c).text() for c in range(1, 5)] == ["pre_sales", "resolved", "Alice", "★★★★★"]
    assert "c-88: 1 earlier inquiries" in w2.customer_panel.summary.text()


def test_the_agent_window_names_inquiries_as_the_console_does(broker, open_window, qtbot, tmp_path):
    floor(broker, agent_spec("a1"))
    window = open_window(broker, "a1")
    submit(broker, "s1-tpk90m-c0000045", customer="cust-761559")
    link = BrokerLink(ConsoleSettings(command_endpoint=broker.server.command_endpoint,
                                      events_endpoint=broker.server.events_endpoint, who="boss").link_settings(),
                      "supervisor", "boss", name="test-console")
    console = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(console)
    link.start()
    try:
        inquiries = console.inquiries.model

        def console_id() -> str | None:
            row = inquiries.row_of("s1-tpk90m-c0000045")
            return inquiries.index(row, inquiries.column_of("inquiry")).data() if row is not None else None

        qtbot.waitUntil(lambda: console_id() is not None, timeout=DEADLINE_MS)
        qtbot.waitUntil(lambda: "s1-tpk90m-c0000045" in window.desk.pool, timeout=DEADLINE_MS)
        pool = window.pool_panel.model
        pool_id = pool.index(window.desk.pool.position("s1-tpk90m-c0000045"), pool.column_of("inquiry")).data()
        assert pool_id == console_id() == "s1-tpk90m-c0000045"
        grab(window, qtbot, "s1-tpk90m-c0000045")
        mine = window.mine_panel.model
        row = window.desk.mine.position("s1-tpk90m-c0000045")
        assert mine.index(row, mine.column_of("inquiry")).data() == console_id()
        assert mine.index(row, mine.column_of("customer")).data() == "cust-761559"
    finally:
        console.close()
        link.stop()
