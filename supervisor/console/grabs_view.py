"""Grab transparency: who tried to grab an inquiry, when, how fast, and why each lost or was refused;
or one agent's latest attempts.

The broker records every attempt (``query_grabs``, ``query_agent_grabs``);
this view asks and lists them. Reasons are the broker's, in the user's
language where the broker's key says which sentence it is.
"""
from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text

#: outcome -> text colour, so a long list reads at a glance
OUTCOME_COLOURS = {"won": "#188038", "lost": "#b06000", "refused": "#c5221f"}


def _clock_ms(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


class GrabsView(QWidget):
    """Look up an inquiry's grab attempts, or an agent's."""

    def __init__(self, link, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("grabsView")
        self.link = link
        self.scope = QComboBox()
        self.key = QLineEdit()
        self.key.setObjectName("grabsKey")
        self.key.returnPressed.connect(self.look_up)
        self.button = QPushButton()
        self.button.clicked.connect(self.look_up)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        row = QHBoxLayout()
        row.addWidget(self.scope)
        row.addWidget(self.key, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.retranslateUi()

    def set_link(self, link) -> None:
        self.link = link

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        index = self.scope.currentIndex()
        self.scope.clear()
        self.scope.addItems([self.tr("Inquiry"), self.tr("Agent")])
        self.scope.setCurrentIndex(max(0, index))
        self.key.setPlaceholderText(self.tr("inquiry or agent id"))
        self.button.setText(self.tr("Show grabs"))
        self._headers()

    def _headers(self) -> None:
        by_agent = self.scope.currentIndex() == 1
        self.table.setHorizontalHeaderLabels([
            self.tr("Time"), self.tr("Inquiry") if by_agent else self.tr("Agent"), self.tr("After"),
            self.tr("Outcome"), self.tr("Why")])

    # ------------------------------------------------------------------ asking

    def show_inquiry(self, inquiry_id: str) -> None:
        """Look up an inquiry's attempts (from the inquiry table, an alert, the chart)."""
        self.scope.setCurrentIndex(0)
        self.key.setText(inquiry_id)
        self.look_up()

    def show_agent(self, agent_id: str) -> None:
        self.scope.setCurrentIndex(1)
        self.key.setText(agent_id)
        self.look_up()

    def look_up(self) -> None:
        key = self.key.text().strip()
        if not key:
            self.summary.setText(self.tr("Type an inquiry or agent id"))
            return
        self._headers()
        self.table.setRowCount(0)
        self.summary.setText(self.tr("Asking the broker…"))
        if self.scope.currentIndex() == 1:
            self.link.request(p.QueryAgentGrabs, self._answered, agent=key)
        else:
            self.link.request(p.QueryGrabs, self._answered, inquiry=key)

    def _answered(self, reply) -> None:
        if not shiboken6.isValid(self):
            return
        if isinstance(reply, p.GrabHistory):
            self._fill_inquiry(reply)
        elif isinstance(reply, p.AgentGrabs):
            self._fill_agent(reply)
        elif isinstance(reply, BrokerRefused):
            self.summary.setText(broker_text().refusal(reply))
        else:
            self.summary.setText(self.tr("No answer from the broker: %1").replace("%1", str(reply)))

    # ------------------------------------------------------------------ showing

    def _fill_inquiry(self, history: p.GrabHistory) -> None:
        if not history.attempts:
            self.summary.setText(self.tr("Nobody has tried to grab %1 yet").replace("%1", history.inquiry))
            return
        self.summary.setText(self.tr("%1: %2 attempts, won by %3").replace("%1", history.inquiry)
                             .replace("%2", str(len(history.attempts)))
                             .replace("%3", history.winner or self.tr("nobody")))
        rows = [(a.at, a.agent, a.latency_s, a.outcome, self._why(a.outcome, a.code, a.reason, history.winner))
                for a in history.attempts]
        self._fill(rows)

    def _fill_agent(self, grabs: p.AgentGrabs) -> None:
        if not grabs.attempts:
            self.summary.setText(self.tr("%1 has no grab attempts recorded").replace("%1", grabs.agent))
            return
        won = sum(a.outcome == "won" for a in grabs.attempts)
        self.summary.setText(self.tr("%1: latest %2 attempts, %3 won").replace("%1", grabs.agent)
                             .replace("%2", str(len(grabs.attempts))).replace("%3", str(won)))
        self._fill([(a.at, a.inquiry, a.latency_s, a.outcome, self._why(a.outcome, a.code, a.reason, a.winner))
                    for a in grabs.attempts])

    def _why(self, outcome: str, code: str, reason: str, winner: str | None) -> str:
        if outcome == "won":
            return ""
        if outcome == "lost" and winner:
            return broker_text().reason("grab.taken", {"winner": winner}, reason, code)
        return broker_text().reason("", {}, reason, code)

    def _fill(self, rows: list[tuple]) -> None:
        self.table.setRowCount(len(rows))
        for r, (at, who, latency_s, outcome, why) in enumerate(rows):
            cells = [_clock_ms(at), who, f"{latency_s:.2f} s", broker_text().word(outcome), why]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setForeground(QColor(OUTCOME_COLOURS.get(outcome, "#202124")))
                if c == 4:
                    item.setToolTip(text)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
