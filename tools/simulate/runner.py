"""Drive a live broker with the plan: customers arrive and leave, agents work.

One thread does everything, as a discrete-event loop on the real monotonic
clock: it submits the planned arrivals when their (scaled) time comes,
abandons the customers who ran out of patience while still in the pool,
moves simulated agents on and off shift by the roster, and runs each agent's
timers. Sockets live on the clients' own I/O threads; their callbacks only
put items on this loop's inbox, so the mirror and every agent are touched by
one thread and need no locks.

Clients:

* one **intake** client (role ``intake``) submits and abandons, and follows
  the ``inquiry``, ``agent`` and ``config`` streams into a
  :class:`~broker.wire.mirror.Mirror`: the pool every simulated agent looks at;
* one ``BrokerClient(follow=False)`` **per agent on shift**: the broker sees
  each agent speak for itself, with its own heartbeat keeping it alive.

Time: by default the simulator follows the broker's clock (the floor's
time, which the broker announces with its pace in every welcome, snapshot
and heartbeat): arrivals, the roster and every persona's delay are planned in
floor time and slept in real time at the broker's pace, so the broker's SLA
timers, hybrid delay, silent-grab reclaim and visibility delays agree with
the traffic. ``time_scale``/``start`` give the simulator a clock of its own
instead, for a broker on the wall clock only (the old way: the broker's
timers then run on real time; see docs/simulator.md).
"""
from __future__ import annotations

import heapq
import itertools
import logging
import queue
import random
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, CurveKeys
from broker.staffing.forecast import load_profile
from broker.wire.mirror import Mirror
from broker.staffing.roster import load_roster
from broker.arbiter.rules import ineligible_rule
from robot.knowledge import DEFAULT_DIRECTORY as DEFAULT_KNOWLEDGE
from tools.simulate.agents import SimAgent
from tools.simulate.messages import MessageWriter
from tools.simulate.personas import make_personas
from tools.simulate.plan import DEFAULT_MIX, Arrival, ArrivalPlan, SimClock, TrafficMix, gives_up, rostered

log = logging.getLogger(__name__)

DEMO_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
DEFAULT_PROFILE = DEMO_ASSETS / "profile.toml"
DEFAULT_ROSTER = DEMO_ASSETS / "roster.csv"
DEFAULT_TIME_SCALE = 60.0

#: the first snapshot must arrive within this long, or the broker is not there
CONNECT_TIMEOUT_S = 20.0
#: the loop wakes at least this often (roster, progress, stop requests)
MAX_WAIT_S = 0.1
#: roster and agent status are re-checked this often (real seconds)
ROSTER_CHECK_S = 0.25
#: jobs are reconciled with the broker's published owners this often (real seconds)
RECONCILE_S = 5.0
#: most inquiries in one Submit command, far below the broker's frame limit
SUBMIT_BATCH = 200
#: how long the end of a run waits for answers to commands already sent
SETTLE_TIMEOUT_S = 3.0
#: how long the end of a run waits for agents' "offline" to be confirmed
SIGN_OFF_TIMEOUT_S = 3.0
#: streams the simulation needs: the pool, the agents' records, shops
FOLLOWED_STREAMS = ("inquiry", "agent", "config")


class SimulationError(RuntimeError):
    """The simulation cannot run; the message says why."""


@dataclass
class SimStats:
    """What the simulation did; counts are of the simulator's own successful commands."""

    arrivals: int = 0
    rejected: int = 0
    abandoned: int = 0
    grabs_won: int = 0
    grabs_lost: int = 0
    grabs_refused: int = 0
    responded: int = 0
    resolved: int = 0
    released: int = 0
    transferred: int = 0
    #: commands that failed unexpectedly (no answer, an error that is not a normal race)
    errors: int = 0
    #: refusal code -> count, for grabs the broker refused
    refusals: Counter = field(default_factory=Counter)


