"""What the agent asks of the broker, and what the broker answered.

Every action is a request through the link; its answer (or refusal, or
silence) comes back on the GUI thread. A grab is one command with a
client-chosen ``grab_id``; a retry after a time-out or a dropped connection
reuses that ``grab_id``, which the broker answers with the same verdict, so
asking again can never win twice. The desk decides when to retry
(``AgentDeskState.grab_reply``); this class only sends. The other commands
report in one sentence for the status bar (``message``). Nothing here
changes what the window shows: the broker's events do.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text
from supervisor.agentwin.state import GRAB_ATTEMPT_TIMEOUT_S, AgentDeskState, GrabInFlight

log = logging.getLogger(__name__)

#: a grab whose connection dropped is sent again after this pause
GRAB_RETRY_PAUSE_MS = 300


class DeskActions(QObject):
    """Sends Grab, FirstResponse, Resolve, Release, Transfer and SetStatus for one agent."""

    #: a grab has its verdict (a VerdictView: won, lost, refused, or failed for want of one)
    verdict_ready = Signal(object)
    #: a sentence for the status bar about a command's outcome
    message = Signal(str)
    #: the broker answered a status change (accepted or not): show its status again
    status_answered = Signal()

    def __init__(self, link, desk: AgentDeskState, parent: QObject | None = None):
        super().__init__(parent)
        self.link = link
        self.desk = desk

    # ------------------------------------------------------------------ grabbing

    def grab(self, inquiry_id: str) -> bool:
        """Send one grab; False when one is already in flight (a double press)."""
        grab = self.desk.begin_grab(inquiry_id, time.monotonic())
        if grab is None:
            return False
        self._send_grab(grab)
        return True

    def _send_grab(self, grab: GrabInFlight) -> None:
        grab_id = grab.grab_id
        self.link.request(p.Grab, lambda reply: self._on_grab_reply(grab_id, reply),
                          timeout_s=GRAB_ATTEMPT_TIMEOUT_S, grab_id=grab_id, inquiry=grab.inquiry)

    def _on_grab_reply(self, grab_id: str, reply) -> None:
        step = self.desk.grab_reply(grab_id, reply, time.monotonic())
        if step is None:
            return
        if step.retry is not None:
            log.info("grab %s unanswered (%s); asking again", grab_id, reply)
            if isinstance(reply, ConnectionError):
                QTimer.singleShot(GRAB_RETRY_PAUSE_MS, lambda g=step.retry: self._resend(g))
            else:
                self._send_grab(step.retry)
            return
        self.verdict_ready.emit(step.verdict)

    def _resend(self, grab: GrabInFlight) -> None:
        if self.desk.grab is grab:
            self._send_grab(grab)

    # ------------------------------------------------------------------ my inquiries

    def respond(self, inquiry_id: str) -> None:
        self.link.request(p.FirstResponse, self._reply(self.tr("First response noted for %1"), inquiry_id),
                          inquiry=inquiry_id)

    def resolve(self, inquiry_id: str, satisfaction: int | None = None) -> None:
        self.link.request(p.Resolve, self._reply(self.tr("Resolved %1"), inquiry_id),
                          inquiry=inquiry_id, satisfaction=satisfaction)

    def release(self, inquiry_id: str) -> None:
        self.link.request(p.Release, self._reply(self.tr("Released %1 back to the pool"), inquiry_id),
                          inquiry=inquiry_id)

    def transfer(self, inquiry_id: str, to_agent: str) -> None:
        done = self.tr("Transferred %1 to %2").replace("%2", self.desk.agent_name(to_agent))
        self.link.request(p.Transfer, self._reply(done, inquiry_id), inquiry=inquiry_id, to_agent=to_agent)

    def transfer_to_pool(self, inquiry_id: str, skill: str, note: str) -> None:
        """Into another skill's pool with a note; its arrival time is kept."""
        done = self.tr("Transferred %1 to the %2 pool").replace("%2", skill)
        self.link.request(p.TransferToPool, self._reply(done, inquiry_id), inquiry=inquiry_id, skill=skill, note=note)

    def _reply(self, done: str, inquiry_id: str):
        def on_reply(reply) -> None:
            if isinstance(reply, p.Ok):
                self.message.emit(done.replace("%1", inquiry_id))
            elif isinstance(reply, BrokerRefused):
                self.message.emit(self.tr("Not done: %1").replace("%1", broker_text().refusal(reply)))
            else:
                self.message.emit(self.tr("No answer from the broker: %1").replace("%1", str(reply)))
        return on_reply

    # ------------------------------------------------------------------ me

    def set_status(self, status: str) -> None:
        self.link.request(p.SetStatus, self._on_status_reply, status=status)

    def _on_status_reply(self, reply) -> None:
        if isinstance(reply, BrokerRefused):
            self.message.emit(self.tr("Status not changed: %1").replace("%1", broker_text().refusal(reply)))
        self.status_answered.emit()
