"""The console's plain-Python state, derived from the link's mirror. No Qt here.

``ConsoleState`` follows the same snapshot and events as the ``Mirror``
(``reset`` after the mirror took a snapshot, ``apply`` after it applied a
batch of events) and keeps what the views need and the mirror does not:

* the rows of each table, filtered and ordered (``common.rows.TableState``);
* pending-queue depth and the longest waiter per skill, kept from events so
  nothing scans 20,000 inquiries on the refresh path (``QueueTracker``);
* one-second samples of both for the chart (``history.QueueHistory``);
* alerts and audit entries (the snapshot carries neither, so they outlive a
  re-sync), per-agent SLA results seen this session, quota edits in flight.

The broker decides everything; nothing here predicts a verdict. A
reassignment hint only explains why a target is likely to be refused, from
what the broker sent (the agent's ``unavailable`` code) and the one shared
eligibility function (``broker.arbiter.rules.ineligible_rule``).
"""
from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

from broker.wire import protocol as p
import broker.arbiter.rules as rules
from broker.wire.mirror import Mirror
from supervisor.console.history import QueueHistory
from supervisor.common.records import continuous_service_s
from supervisor.common.rows import TableState

#: alerts and audit entries the console keeps (the audit view can ask for older ones)
ALERTS_KEPT = 500
AUDIT_KEPT = 5_000
#: status order when sorting agents: who can take work first
STATUS_ORDER = {"online": 0, "break": 1, "away": 2, "offline": 3}
#: the quota dialog's rows, in its order
QUOTA_FIELDS = ("concurrent_cap", "daily_grabs", "continuous_hours", "break_minutes")
_SORT_LAST = math.inf


# ---------------------------------------------------------------------- derivations

def fraction(used: float, limit: float | None) -> float | None:
    """Use against a limit (None: no limit; a limit of 0 is full at once)."""
    if limit is None:
        return None
    if limit <= 0:
        return 1.0
    return used / limit


def at_cap(agent: p.AgentRecord) -> bool:
    """The broker's at-cap flag: an online agent holding as many inquiries as its cap allows."""
    return agent.unavailable == p.ErrorCode.QUOTA_CONCURRENT


def on_break(agent: p.AgentRecord) -> bool:
    return agent.status == "break" or agent.forced_break


def sla_rank(inquiry: p.InquiryRecord) -> int:
    """0 on time, 1 a warning raised, 2 a breach: the flags the broker raised."""
    flags = inquiry.sla
    if not flags:
        return 0
    return 2 if any(f.endswith(".breach") for f in flags) else 1


def sla_rank_now(inquiry: p.InquiryRecord, now: float) -> int:
    """``sla_rank``, and 2 once the broker's first-response deadline has passed unanswered
    (its breach flag is then on the way)."""
    rank = sla_rank(inquiry)
    if rank < 2 and inquiry.first_response_at is None and inquiry.first_response_due is not None \
            and now >= inquiry.first_response_due:
        return 2
    return rank


def target_hints(agent: p.AgentRecord, inquiry: p.InquiryRecord) -> list[tuple[str, str]]:
    """Every reason the broker would give for refusing ``inquiry`` to ``agent``: (reason, sentence).

    ``reason`` is "owner" (it holds it already), an ``ineligible_rule`` name
    ("shop", "skill", "language", "channel"), or the ErrorCode value the broker
    put on the agent's record (``unavailable``). Only an explanation for the
    supervisor: the broker decides, on its fresher state.
    """
    hints = []
    if inquiry.owner == agent.id:
        hints.append(("owner", f"agent {agent.id} already holds {inquiry.id}"))
    rule = rules.ineligible_rule(agent, inquiry)
    if rule is not None:
        hints.append((rule, rules.explain_rule(rule, agent.id, inquiry)))
    if agent.unavailable:
        hints.append((agent.unavailable, f"agent {agent.id} is unavailable ({agent.unavailable})"))
    return hints


