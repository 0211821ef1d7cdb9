"""Fixtures of the console tests (helpers are in console_helpers.py)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from console_helpers import DEADLINE_MS
from supervisor.common.link import BrokerLink
from supervisor.console.settings import ConsoleSettings
from supervisor.console.window import MainWindow


@pytest.fixture
def isolated_settings(tmp_path, qapp):
    """QSettings go to tmp_path: a test never reads or writes the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    yield tmp_path / "settings"
    QSettings().clear()


@pytest.fixture
def open_console(qtbot, isolated_settings):
    """Factory: ``open_console(broker)`` -> a shown, live MainWindow; closed and stopped after."""
    made: list[tuple[MainWindow, BrokerLink]] = []

    def make_link(settings: ConsoleSettings) -> BrokerLink:
        link = BrokerLink(settings.link_settings(), "supervisor", settings.who, name="test-console")
        made.append((None, link))
        return link

    def open_(handle, live: bool = True) -> MainWindow:
        settings = ConsoleSettings(command_endpoint=handle.server.command_endpoint,
                                   events_endpoint=handle.server.events_endpoint, who="boss")
        link = make_link(settings)
        window = MainWindow(link, settings, link_factory=make_link, restore_layout=False)
        qtbot.addWidget(window)
        made.append((window, link))
        link.start()
        window.show()
        if live:
            qtbot.waitUntil(lambda: link.live and not window.stale, timeout=DEADLINE_MS)
        return window

    yield open_
    for window, link in made:
        if window is not None:
            window.close()
        link.stop()
