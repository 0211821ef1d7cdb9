"""The broker's figures for Prometheus, read without disturbing the loop.

Two halves, on two threads:

* ``LoopFigures`` lives on the broker's loop. Per committed batch it adds the
  batch's grabs and events to two ``Counter`` objects (C-speed counting, no
  Python loop per item) and times the commit; per turn it files the turn's
  time and its grabs' verdict latency into plain bucket counts. Once a second
  (a periodic job) it builds a ``Snapshot``, an immutable object holding
  every figure, and swaps it in with one reference assignment.
* ``SnapshotCollector`` runs on the HTTP server's thread when Prometheus
  scrapes: it reads the current snapshot (whatever the loop does meanwhile,
  that object never changes) and turns it into metric families with the
  official ``prometheus_client``. Nothing it does touches the arbiter.

So a scrape costs the loop nothing but the GIL the exporter thread borrows,
and the loop's own cost is a few dictionary updates per batch plus, once a
second, a pass over the agents (the same pass the floor's metrics event
makes).
"""
from __future__ import annotations

import bisect
import time
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from broker.arbiter.rules import at_cap

#: how often the loop publishes a fresh snapshot
SNAPSHOT_INTERVAL_S = 1.0
#: a client that sent nothing for this many snapshot intervals is no longer counted as connected
#: (clients heartbeat every second; 3.5 heartbeats is when a client itself gives up on the broker)
CONNECTED_WINDOW = 4
#: upper bounds (seconds) of the latency histograms' buckets: 0.1 ms to 2.5 s
LATENCY_BUCKETS_S = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                     1.0, 2.5)

_kind_of_event = attrgetter("kind")
_outcome_and_code = attrgetter("outcome", "code")


class Buckets:
    """A histogram's counts kept in plain Python: one bisect and three additions per observation."""

    __slots__ = ("bounds", "counts", "total", "sum")

    def __init__(self, bounds=LATENCY_BUCKETS_S):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float, weight: int = 1) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += weight
        self.total += weight
        self.sum += value * weight

    def frozen(self) -> tuple:
        """(bounds, cumulative counts per bucket including +Inf, sum) as Prometheus wants them."""
        cumulative, running = [], 0
        for n in self.counts:
            running += n
            cumulative.append(running)
        return self.bounds, tuple(cumulative), self.sum


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every figure at one instant; built on the loop, read by scrapes and health checks."""

    published_mono: float = 0.0
    broker_time: float = 0.0
    started_mono: float = 0.0
    serving: bool = False
    counters: dict = field(default_factory=dict)
    grabs: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    verdict_latency: tuple = ()
    commit_latency: tuple = ()
    loop_turn: tuple = ()
    queue_by_skill: dict = field(default_factory=dict)
    longest_wait_s: dict = field(default_factory=dict)
    agents_by_group: dict = field(default_factory=dict)
    clients_by_role: dict = field(default_factory=dict)
    loop_turns: int = 0
    commits: int = 0
    last_commit_mono: float = 0.0
    seq: int = 0


class LoopFigures:
    """The loop's side: cheap accumulators, and the snapshot they are published in."""

    def __init__(self, server):
        self.server = server
        self.grabs: Counter = Counter()
        self.events: Counter = Counter()
        self.verdict_latency = Buckets()
        self.commit_latency = Buckets()
        self.loop_turn = Buckets()
        self.last_commit_mono = 0.0
        self.started_mono = time.monotonic()
        self._batch_grabs = 0
        #: (role, who) of clients heard from in each recent interval, newest last
        self._heard: list[set] = [set()]
        #: the published figures: replaced whole, never changed
        self.snapshot = Snapshot(started_mono=self.started_mono)

    # ------------------------------------------------------------------ on the loop, per batch

    def committed(self, changes, commit_s: float) -> None:
        """A batch was made durable (called right after the store's write returned)."""
        self.commit_latency.observe(commit_s)
        self.last_commit_mono = time.monotonic()
        if changes.grabs:
            self.grabs.update(map(_outcome_and_code, changes.grabs))
            self._batch_grabs = len(changes.grabs)
        self.events.update(map(_kind_of_event, changes.events))

    def replied(self, batch_started: float, now: float) -> None:
        """The turn's replies were sent: each grab in it waited from the batch's read until now."""
        if self._batch_grabs:
            self.verdict_latency.observe(now - batch_started, self._batch_grabs)
            self._batch_grabs = 0

    def turn(self, started: float, now: float) -> None:
        self.loop_turn.observe(now - started)

    def heard(self, cmd) -> None:
        """A hello or heartbeat arrived (Service.on_heartbeat): its sender is connected."""
        self._heard[-1].add((cmd.role, cmd.who))

    # ------------------------------------------------------------------ on the loop, once a second

    def publish(self, now: float) -> None:
        """Build the snapshot from the core's incremental figures and swap it in."""
        server = self.server
        core = server.core
        queue = {skill: n for skill, n in core.queue_count.items() if n}
        longest = {}
        for skill in queue:
            inq = core.longest_waiting(skill)
            if inq is not None:
                longest[skill] = max(0.0, now - inq.arrived_at)
        groups: dict[str, list[int]] = {}
        for agent in core.agents.values():
            figures = groups.setdefault(agent.group or "-", [0, 0, 0])
            figures[0] += 1
            if agent.status == "online":
                figures[1] += 1
                if at_cap(agent):
                    figures[2] += 1
        connected = set().union(*self._heard)
        by_role = Counter(role for role, _who in connected)
        self._heard.append(set())
        del self._heard[:-CONNECTED_WINDOW]
        self.snapshot = Snapshot(
            published_mono=time.monotonic(), broker_time=now, started_mono=self.started_mono,
            serving=server._stop_reason is None, counters=dict(server.service.counters),
            grabs=dict(self.grabs), events=dict(self.events),
            verdict_latency=self.verdict_latency.frozen(), commit_latency=self.commit_latency.frozen(),
            loop_turn=self.loop_turn.frozen(), queue_by_skill=queue, longest_wait_s=longest,
            agents_by_group={g: tuple(v) for g, v in groups.items()}, clients_by_role=dict(by_role),
            loop_turns=server.loop_turns, commits=server.commits, last_commit_mono=self.last_commit_mono,
            seq=core.seq)