class RefusalHint(NamedTuple):
    """One of ``target_hints``, with the records a translation needs (``Words.hint`` takes these fields)."""

    rule: str
    sentence: str
    agent: p.AgentRecord
    inquiry: p.InquiryRecord


# ---------------------------------------------------------------------- queue depth

class QueueTracker:
    """Queued count and longest waiter per skill, maintained from events.

    The longest waiter comes from a lazy min-heap of (arrived_at, id) per
    skill: entries of inquiries that left the queue are dropped when they
    reach the top, so each event costs O(log n).
    """

    def __init__(self) -> None:
        self.depth: dict[str, int] = {}
        self.held = 0
        self._queued: dict[str, tuple[str, float]] = {}
        self._held: set[str] = set()
        self._heaps: dict[str, list[tuple[float, str]]] = {}

    def reset(self, inquiries: Iterable[p.InquiryRecord]) -> None:
        self.depth = {skill: 0 for skill in self.depth}
        self.held = 0
        self._queued.clear()
        self._held.clear()
        self._heaps = {}
        for inq in inquiries:
            self.update(inq.id, inq)

    def update(self, inquiry_id: str, inq: p.InquiryRecord | None) -> None:
        """The inquiry's current record (None once closed)."""
        before = self._queued.pop(inquiry_id, None)
        if before is not None:
            self.depth[before[0]] -= 1
        if inquiry_id in self._held:
            self._held.discard(inquiry_id)
            self.held -= 1
        if inq is None:
            return
        if inq.state == "queued":
            self._queued[inquiry_id] = (inq.skill, inq.arrived_at)
            self.depth[inq.skill] = self.depth.get(inq.skill, 0) + 1
            heap = self._heaps.setdefault(inq.skill, [])
            if before is None or before[1] != inq.arrived_at:
                heapq.heappush(heap, (inq.arrived_at, inquiry_id))
            if len(heap) > 2 * self.depth[inq.skill] + 1_000:
                self._rebuild_heap(inq.skill)
        elif inq.state == "held":
            self._held.add(inquiry_id)
            self.held += 1

    def _rebuild_heap(self, skill: str) -> None:
        heap = [(arrived, i) for i, (s, arrived) in self._queued.items() if s == skill]
        heapq.heapify(heap)
        self._heaps[skill] = heap

    def longest(self, skill: str) -> tuple[str, float] | None:
        """(inquiry id, arrived_at) of the longest-waiting queued inquiry of ``skill``."""
        heap = self._heaps.get(skill)
        while heap:
            arrived, inquiry_id = heap[0]
            current = self._queued.get(inquiry_id)
            if current is not None and current == (skill, arrived):
                return inquiry_id, arrived
            heapq.heappop(heap)
        return None

    @property
    def queued_total(self) -> int:
        return len(self._queued)


# ---------------------------------------------------------------------- filters

def agent_matcher(text: str) -> Callable[[p.AgentRecord], bool] | None:
    """Case-insensitive substring over id, name, group, status, tier and skills."""
    needle = text.strip().lower()
    if not needle:
        return None

    def match(agent: p.AgentRecord) -> bool:
        hay = " ".join((agent.id, agent.name, agent.group, agent.status, agent.tier,
                        *agent.skills, *agent.languages)).lower()
        return needle in hay
    return match


def inquiry_matcher(state: str = "all", text: str = "") -> Callable[[p.InquiryRecord], bool] | None:
    """``state`` is "all", "queued" or "held"; ``text`` a substring of the ids and tags."""
    needle = text.strip().lower()
    if state == "all" and not needle:
        return None

    def match(inq: p.InquiryRecord) -> bool:
        if state != "all" and inq.state != state:
            return False
        if not needle:
            return True
        hay = " ".join((inq.id, inq.skill, inq.shop, inq.owner or "", inq.language, inq.channel,
                        inq.customer)).lower()
        return needle in hay
    return match


