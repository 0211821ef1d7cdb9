"""The lab's discrete-event loop: the real arbiter in virtual time.

One heap of ``(time, seq, kind, a, b)`` events; the loop pops the earliest,
sets the virtual clock the arbiter was built with to its time, and acts. There
are no sockets, no threads and no sleeping: a whole day takes seconds.

Every decision is the arbiter's (``broker.arbiter.core.Arbiter``, the very
code the broker runs), reached through its public methods only: ``submit``,
``grab``, ``respond``, ``resolve``, ``release``, ``transfer``, ``abandon``,
``set_status`` and ``tick``. The lab never decides who wins, who is
eligible, who gets an assignment or when a timer fires; it reads the
outcome back (the verdict, the take observers, the events drained) as a
client would. The lab calls ``tick`` after every event and whenever the
arbiter's next timer is due, as the broker's loop does.

The people are the simulator's (``tools.simulate.personas``), the same
people under every policy:

* a new inquiry is noticed by every eligible person with a free slot (their
  comfort load, within the broker's cap), each after their own reaction time
  and the visibility delay the broker gives them; the ``RACERS`` fastest send
  a grab (the others would lose the race anyway);
* a person with a free slot (after closing one, coming on shift, or every
  ``SCAN_S`` while idle) picks the most urgent inquiry waiting that they may
  take, and grabs it after their reaction time;
* a won grab is answered after the person's response time; an inquiry the
  broker pushed is first noticed (reaction time), then answered;
* handling time is the persona's for the skill and proficiency, slowed when
  the person holds more than they are comfortable with
  (``Persona.overload_factor``);
* customers leave when their patience runs out before anybody answered
  (``tools.simulate.plan.gives_up``), in the pool or not.
"""
from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import msgspec

from broker.arbiter import rules
from broker.arbiter.core import Arbiter, CoreConfig, Refusal
from broker.wire import protocol as p
from tools.lab.policy import Policy
from tools.lab.robotline import LabRobot
from tools.lab.trace import Trace
from tools.simulate.personas import DEFAULT_AHT_S, Persona, make_personas
from tools.simulate.plan import gives_up

#: how many of the people who notice a new inquiry send a grab (the fastest)
RACERS = 3
#: an idle person on shift looks at the pool at least this often (floor seconds)
SCAN_S = 30.0
#: the arbiter's periodic work (agents' clocks, fair share) runs at least this often
SWEEP_S = 5.0
#: the queue is sampled this often for the hourly curves (floor seconds)
SAMPLE_S = 60.0
#: after the last arrival, the floor works on this long so waiting customers are served or leave
DRAIN_S = 2 * 3600.0
HOUR_S = 3600.0
#: a run reports progress at most this often (real seconds)
PROGRESS_EVERY_S = 1.0
#: the lab has no connections: no agent ever times out
NEVER_S = 1e12
#: kinds of events in which an inquiry goes back to the pool
_REQUEUED = frozenset({"inquiry.released", "inquiry.reclaimed", "inquiry.reassigned", "inquiry.escalated"})

(EV_ARRIVAL, EV_ABANDON, EV_GRAB, EV_RESPOND, EV_FINISH, EV_SHIFT_ON, EV_SHIFT_OFF, EV_TICK, EV_SWEEP,
 EV_SAMPLE, EV_ROBOT, EV_CUSTOMER) = range(12)

_event_decoder = msgspec.msgpack.Decoder(p.Event)


