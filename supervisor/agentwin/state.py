"""What the agent window shows, as plain Python (no Qt, no sockets).

``AgentDeskState`` reads the link's ``Mirror`` (the broker's state as this
client last heard it) and keeps, for one agent:

* ``pool``: queued inquiries the agent is eligible for (the broker's own
  ``rules.ineligible_rule``) and whose visibility delay has passed (its
  ``rules.visible_at``), oldest first by ``arrived_at``;
* ``mine``: the inquiries the agent holds, with SLA countdowns to the
  deadlines the broker put on each record (``first_response_due``,
  ``resolution_due``), coloured by the SLA flags it raised;
* the grab in flight (at most one) and the last verdict.

It decides nothing the broker decides: eligibility is used only to choose
what to display, and a grab is always sent; the verdict says what happened.
Both row lists are the shared row engine (``supervisor.common.rows``) over
dicts this desk keeps; the Qt models replay their row operations
(``beginInsertRows``/``dataChanged``, a reset only for a full snapshot).
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import msgspec

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused, new_grab_id
from broker.wire.floorclock import FloorClock
from broker.wire.mirror import Mirror
from broker.arbiter.rules import ineligible_rule, visible_at
from supervisor.common.records import continuous_service_s
from supervisor.common.rows import TableState

#: one grab attempt unanswered this long is sent again with the same grab_id
GRAB_ATTEMPT_TIMEOUT_S = 2.0
#: after this long without a verdict the window stops retrying and says so
GRAB_GIVE_UP_S = 12.0
#: alerts about this agent kept for display
MY_ALERTS_KEPT = 20
#: SLA colour levels, worst last
SLA_OK, SLA_WARN, SLA_BREACH = "ok", "warn", "breach"
_LEVEL_RANK = {SLA_OK: 0, SLA_WARN: 1, SLA_BREACH: 2}


# --------------------------------------------------------------------------
# Broker time
# --------------------------------------------------------------------------

class BrokerClock:
    """The broker's clock as seen from here: local time plus the last offset heard.

    Wait times and countdowns are differences of broker timestamps, so they
    must be measured against the broker's "now", not ours (the two machines'
    clocks may differ, and tests run the broker on a fake clock).
    """

    def __init__(self, local: Callable[[], float] = time.time, floor: FloorClock | None = None):
        self._local = local
        self.offset_s = 0.0
        #: the link's follower of the broker's clock (which may run scaled): when
        #: given, it is the time, and readings only keep it from lagging behind events
        self._floor = floor

    def sync(self, broker_now: float) -> None:
        if self._floor is not None:
            self._floor.catch_up(broker_now)
        elif broker_now > 0:
            self.offset_s = broker_now - self._local()

    def now(self) -> float:
        if self._floor is not None:
            return self._floor.now()
        return self._local() + self.offset_s


# --------------------------------------------------------------------------
# SLA
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Countdown:
    #: seconds left until the broker's deadline (negative: overdue); None when the
    #: record carries no deadline (a broker older than ``first_response_due``)
    remaining_s: float | None
    level: str
    #: the first response went out: nothing left to count down
    met: bool = False


def sla_level(remaining_s: float | None, flags: Iterable[str], which: str) -> str:
    """The worst of the flags the broker raised for ``which`` ("first_response.warn"...),
    and red once its deadline has passed (its breach flag is then on the way)."""
    level = SLA_BREACH if remaining_s is not None and remaining_s <= 0 else SLA_OK
    for flag in flags:
        name, _, raised = flag.partition(".")
        if name == which and raised in _LEVEL_RANK and _LEVEL_RANK[raised] > _LEVEL_RANK[level]:
            level = raised
    return level


def _countdown(due: float | None, flags: Iterable[str], which: str, now: float) -> Countdown:
    remaining = None if due is None else due - now
    return Countdown(remaining, sla_level(remaining, flags, which))


def first_response_countdown(inq: p.InquiryRecord, now: float) -> Countdown:
    """To the broker's ``first_response_due`` (counted from ``arrived_at``: the customer's wait)."""
    if inq.first_response_at is not None:
        return Countdown(None, SLA_OK, met=True)
    return _countdown(inq.first_response_due, inq.sla, "first_response", now)


def resolution_countdown(inq: p.InquiryRecord, now: float) -> Countdown:
    """To the broker's ``resolution_due``."""
    return _countdown(inq.resolution_due, inq.sla, "resolution", now)