@dataclass
class AuditFilter:
    """What the audit view shows: every field narrows, empty means any."""

    actor: str = ""
    kind_prefix: str = ""
    only_refusals: bool = False
    text: str = ""

    def matcher(self) -> Callable[[p.AuditEntry], bool] | None:
        if not (self.actor or self.kind_prefix or self.only_refusals or self.text):
            return None
        actor = self.actor.strip().lower()
        prefix = self.kind_prefix.strip()
        needle = self.text.strip().lower()

        def match(entry: p.AuditEntry) -> bool:
            if actor and actor not in entry.actor.lower():
                return False
            if prefix and not entry.kind.startswith(prefix):
                return False
            if self.only_refusals and entry.ok:
                return False
            if needle and needle not in f"{entry.subject} {entry.reason} {entry.kind}".lower():
                return False
            return True
        return match


# ---------------------------------------------------------------------- latency

@dataclass
class LatencyProbe:
    """Time from a change at the broker (its event's ``at``) to the frame showing it."""

    pending: list[float] = field(default_factory=list)
    samples_ms: list[float] = field(default_factory=list)

    def changed(self, at: float) -> None:
        self.pending.append(at)

    def shown(self, now: float) -> None:
        if self.pending:
            self.samples_ms.extend((now - at) * 1000.0 for at in self.pending)
            self.pending.clear()


@dataclass
class FloorSummary:
    """The headline numbers, from the broker's metrics when it sends them."""

    queued: int = 0
    held: int = 0
    agents_online: int = 0
    agents_at_cap: int = 0
    #: (skill, inquiry id, wait seconds) of the longest waiter on the floor
    longest: tuple[str, str, float] | None = None
    metrics: p.FloorMetrics | None = None


# ---------------------------------------------------------------------- the state

