"""The arbiter: every grabdesk decision, pure and synchronous.

No sockets, no files, no threads: the caller passes commands in and drains
what happened (events to publish, records to persist) out. Time comes from an
injected clock, so tests drive hours of floor time without sleeping.

Invariants the property tests hold this module to:

* an open inquiry has at most one owner, and is either ``queued`` (no
  owner) or ``held`` (an owner that counts it in ``held``);
* ``agent.held`` equals the number of inquiries it owns, and never exceeds
  its concurrent cap through a grab;
* grabs today never exceed the daily quota;
* an inquiry leaves the open set only by being resolved or abandoned;
* an inquiry in state ``robot`` has no owner, is not in the pool, and names
  the robot holding it; a robot's ``holding`` counts them; it leaves the robot
  only answered-and-closed, escalated, timed out or taken by a supervisor,
  always keeping its arrival time.
"""
from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Callable
from zoneinfo import ZoneInfo

import msgspec

from broker.arbiter import assist, rules
from broker.arbiter.rules import ClosedFacts, Refusal, VerdictFacts
from broker.arbiter import transcript as transcripts
from broker.arbiter.waiting import WaitOrder
import broker.wire.reasons as reasons
from broker.wire.protocol import (
    QUOTA_FIELDS, STREAMS, AgentLoad, AgentRecord, AgentSpec, Alert, AuditEntry, ErrorCode, Event, GroupRecord,
    MAX_PRIORITY_BUMP, InquiryRecord, NewInquiry, Quotas, Record, RobotRecord, ShopRecord, SlaPolicy, TierRule, TranscriptRecord,
    encode, stream_of,
)

#: how many grab verdicts are remembered for idempotent retries
VERDICT_MEMORY = 200_000
#: how many recent alerts can be acknowledged
ALERT_MEMORY = 5_000
#: how many closed inquiries are remembered to tell late grabbers who won
CLOSED_MEMORY = 200_000
#: how far in the past an intake may date an arrival, and in the future (clock skew)
MAX_ARRIVAL_AGE_S = 30 * 86400.0
MAX_CLOCK_SKEW_S = 300.0
#: the most queued inquiries auto-assignment examines in one tick
ASSIGN_SCAN_PER_TICK = 2_000
#: the most of each kind of work one sliced tick does (see ``Arbiter.tick``): about
#: 0.2-0.3 ms each on this class of machine, under one group commit's fsync
SLICE_TIMERS = 32
#: timers of closed inquiries cost only their pop, so more of them fit in a slice
SLICE_TIMER_POPS = 512
SLICE_AGENTS = 64
SLICE_ASSIGN_CHECKS = 256


@dataclass
class CoreConfig:
    default_quotas: Quotas = field(default_factory=lambda: msgspec.structs.replace(rules.DEFAULT_QUOTAS))
    tiers: list[TierRule] = field(default_factory=lambda: list(rules.DEFAULT_TIERS))
    default_sla: SlaPolicy = field(default_factory=SlaPolicy)
    #: an agent silent this long (no command, no heartbeat) is marked offline
    agent_timeout_s: float = 15.0
    #: what an offline agent holds goes back to the pool after this grace
    offline_grace_s: float = 120.0
    #: time zone whose midnight starts a new quota day
    day_tz: str = "Asia/Shanghai"
    #: a robot silent this long is disconnected; an inquiry it has not decided on within
    #: this long of receiving it goes to the pool (docs/robot.md, "Nothing is lost")
    robot_timeout_s: float = 5.0
    #: after a robot answer the inquiry awaits the customer this long, then is resolved
    robot_await_s: float = 120.0
    #: the most text a transcript keeps, and one line of it (docs/protocol.md, "Transcripts")
    transcript_max_chars: int = 16_000
    transcript_line_chars: int = 4_000
    #: the skill of an inquiry submitted without one that no robot takes
    fallback_skill: str = "pre_sales"
    #: how auto-assignment chooses (broker/arbiter/assist.py)
    assist: assist.AssistConfig = field(default_factory=assist.AssistConfig)


class EmittedEvent(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One event as the arbiter emitted it: what the publisher and the store need
    without decoding it, and the encoded ``Event`` for the rest.

    Atomic fields only, so ``gc=False`` is safe: the cyclic GC never scans the
    thousands a busy batch holds. A NamedTuple would be GC-tracked and slower
    to build: 0.50 us against this Struct's 0.08 us (a plain tuple's 0.05 us),
    measured with timeit on the shared 2-core machine."""

    stream: str
    seq: int
    #: the msgpack ``Event``, encoded when emitted so it carries the record as it was at this seq
    raw: bytes
    kind: str
    at: float


class DecidedGrab(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One decided grab: a row of the store's ``grabs`` table, in its column order
    (``array_like`` encodes it as that row). Atomic fields, untracked by the GC."""

    inquiry: str
    grab_id: str
    agent: str
    at: float
    latency_s: float
    outcome: str  # won / lost / refused
    code: str  # an ErrorCode value, "" for a win
    reason: str
    winner: str | None
    won_at: float | None


@dataclass
class Changes:
    """Everything one batch of commands produced, for the store and the publisher."""

    events: list[EmittedEvent] = field(default_factory=list)
    grabs: list[DecidedGrab] = field(default_factory=list)
    seq: int = 0
    stream_last: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.events or self.grabs)


class TimerKind(IntEnum):
    """What a timer in the deadline heap checks. The SLA kinds are in the order they
    fall due, so each one fired arms the next (``_arm_next_sla``). The heap keeps the
    plain int: tuples of atomic values are untracked by the GC, with an enum member not."""

    HYBRID = 0
    FRT_WARN = 1
    FRT_BREACH = 2
    RES_WARN = 3
    RES_BREACH = 4
    SILENT = 5
    #: the robot first line: a robot's decision due; an answered inquiry's wait for the customer
    ROBOT_DUE = 6
    ROBOT_AWAIT = 7


#: the SLA check each SLA timer kind makes: (which clock, level)
_SLA_CHECKS = {
    TimerKind.FRT_WARN: ("first_response", "warn"), TimerKind.FRT_BREACH: ("first_response", "breach"),
    TimerKind.RES_WARN: ("resolution", "warn"), TimerKind.RES_BREACH: ("resolution", "breach"),
}