# --------------------------------------------------------------------------
# The "Me" panel
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class MeView:
    """The broker's numbers about this agent, ready to print."""

    status: str
    forced_break: bool
    break_until: float | None
    held: int
    concurrent_cap: int | None
    grabs_today: int
    daily_grabs: int | None
    #: seconds of the current stretch of continuous service; None when not serving
    service_s: float | None
    continuous_hours: float | None
    tier: str
    visibility_delay_s: float
    name: str


def me_view(agent: p.AgentRecord, now: float) -> MeView:
    eff = agent.effective
    return MeView(status=agent.status, forced_break=agent.forced_break, break_until=agent.break_until,
                  held=agent.held, concurrent_cap=eff.concurrent_cap, grabs_today=agent.grabs_today,
                  daily_grabs=eff.daily_grabs,
                  service_s=continuous_service_s(agent, now),
                  continuous_hours=eff.continuous_hours, tier=agent.tier,
                  visibility_delay_s=agent.visibility_delay_s, name=agent.name or agent.id)


# --------------------------------------------------------------------------
# Verdicts and the grab in flight
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class VerdictView:
    #: "won", "lost", "refused", or "failed" (no verdict could be had)
    outcome: str
    inquiry: str
    code: str = ""
    #: the broker's own sentence (or why no verdict came)
    reason: str = ""
    winner: str | None = None
    winner_name: str = ""
    #: the reason's key and parameters (broker/wire/reasons.py), to say it in the agent's language
    key: str = ""
    params: dict = field(default_factory=dict)


@dataclass
class GrabInFlight:
    grab_id: str
    inquiry: str
    started_mono: float
    attempts: int = 1


@dataclass(frozen=True)
class GrabStep:
    """What the window does with a grab reply: show a verdict, or send again."""

    verdict: VerdictView | None = None
    retry: GrabInFlight | None = None


# --------------------------------------------------------------------------
# The agent's desk
# --------------------------------------------------------------------------

def _inquiry_rows() -> TableState[str, p.InquiryRecord]:
    """Inquiries by id, the customer who has waited longest first (ties by id)."""
    return TableState({}, {"arrived": lambda r: r.arrived_at}, "arrived")


def _put(rows: TableState[str, p.InquiryRecord], record: p.InquiryRecord) -> bool:
    """Insert or update one record; True if it is new in ``rows``."""
    new = record.id not in rows.records
    rows.records[record.id] = record  # type: ignore[index]
    rows.touch((record.id,))
    return new


def _drop(rows: TableState[str, p.InquiryRecord], inquiry_id: str) -> None:
    if rows.records.pop(inquiry_id, None) is not None:  # type: ignore[attr-defined]
        rows.touch((inquiry_id,))


def _replace(rows: TableState[str, p.InquiryRecord], records: Iterable[p.InquiryRecord]) -> None:
    rows.records = {r.id: r for r in records}
    rows.reset()


