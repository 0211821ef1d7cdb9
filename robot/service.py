"""``grabdesk robot serve``: the robot first line as a client of the broker.

The service follows two small streams, ``transcript`` and ``robot`` (never
the busy ``inquiry`` stream): a transcript update whose ``robot`` names this
robot is work, the customer's latest lines to decide on. Work is coalesced
per inquiry (two quick messages are decided together) and decided on one
worker thread with :meth:`robot.decide.Robot.decide`; the answer or the
escalation goes back as ``robot_answer`` / ``robot_escalate``. The broker
holds the inquiries and their deadlines: if this process dies or hangs, its
inquiries go to the pool on the broker's clock, so nothing here must be
persisted. After a (re)connect the snapshot carries the transcripts still
awaiting this robot, so it picks up where it was.

The only module of the robot package that talks to the broker, and only
through ``broker.wire``. It never raises on bad input: every problem is
logged, counted and reported to the broker (``robot_report``) for the console.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, BrokerRefused
from robot.decide import NO_CONTEXT, Context, Decision, Robot
from robot.transcripts import latest_customer_text

log = logging.getLogger(__name__)

#: the most inquiries whose conversation context is remembered (oldest forgotten first)
CONTEXT_MEMORY = 50_000
#: how often the robot tells the broker how it is doing, in real seconds
REPORT_EVERY_S = 2.0
#: the escalation reason for a decision that failed inside the robot
FAILED_REASON = "bad-input"


@dataclass
class Counters:
    decided: int = 0
    answered: int = 0
    escalated: int = 0
    errors: int = 0
    last_error: str = ""


class RobotService:
    """Decides the inquiries the broker gives this robot. ``start``/``stop``; thread-safe counters."""

    def __init__(self, robot: Robot, command_endpoint: str, events_endpoint: str, who: str = "robot", *,
                 curve=None, report_every_s: float = REPORT_EVERY_S):
        self.robot = robot
        self.who = who
        self.counters = Counters()
        self._report_every_s = report_every_s
        self._lock = threading.Lock()
        #: inquiry -> its latest transcript awaiting a decision (coalesces quick messages)
        self._pending: dict[str, p.TranscriptRecord] = {}
        self._work: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        #: inquiry -> the context of the robot's last decision on it
        self._contexts: OrderedDict[str, Context] = OrderedDict()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self.client = BrokerClient(command_endpoint, events_endpoint, "robot", who,
                                   streams=["transcript", "robot"], on_reset=self._on_reset,
                                   on_events=self._on_events, curve=curve, name=f"robot:{who}")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "RobotService":
        self._worker = threading.Thread(target=self._run, name=f"robot-{self.who}", daemon=True)
        self._worker.start()
        self.client.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._work.put(None)
        if self._worker is not None:
            self._worker.join(timeout_s)
        self.client.stop(timeout_s)

    # ------------------------------------------------------------------ broker -> work (client's thread)

    def _on_reset(self, records: list, _end: p.SnapshotEnd) -> None:
        # the snapshot's transcripts are those awaiting a robot's decision
        for record in records:
            self._offer(record)

    def _on_events(self, events: list[p.Event]) -> None:
        for event in events:
            self._offer(event.record)

    def _offer(self, record) -> None:
        if not isinstance(record, p.TranscriptRecord) or record.robot != self.who:
            return
        if not record.lines or record.lines[-1].who != "customer":
            return
        with self._lock:
            fresh = record.id not in self._pending
            self._pending[record.id] = record
        if fresh:
            self._work.put(record.id)

    # ------------------------------------------------------------------ deciding (worker thread)

    def _run(self) -> None:
        next_report = time.monotonic()
        reported: tuple | None = None
        while not self._stopping.is_set():
            try:
                inquiry = self._work.get(timeout=0.25)
            except queue.Empty:
                inquiry = None
            if inquiry is not None:
                with self._lock:
                    record = self._pending.pop(inquiry, None)
                if record is not None:
                    self._decide(record)
            now = time.monotonic()
            if now >= next_report:
                next_report = now + self._report_every_s
                reported = self._report(reported)

    def _decide(self, record: p.TranscriptRecord) -> None:
        """Decide the customer's latest lines and send the answer or the escalation; never raises."""
        try:
            text = latest_customer_text(record)
            shop = record.shop if record.shop in self.robot.knowledge.shops else None
            context = self._contexts.get(record.id, NO_CONTEXT)
            decision = self.robot.decide(text, shop=shop, customer=record.customer or None, context=context)
            self._remember(record.id, decision.context)
            command = self._command_for(record.id, decision)
        except Exception as exc:  # a bug in deciding must not strand the inquiry nor stop the robot
            log.exception("robot failed deciding inquiry %s", record.id)
            self._error(f"deciding {record.id} failed: {exc.__class__.__name__}: {exc}")
            command = self.client.command(p.RobotEscalate, inquiry=record.id,
                                          skill=self.robot.settings.fallback_skill, reason=FAILED_REASON)
            decision = None
        with self._lock:
            self.counters.decided += 1
            if decision is not None and decision.action == "answer":
                self.counters.answered += 1
            else:
                self.counters.escalated += 1
        log.info("inquiry %s: %s", record.id, describe(decision),
                 extra={"event": "robot.decided", "inquiry": record.id,
                        "action": decision.action if decision else "escalate",
                        "intent": decision.intent if decision else None})
        self.client.request(command).add_done_callback(lambda done: self._replied(record.id, done))

    def _command_for(self, inquiry: str, decision: Decision) -> p.Command:
        if decision.action == "answer":
            intent = self.robot.knowledge.intents.get(decision.intent or "")
            return self.client.command(p.RobotAnswer, inquiry=inquiry, text=decision.answer or "",
                                       skill=intent.skill if intent is not None else "",
                                       intent=decision.intent or "")
        note = decision.handover or decision.detail
        return self.client.command(
            p.RobotEscalate, inquiry=inquiry, skill=decision.skill or self.robot.settings.fallback_skill,
            reason=decision.reason or FAILED_REASON,
            priority_bump=max(0, min(decision.priority_bump, p.MAX_PRIORITY_BUMP)),
            note=note[:p.MAX_TEXT_CHARS])

    def _remember(self, inquiry: str, context: Context) -> None:
        self._contexts[inquiry] = context
        self._contexts.move_to_end(inquiry)
        if len(self._contexts) > CONTEXT_MEMORY:
            self._contexts.popitem(last=False)

    def _replied(self, inquiry: str, done) -> None:
        error = done.exception()
        if error is None:
            return
        if isinstance(error, BrokerRefused):
            # e.g. the broker gave the inquiry to the pool meanwhile (our decision came too late)
            self._error(f"{inquiry}: the broker refused: {error.reason}")
        else:
            self._error(f"{inquiry}: no answer from the broker: {error}")

    def _error(self, sentence: str) -> None:
        log.warning("%s", sentence, extra={"event": "robot.error"})
        with self._lock:
            self.counters.errors += 1
            self.counters.last_error = sentence[:p.MAX_TEXT_CHARS]

    def _report(self, reported: tuple | None) -> tuple | None:
        """Tell the broker how this robot is doing, when that changed."""
        with self._lock:
            c = self.counters
            now = (c.decided, c.errors, c.last_error)
        if now == reported or self.client.status.state != "live":
            return reported
        self.client.request(p.RobotReport, answering=True, decided=now[0], errors=now[1], last_error=now[2])
        return now

    def snapshot(self) -> Counters:
        """The counters now, a copy."""
        with self._lock:
            return Counters(**vars(self.counters))


def describe(decision: Decision | None) -> str:
    if decision is None:
        return "escalated after a failure"
    if decision.action == "answer":
        return f"answered {decision.intent} ({decision.confidence:.2f})"
    return f"escalated to {decision.skill}: {decision.reason} ({decision.detail})"
