"""Agent-window fixtures: windows on a real loopback broker that clean up.

Each window gets its own ``BrokerLink`` subscribed to the agent streams; the
factory closes every window and stops every link before the broker stops.
Helpers (``submit``, ``DEADLINE_MS``) are in agent_helpers.py.
"""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from agent_helpers import DEADLINE_MS
from supervisor.agentwin.window import AGENT_STREAMS, AgentWindow
from supervisor.common.link import BrokerLink, LinkSettings


@pytest.fixture
def isolated_settings(tmp_path, qapp):
    """QSettings go to tmp_path: a test never reads or writes the user's (the window
    modules use it for every test: ``pytestmark``)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def open_window(qtbot, start_broker):
    """Factory: ``open_window(broker, agent_id, show=True, live=True)`` -> AgentWindow."""
    made: list[tuple[AgentWindow, BrokerLink]] = []

    def open_(broker, agent_id: str, *, show: bool = True, live: bool = True, **kw) -> AgentWindow:
        settings = LinkSettings(command_endpoint=broker.server.command_endpoint,
                                events_endpoint=broker.server.events_endpoint)
        link = BrokerLink(settings, "agent", agent_id, streams=AGENT_STREAMS, name=f"test-{agent_id}")
        window = AgentWindow(link, dialogs=False, **kw)
        qtbot.addWidget(window)
        made.append((window, link))
        link.start()
        if show:
            window.show()
        if live:
            qtbot.waitUntil(lambda: link.live and window.desk.me is not None, timeout=DEADLINE_MS)
        return window

    yield open_
    for window, link in made:
        window.close()
        link.stop()