class AgentDeskState:
    """One agent's view of the floor, kept current from the mirror's events."""

    def __init__(self, agent_id: str, clock: BrokerClock | None = None):
        self.agent_id = agent_id
        self.clock = clock or BrokerClock()
        self.mirror = Mirror()
        self.me: p.AgentRecord | None = None
        self.pool = _inquiry_rows()
        #: mine is ordered like the pool: the customer who has waited longest first,
        #: which is also the order of SLA deadlines (they count from arrived_at)
        self.mine = _inquiry_rows()
        #: eligible but not yet visible: heap of (visible_at, inquiry id, queued_at)
        self._later: list[tuple[float, str, float]] = []
        #: inquiries a verdict said I won, until the mirror shows it: id -> queued_at
        self._won: dict[str, float] = {}
        #: inquiries a verdict said someone else took, until the mirror shows it
        self._gone: dict[str, float] = {}
        self.grab: GrabInFlight | None = None
        self.verdict: VerdictView | None = None
        #: alerts about me (a reclaimed silent grab, SLA warnings on what I hold), newest last
        self.my_alerts: list[p.Alert] = []
        #: how many alerts about me have arrived (my_alerts keeps only the latest)
        self.my_alert_count = 0

    # ------------------------------------------------------------------ reading the mirror

    def reset(self, mirror: Mirror) -> None:
        """Rebuild everything from a snapshot (or after my own definition changed)."""
        self.mirror = mirror
        self.clock.sync(mirror.broker_now)
        self.me = mirror.agents.get(self.agent_id)
        self._won = {k: v for k, v in self._won.items()
                     if (r := mirror.inquiries.get(k)) is not None and r.queued_at == v and r.state == "queued"}
        self._gone = {k: v for k, v in self._gone.items()
                      if (r := mirror.inquiries.get(k)) is not None and r.queued_at == v and r.state == "queued"}
        self._later = []
        pool, mine = [], []
        now = self.clock.now()
        for inq in mirror.inquiries.values():
            where = self._place(inq, now)
            if where == "pool":
                pool.append(inq)
            elif where == "mine":
                mine.append(self._as_mine(inq))
            elif where == "later":
                heapq.heappush(self._later, (self._visible_at(inq), inq.id, inq.queued_at))
        _replace(self.pool, pool)
        _replace(self.mine, mine)

    def apply(self, events: Iterable[p.Event]) -> list[str]:
        """Follow events the mirror has already applied; returns ids new to the pool."""
        events = list(events)
        if events:
            # before placing anything: an inquiry queued at this event's time is visible now
            self.clock.sync(max(e.at for e in events))
        arrived: list[str] = []
        rebuild = False
        for event in events:
            record = event.record
            if isinstance(record, p.InquiryRecord):
                # the mirror holds the latest version; the event's copy may be older
                current = self.mirror.inquiries.get(record.id)
                if current is None or event.removed:
                    self._drop(record.id)
                elif self._update(current) and event.kind != "inquiry.sla":
                    arrived.append(current.id)
            elif isinstance(record, p.Alert) and record.agent == self.agent_id:
                self.my_alerts.append(record)
                del self.my_alerts[:-MY_ALERTS_KEPT]
                self.my_alert_count += 1
            elif isinstance(record, (p.AgentRecord, p.AgentLoad)) and record.id == self.agent_id:
                before = self.me
                self.me = self.mirror.agents.get(self.agent_id)
                if before is None or self.me is None or _sees_differently(before, self.me):
                    rebuild = True
        if rebuild:
            before_ids = set(self.pool.rows)
            self.reset(self.mirror)
            arrived = [i for i in self.pool.rows if i not in before_ids]
        return arrived

    def tick(self) -> list[str]:
        """Move inquiries whose visibility delay has passed into the pool."""
        now = self.clock.now()
        arrived = []
        while self._later and self._later[0][0] <= now:
            _, inquiry_id, queued_at = heapq.heappop(self._later)
            inq = self.mirror.inquiries.get(inquiry_id)
            if inq is not None and inq.queued_at == queued_at and self._place(inq, now) == "pool":
                if _put(self.pool, inq):
                    arrived.append(inq.id)
        return arrived

    def _visible_at(self, inq: p.InquiryRecord) -> float:
        return visible_at(self.me, inq) if self.me is not None else inq.queued_at

    def _place(self, inq: p.InquiryRecord, now: float) -> str:
        """Where a record belongs here: "pool", "later", "mine" or "" (nowhere)."""
        if inq.state == "held":
            return "mine" if inq.owner == self.agent_id else ""
        if inq.state != "queued" or self.me is None:
            return ""
        if self._won.get(inq.id) == inq.queued_at:
            return "mine"
        if self._gone.get(inq.id) == inq.queued_at:
            return ""
        if ineligible_rule(self.me, inq) is not None:
            return ""
        return "pool" if self._visible_at(inq) <= now else "later"

    def _as_mine(self, inq: p.InquiryRecord) -> p.InquiryRecord:
        if inq.state == "held":
            return inq
        # won by verdict, the event is not here yet: it is mine from the verdict on
        return msgspec.structs.replace(inq, state="held", owner=self.agent_id,
                                       taken_at=self.clock.now(), taken_by="grab")

    def _update(self, inq: p.InquiryRecord) -> bool:
        """Place one changed record; True if it just entered the pool."""
        if inq.id in self._won and (inq.state != "queued" or inq.queued_at != self._won[inq.id]):
            del self._won[inq.id]
        if inq.id in self._gone and (inq.state != "queued" or inq.queued_at != self._gone[inq.id]):
            del self._gone[inq.id]
        where = self._place(inq, self.clock.now())
        if where != "pool":
            _drop(self.pool, inq.id)
        if where != "mine":
            _drop(self.mine, inq.id)
        if where == "pool":
            return _put(self.pool, inq)
        if where == "mine":
            _put(self.mine, self._as_mine(inq))
        elif where == "later":
            heapq.heappush(self._later, (self._visible_at(inq), inq.id, inq.queued_at))
        return False

    def _drop(self, inquiry_id: str) -> None:
        _drop(self.pool, inquiry_id)
        _drop(self.mine, inquiry_id)
        self._won.pop(inquiry_id, None)
        self._gone.pop(inquiry_id, None)

    # ------------------------------------------------------------------ derived views

    def oldest(self) -> str | None:
        return self.pool.rows[0] if self.pool.rows else None

    def agent_name(self, agent_id: str | None) -> str:
        if not agent_id:
            return ""
        agent = self.mirror.agents.get(agent_id)
        return (agent.name or agent_id) if agent is not None else agent_id

    def me_view(self) -> MeView | None:
        return me_view(self.me, self.clock.now()) if self.me is not None else None

    def wait_s(self, inq: p.InquiryRecord) -> float:
        """The customer's wait so far: from ``arrived_at``, kept across releases."""
        return max(0.0, self.clock.now() - inq.arrived_at)

    def pool_sla(self, inq: p.InquiryRecord) -> Countdown:
        return first_response_countdown(inq, self.clock.now())

    def countdowns(self, inq: p.InquiryRecord) -> tuple[Countdown, Countdown]:
        now = self.clock.now()
        return first_response_countdown(inq, now), resolution_countdown(inq, now)

    def colleagues(self, inquiry_id: str | None = None) -> list[p.AgentRecord]:
        """Colleagues one could transfer to: those the broker would hand work to now
        (``unavailable`` empty: online, under the cap...) and eligible for the inquiry, if given."""
        inq = self.mirror.inquiries.get(inquiry_id) if inquiry_id else None
        out = []
        for agent in self.mirror.agents.values():
            if agent.id == self.agent_id or agent.unavailable:
                continue
            if inq is not None and ineligible_rule(agent, inq) is not None:
                continue
            out.append(agent)
        return sorted(out, key=lambda a: (a.name or a.id, a.id))

    # ------------------------------------------------------------------ grabbing

    def begin_grab(self, inquiry_id: str, now_mono: float, grab_id: str | None = None) -> GrabInFlight | None:
        """Start a grab, or None when one is already in flight (a double press)."""
        if self.grab is not None:
            return None
        self.grab = GrabInFlight(grab_id or new_grab_id(), inquiry_id, now_mono)
        return self.grab

    def grab_reply(self, grab_id: str, result: object, now_mono: float) -> GrabStep | None:
        """Digest the reply (or exception) to one attempt; None if it is stale."""
        grab = self.grab
        if grab is None or grab.grab_id != grab_id:
            return None
        if isinstance(result, p.Verdict):
            return GrabStep(verdict=self.take_verdict(result))
        if isinstance(result, (TimeoutError, ConnectionError)) \
                and now_mono - grab.started_mono < GRAB_GIVE_UP_S:
            # Grabs are idempotent per grab_id: asking again cannot win twice.
            grab.attempts += 1
            return GrabStep(retry=grab)
        if isinstance(result, BrokerRefused):
            view = VerdictView("failed", grab.inquiry, result.code.value, result.reason,
                               key=result.key, params=result.params)
        else:
            view = VerdictView("failed", grab.inquiry, "no-answer", str(result))
        self.grab = None
        self.verdict = view
        return GrabStep(verdict=view)

    def take_verdict(self, verdict: p.Verdict) -> VerdictView:
        self.grab = None
        inq = self.mirror.inquiries.get(verdict.inquiry)
        if verdict.outcome == "won":
            if inq is not None and inq.state == "queued":
                self._won[inq.id] = inq.queued_at
                self._update(inq)
        elif verdict.outcome == "lost":
            if inq is not None and inq.state == "queued":
                self._gone[inq.id] = inq.queued_at
                self._update(inq)
        view = VerdictView(verdict.outcome, verdict.inquiry, verdict.code.value if verdict.code else "",
                           verdict.reason, verdict.winner, self.agent_name(verdict.winner),
                           verdict.key, verdict.params)
        self.verdict = view
        return view


def _sees_differently(a: p.AgentRecord, b: p.AgentRecord) -> bool:
    """Did a change to my record change which inquiries I may see?"""
    return (a.skills != b.skills or a.languages != b.languages or a.channels != b.channels
            or a.shops != b.shops or a.visibility_delay_s != b.visibility_delay_s)