class Arbiter:
    def __init__(self, config: CoreConfig | None = None, *, clock: Callable[[], float]):
        """``clock`` is the floor's time in epoch seconds: the broker passes its own
        (wall or scaled), tests and the lab pass a virtual one."""
        self.config = config or CoreConfig()
        self.clock = clock
        self.shops: dict[str, ShopRecord] = {}
        self.groups: dict[str, GroupRecord] = {}
        self.agents: dict[str, AgentRecord] = {}
        #: open inquiries only (queued or held)
        self.inquiries: dict[str, InquiryRecord] = {}
        self.seq = 0
        self.stream_last: dict[str, int] = {s: 0 for s in STREAMS}
        self._out = Changes()
        #: agents whose load (held, grabs and reclaims today, idle since) changed since the
        #: last drain: a client hears it once per batch, in a small ``agent.load``
        self._load_changed: dict[str, AgentRecord] = {}
        #: (agent, grab_id) -> the verdict's fields as a plain tuple (see VerdictFacts)
        self._verdicts: OrderedDict[tuple[str, str], tuple] = OrderedDict()
        #: inquiry -> the ClosedFacts fields as a plain tuple (untracked by the GC, as verdicts)
        self._closed: OrderedDict[str, tuple[str, str | None, float | None]] = OrderedDict()
        #: the latest alerts by id, so a supervisor can acknowledge one
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._timers: list[tuple[float, int, str, float]] = []
        self._agents_by_skill: dict[str, set[str]] = {}
        self._assign_wanted: dict[str, None] = {}
        self._tz = ZoneInfo(self.config.day_tz)
        self._day = ""
        self._day_ends = 0.0
        self._last_agent_sweep = 0.0
        #: the agent sweep under way (a generator: see ``tick``), or None
        self._sweep = None
        #: group -> mean grabs today of its online agents, refreshed each sweep
        #: group -> mean recent load of its online agents, refreshed each sweep
        self._group_mean_load: dict[str, float] = {}
        #: agent -> (recent load, when): takes decayed by the assist's half-life (not persisted:
        #: after a restart it builds up again within the half-life)
        self._recent: dict[str, tuple[float, float]] = {}
        #: skill -> inquiries in the pool, kept incrementally so metrics never scan
        self.queue_count: dict[str, int] = {}
        #: (shop, skill, language, channel) -> inquiries in the pool, so the floor can ask
        #: "can anyone online take these?" per kind of need, never per inquiry
        self.queued_needs: dict[tuple[str, str, str, str], int] = {}
        #: skill -> its queued inquiries in order of arrival, kept exact on every change
        self._waiting: dict[str, WaitOrder] = {}
        #: observers for the floor statistics: fn(inquiry, now)
        self.on_taken: list[Callable[[InquiryRecord, float], None]] = []
        self.on_closed: list[Callable[[InquiryRecord, float], None]] = []
        self.on_arrival: list[Callable[[InquiryRecord, float], None]] = []
        #: observers of the robot first line: fn(inquiry, now) when it hands one to people
        self.on_escalated: list[Callable[[InquiryRecord, float], None]] = []
        #: robots seen since start, by id (their leases: see ``robot_seen``)
        self.robots: dict[str, RobotRecord] = {}
        #: transcripts of open inquiries (closed ones are in the store only)
        self.transcripts: dict[str, TranscriptRecord] = {}
        self._last_robot_check = 0.0
        #: inquiry -> when it last went to its robot for a decision (the due timer's stamp)
        self._robot_since: dict[str, float] = {}

    # ------------------------------------------------------------------ plumbing

    def drain(self) -> Changes:
        """Hand over what happened since the last drain, ending with one ``agent.load``
        per agent whose load it changed, however many decisions did."""
        self._publish_loads()
        out, self._out = self._out, Changes()
        out.seq = self.seq
        out.stream_last = dict(self.stream_last)
        return out

    def _publish_loads(self) -> None:
        for agent in self._load_changed.values():
            self._stamp_unavailable(agent, self.clock())
            self._emit("agent.load", AgentLoad.of(agent))
        self._load_changed.clear()

    def has_changes(self) -> bool:
        """Whether anything happened since the last drain."""
        return bool(self._out) or bool(self._load_changed)

    def _emit(self, kind: str, record: Record | None, actor: str = "", reason: str = "",
              removed: bool = False) -> int:
        self.seq += 1
        seq = self.seq
        stream = stream_of(kind)
        self.stream_last[stream] = seq
        now = self.clock()
        if type(record) is AgentRecord:
            self._stamp_unavailable(record, now)
        # Encoded now, so the event carries the record as it is at this seq.
        raw = encode(Event(seq=seq, kind=kind, at=now, actor=actor, reason=reason,
                           record=record, removed=removed))
        self._out.events.append(EmittedEvent(stream, seq, raw, kind, now))
        return seq

    def publish(self, kind: str, record: Record) -> int:
        """Publish a record the floor views computed (``metrics.floor``,
        ``coverage.updated``) in the event stream, in order with the arbiter's own
        events. Returns its seq. Call it on the broker's loop, like every method here."""
        return self._emit(kind, record)

    def agent_skills(self) -> dict[str, frozenset[str]]:
        """Each agent's skills, copied: a snapshot the caller owns, for work off the loop."""
        return {agent.id: frozenset(agent.skills) for agent in self.agents.values()}

    def audit(self, actor: str, role: str, kind: str, subject: str, reason: str, ok: bool) -> None:
        """Journal a supervisor/admin action or a refused command, and publish it."""
        entry = AuditEntry(seq=self.seq + 1, at=self.clock(), actor=actor, role=role, kind=kind,
                           subject=subject, reason=reason, ok=ok)
        self._emit("audit.entry", entry, actor=actor, reason=reason)

    def today(self, now: float) -> str:
        """The quota day ``now`` falls in (``rules.quota_day``), cached until it ends."""
        if now >= self._day_ends or not self._day:
            self._day, self._day_ends = rules.quota_day(now, self._tz)
        return self._day

    # ------------------------------------------------------------------ loading

    def load(self, shops, groups, agents, inquiries, seq: int, stream_last: dict[str, int],
             recent_grabs=(), closed=(), transcripts=()) -> None:
        """Install state rebuilt by the store after a restart. Emits nothing."""
        self.shops = {s.id: s for s in shops}
        self.groups = {g.id: g for g in groups}
        self.agents = {a.id: a for a in agents}
        self.inquiries = {i.id: i for i in inquiries if i.state in ("queued", "held", "robot")}
        self.transcripts = {t.id: t for t in transcripts if t.id in self.inquiries}
        self.seq = seq
        self.stream_last.update(stream_last)
        self._agents_by_skill.clear()
        now = self.clock()
        for agent in self.agents.values():
            self._index_agent(agent)
            self._refresh_agent(agent)
            self._stamp_unavailable(agent, now)
            if agent.last_seen:
                # last_seen is stale in the store; give every client time to reconnect
                # before the offline timeout and the grace period start counting
                agent.last_seen = now
        # in order of arrival, so the waiting index takes them all at its O(1) end
        for inq in sorted(self.inquiries.values(), key=lambda i: i.arrived_at):
            self._arm_timers(inq)
            if inq.state == "robot":  # no robot is connected yet: its timers decide
                self._robot_record(inq.robot).holding += 1
                self._arm_robot_timer(inq)
            if inq.state == "queued":
                self._enqueued(inq)
            if inq.state == "queued" and self._mode(inq) == "assign":
                self._assign_wanted[inq.id] = None
        for inquiry_id, state, owner, taken_at in closed:
            self._closed[inquiry_id] = (state, owner, taken_at)
        for (inquiry, grab_id, agent, outcome, code, reason, winner, won_at) in recent_grabs:
            self._verdicts[(agent, grab_id)] = (inquiry, outcome, code or None, reason, winner, won_at)

    # ------------------------------------------------------------------ definitions

    def define_shop(self, shop: ShopRecord, actor: str = "") -> ShopRecord:
        _validate_shop(shop)
        previous = self.shops.get(shop.id)
        self.shops[shop.id] = shop
        self._emit("config.shop", shop, actor)
        if previous is not None and previous.mode != shop.mode:
            self._replan_queue(shop)
        return shop

    def define_group(self, group: GroupRecord, actor: str = "") -> GroupRecord:
        _validate_quotas(group.quotas, allow_clear=False)
        self.groups[group.id] = group
        self._emit("config.group", group, actor)
        for agent in self.agents.values():
            if agent.group == group.id:
                self._refresh_agent(agent, publish=True)
        return group

    def define_agent(self, spec: AgentSpec, actor: str = "") -> AgentRecord:
        """Create an agent, or update its definition keeping its live state."""
        _validate_quotas(spec.quotas, allow_clear=False)
        if not 0 <= spec.quality <= 100:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.quality", {}, field="quality")
        agent = self.agents.get(spec.id)
        if agent is None:
            agent = AgentRecord(id=spec.id, idle_since=self.clock())
            self.agents[spec.id] = agent
        else:
            self._unindex_agent(agent)
        agent.name = spec.name or spec.id
        agent.group = spec.group
        agent.skills = dict(spec.skills)
        agent.languages = list(spec.languages)
        agent.channels = list(spec.channels)
        agent.shops = list(spec.shops)
        agent.quality = spec.quality
        agent.quotas = spec.quotas
        self._index_agent(agent)
        self._refresh_agent(agent)
        self._emit("agent.defined", agent, actor)
        return agent

    def _index_agent(self, agent: AgentRecord) -> None:
        for skill in agent.skills:
            self._agents_by_skill.setdefault(skill, set()).add(agent.id)

    def _unindex_agent(self, agent: AgentRecord) -> None:
        for skill in agent.skills:
            self._agents_by_skill.get(skill, set()).discard(agent.id)

    def _refresh_agent(self, agent: AgentRecord, publish: bool = False) -> None:
        """Recompute tier and effective quotas after a definition/quality/quota change."""
        now_standing = rules.standing(agent, self.groups.get(agent.group), self.config.tiers,
                                      self.config.default_quotas, self._group_mean_load.get(agent.group, 0.0),
                                      self.recent_load(agent.id, self.clock()))
        changed = (agent.tier, agent.effective, agent.visibility_delay_s) != tuple(now_standing)
        agent.tier, agent.effective, agent.visibility_delay_s = now_standing
        if changed and publish:
            self._emit("agent.updated", agent)

    # ------------------------------------------------------------------ intake

    def submit(self, new: NewInquiry, actor: str = "") -> InquiryRecord:
        if new.id in self.inquiries or new.id in self._closed:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "inquiry.exists", {"inquiry": new.id}, field="id")
        if new.shop not in self.shops:
            raise Refusal.because(ErrorCode.NOT_FOUND, "shop.unknown", {"shop": new.shop}, field="shop")
        now = self.clock()
        skill = new.skill or self.config.fallback_skill
        arrived = new.arrived_at if new.arrived_at is not None else now
        # NaN compares false both ways, so this also refuses it; timers must never see one
        if not now - MAX_ARRIVAL_AGE_S <= arrived <= now + MAX_CLOCK_SKEW_S:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.arrived_at",
                                  {"value": str(new.arrived_at), "days": reasons.number(MAX_ARRIVAL_AGE_S / 86400)},
                                  field="arrived_at")
        inq = InquiryRecord(id=new.id, shop=new.shop, skill=skill, language=new.language,
                            channel=new.channel, priority=new.priority, customer=new.customer,
                            arrived_at=arrived, queued_at=now)
        self._stamp_deadlines(inq)
        self.inquiries[inq.id] = inq
        robot = self._robot_for(inq, new.message)
        if robot is not None:
            self._to_robot(inq, robot, new.message, actor, now)
            return inq
        if new.message:
            self._add_line(inq, "customer", new.message, now)
        self._enqueued(inq)
        self._emit("inquiry.queued", inq, actor)
        for observer in self.on_arrival:
            observer(inq, now)
        self._arm_timers(inq)
        mode = self._mode(inq)
        # with others already waiting, the next tick offers them all, most urgent first
        if mode == "assign" and (self._assign_wanted or not self._try_assign(inq, now)):
            self._assign_wanted[inq.id] = None
        return inq

    def abandon(self, inquiry_id: str, actor: str = "") -> InquiryRecord:
        inq = self._open(inquiry_id)
        self._close(inq, "abandoned", actor, "customer left")
        return inq

    # ------------------------------------------------------------------ grabbing

    def grab(self, agent_id: str, inquiry_id: str, grab_id: str) -> VerdictFacts:
        """Decide one grab. Idempotent per (agent, grab_id)."""
        key = (agent_id, grab_id)
        cached = self._verdicts.get(key)
        if cached is not None:
            cached = VerdictFacts(*cached)
            reused = rules.reused_grab_id(cached.inquiry, inquiry_id, grab_id)
            if reused is not None:
                raise reused
            return cached
        now = self.clock()
        inq = self.inquiries.get(inquiry_id)
        latency = 0.0
        if inq is None:
            closed = self._closed.get(inquiry_id)
            facts = rules.verdict_without_inquiry(inquiry_id, ClosedFacts(*closed) if closed else None)
        else:
            latency = now - inq.queued_at
            facts = rules.judge_grab(agent_id, self.agents.get(agent_id), inq, now, shop_mode=self._mode(inq),
                                     today=self.today(now), tz=self._tz)
            if facts.outcome == "won":
                agent = self.agents[agent_id]
                self._take(inq, agent, "grab", now)
                self._count_grab(agent, now)
                self._emit("inquiry.grabbed", inq, agent_id)
                self._load_changed[agent.id] = agent
        self._remember_verdict(key, facts)
        self._out.grabs.append(DecidedGrab(inquiry_id, grab_id, agent_id, now, latency, facts.outcome,
                                           facts.code or "", facts.reason, facts.winner, facts.won_at))
        return facts

    def _remember_verdict(self, key, facts: VerdictFacts) -> None:
        # an exact tuple of plain values: CPython's GC untracks those, not NamedTuples
        self._verdicts[key] = tuple(facts)
        if len(self._verdicts) > VERDICT_MEMORY:
            self._verdicts.popitem(last=False)

    def _count_grab(self, agent: AgentRecord, now: float) -> None:
        """A won grab or an assignment uses the daily quota of the current quota day."""
        self._roll_day(agent, now)
        agent.grabs_today += 1
        self._recent[agent.id] = (self.recent_load(agent.id, now) + 1.0, now)

    def recent_load(self, agent_id: str, now: float) -> float:
        """The agent's takes (grabs and assignments), each fading with the assist's half-life."""
        value, at = self._recent.get(agent_id, (0.0, now))
        return assist.decayed(value, now - at, self.config.assist.recent_half_life_s)

    def _available(self, agent: AgentRecord, now: float, count_daily: bool = True) -> Refusal | None:
        return rules.availability_refusal(agent, now, self.today(now), self._tz, count_daily)

    def _stamp_unavailable(self, agent: AgentRecord, now: float) -> None:
        """Put on the record what clients show and must not work out themselves: whether
        (and why) the broker would refuse handing this agent an inquiry now."""
        refusal = self._available(agent, now, count_daily=False)
        agent.unavailable = refusal.code.value if refusal is not None else ""

    def _roll_day(self, agent: AgentRecord, now: float) -> None:
        today = self.today(now)
        if agent.day == today:
            return
        if not agent.day:  # the first stamp: what was counted so far was counted today
            agent.day = today
            return
        agent.day = today
        agent.grabs_today = 0
        agent.reclaims_today = 0
        # whoever notices the new day first (a grab, an assignment scan, the sweep),
        # the clients showing quota use must hear of the reset
        self._load_changed[agent.id] = agent

    def _enqueued(self, inq: InquiryRecord) -> None:
        self.queue_count[inq.skill] = self.queue_count.get(inq.skill, 0) + 1
        waiting = self._waiting.get(inq.skill)
        if waiting is None:
            waiting = self._waiting[inq.skill] = WaitOrder()
        waiting.add(inq.id, inq.arrived_at)
        need = (inq.shop, inq.skill, inq.language, inq.channel)
        self.queued_needs[need] = self.queued_needs.get(need, 0) + 1

    def _dequeued(self, inq: InquiryRecord) -> None:
        self.queue_count[inq.skill] -= 1
        self._waiting[inq.skill].remove(inq.id, inq.arrived_at)
        need = (inq.shop, inq.skill, inq.language, inq.channel)
        left = self.queued_needs[need] - 1
        if left:
            self.queued_needs[need] = left
        else:
            del self.queued_needs[need]

    def longest_waiting(self, skill: str) -> InquiryRecord | None:
        """The queued inquiry of ``skill`` that has waited longest (O(1): see waiting.py)."""
        waiting = self._waiting.get(skill)
        inquiry_id = waiting.oldest() if waiting is not None else None
        return None if inquiry_id is None else self.inquiries[inquiry_id]

    def _take(self, inq: InquiryRecord, agent: AgentRecord, how: str, now: float) -> None:
        if inq.state == "queued":
            self._dequeued(inq)
        if inq.state == "robot":  # a supervisor hands it to an agent before the robot decided
            self._leave_robot(inq)
        inq.state = "held"
        inq.owner = agent.id
        inq.taken_by = how
        inq.taken_at = now
        agent.held += 1
        self._assign_wanted.pop(inq.id, None)
        self._push_timer(now + self.sla_for(inq).silent_reclaim_s, TimerKind.SILENT, inq.id, now)
        for observer in self.on_taken:
            observer(inq, now)

    def _untake(self, inq: InquiryRecord, now: float) -> AgentRecord | None:
        """Detach an inquiry from its owner (it is about to be re-queued or closed)."""
        agent = self.agents.get(inq.owner) if inq.owner else None
        if agent is not None:
            agent.held -= 1
            if agent.held == 0:
                agent.idle_since = now
        inq.owner = None
        inq.taken_by = ""
        inq.taken_at = None
        return agent

    def _requeue(self, inq: InquiryRecord, kind: str, actor: str, reason: str) -> None:
        now = self.clock()
        if inq.state == "robot":
            self._leave_robot(inq)
        agent = self._untake(inq, now)
        inq.state = "queued"
        inq.queued_at = now  # arrived_at is kept: the customer's wait goes on
        self._enqueued(inq)
        self._emit(kind, inq, actor, reason)
        if agent is not None:
            self._load_changed[agent.id] = agent
        shop_mode = self._mode(inq)
        if shop_mode == "hybrid":
            self._push_timer(self._hybrid_due(inq), TimerKind.HYBRID, inq.id, now)
        elif shop_mode == "assign":
            self._assign_wanted[inq.id] = None

    def _close(self, inq: InquiryRecord, state: str, actor: str, reason: str) -> None:
        now = self.clock()
        if inq.state == "queued":
            self._dequeued(inq)
        elif inq.state == "robot":
            self._leave_robot(inq)
        self.transcripts.pop(inq.id, None)
        owner, taken_at, taken_by = inq.owner, inq.taken_at, inq.taken_by
        agent = self._untake(inq, now) if owner else None
        # closed records keep who had it, for reports and late grabbers
        inq.owner, inq.taken_at, inq.taken_by = owner, taken_at, taken_by
        inq.state = state  # type: ignore[assignment]
        inq.closed_at = now
        del self.inquiries[inq.id]
        self._assign_wanted.pop(inq.id, None)
        self._closed[inq.id] = (state, owner, inq.taken_at)
        if len(self._closed) > CLOSED_MEMORY:
            self._closed.popitem(last=False)
        self._emit(f"inquiry.{state}", inq, actor, reason, removed=True)
        if agent is not None:
            self._load_changed[agent.id] = agent
        for observer in self.on_closed:
            observer(inq, now)

    # ------------------------------------------------------------------ owner actions

    def _owned(self, inquiry_id: str, agent_id: str) -> InquiryRecord:
        inq = self._open(inquiry_id)
        if inq.owner != agent_id:
            raise Refusal.because(ErrorCode.FORBIDDEN, "inquiry.not_held",
                                  {"inquiry": inquiry_id, "agent": agent_id}, owner=inq.owner)
        return inq

    def _open(self, inquiry_id: str) -> InquiryRecord:
        inq = self.inquiries.get(inquiry_id)
        if inq is None:
            closed = self._closed.get(inquiry_id)
            if closed is not None:
                raise Refusal.because(ErrorCode.INVALID_STATE, "inquiry.closed",
                                      {"inquiry": inquiry_id, "state": closed[0]})
            raise Refusal.because(ErrorCode.NOT_FOUND, "inquiry.not_open", {"inquiry": inquiry_id})
        return inq

    def respond(self, agent_id: str, inquiry_id: str) -> InquiryRecord:
        inq = self._owned(inquiry_id, agent_id)
        now = self.clock()
        if inq.owner_responded_at is None or inq.owner_responded_at < (inq.taken_at or 0.0):
            inq.owner_responded_at = now
            if inq.first_response_at is None:  # the customer's first answer, whoever gave it
                inq.first_response_at = now
            self._emit("inquiry.responded", inq, agent_id)
        return inq

    def resolve(self, agent_id: str, inquiry_id: str, satisfaction: int | None) -> InquiryRecord:
        if satisfaction is not None and not 1 <= satisfaction <= 5:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.satisfaction", {}, field="satisfaction")
        inq = self._owned(inquiry_id, agent_id)
        if inq.first_response_at is None:
            inq.first_response_at = self.clock()  # resolving answers the customer too
        inq.owner_responded_at = inq.owner_responded_at or inq.first_response_at
        inq.satisfaction = satisfaction
        self._close(inq, "resolved", agent_id, "")
        return inq

    def release(self, agent_id: str, inquiry_id: str) -> InquiryRecord:
        inq = self._owned(inquiry_id, agent_id)
        self._requeue(inq, "inquiry.released", agent_id, "released by its owner")
        return inq

    def transfer_to_pool(self, agent_id: str, inquiry_id: str, skill: str, note: str) -> InquiryRecord:
        """Hand a held inquiry to another skill's pool with a note for the next agent. Its
        arrival time is kept (the customer's wait goes on); it is queued anew for ``skill``."""
        inq = self._owned(inquiry_id, agent_id)
        if skill == inq.skill:
            raise Refusal.because(ErrorCode.INVALID_STATE, "inquiry.same_skill", {"inquiry": inquiry_id, "skill": skill},
                                  field="skill")
        from_skill = inq.skill
        inq.skill = skill
        inq.note = note
        self._requeue(inq, "inquiry.to_pool", agent_id, f"from {from_skill} to {skill}: {note}" if note
                      else f"from {from_skill} to {skill}")
        return inq

    def transfer(self, agent_id: str, inquiry_id: str, to_agent: str) -> InquiryRecord:
        inq = self._owned(inquiry_id, agent_id)
        target = self._target(to_agent, inq)
        self._move(inq, target, "transfer", agent_id, f"transferred by {agent_id}")
        return inq

    def _target(self, to_agent: str, inq: InquiryRecord) -> AgentRecord:
        target = self.agents.get(to_agent)
        if target is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": to_agent})
        if target.id == inq.owner:
            raise Refusal.because(ErrorCode.INVALID_STATE, "inquiry.already_holds", {"agent": to_agent, "inquiry": inq.id})
        rule = rules.ineligible_rule(target, inq)
        if rule is not None:
            raise Refusal.because(ErrorCode.NOT_ELIGIBLE, f"rule.{rule}", rules.rule_params(to_agent, inq), rule=rule)
        refusal = self._available(target, self.clock(), count_daily=False)
        if refusal is not None:
            raise Refusal(refusal.code, refusal.reason, refusal.key, refusal.params, agent=to_agent)
        return target

    def _move(self, inq: InquiryRecord, target: AgentRecord, how: str, actor: str, reason: str) -> None:
        now = self.clock()
        previous = self._untake(inq, now) if inq.owner else None
        self._take(inq, target, how, now)
        kind = "inquiry.transferred" if how == "transfer" else "inquiry.reassigned"
        self._emit(kind, inq, actor, reason)
        if previous is not None:
            self._load_changed[previous.id] = previous
        self._load_changed[target.id] = target

    # ------------------------------------------------------------------ robot first line

    def robot_seen(self, robot_id: str) -> None:
        """Any command from a robot renews its lease; the first after a silence connects it."""
        robot = self._robot_record(robot_id)
        robot.last_seen = self.clock()
        if not robot.connected:
            robot.connected = True
            self._emit("robot.connected", robot, robot_id)

    def _robot_record(self, robot_id: str) -> RobotRecord:
        robot = self.robots.get(robot_id)
        if robot is None:
            robot = self.robots[robot_id] = RobotRecord(id=robot_id)
        return robot

    def _robot_for(self, inq: InquiryRecord, message: str) -> RobotRecord | None:
        """The connected robot holding fewest inquiries, when the inquiry's shop has the robot
        on and the customer wrote something it can read; None sends it to the pool."""
        shop = self.shops.get(inq.shop)
        if shop is None or not shop.robot or not message.strip():
            return None
        best: RobotRecord | None = None
        for robot in self.robots.values():
            if robot.connected and (best is None or robot.holding < best.holding):
                best = robot
        return best

    def _to_robot(self, inq: InquiryRecord, robot: RobotRecord, message: str, actor: str, now: float) -> None:
        inq.state = "robot"
        inq.robot = robot.id
        robot.holding += 1
        self._robot_since[inq.id] = now
        self._emit("inquiry.robot", inq, actor)
        self._add_line(inq, "customer", message, now, robot=robot.id)
        self._arm_robot_timer(inq)

    def _arm_robot_timer(self, inq: InquiryRecord) -> None:
        """Awaiting the robot: due ``robot_timeout_s`` after it got the customer's line.
        Answered: resolved ``robot_await_s`` after the answer unless the customer writes."""
        if inq.robot_answered_at is None:
            since = self._robot_since.setdefault(inq.id, self.clock())
            self._push_timer(since + self.config.robot_timeout_s, TimerKind.ROBOT_DUE, inq.id, since)
        else:
            self._push_timer(inq.robot_answered_at + self.config.robot_await_s, TimerKind.ROBOT_AWAIT, inq.id,
                             inq.robot_answered_at)

    def _fire_robot(self, kind: int, inq: InquiryRecord, stamp: float) -> None:
        if inq.state != "robot":
            return
        if kind == TimerKind.ROBOT_DUE:
            if inq.robot_answered_at is None and self._robot_since.get(inq.id) == stamp:
                self._escalate(inq, "", "robot-timeout", 0, "")
        elif inq.robot_answered_at == stamp:
            robot_id = inq.robot
            inq.taken_by = "robot"  # closed records say who served them: nobody but the robot
            self._close(inq, "resolved", robot_id, "answered by the robot")

    def _leave_robot(self, inq: InquiryRecord) -> None:
        robot = self.robots.get(inq.robot)
        if robot is not None:
            robot.holding -= 1
        inq.robot = ""
        inq.robot_answered_at = None
        self._robot_since.pop(inq.id, None)

    def _held_by_robot(self, robot_id: str, inquiry_id: str) -> InquiryRecord:
        inq = self._open(inquiry_id)
        if inq.state != "robot" or inq.robot != robot_id:
            raise Refusal.because(ErrorCode.FORBIDDEN, "robot.not_held", {"inquiry": inquiry_id, "robot": robot_id},
                                  state=inq.state)
        return inq

    def _add_line(self, inq: InquiryRecord, who: str, text: str, now: float, robot: str = "") -> None:
        """Append to the inquiry's transcript and publish it (stream ``transcript``); ``robot``
        names the robot asked to decide on this line."""
        c = self.config
        current = self.transcripts.get(inq.id) or TranscriptRecord(id=inq.id, shop=inq.shop, customer=inq.customer)
        record = transcripts.appended(current, transcripts.bounded_line(now, who, text, c.transcript_line_chars),
                                      c.transcript_max_chars, robot)
        self.transcripts[inq.id] = record
        self._emit("transcript.updated", record)

    def customer_message(self, inquiry_id: str, text: str, actor: str = "") -> InquiryRecord:
        """The customer wrote again: the line joins the transcript; an inquiry the robot
        answered goes back to it (or to the pool when that robot is gone)."""
        if not text.strip():
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.empty_text", {"field": "text"}, field="text")
        inq = self._open(inquiry_id)
        now = self.clock()
        if inq.state != "robot":
            self._add_line(inq, "customer", text, now)
            return inq
        robot = self.robots.get(inq.robot)
        if inq.robot_answered_at is None:  # it is deciding: it reads the new line with the first
            self._add_line(inq, "customer", text, now, robot=inq.robot)
            return inq
        inq.robot_answered_at = None
        if robot is None or not robot.connected:
            self._add_line(inq, "customer", text, now)
            self._escalate(inq, "", "robot-unavailable", 0, "")
            return inq
        self._robot_since[inq.id] = now
        self._emit("inquiry.robot", inq, actor)
        self._add_line(inq, "customer", text, now, robot=inq.robot)
        self._arm_robot_timer(inq)
        return inq

    def robot_answer(self, robot_id: str, inquiry_id: str, text: str, skill: str = "") -> InquiryRecord:
        """The robot answered: the customer has a first response; the inquiry awaits the
        customer's next message for ``robot_await_s``, then is resolved by the robot."""
        inq = self._held_by_robot(robot_id, inquiry_id)
        if inq.robot_answered_at is not None:
            raise Refusal.because(ErrorCode.INVALID_STATE, "robot.awaiting", {"inquiry": inquiry_id, "robot": robot_id})
        if not text.strip():
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.empty_text", {"field": "text"}, field="text")
        now = self.clock()
        if skill:
            inq.skill = skill
        inq.robot_answered_at = now
        self._robot_since.pop(inq.id, None)
        if inq.first_response_at is None:
            inq.first_response_at = now
        self._emit("inquiry.robot_answered", inq, robot_id)
        self._add_line(inq, "robot", text, now)
        self._arm_robot_timer(inq)
        return inq

    def robot_escalate(self, robot_id: str, inquiry_id: str, skill: str, reason: str, priority_bump: int,
                       note: str = "") -> InquiryRecord:
        """The robot hands the inquiry to people: to the pool of ``skill``, its arrival time
        (so its SLA clock) kept, its priority raised by ``priority_bump``."""
        inq = self._held_by_robot(robot_id, inquiry_id)
        if not 0 <= priority_bump <= MAX_PRIORITY_BUMP:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.range",
                                  {"field": "priority_bump", "low": 0, "high": MAX_PRIORITY_BUMP,
                                   "value": priority_bump}, field="priority_bump")
        self._escalate(inq, skill, reason, priority_bump, robot_id, note)
        return inq

    def _escalate(self, inq: InquiryRecord, skill: str, reason: str, priority_bump: int, actor: str,
                  note: str = "") -> None:
        now = self.clock()
        if note:
            self._add_line(inq, "robot", note, now)
        if skill:
            inq.skill = skill
        inq.escalation = reason
        inq.priority += priority_bump
        self._requeue(inq, "inquiry.escalated", actor, reason)
        for observer in self.on_escalated:
            observer(inq, now)
        for observer in self.on_arrival:  # demand reaches people now
            observer(inq, now)

    def robot_report(self, robot_id: str, answering: bool, decided: int, errors: int,
                     last_error: str) -> RobotRecord:
        """What a robot says of itself, published for the console."""
        robot = self._robot_record(robot_id)
        if last_error and last_error != robot.last_error:
            robot.last_error_at = self.clock()
        robot.answering, robot.decided, robot.errors, robot.last_error = answering, decided, errors, last_error
        self._emit("robot.report", robot, robot_id)
        return robot

    def _check_robot_leases(self, now: float) -> None:
        """A robot silent for ``robot_timeout_s`` is disconnected and every inquiry awaiting
        its decision goes to the pool at once, arrival time kept."""
        timeout = self.config.robot_timeout_s
        for robot in self.robots.values():
            if robot.connected and now - robot.last_seen > timeout:
                robot.connected = False
                robot.answering = False
                self._emit("robot.disconnected", robot, "", f"silent for more than {timeout:g} s")
                stranded = [i for i in self.inquiries.values()
                            if i.state == "robot" and i.robot == robot.id and i.robot_answered_at is None]
                for inq in stranded:
                    self._escalate(inq, "", "robot-timeout", 0, "")

    def transcript(self, inquiry_id: str) -> TranscriptRecord | None:
        """The transcript of an open inquiry (closed ones: ask the store)."""
        return self.transcripts.get(inquiry_id)

    # ------------------------------------------------------------------ supervisor

    def reassign(self, inquiry_id: str, to_agent: str | None, actor: str, reason: str) -> InquiryRecord:
        inq = self._open(inquiry_id)
        why = reason or "reassigned by a supervisor"
        if to_agent is None:
            if inq.state == "queued":
                raise Refusal.because(ErrorCode.INVALID_STATE, "inquiry.in_pool", {"inquiry": inquiry_id})
            self._requeue(inq, "inquiry.reassigned", actor, why)
        else:
            target = self._target(to_agent, inq)
            self._move(inq, target, "reassign", actor, why)
        return inq

    def set_quotas(self, quotas: Quotas, actor: str, reason: str, agent_id: str | None = None,
                   group_id: str | None = None) -> Record:
        _validate_quotas(quotas)
        if (agent_id is None) == (group_id is None):
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.quota_target", {})
        if agent_id is not None:
            agent = self.agents.get(agent_id)
            if agent is None:
                raise Refusal.because(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": agent_id})
            agent.quotas = _merge_quotas(agent.quotas, quotas)
            self._refresh_agent(agent)
            self._emit("agent.quotas", agent, actor, reason)
            return agent
        group = self.groups.get(group_id)  # type: ignore[arg-type]
        if group is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "group.unknown", {"group": group_id})
        group.quotas = _merge_quotas(group.quotas, quotas)
        self._emit("config.group", group, actor, reason)
        for agent in self.agents.values():
            if agent.group == group.id:
                self._refresh_agent(agent, publish=True)
        return group

    def set_mode(self, shop_id: str, mode: str, hybrid_after_s: float | None, actor: str,
                 reason: str) -> ShopRecord:
        shop = self.shops.get(shop_id)
        if shop is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "shop.unknown", {"shop": shop_id})
        if hybrid_after_s is not None and not 0 < hybrid_after_s <= MAX_SLA_S:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.hybrid_after", {"max_s": reasons.number(MAX_SLA_S)},
                                  field="hybrid_after_s")
        shop.mode = mode  # type: ignore[assignment]
        if hybrid_after_s is not None:
            shop.hybrid_after_s = hybrid_after_s
        self._emit("config.shop", shop, actor, reason)
        self._replan_queue(shop)
        return shop

    def _replan_queue(self, shop: ShopRecord) -> None:
        """After a mode change, queue the shop's waiting inquiries for the new mode."""
        now = self.clock()
        for inq in self.inquiries.values():
            if inq.shop == shop.id and inq.state == "queued":
                if shop.mode != "assign":
                    # grab never auto-assigns; hybrid does, but only once its timer fires
                    self._assign_wanted.pop(inq.id, None)
                if shop.mode == "assign":
                    self._assign_wanted[inq.id] = None
                elif shop.mode == "hybrid":
                    self._push_timer(max(now, self._hybrid_due(inq)), TimerKind.HYBRID, inq.id, inq.queued_at)

    def set_quality(self, agent_id: str, quality: float, actor: str, reason: str) -> AgentRecord:
        if not 0 <= quality <= 100:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.quality", {}, field="quality")
        agent = self.agents.get(agent_id)
        if agent is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": agent_id})
        agent.quality = quality
        self._refresh_agent(agent)
        self._emit("agent.quality", agent, actor, reason)
        return agent

    def set_status(self, agent_id: str, status: str, actor: str, reason: str = "") -> AgentRecord:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": agent_id})
        now = self.clock()
        if status == agent.status:
            return agent
        if status == "online":
            on_break = rules.forced_break_refusal(agent, now, self._tz)
            if on_break is not None:
                raise on_break
        self._set_status(agent, status, now)
        self._emit("agent.status", agent, actor, reason)
        return agent

    def _set_status(self, agent: AgentRecord, status: str, now: float) -> None:
        was_online = agent.status == "online"
        agent.status = status  # type: ignore[assignment]
        if status == "online":
            rest_s = (agent.effective.break_minutes or 0.0) * 60.0
            # A short absence does not reset continuous service; a real rest does.
            if agent.service_since is None or agent.away_since is None or now - agent.away_since >= rest_s:
                agent.service_since = now
            agent.away_since = None
            agent.forced_break = False
            agent.break_until = None
            if agent.held == 0:
                agent.idle_since = now
        elif was_online:
            agent.away_since = now

    def seen(self, agent_id: str) -> None:
        """Any message from an agent proves it is alive."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.last_seen = self.clock()

    # ------------------------------------------------------------------ assignment

    def _mode(self, inq: InquiryRecord) -> str:
        shop = self.shops.get(inq.shop)
        return shop.mode if shop else "grab"

    def _hybrid_due(self, inq: InquiryRecord) -> float:
        """When a hybrid shop assigns ``inq`` if nobody grabbed it (the assist's shrinking delay)."""
        due = inq.first_response_due if inq.first_response_due is not None else inq.arrived_at
        others = self.queue_count.get(inq.skill, 1) - 1
        return inq.queued_at + assist.hybrid_delay_s(self.shops[inq.shop].hybrid_after_s, due - inq.queued_at,
                                                     others, self.config.assist)

    def _try_assign(self, inq: InquiryRecord, now: float) -> bool:
        """Assign ``inq`` to the eligible, available agent the assist scores best."""
        best: AgentRecord | None = None
        best_key = None
        config = self.config.assist
        for agent_id in self._agents_by_skill.get(inq.skill, ()):
            agent = self.agents[agent_id]
            if agent.status != "online" or rules.ineligible_rule(agent, inq) is not None:
                continue
            if self._available(agent, now) is not None:
                continue
            score = assist.agent_score(agent.held, agent.effective.concurrent_cap, self.recent_load(agent_id, now),
                                       self._group_mean_load.get(agent.group, 0.0), agent.skills.get(inq.skill, 0),
                                       agent.quality, config)
            key = (score, agent.idle_since, agent.id)
            if best_key is None or key < best_key:
                best, best_key = agent, key
        if best is None:
            return False
        self._take(inq, best, "assign", now)
        self._count_grab(best, now)
        self._emit("inquiry.assigned", inq, "", f"auto-assigned to {best.id}")
        self._load_changed[best.id] = best
        return True

    # ------------------------------------------------------------------ timers

    def sla_for(self, inq: InquiryRecord) -> SlaPolicy:
        """The SLA that applies to ``inq``: its shop's for its skill, else its shop's, else the broker's."""
        shop = self.shops.get(inq.shop)
        if shop is None:
            return self.config.default_sla
        return shop.sla_by_skill.get(inq.skill, shop.sla)

    def _push_timer(self, due: float, kind: TimerKind, inquiry_id: str, stamp: float) -> None:
        heapq.heappush(self._timers, (due, int(kind), inquiry_id, stamp))

    def _arm_timers(self, inq: InquiryRecord) -> None:
        """Arm the inquiry's next SLA check (each check arms the one after it),
        plus the hybrid and silent-grab timers that apply to its state."""
        self._arm_next_sla(inq)
        if inq.state == "queued" and self._mode(inq) == "hybrid":
            self._push_timer(self._hybrid_due(inq), TimerKind.HYBRID, inq.id, inq.queued_at)
        if inq.state == "held" and inq.taken_at is not None and (
                inq.owner_responded_at is None or inq.owner_responded_at < inq.taken_at):
            self._push_timer(inq.taken_at + self.sla_for(inq).silent_reclaim_s, TimerKind.SILENT, inq.id, inq.taken_at)

    def _stamp_deadlines(self, inq: InquiryRecord) -> None:
        """Fix the inquiry's SLA deadlines (published on its record) by the policy in force."""
        sla = self.sla_for(inq)
        inq.first_response_due = inq.arrived_at + sla.first_response_s
        inq.resolution_due = inq.arrived_at + sla.resolution_s

    def _arm_next_sla(self, inq: InquiryRecord, after_kind: int = -1) -> None:
        """Arm the first SLA check after ``after_kind`` (-1: the first of all)."""
        # the timers check the deadlines clients count down to
        if inq.first_response_due is None or inq.resolution_due is None:
            self._stamp_deadlines(inq)  # journaled before records carried deadlines
        frt_due, res_due = inq.first_response_due, inq.resolution_due
        warn = self.sla_for(inq).warn_pct / 100.0
        t0 = inq.arrived_at
        # one timer per inquiry at a time: arrivals are the hot path
        for kind, due in ((TimerKind.FRT_WARN, t0 + warn * (frt_due - t0)),  # type: ignore[operator]
                          (TimerKind.FRT_BREACH, frt_due),
                          (TimerKind.RES_WARN, t0 + warn * (res_due - t0)),  # type: ignore[operator]
                          (TimerKind.RES_BREACH, res_due)):
            if kind > after_kind:
                self._push_timer(due, kind, inq.id, t0)
                return

    def next_timer_due(self) -> float | None:
        """When ``tick`` next has work: the earliest timer, or now while a sweep is under way."""
        if self._sweep is not None:
            return self.clock()
        return self._timers[0][0] if self._timers else None

    def tick(self, sliced: bool = False) -> None:
        """Run what is due: SLA timers, reclaims, assignment, the agents' clocks.

        ``sliced`` bounds the work of this call (``SLICE_TIMERS`` timers fired,
        ``SLICE_AGENTS`` agents swept, ``SLICE_ASSIGN_CHECKS`` candidates
        weighed for assignment), so a burst of due work never holds the
        broker's loop longer than about a commit; the rest runs on the next
        calls, which ``next_timer_due`` asks for at once. Unsliced (tests, the
        lab), a call runs everything due.
        """
        now = self.clock()
        timers = self._timers
        fired = popped = 0
        while timers and timers[0][0] <= now:
            if sliced and (fired >= SLICE_TIMERS or popped >= SLICE_TIMER_POPS):
                break
            _, kind, inquiry_id, stamp = heapq.heappop(timers)
            popped += 1
            inq = self.inquiries.get(inquiry_id)
            if inq is not None:
                self._fire(TimerKind(kind), inq, stamp, now)
                fired += 1
        if self._sweep is None and now - self._last_agent_sweep >= 1.0:
            self._last_agent_sweep = now
            self._sweep = self._sweep_agents()
        if self._sweep is not None:
            for _ in self._sweep:
                if sliced:
                    break
            else:
                self._sweep = None
        if self._assign_wanted:
            self._assign_pending(now, SLICE_ASSIGN_CHECKS if sliced else None)
        if self.robots and now - self._last_robot_check >= 0.25 * self.config.robot_timeout_s:
            self._last_robot_check = now
            self._check_robot_leases(now)

    def _fire(self, kind: TimerKind, inq: InquiryRecord, stamp: float, now: float) -> None:
        if kind in (TimerKind.ROBOT_DUE, TimerKind.ROBOT_AWAIT):
            self._fire_robot(kind, inq, stamp)
            return
        if kind == TimerKind.HYBRID:
            if inq.state == "queued" and inq.queued_at == stamp and self._mode(inq) == "hybrid":
                # offered in this tick's assignment round, most urgent first
                self._assign_wanted[inq.id] = None
            return
        if kind == TimerKind.SILENT:
            silent = inq.owner_responded_at is None or inq.owner_responded_at < stamp
            if inq.state == "held" and inq.taken_at == stamp and silent:
                owner = inq.owner or ""
                agent = self.agents.get(owner)
                if agent is not None:
                    agent.reclaims_today += 1
                sla = self.sla_for(inq)
                self._requeue(inq, "inquiry.reclaimed", "",
                              f"{owner} did not respond within {sla.silent_reclaim_s:g} s of taking it")
                self._alert("silent_grab", "warning", "silent_grab", {"agent": owner, "inquiry": inq.id},
                            inquiry=inq.id, agent=owner)
            return
        if stamp != inq.arrived_at:
            return
        self._arm_next_sla(inq, kind)
        which, level = _SLA_CHECKS[kind]
        if which == "first_response" and inq.first_response_at is not None:
            return
        flag = f"{which}.{level}"
        if flag in inq.sla:
            return
        inq.sla = (*inq.sla, flag)
        self._emit("inquiry.sla", inq, "", flag)
        key = f"sla.{level}.{which}.{'held' if inq.owner else 'pool'}"
        self._alert(f"sla.{level}", "warning" if level == "warn" else "critical", key,
                    {"inquiry": inq.id, "agent": inq.owner or ""},
                    inquiry=inq.id, agent=inq.owner, skill=inq.skill)

    def _alert(self, kind: str, severity: str, key: str, params: dict, **links) -> None:
        subject = links.get("inquiry") or links.get("agent") or links.get("group") or links.get("skill") or ""
        alert = Alert(id=f"{kind}:{subject}:{self.seq + 1}", kind=kind, severity=severity,  # type: ignore[arg-type]
                      at=self.clock(), text=reasons.sentence(key, params, reasons.ALERTS), key=key,
                      params=params, **links)
        self._emit(f"alert.{kind}", alert)
        self._alerts[alert.id] = alert
        if len(self._alerts) > ALERT_MEMORY:
            self._alerts.popitem(last=False)

    def ack_alert(self, alert_id: str, actor: str, note: str) -> Alert:
        """A supervisor takes an alert in hand; the first acknowledgement stands."""
        alert = self._alerts.get(alert_id)
        if alert is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "alert.unknown", {"alert": alert_id}, field="alert")
        if alert.acked_by is not None:
            return alert
        acked = msgspec.structs.replace(alert, acked_by=actor, acked_at=self.clock(), ack_note=note)
        self._alerts[alert_id] = acked
        self._emit("alert.acked", acked, actor, note)
        return acked

    def raise_alert(self, kind: str, severity: str, key: str, params: dict, **links) -> None:
        """For the metrics and coverage layers: alerts share the event stream. ``key`` and
        ``params`` name the sentence in broker/wire/reasons.ALERTS."""
        self._alert(kind, severity, key, params, **links)

    def _sweep_agents(self):
        """The agents' clocks (time-outs, grace, forced breaks, the quota day), then their
        standing against their group's mean; yields every ``SLICE_AGENTS`` agents."""
        timeout = self.config.agent_timeout_s
        grace = self.config.offline_grace_s
        means: dict[str, list[int]] = {}
        agents = list(self.agents.values())
        now = self.clock()
        for n, agent in enumerate(agents, 1):
            self._roll_day(agent, now)
            if agent.status != "offline" and agent.last_seen and now - agent.last_seen > timeout:
                self._set_status(agent, "offline", now)
                self._emit("agent.status", agent, "", f"silent for more than {timeout:g} s")
            elif agent.status == "offline" and agent.held and self._grace_over(agent, now):
                for inq in [i for i in self.inquiries.values() if i.owner == agent.id]:
                    self._requeue(inq, "inquiry.released", "",
                                  f"{agent.id} offline for more than {grace:g} s")
            elif agent.status == "online" and rules.service_exceeded(agent, now):
                self._set_status(agent, "break", now)
                agent.forced_break = True
                agent.break_until = now + (agent.effective.break_minutes or 0.0) * 60.0
                self._emit("agent.status", agent, "",
                           f"forced break after {agent.effective.continuous_hours:g} h of service")
            elif agent.status == "break" and agent.forced_break and agent.break_until \
                    and now >= agent.break_until:
                agent.service_since = None  # the forced break was a full rest
                self._set_status(agent, "online", now)
                self._emit("agent.status", agent, "", "forced break over")
            if agent.status == "online" and agent.group:
                means.setdefault(agent.group, []).append(self.recent_load(agent.id, now))
            if n % SLICE_AGENTS == 0:
                yield
                now = self.clock()
        self._group_mean_load = {g: sum(v) / len(v) for g, v in means.items() if v}
        for n, agent in enumerate(agents, 1):
            if agent.status == "online" and self.agents.get(agent.id) is agent:
                self._refresh_agent(agent, publish=True)
            if n % SLICE_AGENTS == 0:
                yield

    def _grace_over(self, agent: AgentRecord, now: float) -> bool:
        """An offline agent keeps what it holds for the grace period, counted from when it
        was last heard from (timed out) or from when it was set offline, whichever is first."""
        grace = self.config.offline_grace_s
        deadlines = []
        if agent.last_seen:
            deadlines.append(agent.last_seen + self.config.agent_timeout_s + grace)
        if agent.away_since is not None:
            deadlines.append(agent.away_since + grace)
        return bool(deadlines) and now > min(deadlines)

    def _assign_pending(self, now: float, max_checks: int | None = None) -> None:
        """Offer waiting inquiries to agents: at most ``ASSIGN_SCAN_PER_TICK`` inquiries,
        and, given ``max_checks``, no more candidate agents weighed than that."""
        no_capacity: set[tuple] = set()
        scanned = checked = 0
        for inquiry_id in self._assign_order():
            if scanned >= ASSIGN_SCAN_PER_TICK or (max_checks is not None and checked >= max_checks):
                break
            inq = self.inquiries.get(inquiry_id)
            if inq is None or inq.state != "queued" or self._mode(inq) == "grab":
                # taken meanwhile, or its shop went back to pure grabbing
                self._assign_wanted.pop(inquiry_id, None)
                continue
            key = (inq.shop, inq.skill, inq.language, inq.channel)
            if key in no_capacity:
                continue
            scanned += 1
            checked += len(self._agents_by_skill.get(inq.skill, ()))
            if not self._try_assign(inq, now):
                no_capacity.add(key)

    def _assign_order(self) -> list[str]:
        """The inquiries waiting for assignment, most urgent first (assist.urgency)."""
        config = self.config.assist
        inquiries = self.inquiries

        def key(inquiry_id: str) -> tuple:
            inq = inquiries.get(inquiry_id)
            if inq is None:
                return (-1e18,)  # gone: dropped first, cheaply
            return assist.urgency(inq.priority, inq.first_response_due, inq.arrived_at, config)
        return sorted(self._assign_wanted, key=key)

    # ------------------------------------------------------------------ reading

    def snapshot_records(self) -> list[Record]:
        """Every record of the floor as of ``self.seq`` (pending loads are published first,
        so no event after that seq is already in the records)."""
        self._publish_loads()
        # the transcripts awaiting a robot's decision, so a robot that (re)connects picks them up
        awaiting = [t for t in self.transcripts.values()
                    if (inq := self.inquiries[t.id]).state == "robot" and inq.robot_answered_at is None]
        return [*self.shops.values(), *self.groups.values(), *self.agents.values(),
                *self.inquiries.values(), *self.robots.values(), *awaiting]

    def remembered_verdicts(self) -> dict[tuple[str, str], VerdictFacts]:
        """(agent, grab_id) -> the verdict a retry gets, a copy (the store keeps them across restarts)."""
        return {key: VerdictFacts(*facts) for key, facts in self._verdicts.items()}

    def closed_inquiries(self) -> dict[str, ClosedFacts]:
        """What is remembered of closed inquiries to tell late grabbers who won, a copy."""
        return {inquiry_id: ClosedFacts(*facts) for inquiry_id, facts in self._closed.items()}

    def timer_deadlines(self) -> list[float]:
        """When each armed timer is due, in no particular order (stale ones included)."""
        return [due for due, *_ in self._timers]

    def check_invariants(self) -> None:
        """Raise AssertionError if the state is inconsistent (tests and --paranoid)."""
        held: dict[str, int] = {}
        for inq in self.inquiries.values():
            if inq.state == "held":
                if inq.owner is None or inq.owner not in self.agents:
                    raise AssertionError(f"held inquiry {inq.id} has no valid owner")
                held[inq.owner] = held.get(inq.owner, 0) + 1
            elif inq.state == "queued":
                if inq.owner is not None:
                    raise AssertionError(f"queued inquiry {inq.id} has owner {inq.owner}")
            elif inq.state == "robot":
                if inq.owner is not None or not inq.robot or inq.robot not in self.robots:
                    raise AssertionError(f"robot inquiry {inq.id} has owner {inq.owner}, robot {inq.robot!r}")
            else:
                raise AssertionError(f"closed inquiry {inq.id} still open")
        for agent in self.agents.values():
            if agent.held != held.get(agent.id, 0):
                raise AssertionError(f"agent {agent.id} counts {agent.held} held, owns {held.get(agent.id, 0)}")
        queued: dict[str, int] = {}
        for inq in self.inquiries.values():
            if inq.state == "queued":
                queued[inq.skill] = queued.get(inq.skill, 0) + 1
        for skill in set(queued) | set(self.queue_count):
            if queued.get(skill, 0) != self.queue_count.get(skill, 0):
                raise AssertionError(f"queue count of {skill} is {self.queue_count.get(skill, 0)}, "
                                     f"the pool holds {queued.get(skill, 0)}")
            waiting = self._waiting.get(skill)
            if queued.get(skill, 0) != (len(waiting) if waiting is not None else 0):
                raise AssertionError(f"the waiting index of {skill} holds {len(waiting or ())} inquiries, "
                                     f"the pool {queued.get(skill, 0)}")
            longest = self.longest_waiting(skill)
            oldest = min((i.arrived_at for i in self.inquiries.values()
                          if i.state == "queued" and i.skill == skill), default=None)
            if (longest.arrived_at if longest is not None else None) != oldest:
                raise AssertionError(f"the longest waiter of {skill} is not the earliest arrival")
        needs: dict[tuple, int] = {}
        for inq in self.inquiries.values():
            if inq.state == "queued":
                need = (inq.shop, inq.skill, inq.language, inq.channel)
                needs[need] = needs.get(need, 0) + 1
        if needs != self.queued_needs:
            raise AssertionError(f"queued needs {self.queued_needs} differ from the pool's {needs}")
        with_robot: dict[str, int] = {}
        for inq in self.inquiries.values():
            if inq.state != "robot" and (inq.robot or inq.robot_answered_at is not None):
                raise AssertionError(f"{inq.state} inquiry {inq.id} still names robot {inq.robot!r}")
            if inq.state == "robot":
                with_robot[inq.robot] = with_robot.get(inq.robot, 0) + 1
        for robot in self.robots.values():
            if robot.holding != with_robot.get(robot.id, 0):
                raise AssertionError(f"robot {robot.id} counts {robot.holding} held, holds "
                                     f"{with_robot.get(robot.id, 0)}")
        for inquiry_id in self.transcripts:
            if inquiry_id not in self.inquiries:
                raise AssertionError(f"closed inquiry {inquiry_id} keeps a transcript in memory")