class ConsoleState:
    """Everything the console's views show, kept up to date from the mirror."""

    def __init__(self, mirror: Mirror, clock: Callable[[], float] = time.time,
                 history: QueueHistory | None = None, time_scale: Callable[[], float] = lambda: 1.0):
        #: the floor's time (the broker's clock as the link follows it) and its pace
        self.clock = clock
        self.time_scale = time_scale
        self.queue = QueueTracker()
        self.history = history or QueueHistory()
        #: skills in the order first seen: chart curves and coverage rows keep their place
        self.skills: dict[str, None] = {}
        #: agent -> [met, closed] for inquiries it resolved while this console watched
        self.sla_results: dict[str, list[int]] = {}
        #: (agent or "group:<id>", quota field) -> value requested, until the broker answers
        self.pending: dict[tuple[str, str], float | int] = {}
        self.alerts_by_id: dict[str, p.Alert] = {}
        self.audit_by_seq: dict[int, p.AuditEntry] = {}
        self.audit_filter = AuditFilter()
        self.probe: LatencyProbe | None = None
        #: bumped when metrics / coverage change
        self.metrics_version = 0
        self.coverage_version = 0
        now_key = self.clock

        def service_key(a: p.AgentRecord) -> float:
            s = continuous_service_s(a, now_key())
            return -1.0 if s is None else s

        def sla_key(a: p.AgentRecord) -> float:
            met, closed = self.sla_results.get(a.id, (0, 0))
            return met / closed if closed else -1.0

        self.agents: TableState[str, p.AgentRecord] = TableState(
            mirror.agents, {
                "agent": lambda a: a.id,
                "name": lambda a: a.name,
                "group": lambda a: a.group,
                "status": lambda a: STATUS_ORDER.get(a.status, 9),
                "tier": lambda a: a.tier,
                "load": lambda a: _or_last(fraction(a.held, a.effective.concurrent_cap), a.held),
                "grabs": lambda a: _or_last(fraction(a.grabs_today, a.effective.daily_grabs), a.grabs_today),
                "service": service_key,
                "sla": sla_key,
                "skills": lambda a: ",".join(sorted(a.skills)),
            }, "agent",
            hot=("status", "tier", "load", "grabs", "service", "sla"))
        self.inquiries: TableState[str, p.InquiryRecord] = TableState(
            mirror.inquiries, {
                "inquiry": lambda i: i.id,
                "state": lambda i: i.state,
                "skill": lambda i: i.skill,
                "shop": lambda i: i.shop,
                "language": lambda i: i.language,
                "channel": lambda i: i.channel,
                "priority": lambda i: i.priority,
                # the wait's length: earlier arrival = longer wait
                "waiting": lambda i: -i.arrived_at,
                "owner": lambda i: i.owner or "",
                "sla": sla_rank,
            }, "waiting", descending=True, hot=("state", "owner", "sla"))
        self.alerts: TableState[str, p.Alert] = TableState(
            self.alerts_by_id, {"at": lambda a: a.at}, "at", descending=True)
        self.audit: TableState[int, p.AuditEntry] = TableState(
            self.audit_by_seq, {"seq": lambda e: e.seq}, "seq", descending=True)
        self.attach(mirror)

    # ------------------------------------------------------------------ following the mirror

    def attach(self, mirror: Mirror) -> None:
        """Follow another mirror (a new connection, maybe another broker); views reset.

        Unlike a re-sync, what was learnt from the previous broker goes too:
        its alerts, audit, history and SLA results describe another floor.
        """
        self.mirror = mirror
        self.agents.records = mirror.agents
        self.inquiries.records = mirror.inquiries
        self.alerts_by_id.clear()
        self.audit_by_seq.clear()
        self.sla_results.clear()
        self.pending.clear()
        self.skills.clear()
        self.history.clear()
        self.alerts.reset()
        self.audit.reset()
        self.reset()

    def reset(self) -> None:
        """The mirror was replaced by a snapshot."""
        m = self.mirror
        self.queue.reset(m.inquiries.values())
        for skill in self.queue.depth:
            self.skills.setdefault(skill, None)
        for agent in m.agents.values():
            for skill in agent.skills:
                self.skills.setdefault(skill, None)
        self.agents.reset()
        self.inquiries.reset()
        self.metrics_version += 1
        self.coverage_version += 1

    def apply(self, events: Iterable[p.Event]) -> None:
        """Events the mirror has just applied."""
        inquiries: set[str] = set()
        agents: set[str] = set()
        alerts: list[str] = []
        audit: list[int] = []
        probe = self.probe
        for event in events:
            record = event.record
            if probe is not None:
                probe.changed(event.at)
            if isinstance(record, p.InquiryRecord):
                inquiries.add(record.id)
                if event.removed and record.state == "resolved" and record.owner:
                    met, closed = self.sla_results.setdefault(record.owner, [0, 0])
                    breached = any(f.endswith(".breach") for f in record.sla)
                    self.sla_results[record.owner] = [met + (not breached), closed + 1]
                    agents.add(record.owner)
            elif isinstance(record, p.AgentRecord):
                agents.add(record.id)
                for skill in record.skills:
                    self.skills.setdefault(skill, None)
            elif isinstance(record, p.AgentLoad):
                agents.add(record.id)
            elif isinstance(record, p.Alert):
                self.alerts_by_id[record.id] = record
                alerts.append(record.id)
            elif isinstance(record, p.AuditEntry):
                self.audit_by_seq[record.seq] = record
                audit.append(record.seq)
            elif isinstance(record, p.FloorMetrics):
                self.metrics_version += 1
            elif isinstance(record, p.CoverageRecord):
                self.coverage_version += 1
        if inquiries:
            current = self.mirror.inquiries
            for inquiry_id in inquiries:
                inq = current.get(inquiry_id)
                self.queue.update(inquiry_id, inq)
                if inq is not None:
                    self.skills.setdefault(inq.skill, None)
            self.inquiries.touch(inquiries)
        if agents:
            self.agents.touch(agents)
        if alerts:
            alerts.extend(_trim(self.alerts_by_id, ALERTS_KEPT, key=lambda a: a.at))
            self.alerts.touch(alerts)
        if audit:
            audit.extend(_trim(self.audit_by_seq, AUDIT_KEPT, key=lambda e: e.seq))
            self.audit.touch(audit)

    def add_audit(self, entries: Iterable[p.AuditEntry]) -> None:
        """Entries from a ``QueryAudit`` answer (older ones, or missed while away)."""
        seqs = []
        for entry in entries:
            self.audit_by_seq[entry.seq] = entry
            seqs.append(entry.seq)
        seqs.extend(_trim(self.audit_by_seq, AUDIT_KEPT, key=lambda e: e.seq))
        self.audit.touch(seqs)

    def set_audit_filter(self, audit_filter: AuditFilter) -> None:
        self.audit_filter = audit_filter
        self.audit.set_filter(audit_filter.matcher())

    # ------------------------------------------------------------------ sampling

    def sample(self, now: float, live: bool) -> None:
        """One history sample: depth and longest wait per skill, or a gap when not live."""
        if not live:
            self.history.append(now, None)
            return
        depth = {skill: self.queue.depth.get(skill, 0) for skill in self.skills}
        waits = {}
        for skill in self.skills:
            longest = self.queue.longest(skill)
            waits[skill] = max(0.0, now - longest[1]) if longest else 0.0
        self.history.append(now, depth, waits)

    def longest_waits(self, now: float) -> dict[str, tuple[str, float]]:
        """skill -> (inquiry id, wait seconds) for skills with a queue."""
        out = {}
        for skill in self.skills:
            longest = self.queue.longest(skill)
            if longest is not None:
                out[skill] = (longest[0], max(0.0, now - longest[1]))
        return out

    def summary(self, now: float) -> FloorSummary:
        agents = self.mirror.agents.values()
        online = sum(1 for a in agents if a.status == "online")
        capped = sum(1 for a in agents if at_cap(a))
        waits = self.longest_waits(now)
        longest = None
        if waits:
            skill, (inquiry_id, wait_s) = max(waits.items(), key=lambda kv: kv[1][1])
            longest = (skill, inquiry_id, wait_s)
        return FloorSummary(queued=self.queue.queued_total, held=self.queue.held, agents_online=online,
                            agents_at_cap=capped, longest=longest, metrics=self.mirror.metrics)

    def sla_thresholds_s(self) -> tuple[float, float]:
        """First-response (warn, breach) seconds: the strictest over the shops."""
        policies = [shop.sla for shop in self.mirror.shops.values()]
        policies += [sla for shop in self.mirror.shops.values() for sla in shop.sla_by_skill.values()]
        if not policies:
            policies = [p.SlaPolicy()]
        strictest = min(policies, key=lambda s: s.first_response_s)
        return strictest.first_response_s * strictest.warn_pct / 100.0, strictest.first_response_s

    def refusal_hints(self, agent: p.AgentRecord, inquiry_ids: Iterable[str]) -> list[RefusalHint]:
        """Why the broker will probably refuse ``agent`` for these inquiries; ids no longer open are skipped."""
        hints = []
        for inquiry_id in inquiry_ids:
            inquiry = self.mirror.inquiries.get(inquiry_id)
            if inquiry is not None:
                hints.extend(RefusalHint(rule, sentence, agent, inquiry)
                             for rule, sentence in target_hints(agent, inquiry))
        return hints

    # ------------------------------------------------------------------ edits in flight

    def begin_edit(self, target: str, quota: str, value) -> None:
        self.pending[(target, quota)] = value
        self.agents.touch([target])

    def end_edit(self, target: str, quota: str) -> None:
        self.pending.pop((target, quota), None)
        self.agents.touch([target])

    def sla_met(self, agent_id: str) -> tuple[int, int] | None:
        result = self.sla_results.get(agent_id)
        return (result[0], result[1]) if result else None


def _or_last(value: float | None, tie: float) -> tuple[float, float]:
    """Sort key for an optional fraction: agents without a limit sort after the others."""
    return (_SORT_LAST if value is None else value, tie)


def _trim(store: dict, keep: int, key) -> list:
    """Drop the oldest entries beyond ``keep``; returns the dropped keys (to untouch rows)."""
    excess = len(store) - keep
    if excess <= 0:
        return []
    oldest = sorted(store, key=lambda k: key(store[k]))[:excess]
    for k in oldest:
        del store[k]
    return oldest
