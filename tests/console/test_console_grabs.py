"""Grab transparency in the console: an inquiry's attempts and an agent's, from the broker's record."""
from __future__ import annotations

import pytest

from broker.wire import protocol as p
from supervisor.common import i18n

from helpers import agent_spec
from console_helpers import DEADLINE_MS, floor


@pytest.fixture
def chinese(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.install("zh_CN")
    yield
    i18n.install("en")


def _rows(view) -> list[list[str]]:
    table = view.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_an_inquirys_attempts_say_who_won_and_why_the_others_did_not(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"),
          agent_spec("a3", group="g1", skills=("after_sales",)))
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    for agent, grab in (("a1", "g1"), ("a2", "g2"), ("a3", "g3")):
        broker.client("agent", agent).call(p.Grab, grab_id=grab, inquiry="q1")
    window = open_console(broker)
    window.show_grabs("inquiry", "q1")
    qtbot.waitUntil(lambda: window.grabs.table.rowCount() == 3, timeout=DEADLINE_MS)
    rows = {row[1]: row for row in _rows(window.grabs)}
    assert rows["a1"][3] == "won" and rows["a1"][4] == ""
    assert (rows["a2"][3], rows["a2"][4]) == ("lost", "taken by a1")
    assert (rows["a3"][3], rows["a3"][4]) == ("refused", "agent a3 lacks skill pre_sales")
    assert "won by a1" in window.grabs.summary.text()
    window.show_grabs("agent", "a2")
    qtbot.waitUntil(lambda: window.grabs.table.rowCount() == 1, timeout=DEADLINE_MS)
    assert _rows(window.grabs)[0][1:4] == ["q1", _rows(window.grabs)[0][2], "lost"]


def test_an_unknown_inquiry_says_so_in_the_users_language(broker, open_console, qtbot, chinese):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    window.show_grabs("inquiry", "no-such")
    qtbot.waitUntil(lambda: window.grabs.summary.text() == "咨询 no-such 没有抢单记录", timeout=DEADLINE_MS)
    assert window.grabs.table.rowCount() == 0