class VirtualClock:
    """The floor's time in a lab run: what the loop says it is."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(slots=True)
class Job:
    inquiry: str
    skill: str
    ending: str
    cancelled: bool = False


@dataclass(slots=True)
class Person:
    id: str
    persona: Persona
    rng: random.Random
    on_shift: bool = False
    jobs: dict = field(default_factory=dict)
    #: inquiries this person has a grab scheduled for
    pending: set = field(default_factory=set)
    grabs_sent: int = 0
    on_since: float = 0.0
    online_s: float = 0.0


@dataclass
class Outcome:
    """What one run recorded, for ``tools.lab.figures``."""

    policy: Policy
    trace_start: float
    trace_end: float
    #: inquiry id -> [arrived_at, first_response_at, closed_at, state, first taken_by]
    inquiries: dict[str, list]
    #: agent id -> (group, online seconds, comfort slots, resolved, seconds holding what it resolved)
    agents: dict[str, tuple]
    #: agent id -> hour of the trace -> [seconds on duty, inquiries grabbed or assigned]
    agent_hours: dict[str, dict[int, list]]
    #: (floor time, inquiries in the pool), every SAMPLE_S
    queue_samples: list[tuple[float, int]]
    grabs: dict[str, int]
    sla: p.SlaPolicy
    wall_s: float = 0.0
    #: the robot first line's counts ("answered", "escalated", "follow_ups"); empty without it
    robot: dict[str, int] = field(default_factory=dict)


def core_config(trace: Trace, policy: Policy) -> CoreConfig:
    config = CoreConfig(default_sla=trace.sla, agent_timeout_s=NEVER_S, offline_grace_s=NEVER_S, day_tz=trace.tz,
                        robot_timeout_s=NEVER_S)
    if policy.tiers == "flat":
        config.tiers = [p.TierRule(name="all", min_score=0.0)]
    for key, field_name in (("assist_order", "order"), ("assist_shrink", "shrink"),
                            ("assist_pool_scale", "pool_scale"), ("assist_fairness_weight", "fairness_weight"),
                            ("assist_proficiency_weight", "proficiency_weight"),
                            ("recent_half_life_s", "recent_half_life_s")):
        value = getattr(policy, key)
        if value is not None:
            setattr(config.assist, field_name, value)
    return config


def floor_for(trace: Trace, policy: Policy) -> tuple[list[p.ShopRecord], list[p.GroupRecord]]:
    """The trace's shops and groups with the policy's settings applied."""
    shops = []
    for shop in trace.shops:
        shop = msgspec.structs.replace(shop, sla=trace.sla, sla_by_skill={})
        if policy.mode is not None:
            shop.mode = policy.mode  # type: ignore[assignment]
        if policy.hybrid_after_s is not None:
            shop.hybrid_after_s = policy.hybrid_after_s
        if policy.robot is not None:
            shop.robot = policy.robot
        shops.append(shop)
    groups = []
    known = {g.id for g in trace.groups}
    all_groups = list(trace.groups) + [p.GroupRecord(id=g) for g in sorted({a.group for a in trace.agents} - known)
                                       if g]
    for group in all_groups:
        fair = msgspec.structs.replace(group.fair_share)
        if policy.fair_share is not None:
            fair.enabled = policy.fair_share
        if policy.fair_share_factor is not None:
            fair.factor = policy.fair_share_factor
        if policy.fair_share_delay_s is not None:
            fair.delay_s = policy.fair_share_delay_s
        quotas = msgspec.structs.replace(group.quotas)
        if policy.concurrent_cap is not None:
            quotas.concurrent_cap = policy.concurrent_cap
        if policy.daily_grabs is not None:
            quotas.daily_grabs = policy.daily_grabs
        groups.append(msgspec.structs.replace(group, fair_share=fair, quotas=quotas))
    return shops, groups


def shift_intervals(trace: Trace) -> dict[str, list[tuple[float, float]]]:
    """Each agent's time on duty within the run, merged (floor seconds)."""
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    horizon = trace.end + DRAIN_S
    if trace.roster is None:
        return {a.id: [(trace.start, horizon)] for a in trace.agents}
    out: dict[str, list[tuple[float, float]]] = {}
    for agent in trace.agents:
        spans = []
        for shift in trace.roster.shifts_of(agent.id):
            zone = ZoneInfo(shift.tz)
            first = datetime.fromtimestamp(trace.start, timezone.utc).astimezone(zone).date() - timedelta(days=1)
            day = first
            while datetime.combine(day, shift.start, zone).timestamp() < horizon:
                if day.weekday() in shift.days:
                    begin, end = shift.interval_utc(day)
                    if begin == end:
                        end = begin + timedelta(days=1)
                    b, e = max(begin.timestamp(), trace.start), min(end.timestamp(), horizon)
                    if b < e:
                        spans.append((b, e))
                day += timedelta(days=1)
        spans.sort()
        merged: list[list[float]] = []
        for b, e in spans:
            if merged and b <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([b, e])
        out[agent.id] = [(b, e) for b, e in merged]
    return out