def store_files(store) -> list[Path]:
    """The files a SQLite store occupies (none for a store that is not files)."""
    path = getattr(store, "path", None)
    if path is None:
        return []
    files = []
    for base in (Path(path), getattr(store, "state_path", None)):
        if base is not None:
            files += [Path(base), Path(f"{base}-wal"), Path(f"{base}-shm")]
    return files


def _histogram(name: str, doc: str, frozen: tuple) -> HistogramMetricFamily:
    bounds, cumulative, total_s = frozen
    buckets = [(repr(float(b)), n) for b, n in zip(bounds, cumulative)] + [("+Inf", cumulative[-1])]
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=total_s)


class SnapshotCollector(Collector):
    """Metric families from the latest ``Snapshot``; runs on the exporter's thread."""

    def __init__(self, figures: LoopFigures, store=None):
        self.figures = figures
        self.store = store

    def collect(self):
        s = self.figures.snapshot
        c = s.counters
        yield _gauge("grabdesk_up", "1 while the broker's loop is serving", 1 if s.serving else 0)
        yield _gauge("grabdesk_snapshot_age_seconds",
                     "seconds since the loop last published these figures (about 1 when keeping up)",
                     time.monotonic() - s.published_mono if s.published_mono else 0.0)
        yield _gauge("grabdesk_uptime_seconds", "seconds since the broker started",
                     time.monotonic() - s.started_mono)
        yield _gauge("grabdesk_last_commit_age_seconds", "seconds since the last journal commit",
                     time.monotonic() - s.last_commit_mono if s.last_commit_mono else float("nan"))
        yield _gauge("grabdesk_seq", "the last event sequence number", s.seq)

        grabs = CounterMetricFamily("grabdesk_grabs", "grab attempts decided, by outcome and refusal code "
                                                      "(a retry answered from memory is not counted again)",
                                    labels=["outcome", "code"])
        for (outcome, code), n in sorted(s.grabs.items()):
            grabs.add_metric([outcome, code or "none"], n)
        yield grabs
        refused = CounterMetricFamily("grabdesk_refused_commands", "commands refused, by error code",
                                      labels=["code"])
        for key, n in sorted(c.items()):
            if key.startswith("refused."):
                refused.add_metric([key[len("refused."):]], n)
        yield refused
        for name, key, doc in (
                ("grabdesk_commands", "commands", "command frames received"),
                ("grabdesk_malformed_frames", "bad_requests", "frames that could not be decoded as a command"),
                ("grabdesk_internal_errors", "internal_errors", "commands that failed inside the broker"),
                ("grabdesk_inquiries_submitted", "submitted", "inquiries accepted from intake"),
                ("grabdesk_connections_refused", "connections_refused",
                 "connections refused by CurveZMQ (key not enrolled)")):
            yield _counter(name, doc, c.get(key, 0))
        dropped = CounterMetricFamily("grabdesk_replies_dropped", "replies that could not be delivered",
                                      labels=["reason"])
        dropped.add_metric(["client_queue_full"], c.get("replies_dropped_hwm", 0))
        dropped.add_metric(["client_gone"], c.get("replies_unroutable", 0))
        yield dropped

        events = s.events
        sla = CounterMetricFamily("grabdesk_sla_alerts", "SLA alerts raised, by level", labels=["level"])
        sla.add_metric(["warn"], events.get("alert.sla.warn", 0))
        sla.add_metric(["breach"], events.get("alert.sla.breach", 0))
        yield sla
        yield _counter("grabdesk_reclaims", "inquiries taken back from a silent owner",
                       events.get("inquiry.reclaimed", 0))
        yield _counter("grabdesk_assists", "assists offered to protect an SLA",
                       sum(n for kind, n in events.items() if "assist" in kind))
        by_kind = CounterMetricFamily("grabdesk_events", "events published, by kind", labels=["kind"])
        for kind, n in sorted(events.items()):
            by_kind.add_metric([kind], n)
        yield by_kind

        if s.verdict_latency:
            yield _histogram("grabdesk_verdict_latency_seconds",
                             "from reading a grab to sending its verdict (committed), inside the broker",
                             s.verdict_latency)
            yield _histogram("grabdesk_commit_latency_seconds", "one journal commit (group commit of a batch)",
                             s.commit_latency)
            yield _histogram("grabdesk_loop_turn_seconds",
                             "one turn of the decision loop, without its wait for commands", s.loop_turn)
        yield _counter("grabdesk_loop_turns", "turns of the decision loop", s.loop_turns)
        yield _counter("grabdesk_commits", "journal commits", s.commits)

        depth = GaugeMetricFamily("grabdesk_queue_depth", "inquiries waiting in the pool, by skill",
                                  labels=["skill"])
        longest = GaugeMetricFamily("grabdesk_longest_wait_seconds",
                                    "how long the longest-waiting inquiry has waited, by skill", labels=["skill"])
        for skill, n in sorted(s.queue_by_skill.items()):
            depth.add_metric([skill], n)
            longest.add_metric([skill], s.longest_wait_s.get(skill, 0.0))
        yield depth
        yield longest
        agents = GaugeMetricFamily("grabdesk_agents", "agents by group and state (defined, online, at_cap)",
                                   labels=["group", "state"])
        for group, (defined, online, capped) in sorted(s.agents_by_group.items()):
            agents.add_metric([group, "defined"], defined)
            agents.add_metric([group, "online"], online)
            agents.add_metric([group, "at_cap"], capped)
        yield agents
        clients = GaugeMetricFamily("grabdesk_connected_clients",
                                    "clients heard from in the last few seconds, by role", labels=["role"])
        for role in ("agent", "supervisor", "intake", "admin"):
            clients.add_metric([role], s.clients_by_role.get(role, 0))
        yield clients

        files = store_files(self.store)
        if files:
            size = 0
            for f in files:
                try:
                    size += f.stat().st_size
                except OSError:
                    pass
            yield _gauge("grabdesk_store_bytes", "bytes the store's files occupy (journal, state, WALs)", size)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def attach(server) -> LoopFigures:
    """Keep figures on ``server``'s loop and publish them once a second."""
    figures = LoopFigures(server)
    server.figures = figures
    server.service.on_heartbeat.append(figures.heard)
    server.periodic.append([SNAPSHOT_INTERVAL_S, figures.publish])
    return figures
