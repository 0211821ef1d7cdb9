"""Who is good at what: per agent and skill, inquiries handled, time to first response,
resolution time and satisfaction, from the broker's statistics (``query_stats``).

The broker computes the figures over the chosen period of floor time; this
view asks, lists and sorts them. Sorting by a column answers "who is fastest
at after-sales" or "whose customers are happiest".
"""
from __future__ import annotations

import time
from datetime import datetime

import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text
from supervisor.common.formats import format_duration

#: the periods offered, in floor seconds back from now (None: since the floor's midnight)
PERIODS_S: tuple[float | None, ...] = (3600.0, None, 7 * 86400.0)


class _NumberItem(QTableWidgetItem):
    """Sorts by its number, not its text ("10" after "9"); a missing figure sorts last."""

    def __init__(self, text: str, value: float | None):
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:
        mine = self.value if self.value is not None else float("inf")
        theirs = getattr(other, "value", None)
        return mine < (theirs if theirs is not None else float("inf"))


class SkillsView(QWidget):
    """Per agent and skill figures for a period, filterable by agent or skill."""

    COLUMNS = ("agent", "skill", "handled", "first_response", "resolution", "satisfaction")

    def __init__(self, link, clock, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("skillsView")
        self.link = link
        #: fn() -> the floor's time (the broker's clock)
        self.clock = clock
        self.period = QComboBox()
        self.filter = QLineEdit()
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.button = QPushButton()
        self.button.clicked.connect(self.refresh)
        self.summary = QLabel()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        row = QHBoxLayout()
        row.addWidget(self.period)
        row.addWidget(self.filter, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.retranslateUi()

    def set_link(self, link) -> None:
        self.link = link

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        index = self.period.currentIndex()
        self.period.blockSignals(True)
        self.period.clear()
        self.period.addItems([self.tr("Last hour"), self.tr("Today"), self.tr("Last 7 days")])
        self.period.setCurrentIndex(max(0, index if index >= 0 else 1))
        self.period.blockSignals(False)
        self.filter.setPlaceholderText(self.tr("Filter by agent or skill"))
        self.button.setText(self.tr("Refresh"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Agent"), self.tr("Skill"), self.tr("Handled"), self.tr("First response (median)"),
            self.tr("Resolution (median)"), self.tr("Satisfaction")])

    def span(self) -> tuple[float, float]:
        """[since, until) of the chosen period, in floor time."""
        now = self.clock()
        back = PERIODS_S[max(0, self.period.currentIndex())]
        if back is not None:
            return now - back, now
        local = datetime.fromtimestamp(now)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp(), now

    def refresh(self) -> None:
        since, until = self.span()
        if until <= since:
            return
        self.summary.setText(self.tr("Asking the broker…"))
        self.link.request(p.QueryStats, self._answered, since=since, until=until)

    def _answered(self, reply) -> None:
        if not shiboken6.isValid(self):
            return
        if isinstance(reply, p.Stats):
            self._fill(reply)
        elif isinstance(reply, BrokerRefused):
            self.summary.setText(broker_text().refusal(reply))
        else:
            self.summary.setText(self.tr("No answer from the broker: %1").replace("%1", str(reply)))

    def _fill(self, stats: p.Stats) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(stats.rows))
        for r, row in enumerate(stats.rows):
            satisfaction = (f"{row.satisfaction_avg:.2f} ({row.satisfaction_n})"
                            if row.satisfaction_avg is not None else "–")
            cells = [QTableWidgetItem(row.agent), QTableWidgetItem(row.skill),
                     _NumberItem(str(row.resolved), row.resolved),
                     _NumberItem(format_duration(row.first_response_p50_s), row.first_response_p50_s),
                     _NumberItem(format_duration(row.resolution_p50_s), row.resolution_p50_s),
                     # higher is better: sort descending by default reads best first
                     _NumberItem(satisfaction, row.satisfaction_avg)]
            for c, item in enumerate(cells):
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.summary.setText(self.tr("%1 agent and skill pairs, %2 to %3").replace("%1", str(len(stats.rows)))
                             .replace("%2", time.strftime("%m-%d %H:%M", time.localtime(stats.since)))
                             .replace("%3", time.strftime("%m-%d %H:%M", time.localtime(stats.until))))
        self._apply_filter()

    def _apply_filter(self) -> None:
        needle = self.filter.text().strip().lower()
        for r in range(self.table.rowCount()):
            agent, skill = self.table.item(r, 0), self.table.item(r, 1)
            text = f"{agent.text() if agent else ''} {skill.text() if skill else ''}".lower()
            self.table.setRowHidden(r, bool(needle) and needle not in text)