class LabRun:
    """One policy over one trace. ``run()`` returns its :class:`Outcome`."""

    def __init__(self, trace: Trace, policy: Policy, seed: int = 1,
                 progress: Callable[[float], None] | None = None):
        self.trace = trace
        self.policy = policy
        self.seed = seed
        self.progress = progress
        self.clock = VirtualClock(trace.start)
        self.core = Arbiter(core_config(trace, policy), clock=self.clock)
        self._heap: list[tuple] = []
        self._seq = 0
        self._tick_at = float("inf")
        self.grabs = {"won": 0, "lost": 0, "refused": 0}
        self.results: dict[str, list] = {}
        self.queue_samples: list[tuple[float, int]] = []
        #: (skill, language) -> heap of (-priority, arrived_at, id, queued_at)
        self._pool: dict[tuple[str, str], list] = {}
        self._taken: list[tuple[str, str, str]] = []
        self._resolved: dict[str, list[float]] = {}
        self._hours: dict[str, dict[int, list]] = {a.id: {} for a in trace.agents}
        self.core.on_taken.append(self._on_taken)
        self.core.on_closed.append(self._on_closed)
        shops, groups = floor_for(trace, policy)
        for shop in shops:
            self.core.define_shop(shop, "lab")
        for group in groups:
            self.core.define_group(group, "lab")
        for spec in trace.agents:
            self.core.define_agent(spec, "lab")
        personas = trace.personas or make_personas({a.id: a.skills for a in trace.agents}, seed)
        self.people = {a.id: Person(a.id, personas[a.id], random.Random(f"{seed}:lab:{a.id}"))
                       for a in trace.agents}
        self.by_skill: dict[str, list[str]] = {}
        for spec in sorted(trace.agents, key=lambda a: a.id):
            for skill in spec.skills:
                self.by_skill.setdefault(skill, []).append(spec.id)
        self.modes = {s.id: s.mode for s in shops}
        #: the robot first line and what customers write, when the policy has it on
        self.robot = LabRobot(self.core, seed) if policy.robot else None
        self.core.drain()

    # ------------------------------------------------------------------ the loop

    def _at(self, t: float, kind: int, a=None, b=None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, a, b))

    def run(self) -> Outcome:
        started = time.perf_counter()
        trace = self.trace
        for arrival in trace.arrivals:
            self._at(arrival.at, EV_ARRIVAL, arrival)
        for agent_id, spans in shift_intervals(trace).items():
            hours = self._hours[agent_id]
            for begin, end in spans:
                self._at(begin, EV_SHIFT_ON, agent_id)
                self._at(end, EV_SHIFT_OFF, agent_id)
                t = begin
                while t < end:  # time on duty per hour of the trace (for the Gini)
                    h = int((t - trace.start) // HOUR_S)
                    upto = min(end, trace.start + (h + 1) * HOUR_S)
                    hours.setdefault(h, [0.0, 0])[0] += upto - t
                    t = upto
        self._at(trace.start, EV_SWEEP)
        self._at(trace.start, EV_SAMPLE)
        horizon = trace.end + DRAIN_S
        span = max(1.0, horizon - trace.start)
        next_progress = started + PROGRESS_EVERY_S
        handlers = (self._arrival, self._abandon, self._grab, self._respond, self._finish, self._shift_on,
                    self._shift_off, self._noop, self._sweep, self._sample, self._robot_decides,
                    self._customer_writes)
        heap = self._heap
        core = self.core
        steps = 0
        while heap:
            t, _, kind, a, b = heapq.heappop(heap)
            if t > horizon:
                break
            self.clock.now = t
            handlers[kind](t, a, b)
            core.tick()
            self._after(t)
            steps += 1
            if self.progress is not None and steps % 2000 == 0 and time.perf_counter() >= next_progress:
                next_progress = time.perf_counter() + PROGRESS_EVERY_S
                self.progress((t - trace.start) / span)
        end = min(self.clock.now, horizon)
        for person in self.people.values():
            if person.on_shift:
                person.online_s += end - person.on_since
        for inq in core.inquiries.values():
            self._record(inq, inq.state)
        return self._outcome(time.perf_counter() - started)

    def _after(self, t: float) -> None:
        """Hand what the arbiter did to the people, then keep its timers served."""
        core = self.core
        while self._taken:
            taken, self._taken = self._taken, []
            for inquiry_id, owner, how in taken:
                self._start_job(t, inquiry_id, owner, how)
        changes = core.drain()
        for event in changes.events:
            if event.kind in _REQUEUED:
                record = _event_decoder.decode(event.raw).record
                inq = core.inquiries.get(record.id) if record is not None else None
                if inq is not None and inq.state == "queued":
                    self._offer(t, inq)
        due = core.next_timer_due()
        if due is not None and due < self._tick_at:
            self._tick_at = max(due, t)
            self._at(self._tick_at, EV_TICK)

    def _noop(self, t: float, _a, _b) -> None:
        if t >= self._tick_at:
            self._tick_at = float("inf")

    # ------------------------------------------------------------------ customers

    def _arrival(self, t: float, arrival, _b) -> None:
        # recorded first: in a pushing shop the arbiter assigns it within submit
        self.results[arrival.id] = [t, None, None, "queued", ""]
        message, customer = "", arrival.customer
        if self.robot is not None:
            message, customer = self.robot.first_message(arrival)
        inq = self.core.submit(p.NewInquiry(id=arrival.id, shop=arrival.shop, skill=arrival.skill,
                                            language=arrival.language, channel=arrival.channel,
                                            priority=arrival.priority, customer=customer, message=message), "lab")
        self._at(t + arrival.patience_s, EV_ABANDON, inq.id)
        if inq.state == "queued":
            self._offer(t, inq)
        elif inq.state == "robot":
            self._at(t + self.robot.decision_s, EV_ROBOT, inq.id)

    def _robot_decides(self, t: float, inquiry_id: str, _b) -> None:
        """The robot decides on the customer's latest line; an unhappy customer may write again."""
        if self.robot.decide(inquiry_id) == "answer":
            follow_up = self.robot.follow_up(inquiry_id)
            if follow_up is not None:
                self._at(t + follow_up, EV_CUSTOMER, inquiry_id)

    def _customer_writes(self, t: float, inquiry_id: str, _b) -> None:
        inq = self.core.inquiries.get(inquiry_id)
        if inq is None:
            return
        self.robot.write_again(inquiry_id)
        if inq.state == "robot":
            self._at(t + self.robot.decision_s, EV_ROBOT, inquiry_id)

    def _abandon(self, _t: float, inquiry_id: str, _b) -> None:
        if gives_up(self.core.inquiries.get(inquiry_id)):
            self.core.abandon(inquiry_id, "customer")

    # ------------------------------------------------------------------ the pool as people see it

    def _offer(self, t: float, inq: p.InquiryRecord) -> None:
        """A new (or returned) inquiry in the pool: the people free to take it notice it."""
        heapq.heappush(self._pool.setdefault((inq.skill, inq.language), []),
                       (-inq.priority, inq.arrived_at, inq.id, inq.queued_at))
        if self.modes.get(inq.shop) == "assign":
            return  # nobody may grab it; the broker pushes it
        agents = self.core.agents
        racers = []
        for agent_id in self.by_skill.get(inq.skill, ()):
            person = self.people[agent_id]
            if not person.on_shift or self._free(person) <= 0:
                continue
            record = agents[agent_id]
            if rules.ineligible_rule(record, inq) is not None:
                continue
            reaction_s = person.persona.reaction_s(person.rng, inq.skill, inq.priority)
            if reaction_s is not None:
                racers.append((t + record.visibility_delay_s + reaction_s, agent_id))
        for at, agent_id in heapq.nsmallest(RACERS, racers):
            self.people[agent_id].pending.add(inq.id)
            self._at(at, EV_GRAB, agent_id, (inq.id, inq.queued_at))

    def _free(self, person: Person) -> int:
        record = self.core.agents[person.id]
        if record.status != "online":
            return 0
        eff = record.effective
        if eff.daily_grabs is not None and record.grabs_today + len(person.pending) >= eff.daily_grabs:
            return 0
        return person.persona.slots(eff.concurrent_cap) - record.held - len(person.pending)

    def _waiting_for(self, person: Person) -> p.InquiryRecord | None:
        """The most urgent inquiry in the pool this person may take and is not already after."""
        core = self.core
        record = core.agents[person.id]
        tops = []
        for skill in record.skills:
            for language in record.languages:
                heap = self._pool.get((skill, language))
                while heap:
                    _, _, inquiry_id, queued_at = heap[0]
                    inq = core.inquiries.get(inquiry_id)
                    if inq is None or inq.state != "queued" or inq.queued_at != queued_at:
                        heapq.heappop(heap)
                        continue
                    if inquiry_id not in person.pending and self.modes.get(inq.shop) != "assign" \
                            and rules.ineligible_rule(record, inq) is None:
                        tops.append(inq)
                    break
        return person.persona.most_urgent(tops)

    def _pull(self, t: float, person: Person) -> None:
        if not person.on_shift or self._free(person) <= 0:
            return
        inq = self._waiting_for(person)
        if inq is None:
            return
        reaction_s = person.persona.reaction_s(person.rng, inq.skill, inq.priority)
        if reaction_s is None:
            return  # passed over for now; the next look may take it
        visible_at = inq.queued_at + self.core.agents[person.id].visibility_delay_s
        person.pending.add(inq.id)
        self._at(max(t + reaction_s, visible_at), EV_GRAB, person.id, (inq.id, inq.queued_at))

    # ------------------------------------------------------------------ people at work

    def _grab(self, t: float, agent_id: str, target) -> None:
        person = self.people[agent_id]
        inquiry_id, _queued_at = target
        person.pending.discard(inquiry_id)
        if not person.on_shift:
            return
        person.grabs_sent += 1
        facts = self.core.grab(agent_id, inquiry_id, f"{agent_id}:{person.grabs_sent}")
        self.grabs[facts.outcome] += 1
        if facts.outcome != "won":
            self._pull(t, person)

    def _on_taken(self, inq: p.InquiryRecord, now: float) -> None:
        self._taken.append((inq.id, inq.owner or "", inq.taken_by))
        if inq.taken_by in ("grab", "assign"):  # the work the broker handed out, for the Gini
            hours = self._hours.get(inq.owner or "")
            if hours is not None:
                hours.setdefault(int((now - self.trace.start) // HOUR_S), [0.0, 0])[1] += 1
        result = self.results.get(inq.id)
        if result is not None and not result[4]:
            result[4] = inq.taken_by

    def _start_job(self, t: float, inquiry_id: str, owner: str, how: str) -> None:
        person = self.people.get(owner)
        inq = self.core.inquiries.get(inquiry_id)
        if person is None or inq is None or inq.owner != owner:
            return
        job = Job(inquiry_id, inq.skill, person.persona.outcome(person.rng))
        old = person.jobs.get(inquiry_id)
        if old is not None:
            old.cancelled = True
        person.jobs[inquiry_id] = job
        if inq.first_response_at is not None and how in ("transfer", "reassign"):
            self._schedule_finish(t, person, job)
            return
        delay_s = person.persona.response_s(person.rng)
        if how == "assign":
            delay_s += person.persona.accept_s(person.rng, inq.priority)
        self._at(t + delay_s, EV_RESPOND, owner, job)

    def _respond(self, t: float, agent_id: str, job: Job) -> None:
        person = self.people[agent_id]
        if job.cancelled or person.jobs.get(job.inquiry) is not job:
            return
        try:
            self.core.respond(agent_id, job.inquiry)
        except Refusal:  # reclaimed or moved meanwhile
            self._drop(t, person, job)
            return
        self._schedule_finish(t, person, job)

    def _schedule_finish(self, t: float, person: Person, job: Job) -> None:
        proficiency = self.core.agents[person.id].skills.get(job.skill, 3)
        aht_s = self.trace.aht_s.get(job.skill, DEFAULT_AHT_S)
        handling_s = person.persona.handling_s(person.rng, aht_s, proficiency) * \
            person.persona.overload_factor(len(person.jobs))
        self._at(t + handling_s, EV_FINISH, person.id, job)

    def _finish(self, t: float, agent_id: str, job: Job) -> None:
        person = self.people[agent_id]
        if job.cancelled or person.jobs.get(job.inquiry) is not job:
            return
        core = self.core
        try:
            if job.ending == "transfer":
                target = self._transfer_target(person, job.inquiry)
                if target is not None:
                    try:
                        core.transfer(agent_id, job.inquiry, target)
                        self._drop(t, person, job)
                        return
                    except Refusal:
                        pass
                job.ending = "resolve"
            if job.ending == "release":
                core.release(agent_id, job.inquiry)
            else:
                core.resolve(agent_id, job.inquiry, person.persona.satisfaction(person.rng))
        except Refusal:
            pass  # no longer ours (reclaimed, reassigned)
        self._drop(t, person, job)

    def _drop(self, t: float, person: Person, job: Job) -> None:
        job.cancelled = True
        if person.jobs.get(job.inquiry) is job:
            del person.jobs[job.inquiry]
        self._pull(t, person)

    def _transfer_target(self, person: Person, inquiry_id: str) -> str | None:
        inq = self.core.inquiries.get(inquiry_id)
        if inq is None:
            return None
        candidates = [other.id for other_id in self.by_skill.get(inq.skill, ())
                      if (other := self.people[other_id]) is not person and other.on_shift
                      and self._free(other) > 0 and rules.ineligible_rule(self.core.agents[other_id], inq) is None]
        return person.rng.choice(candidates) if candidates else None

    # ------------------------------------------------------------------ shifts and periodic work

    def _shift_on(self, t: float, agent_id: str, _b) -> None:
        person = self.people[agent_id]
        if not person.on_shift:
            person.on_shift = True
            person.on_since = t
        try:
            self.core.set_status(agent_id, "online", "lab", "shift starts")
        except Refusal:
            return  # a forced break runs on; the arbiter brings it back online
        self._pull(t, person)

    def _shift_off(self, t: float, agent_id: str, _b) -> None:
        person = self.people[agent_id]
        if person.on_shift:
            person.on_shift = False
            person.online_s += t - person.on_since
        self.core.set_status(agent_id, "away", "lab", "shift ends")

    def _sweep(self, t: float, _a, _b) -> None:
        """Idle people look at the pool now and then (after a forced break, a passed-over inquiry)."""
        if int(t // SWEEP_S) % int(SCAN_S // SWEEP_S) == 0 and any(self.core.queue_count.values()):
            for person in self.people.values():
                if person.on_shift and not person.pending:
                    self._pull(t, person)
        self._at(t + SWEEP_S, EV_SWEEP)

    def _sample(self, t: float, _a, _b) -> None:
        self.queue_samples.append((t, sum(self.core.queue_count.values())))
        if t + SAMPLE_S < self.trace.end + DRAIN_S:
            self._at(t + SAMPLE_S, EV_SAMPLE)

    # ------------------------------------------------------------------ recording

    def _on_closed(self, inq: p.InquiryRecord, now: float) -> None:
        self._record(inq, inq.state)
        result = self.results.get(inq.id)
        if result is not None and inq.taken_by == "robot":
            result[4] = "robot"
        if inq.state == "resolved" and inq.owner:
            held = self._resolved.setdefault(inq.owner, [0, 0.0])
            held[0] += 1
            held[1] += now - (inq.taken_at or now)

    def _record(self, inq: p.InquiryRecord, state: str) -> None:
        result = self.results.get(inq.id)
        if result is None:
            return
        result[1] = inq.first_response_at
        result[2] = inq.closed_at
        result[3] = state

    def _outcome(self, wall_s: float) -> Outcome:
        agents = {}
        for agent_id, person in self.people.items():
            record = self.core.agents[agent_id]
            resolved, hold_s = self._resolved.get(agent_id, (0, 0.0))
            agents[agent_id] = (record.group, person.online_s, person.persona.slots(record.effective.concurrent_cap),
                                resolved, hold_s)
        return Outcome(self.policy, self.trace.start, self.trace.end, self.results, agents, self._hours,
                       self.queue_samples, dict(self.grabs), self.trace.sla, wall_s,
                       dict(self.robot.counts) if self.robot is not None else {})
