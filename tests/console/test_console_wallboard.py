"""The wallboard: five large figures, full screen from the View menu, stale while the broker is away."""
from __future__ import annotations

from PySide6.QtCore import Qt

from helpers import agent_spec
from console_helpers import DEADLINE_MS, floor, free_port, submit


def test_the_view_menu_shows_the_floor_full_screen_and_esc_leaves(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"), agent_spec("a2", group="g1"))
    submit(broker, "q1", "q2", "q3")
    window = open_console(broker)
    window.wallboard_action.trigger()
    wall = window.wallboard
    assert wall.isVisible() and wall.windowState() & Qt.WindowState.WindowFullScreen
    qtbot.waitUntil(lambda: wall.values["queue"].text() == "3", timeout=DEADLINE_MS)
    assert wall.values["online"].text() == "2"
    assert wall.values["at_cap"].text() == "0"
    figure_px = wall.values["queue"].fontInfo().pixelSize()
    assert figure_px >= 4 * window.fontInfo().pixelSize(), "readable across a room"
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert not wall.isVisible() and not window.wallboard_action.isChecked()


def test_the_wallboard_survives_a_broker_restart(start_broker, open_console, qtbot):
    endpoints = dict(command_endpoint=f"tcp://127.0.0.1:{free_port()}",
                     events_endpoint=f"tcp://127.0.0.1:{free_port()}")
    first = start_broker(**endpoints)
    floor(first, agent_spec("a1", group="g1"))
    submit(first, "q1")
    window = open_console(first)
    window.show_wallboard(True)
    wall = window.wallboard
    qtbot.waitUntil(lambda: wall.values["queue"].text() == "1", timeout=DEADLINE_MS)
    assert not wall.banner.isVisible()
    first.stop()
    qtbot.waitUntil(lambda: wall.stale, timeout=DEADLINE_MS)
    assert wall.banner.isVisible() and "stale" in wall.banner.text()
    assert "#9aa0a6" in wall.values["queue"].styleSheet(), "the figures are greyed"
    assert wall.values["queue"].text() == "1", "the last known figure stays, marked stale"
    second = start_broker(**endpoints)
    qtbot.waitUntil(lambda: not wall.stale, timeout=3 * DEADLINE_MS)
    submit(second, "q2")
    qtbot.waitUntil(lambda: wall.values["queue"].text() == "2", timeout=3 * DEADLINE_MS)
    assert not wall.banner.isVisible()
