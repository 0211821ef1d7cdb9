"""Supervisor commands and the broker's verdicts on them.

Every action is a request through the link; the reply (or the refusal, or the
silence) comes back on the GUI thread and is reported through ``result`` in
the user's language with the broker's own reason. Nothing here changes what
the views show: if the broker accepts, its events update the mirror; if it
refuses, the mirror never changed, so the view already shows the old value.
"""
from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QObject, Signal

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from supervisor.common.broker_text import broker_text
from supervisor.console.state import ConsoleState

log = logging.getLogger(__name__)

#: fields that are whole numbers (an editor may hand over a float)
_INT_QUOTAS = {"concurrent_cap", "daily_grabs"}


class ConsoleActions(QObject):
    """Sends SetQuotas, Reassign and QueryAudit, and reports each verdict."""

    #: (accepted, sentence for the status bar)
    result = Signal(bool, str)

    def __init__(self, link, state: ConsoleState, parent: QObject | None = None):
        super().__init__(parent)
        self.link = link
        self.state = state

    def set_link(self, link) -> None:
        self.link = link

    # ------------------------------------------------------------------ quotas

    def edit_quota(self, agent_id: str, quota: str, value) -> None:
        """An in-place edit of one agent's quota; the cell shows it pending until the answer."""
        value = int(value) if quota in _INT_QUOTAS else float(value)
        self.state.begin_edit(agent_id, quota, value)

        def done(outcome) -> None:
            self.state.end_edit(agent_id, quota)
            self._report(outcome, self.tr("Quota change for %1 accepted").replace("%1", agent_id),
                         self.tr("Quota change for %1 refused").replace("%1", agent_id))
        self.link.request(p.SetQuotas, done, agent=agent_id, quotas=p.Quotas(**{quota: value}),
                          reason=self.tr("edited in the agent table"))

    def set_quotas(self, quotas: p.Quotas, reason: str, *, agent: str | None = None,
                   group: str | None = None, on_done: Callable[[bool, str], None] | None = None) -> None:
        """A change from the quota dialog, for an agent or a whole group."""
        subject = agent or f"group {group}"

        def done(outcome) -> None:
            ok, text = self._report(outcome, self.tr("Quota change for %1 accepted").replace("%1", subject),
                                    self.tr("Quota change for %1 refused").replace("%1", subject))
            if on_done is not None:
                on_done(ok, text)
        self.link.request(p.SetQuotas, done, agent=agent, group=group, quotas=quotas, reason=reason)

    # ------------------------------------------------------------------ reassignment

    def reassign(self, inquiry_id: str, to_agent: str | None, reason: str = "",
                 on_done: Callable[[bool, str], None] | None = None) -> None:
        """Move an inquiry to an agent, or back to the pool (``to_agent=None``)."""
        target = to_agent or self.tr("the pool")

        def done(outcome) -> None:
            ok, text = self._report(
                outcome,
                self.tr("%1 reassigned to %2").replace("%1", inquiry_id).replace("%2", target),
                self.tr("Reassigning %1 to %2 refused").replace("%1", inquiry_id).replace("%2", target))
            if on_done is not None:
                on_done(ok, text)
        self.link.request(p.Reassign, done, inquiry=inquiry_id, to_agent=to_agent,
                          reason=reason or self.tr("reassigned from the console"))

    # ------------------------------------------------------------------ shop mode, agent status and quality

    def set_mode(self, shop: str, mode: str, hybrid_after_s: float | None, reason: str,
                 on_done: Callable[[bool, str], None] | None = None) -> None:
        """Grab, push (``assign``) or hybrid with its delay, for one shop."""
        self._send(p.SetMode, self.tr("Mode of shop %1 changed").replace("%1", shop),
                   self.tr("Mode change for shop %1 refused").replace("%1", shop), on_done,
                   shop=shop, mode=mode, hybrid_after_s=hybrid_after_s, reason=reason)

    def set_status(self, agent: str, status: str, on_done: Callable[[bool, str], None] | None = None) -> None:
        """Set an agent away, on break, offline (or back online)."""
        self._send(p.SetStatus, self.tr("Status of %1 changed").replace("%1", agent),
                   self.tr("Status change for %1 refused").replace("%1", agent), on_done,
                   agent=agent, status=status)

    def set_quality(self, agent: str, quality: float, reason: str,
                    on_done: Callable[[bool, str], None] | None = None) -> None:
        """An agent's quality score (0-100); the broker derives the tier from it."""
        self._send(p.SetQuality, self.tr("Quality score of %1 changed").replace("%1", agent),
                   self.tr("Quality change for %1 refused").replace("%1", agent), on_done,
                   agent=agent, quality=quality, reason=reason)

    def acknowledge(self, alert_id: str, reason: str = "",
                    on_done: Callable[[bool, str], None] | None = None) -> None:
        """Take an alert in hand; the broker publishes and audits who and when."""
        self._send(p.AcknowledgeAlert, self.tr("Alert acknowledged"), self.tr("Acknowledging the alert refused"),
                   on_done, alert=alert_id, reason=reason)

    def _send(self, command: type[p.Command], accepted: str, refused: str,
              on_done: Callable[[bool, str], None] | None, **fields) -> None:
        def done(outcome) -> None:
            ok, text = self._report(outcome, accepted, refused)
            if on_done is not None:
                on_done(ok, text)
        self.link.request(command, done, **fields)

    # ------------------------------------------------------------------ audit

    def query_audit(self, limit: int = 1_000) -> None:
        """Past entries, e.g. after a (re)connect; they merge with the live ones."""
        def done(outcome) -> None:
            if isinstance(outcome, p.AuditPage):
                self.state.add_audit(outcome.entries)
            elif isinstance(outcome, Exception):
                log.info("audit query failed: %s", outcome)
        self.link.request(p.QueryAudit, done, limit=limit)

    def query_queue_history(self) -> None:
        """The queue's evening so far, from the broker, before what this console sampled itself."""
        def done(outcome) -> None:
            if isinstance(outcome, p.QueueSamples):
                self.state.history.prepend([(s.at, s.depth, s.wait_s) for s in outcome.samples])
            elif isinstance(outcome, Exception):
                log.info("queue history query failed: %s", outcome)
        self.link.request(p.QueryQueueHistory, done)

    # ------------------------------------------------------------------ verdicts

    def _report(self, outcome, accepted: str, refused: str) -> tuple[bool, str]:
        if isinstance(outcome, BrokerRefused):
            why = broker_text().refusal(outcome)
        elif isinstance(outcome, TimeoutError):
            why = self.tr("no answer from the broker")
        elif isinstance(outcome, Exception):
            why = str(outcome)
        else:
            self.result.emit(True, accepted)
            return True, accepted
        # "what: why", punctuated as the language does ("什么：为什么")
        ok, text = False, self.tr("%1: %2").replace("%1", refused).replace("%2", why)
        self.result.emit(ok, text)
        return ok, text
