"""Who is good at what: per agent and skill figures from the broker's statistics."""
from __future__ import annotations

from broker.wire import protocol as p

from helpers import agent_spec
from console_helpers import DEADLINE_MS, floor


def _serve(broker, agent: str, inquiry: str, skill: str, satisfaction: int) -> None:
    broker.submit(p.NewInquiry(id=inquiry, shop="s1", skill=skill))
    client = broker.client("agent", agent)
    assert client.call(p.Grab, grab_id=f"g-{inquiry}", inquiry=inquiry).outcome == "won"
    client.call(p.FirstResponse, inquiry=inquiry)
    client.call(p.Resolve, inquiry=inquiry, satisfaction=satisfaction)


def test_lists_handled_times_and_satisfaction_per_agent_and_skill(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1", skills=("pre_sales", "after_sales")), agent_spec("a2", group="g1"))
    _serve(broker, "a1", "q1", "pre_sales", 5)
    _serve(broker, "a1", "q2", "after_sales", 3)
    _serve(broker, "a2", "q3", "pre_sales", 4)
    _serve(broker, "a2", "q4", "pre_sales", 2)
    window = open_console(broker)
    view = window.skills
    view.refresh()
    qtbot.waitUntil(lambda: view.table.rowCount() == 3, timeout=DEADLINE_MS)
    rows = {(view.table.item(r, 0).text(), view.table.item(r, 1).text()):
            [view.table.item(r, c).text() for c in range(2, 6)] for r in range(3)}
    assert rows[("a2", "pre_sales")][0] == "2"
    assert rows[("a2", "pre_sales")][3] == "3.00 (2)"
    assert rows[("a1", "after_sales")][3] == "3.00 (1)"
    view.filter.setText("after")
    assert [r for r in range(3) if not view.table.isRowHidden(r)] == \
        [r for r in range(3) if view.table.item(r, 1).text() == "after_sales"]
    view.table.sortItems(2)  # handled, ascending: the one-inquiry pairs first
    assert view.table.item(2, 0).text() == "a2"