#: a quota change of -1 removes the override, so the group's (or broker's) value applies
CLEAR_OVERRIDE = -1


def _validate_quotas(q: Quotas, allow_clear: bool = True) -> None:
    for name, low, high in (("concurrent_cap", 0, 1000), ("daily_grabs", 0, 100_000),
                            ("continuous_hours", 0.25, 24), ("break_minutes", 1, 600)):
        value = getattr(q, name)
        if value is None or (allow_clear and value == CLEAR_OVERRIDE):
            continue
        # "not low <= value <= high" is also true for NaN, which must never reach a timer
        if not low <= value <= high:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.range",
                                  {"field": name, "low": low, "high": high, "value": value},
                          field=name)


#: the longest SLA or delay a shop may configure
MAX_SLA_S = 7 * 86400.0


def _validate_shop(shop: ShopRecord) -> None:
    policies = [("sla", shop.sla)] + [(f"sla_by_skill.{k}", v) for k, v in shop.sla_by_skill.items()]
    for where, sla in policies:
        for name in ("first_response_s", "resolution_s", "silent_reclaim_s"):
            value = getattr(sla, name)
            if not 0 < value <= MAX_SLA_S:
                raise Refusal.because(ErrorCode.BAD_REQUEST, "value.sla",
                                      {"field": f"{where}.{name}", "shop": shop.id, "max_s": reasons.number(MAX_SLA_S),
                                       "value": value}, field=f"{where}.{name}")
        if not 0 < sla.warn_pct <= 100:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.warn_pct",
                                  {"field": f"{where}.warn_pct", "shop": shop.id}, field=f"{where}.warn_pct")
    if not 0 < shop.hybrid_after_s <= MAX_SLA_S:
        raise Refusal.because(ErrorCode.BAD_REQUEST, "value.hybrid_after", {"max_s": reasons.number(MAX_SLA_S)},
                              field="hybrid_after_s")


def _merge_quotas(old: Quotas, new: Quotas) -> Quotas:
    """A change names only the limits it changes; the others stay as they were."""
    merged = msgspec.structs.replace(old)
    for name in QUOTA_FIELDS:
        value = getattr(new, name)
        if value is not None:
            setattr(merged, name, None if value == CLEAR_OVERRIDE else value)
    return merged

