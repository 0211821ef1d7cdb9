"""What the customer wrote and what the robot replied, for the inquiry the agent selected.

The broker keeps the transcript apart from the inquiry events (they stay
small); this panel asks for it (``query_transcript``) when an inquiry is
selected or taken, and shows why and to which desk the robot handed it over.
"""
from __future__ import annotations

import time

import shiboken6
from PySide6.QtWidgets import QGroupBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text


class TranscriptPanel(QGroupBox):
    """The selected inquiry's escalation (reason, skill) and its transcript."""

    def __init__(self, link, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transcriptPanel")
        self.link = link
        self.desk = desk
        self.inquiry_id: str | None = None
        self.escalation = QLabel()
        self.escalation.setObjectName("escalation")
        self.escalation.setWordWrap(True)
        self.escalation.setStyleSheet("background: #fce8e6; color: #3c4043; padding: 4px;")
        self.text = QPlainTextEdit()
        self.text.setObjectName("transcript")
        self.text.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.escalation)
        layout.addWidget(self.text, 1)
        self.retranslate()
        self.show_inquiry(None)

    def set_link(self, link) -> None:
        self.link = link

    def retranslate(self) -> None:
        self.setTitle(self.tr("Conversation"))

    def show_inquiry(self, inquiry_id: str | None) -> None:
        """Show the transcript of ``inquiry_id`` (None: clear); asks the broker once per inquiry."""
        inq = self.desk.mirror.inquiries.get(inquiry_id) if inquiry_id else None
        self.escalation.setVisible(bool(inq is not None and inq.escalation))
        if inq is not None and inq.escalation:
            self.escalation.setText(self.tr("Handed over by the robot: %1, for %2")
                                    .replace("%1", self.reason_words(inq.escalation)).replace("%2", inq.skill))
        if inquiry_id == self.inquiry_id:
            return
        self.inquiry_id = inquiry_id
        if inq is None:
            self.text.setPlainText(self.tr("Select an inquiry to see what the customer wrote"))
            return
        self.text.setPlainText(self.tr("Asking the broker…"))
        self.link.request(p.QueryTranscript, lambda reply, i=inquiry_id: self._answered(i, reply),
                          inquiry=inquiry_id)

    def _answered(self, inquiry_id: str, reply) -> None:
        if not shiboken6.isValid(self) or inquiry_id != self.inquiry_id:
            return  # the agent moved on meanwhile
        if isinstance(reply, BrokerRefused):
            text = (self.tr("The customer wrote nothing the broker kept")
                    if reply.key == "transcript.none" else broker_text().refusal(reply))
            self.text.setPlainText(text)
            return
        if not isinstance(reply, p.Transcript):
            self.text.setPlainText(self.tr("No answer from the broker: %1").replace("%1", str(reply)))
            return
        record = reply.transcript
        lines = []
        for n, line in enumerate(record.lines):
            if n == 1 and record.dropped:
                lines.append(self.tr("… %1 earlier lines not kept").replace("%1", str(record.dropped)))
            lines.append(f"{time.strftime('%H:%M:%S', time.localtime(line.at))} "
                         f"{self.who_words(line.who)}: {line.text}")
        self.text.setPlainText("\n".join(lines))

    def who_words(self, who: str) -> str:
        return {"customer": self.tr("Customer"), "robot": self.tr("Robot"), "agent": self.tr("Agent")}.get(who, who)

    def reason_words(self, reason: str) -> str:
        """The robot's escalation reason in the UI language (an unknown one as it is)."""
        return {
            "low-confidence": self.tr("not sure what the customer means"),
            "human-request": self.tr("the customer asked for a person"),
            "complaint": self.tr("complaint"),
            "not-helped": self.tr("the robot's answer did not help"),
            "pre-sales": self.tr("a pre-sales question"),
            "out-of-scope": self.tr("outside what the robot answers"),
            "bad-input": self.tr("a message the robot could not read"),
            "order-not-found": self.tr("order not found"),
            "lookup-failed": self.tr("the order lookup failed"),
            "robot-timeout": self.tr("the robot did not answer in time"),
            "robot-unavailable": self.tr("no robot to answer"),
        }.get(reason, reason)
