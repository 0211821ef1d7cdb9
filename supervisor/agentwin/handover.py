"""Handing an inquiry to another skill's pool, and the customer's earlier inquiries.

``PoolTransferDialog`` picks the pool (pre-sales to after-sales) and a note
for whoever takes it next; the broker keeps the inquiry's arrival time.
``CustomerPanel`` shows, for the inquiry selected in My inquiries, the note
it came with and what the customer asked before (when, which skill, how it
ended, who served), from the broker's store (``query_customer``).
"""
from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox,
                               QHeaderView, QLabel, QPlainTextEdit, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text

#: earlier inquiries shown for a customer
HISTORY_ROWS = 20


class PoolTransferDialog(QDialog):
    """Choose the skill's pool and write the note; ``accepted`` when the agent confirms."""

    def __init__(self, skills: list[str], current_skill: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("poolTransferDialog")
        self.skill = QComboBox()
        for skill in skills:
            if skill != current_skill:
                self.skill.addItem(skill, skill)
        self.note = QPlainTextEdit()
        self.note.setMaximumBlockCount(20)
        self.note.setFixedHeight(90)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.skill_label, self.note_label = QLabel(), QLabel()
        form = QFormLayout()
        form.addRow(self.skill_label, self.skill)
        form.addRow(self.note_label, self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setWindowTitle(self.tr("Transfer to another pool"))
        self.skill_label.setText(self.tr("Pool:"))
        self.note_label.setText(self.tr("Note for the next agent:"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Transfer"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.skill.count() > 0)

    def chosen(self) -> tuple[str, str]:
        """(skill, note)"""
        return self.skill.currentData() or "", self.note.toPlainText().strip()[:p.MAX_TEXT_CHARS]


class CustomerPanel(QGroupBox):
    """The selected inquiry's note and its customer's earlier inquiries."""

    COLUMNS = 5

    def __init__(self, link, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("customerPanel")
        self.link = link
        self.desk = desk
        self.inquiry_id: str | None = None
        self.customer = ""
        self.note = QLabel()
        self.note.setObjectName("handoverNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("background: #fef7e0; color: #3c4043; padding: 4px;")
        self.summary = QLabel()
        self.table = QTableWidget(0, self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.retranslate()
        self.show_inquiry(None)

    def set_link(self, link) -> None:
        self.link = link

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Customer"))
        self.table.setHorizontalHeaderLabels([self.tr("When"), self.tr("Skill"), self.tr("Outcome"),
                                              self.tr("Served by"), self.tr("Satisfaction")])

    def show_inquiry(self, inquiry_id: str | None) -> None:
        """Show the note and the history for an inquiry I hold (None: clear)."""
        inq = self.desk.mirror.inquiries.get(inquiry_id) if inquiry_id else None
        self.note.setVisible(bool(inq is not None and inq.note))
        if inq is not None and inq.note:
            self.note.setText(self.tr("Note: %1").replace("%1", inq.note))
        customer = inq.customer if inq is not None else ""
        if inquiry_id == self.inquiry_id and customer == self.customer:
            return
        self.inquiry_id, self.customer = inquiry_id, customer
        self.table.setRowCount(0)
        if inq is None:
            self.summary.setText(self.tr("Select one of my inquiries to see its customer's earlier ones"))
            return
        if not customer:
            self.summary.setText(self.tr("This inquiry names no customer"))
            return
        self.summary.setText(self.tr("Asking the broker…"))
        self.link.request(p.QueryCustomer, lambda reply, i=inquiry_id: self._answered(i, reply),
                          customer=customer, limit=HISTORY_ROWS + 1)

    def _answered(self, inquiry_id: str, reply) -> None:
        if not shiboken6.isValid(self) or inquiry_id != self.inquiry_id:
            return  # the agent moved on to another inquiry meanwhile
        if isinstance(reply, BrokerRefused):
            self.summary.setText(broker_text().refusal(reply))
            return
        if not isinstance(reply, p.CustomerHistory):
            self.summary.setText(self.tr("No answer from the broker: %1").replace("%1", str(reply)))
            return
        earlier = [row for row in reply.inquiries if row.id != inquiry_id][:HISTORY_ROWS]
        self.summary.setText(self.tr("%1: no earlier inquiries").replace("%1", reply.customer) if not earlier
                             else self.tr("%1: %2 earlier inquiries").replace("%1", reply.customer)
                             .replace("%2", str(len(earlier))))
        self.table.setRowCount(len(earlier))
        for r, row in enumerate(earlier):
            cells = [time.strftime("%m-%d %H:%M", time.localtime(row.arrived_at)), row.skill,
                     broker_text().word(row.state), self.desk.agent_name(row.owner) if row.owner else "–",
                     "★" * row.satisfaction if row.satisfaction else "–"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setToolTip(row.id)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