@dataclass
class SimOptions:
    command_endpoint: str
    events_endpoint: str
    seed: int = 1
    #: simulated seconds per real second of the simulator's own clock; None: follow the broker's
    time_scale: float | None = None
    surge: float = 1.0
    #: real seconds to run; None: until stopped
    duration_s: float | None = None
    #: agents left to humans
    exclude: frozenset[str] = frozenset()
    profile: Path = DEFAULT_PROFILE
    roster: Path = DEFAULT_ROSTER
    #: simulated start instant (aware) of the simulator's own clock; None: now (or the broker's time)
    start: datetime | None = None
    mix: TrafficMix = DEFAULT_MIX
    #: prefix of inquiry ids, so runs against the same store never collide; None: from the clock
    id_prefix: str | None = None
    curve: CurveKeys | None = None
    #: called with a one-line summary every ``progress_every_s`` real seconds
    progress: Callable[[str], None] | None = None
    progress_every_s: float = 5.0
    #: customers write their first message from this robot knowledge base (None: they write nothing)
    knowledge: Path | None = DEFAULT_KNOWLEDGE


class Simulation:
    """A run of the simulator against one broker. ``run()`` blocks; ``stop()`` from anywhere."""

    def __init__(self, options: SimOptions):
        if options.time_scale is not None and not options.time_scale > 0:
            raise SimulationError(f"time scale must be > 0, got {options.time_scale}")
        self.options = options
        self.command_endpoint = options.command_endpoint
        self.events_endpoint = options.events_endpoint
        self.curve = options.curve
        self.profile = load_profile(options.profile)
        self.roster = load_roster(options.roster)
        self.aht_s = dict(self.profile.aht_s)
        self.stats = SimStats()
        self.mirror = Mirror()
        self.agents: dict[str, SimAgent] = {}
        self.clock: SimClock | None = None
        self.plan: ArrivalPlan | None = None
        self.id_prefix = options.id_prefix or ""
        self._arrivals: Iterator[Arrival] = iter(())
        self._next_arrival: Arrival | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_ids = itertools.count()
        self._owners: dict[str, str] = {}
        #: commands sent whose answer the loop has not handled yet
        self._outstanding = 0
        self._stopping = False
        self._synced = False
        self._intake: BrokerClient | None = None
        self.writer = MessageWriter(options.knowledge, options.seed) if options.knowledge is not None else None

    # ------------------------------------------------------------------ services for agents

    def after(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop ``delay_s`` real seconds from now."""
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay_s), next(self._timer_ids), fn))

    def send(self, client: BrokerClient | None, on_done: Callable[[Future], None],
             cls: type[p.Command], **fields) -> None:
        """Send a command; ``on_done(future)`` runs on the loop when it is answered."""
        if client is None:
            future: Future = Future()
            future.set_exception(ConnectionError("not connected"))
            on_done(future)
            return
        self._outstanding += 1
        future = client.request(cls, **fields)
        future.add_done_callback(lambda f: self._inbox.put(("done", on_done, f)))

    def show_pool(self, agent: SimAgent) -> None:
        """An agent just came online: it looks at everything already waiting."""
        for inq in self.mirror.queued():
            agent.notice(inq)
        for inq in self.mirror.held_by(agent.id):
            agent.holds(inq)

    def transfer_target(self, agent: SimAgent, inquiry_id: str) -> str | None:
        """A simulated colleague who is online, may take the inquiry and has room."""
        inq = self.mirror.inquiries.get(inquiry_id)
        if inq is None:
            return None
        candidates = []
        for other in self.agents.values():
            record = other.record
            if other is agent or not other.grabbing or record is None:
                continue
            cap = record.effective.concurrent_cap
            if cap is not None and record.held >= cap:
                continue
            if ineligible_rule(record, inq) is None:
                candidates.append(other.id)
        return agent.rng.choice(sorted(candidates)) if candidates else None

    # ------------------------------------------------------------------ control

    def stop(self) -> None:
        """Ask the loop to end (thread- and signal-safe)."""
        self._stopping = True
        self._inbox.put(("wake",))

    def run(self) -> SimStats:
        """Connect, simulate until stopped or ``duration_s`` is over, sign agents off."""
        o = self.options
        self._intake = BrokerClient(
            o.command_endpoint, o.events_endpoint, "intake", "simulator", streams=FOLLOWED_STREAMS,
            on_reset=lambda records, end: self._inbox.put(("reset", records, end)),
            on_events=lambda events: self._inbox.put(("events", events)),
            name="simulator-intake", curve=o.curve).start()
        try:
            self._wait_for_snapshot()
            if self._stopping:
                return self.stats
            self._prepare()
            self._loop()
            self._settle()
        finally:
            self._sign_off()
            self._intake.stop()
        return self.stats

    def _wait_for_snapshot(self) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not self._synced and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = self._intake.status if self._intake else None
                raise SimulationError(
                    f"no snapshot from the broker at {self.command_endpoint} within "
                    f"{CONNECT_TIMEOUT_S:g} s ({status.state if status else '?'}"
                    f"{': ' + status.detail if status and status.detail else ''}); is it running?")
            try:
                item = self._inbox.get(timeout=min(remaining, MAX_WAIT_S))
            except queue.Empty:
                continue
            self._handle(item)

    def _prepare(self) -> None:
        o = self.options
        shops = sorted(self.mirror.shops)
        try:
            mix = o.mix.with_shops(shops)
        except ValueError as exc:
            raise SimulationError(f"broker at {o.command_endpoint}: {exc}") from None
        self.clock = self._make_clock()
        start = self.clock.sim_datetime(self.clock.real_start)
        self.plan = ArrivalPlan(self.profile, o.seed, o.surge, mix)
        self._arrivals = self.plan.arrivals(start)
        self._next_arrival = next(self._arrivals, None)
        simulated = {a.id: a.skills for a in self.mirror.agents.values()
                     if a.id not in o.exclude and a.id in self.roster.agents}
        unknown = sorted(self.roster.agents - set(self.mirror.agents))
        if unknown:
            log.warning("roster agents the broker does not know (not simulated): %s", ", ".join(unknown))
        if not simulated:
            log.warning("no agent to simulate: none of the broker's agents is on the roster "
                        "(or all are excluded); only customers will arrive")
        for agent_id, persona in make_personas(simulated, o.seed).items():
            self.agents[agent_id] = SimAgent(self, persona, random.Random(f"{o.seed}:agent:{agent_id}"))
        if o.id_prefix is None:
            # Epoch seconds in base 36: distinct per run, short on the console.
            self.id_prefix = f"s{o.seed}-{_base36(int(time.time()))}-"
        else:
            self.id_prefix = o.id_prefix
        log.info("simulating %d agents from %s at %gx (surge %g)", len(self.agents),
                 start.isoformat(timespec="minutes"), self.clock.time_scale, o.surge)

    def _make_clock(self) -> SimClock:
        """The floor's clock as the broker runs it, or (asked for) one of our own."""
        o = self.options
        floor = self._intake.floor_clock
        if o.time_scale is None and o.start is None:
            return SimClock(floor.now(), time.monotonic(), floor.time_scale)
        if floor.time_scale != 1.0:
            raise SimulationError(
                f"the broker runs the floor's clock at {floor.time_scale:g}x; leave out --time-scale and "
                "--start so the simulator follows it")
        log.warning("the simulator runs its own clock; the broker's timers (SLA, hybrid, reclaim) run on "
                    "the wall clock and will not agree with it (start the broker with --time-scale instead)")
        start = o.start or datetime.now(timezone.utc)
        return SimClock(start.timestamp(), time.monotonic(), o.time_scale or DEFAULT_TIME_SCALE)

    def floor_now(self) -> float:
        """The broker's time now (what its visibility delays and timers count in)."""
        return self._intake.floor_clock.now()

    def broker_real_s(self, floor_s: float) -> float:
        """Real seconds a duration on the broker's clock takes."""
        return self._intake.floor_clock.real_s(floor_s)

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        o = self.options
        real_end = None if o.duration_s is None else time.monotonic() + o.duration_s
        next_roster = next_reconcile = time.monotonic()
        next_progress = time.monotonic() + o.progress_every_s
        while not self._stopping:
            now = time.monotonic()
            if real_end is not None and now >= real_end:
                break
            self._submit_due(now)
            self._run_timers(now)
            if now >= next_roster:
                next_roster = now + ROSTER_CHECK_S
                self._follow_roster(now)
            if now >= next_reconcile:
                next_reconcile = now + RECONCILE_S
                self._reconcile()
            if o.progress is not None and now >= next_progress:
                next_progress = now + o.progress_every_s
                o.progress(self.summary(now))
            wake = min(now + MAX_WAIT_S, next_roster)
            if self._timers:
                wake = min(wake, self._timers[0][0])
            if self._next_arrival is not None:
                wake = min(wake, self.clock.real_at(self._next_arrival.at))
            if real_end is not None:
                wake = min(wake, real_end)
            self._drain_inbox(max(0.0, wake - time.monotonic()))

    def _drain_inbox(self, timeout_s: float) -> None:
        try:
            item = self._inbox.get(timeout=timeout_s) if timeout_s > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(item)
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "done":
            _, on_done, future = item
            self._outstanding -= 1
            try:
                on_done(future)
            except Exception:  # one agent's bug must not end the simulation
                log.exception("simulator callback failed")
                self.stats.errors += 1
        elif kind == "events":
            self._on_events(item[1])
        elif kind == "reset":
            self._on_reset(item[1], item[2])

    def _run_timers(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, fn = heapq.heappop(timers)
            try:
                fn()
            except Exception:
                log.exception("simulator timer failed")
                self.stats.errors += 1

    # ------------------------------------------------------------------ customers

    def _submit_due(self, now: float) -> None:
        if self._next_arrival is None:
            return
        sim_now = self.clock.sim_at(now)
        batch = []
        while self._next_arrival is not None and self._next_arrival.at <= sim_now:
            batch.append(self._next_arrival)
            self._next_arrival = next(self._arrivals, None)
            if len(batch) >= SUBMIT_BATCH:
                self._submit(batch)
                batch = []
        if batch:
            self._submit(batch)

    def _submit(self, batch: list) -> None:
        inquiries = [self._inquiry(a) for a in batch]
        self.send(self._intake, lambda f: self._submitted(batch, f), p.Submit, inquiries=inquiries)

    def _inquiry(self, a: Arrival) -> p.NewInquiry:
        """The arrival as the intake submits it, with what the customer wrote first."""
        message, customer = "", a.customer
        if self.writer is not None:
            written = self.writer.write(a.seq, a.skill, a.shop, a.language, a.customer)
            message, customer = written.text, written.customer
        return p.NewInquiry(id=self.id_prefix + a.id, shop=a.shop, skill=a.skill, language=a.language,
                            channel=a.channel, priority=a.priority, customer=customer, message=message)

    def _submitted(self, batch: list, future: Future) -> None:
        try:
            reply: p.Submitted = future.result()
        except Exception as exc:
            self.stats.errors += 1
            self.stats.rejected += len(batch)
            log.warning("submitting %d arrivals failed: %s", len(batch), exc)
            return
        self.stats.arrivals += reply.accepted
        self.stats.rejected += len(reply.rejected)
        refused = {r.index for r in reply.rejected}
        for r in reply.rejected[:3]:
            log.warning("arrival refused: %s: %s", r.code.value, r.reason)
        for index, arrival in enumerate(batch):
            if index not in refused:
                inquiry_id = self.id_prefix + arrival.id
                self.after(self.clock.real_s(arrival.patience_s), lambda i=inquiry_id: self._give_up(i))

    def _give_up(self, inquiry_id: str) -> None:
        """The customer's patience ran out: leave if nobody has answered yet."""
        if not gives_up(self.mirror.inquiries.get(inquiry_id)):
            return
        self.send(self._intake, self._abandoned, p.Abandon, inquiry=inquiry_id)

    def _abandoned(self, future: Future) -> None:
        try:
            future.result()
        except Exception as exc:
            # taken or closed a moment before the customer left: a normal race
            log.debug("abandon not applied: %s", exc)
            return
        self.stats.abandoned += 1

    # ------------------------------------------------------------------ agents

    def _follow_roster(self, now: float) -> None:
        at = self.clock.sim_datetime(now)
        for agent in self.agents.values():
            on_shift = rostered(self.roster, agent.id, at)
            if on_shift and agent.state in ("off", "leaving"):
                agent.start_shift()
            elif not on_shift and agent.state in ("joining", "on"):
                agent.end_shift()
            else:
                agent.keep_status(now)

    def _on_reset(self, records, end) -> None:
        self.mirror.reset(records, end)
        self._synced = True
        self._reconcile()
        for agent in self.agents.values():
            if agent.grabbing:
                for inq in self.mirror.queued():
                    agent.notice(inq)

    def _on_events(self, events: list[p.Event]) -> None:
        self.mirror.apply(events)
        for event in events:
            record = event.record
            if isinstance(record, p.InquiryRecord):
                self._route(record)
            elif isinstance(record, (p.AgentRecord, p.AgentLoad)) and event.kind != "agent.quality":
                agent = self.agents.get(record.id)
                if agent is not None:
                    agent.pull_backlog()  # a quota or cap may have changed

    def _route(self, inq: p.InquiryRecord) -> None:
        """Tell agents what one inquiry event means for them."""
        owner = inq.owner if inq.state == "held" else None
        previous = self._owners.get(inq.id)
        if previous is not None and previous != owner:
            del self._owners[inq.id]
            agent = self.agents.get(previous)
            if agent is not None:
                agent.lost_hold(inq.id)
        if owner is not None:
            self._owners[inq.id] = owner
            agent = self.agents.get(owner)
            if agent is not None:
                agent.holds(inq)
        elif inq.state == "queued":
            for agent in self.agents.values():
                agent.notice(inq)

    def _reconcile(self) -> None:
        """Make jobs match the owners the broker published (after a re-sync, or a race)."""
        held: dict[str, set[str]] = {}
        self._owners = {}
        for inq in self.mirror.inquiries.values():
            if inq.state == "held" and inq.owner:
                self._owners[inq.id] = inq.owner
                held.setdefault(inq.owner, set()).add(inq.id)
        live = self.mirror.inquiries
        for agent in self.agents.values():
            mine = held.get(agent.id, set())
            for inquiry_id in list(agent.jobs):
                # a job just won may not be published yet; only drop what is gone for sure
                if inquiry_id not in live or (live[inquiry_id].state == "held" and inquiry_id not in mine):
                    agent.lost_hold(inquiry_id)
            for inquiry_id in mine - agent.jobs.keys():
                agent.holds(live[inquiry_id])
            agent.noticed = {i: q for i, q in agent.noticed.items() if i in live}

    def _settle(self) -> None:
        """Handle the answers to commands already sent, so the counts match the broker's.

        Agents are marked off first, so an answer starts no new grab or job step.
        """
        for agent in self.agents.values():
            agent.state = "off"
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while self._outstanding > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("%d commands still unanswered at the end of the run", self._outstanding)
                return
            self._drain_inbox(min(remaining, MAX_WAIT_S))

    def _sign_off(self) -> None:
        futures = []
        for agent in self.agents.values():
            futures.extend(agent.close())
        deadline = time.monotonic() + SIGN_OFF_TIMEOUT_S
        for future in futures:
            try:
                future.result(max(0.0, deadline - time.monotonic()))
            except Exception:
                pass  # best effort: the broker marks silent agents offline anyway
        for agent in self.agents.values():
            if agent.client is not None:
                agent.client.stop(timeout_s=1.0)
                agent.client = None

    # ------------------------------------------------------------------ reporting

    def summary(self, now: float | None = None) -> str:
        """One line: simulated clock, then what happened so far."""
        now = time.monotonic() if now is None else now
        s = self.stats
        local = self.clock.sim_datetime(now).astimezone(ZoneInfo(self.profile.tz)) if self.clock else None
        when = local.strftime("%a %Y-%m-%d %H:%M") if local else "-"
        online = sum(1 for a in self.agents.values() if a.grabbing)
        scale = self.clock.time_scale if self.clock else 1.0
        return (f"sim {when} x{scale:g} | arrivals {s.arrivals} | grabs won {s.grabs_won} "
                f"lost {s.grabs_lost} refused {s.grabs_refused} | resolved {s.resolved} | released "
                f"{s.released} | transferred {s.transferred} | abandoned {s.abandoned} | pool "
                f"{len(self.mirror.queued())} | agents on {online}")


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
