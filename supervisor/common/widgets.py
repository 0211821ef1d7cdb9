"""Small widgets both the console and the agent window use."""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMenu, QWidget

from broker.wire.client import ConnectionStatus
from supervisor.common import i18n

#: state -> (colour, sentence); sentences go through tr() in ConnectionBadge
_LOOK = {
    "live": "#1e8e3e",
    "syncing": "#c77c02",
    "connecting": "#c77c02",
    "lost": "#c5221f",
    "stopped": "#5f6368",
}


class ConnectionBadge(QLabel):
    """Always-visible connection state: connected / re-syncing / lost since when.

    While the link is not live, whatever else the window shows is stale; the
    badge says so, and ``stale`` is there for views that grey themselves out.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = ConnectionStatus("connecting", time.time())
        self.setObjectName("connectionBadge")
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._render)
        self._timer.start()
        self._render()

    @property
    def stale(self) -> bool:
        return self.status.state != "live"

    def set_status(self, status: ConnectionStatus) -> None:
        self.status = status
        self._render()

    def _render(self) -> None:
        st = self.status
        ago = max(0, int(time.time() - st.since))
        since = time.strftime("%H:%M:%S", time.localtime(st.since))
        if st.state == "live":
            text = self.tr("● Connected")
        elif st.state == "syncing":
            text = self.tr("● Re-syncing… (data may be stale)")
        elif st.state == "connecting":
            text = self.tr("● Connecting… data stale since %1").replace("%1", since)
        elif st.state == "lost":
            text = self.tr("● Connection lost since %1 (%2 s) — data is stale").replace(
                "%1", since).replace("%2", str(ago))
        else:
            text = self.tr("● Stopped")
        if st.detail and st.state != "live":
            text += f" — {st.detail}"
        self.setText(text)
        self.setToolTip(self.tr("gaps detected: %1, re-syncs: %2").replace("%1", str(st.gaps))
                        .replace("%2", str(st.resyncs)))
        style = (f"QLabel#connectionBadge {{ color: {_LOOK.get(st.state, '#5f6368')}; "
                 "font-weight: bold; padding: 2px 6px; }")
        if style != self.styleSheet():  # setting it re-polishes the label, even when it is the same
            self.setStyleSheet(style)


def fill_language_menu(menu: QMenu, current: str, choose: Callable[[str], None]) -> dict[str, QAction]:
    """One checkable entry per language, only one checked; returns them by language code."""
    group = QActionGroup(menu)
    group.setExclusive(True)
    actions = {}
    for code, name in i18n.LANGUAGES.items():
        action = menu.addAction(name)  # each language named in itself
        action.setCheckable(True)
        action.setChecked(code == current)
        action.triggered.connect(lambda _checked=False, c=code: choose(c))
        group.addAction(action)
        actions[code] = action
    return actions


def place(window: QWidget, side: str) -> None:
    """Put ``window`` on the ``side`` of its screen (``cli_options.PLACES``), full height."""
    from PySide6.QtGui import QGuiApplication

    from supervisor.common.cli_options import PLACES

    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    start, share = PLACES[side]
    window.setGeometry(area.x() + int(area.width() * start), area.y(), int(area.width() * share), area.height())


#: Python runs signal handlers only between bytecodes, never while Qt's event loop
#: waits in C: a timer wakes the interpreter this often so a SIGTERM is noticed
SIGNAL_POLL_MS = 250


def close_on_termination(window: QWidget) -> QTimer:
    """SIGINT and SIGTERM close ``window`` as its close button would: layout saved,
    link stopped, exit status 0 (a service manager reads -15 as a crash)."""
    import signal

    signal.signal(signal.SIGINT, lambda *_: window.close())
    signal.signal(signal.SIGTERM, lambda *_: window.close())
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    return wake
