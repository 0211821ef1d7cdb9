"""The wallboard: the floor's five figures, large enough to read across a room.

Queue, longest wait, first-response SLA today, agents online, agents at their
cap, from the broker's floor metrics. Shown full screen from View →
Wallboard (F11; Esc or F11 leaves). While the link is not live the figures
turn grey and a banner says since when, so a wall never shows stale numbers
as current; when the broker is back they are live again.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from broker.wire import protocol as p
from supervisor.common.formats import format_duration

#: the figures, in reading order
TILES = ("queue", "longest_wait", "sla_today", "online", "at_cap")
LIVE_COLOUR = "#202124"
STALE_COLOUR = "#9aa0a6"
#: figure height as a share of the window's height, so a wall-sized screen gets wall-sized digits
FIGURE_SHARE = 0.16
TITLE_SHARE = 0.035


def figures(metrics: p.FloorMetrics | None, now: float) -> dict[str, str]:
    """The tiles' texts from the latest metrics; the longest wait runs on with the floor's clock."""
    if metrics is None:
        return {name: "–" for name in TILES}
    waits = [wait for _inquiry, wait in metrics.longest_wait.values()]
    longest = max(waits) + max(0.0, now - metrics.at) if waits else None
    sla = metrics.sla_attainment.get("first_response.today")
    return {
        "queue": str(sum(metrics.queue_by_skill.values())),
        "longest_wait": format_duration(longest) if longest is not None else "0:00",
        "sla_today": f"{100 * sla:.0f} %" if sla is not None else "–",
        "online": str(metrics.agents_online),
        "at_cap": str(metrics.agents_at_cap),
    }


class Wallboard(QWidget):
    """A top-level window of five large figures; ``refresh`` once a second, ``set_stale`` on link changes."""

    #: the user asked to leave (Esc, F11)
    leave_requested = Signal()

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("wallboard")
        self.state = state
        self.stale = False
        self._stale_since: float | None = None
        self.setStyleSheet("#wallboard { background: white; }")
        self.titles: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        for index, name in enumerate(TILES):
            title, value = QLabel(), QLabel("–")
            value.setObjectName(f"wall_{name}")
            for label in (title, value):
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row, column = divmod(index, 3)
            grid.addWidget(title, row * 2, column)
            grid.addWidget(value, row * 2 + 1, column)
            self.titles[name], self.values[name] = title, value
        self.banner = QLabel()
        self.banner.setObjectName("wallBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clock = QLabel()
        self.clock.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.clock, 3, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(grid, 1)
        self.retranslateUi()
        self._restyle()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("grabdesk wallboard"))
        texts = {"queue": self.tr("Queue"), "longest_wait": self.tr("Longest wait"),
                 "sla_today": self.tr("First response SLA today"), "online": self.tr("Online"),
                 "at_cap": self.tr("At cap")}
        for name, label in self.titles.items():
            label.setText(texts[name])
        self._banner()

    def refresh(self) -> None:
        now = self.state.clock()
        for name, text in figures(self.state.mirror.metrics, now).items():
            self.values[name].setText(text)
        self.clock.setText(time.strftime("%H:%M:%S", time.localtime(now)))

    def set_stale(self, stale: bool) -> None:
        if stale and not self.stale:
            self._stale_since = time.time()
        self.stale = stale
        self._banner()
        self._restyle()

    def _banner(self) -> None:
        if self.stale:
            since = time.strftime("%H:%M:%S", time.localtime(self._stale_since or time.time()))
            self.banner.setText(self.tr("Not live since %1 — figures are stale").replace("%1", since))
        self.banner.setVisible(self.stale)

    def _restyle(self) -> None:
        height = max(self.height(), 480)
        colour = STALE_COLOUR if self.stale else LIVE_COLOUR
        for label in self.values.values():
            label.setStyleSheet(f"color: {colour}; font-size: {int(height * FIGURE_SHARE)}px; font-weight: bold;")
        for label in (*self.titles.values(), self.clock):
            label.setStyleSheet(f"color: #5f6368; font-size: {int(height * TITLE_SHARE)}px;")
        self.banner.setStyleSheet(f"color: white; background: #c5221f; font-size: {int(height * TITLE_SHARE)}px;")

    def resizeEvent(self, event) -> None:
        self._restyle()
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_F11):
            self.leave_requested.emit()
            return
        super().keyPressEvent(event)
