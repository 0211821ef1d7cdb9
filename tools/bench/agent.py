"""``grabdesk bench agent``: key press to verdict on screen, under load.

A real agent window (offscreen unless ``--visible``) against a real broker
process that is serving ``--grabs-per-s`` grabs from simulated agents in
``--load-processes`` worker processes. For each of ``--presses`` presses:

1. an inquiry only the window's agent may take is submitted;
2. the bench waits until the window shows it in the pool;
3. ``QTest.keyClick(pool, Space)`` is sent, and the clock starts just before;
4. the clock stops at the timestamp the window takes in its verdict slot
   after the banner was painted (``AgentWindow.last_verdict_shown_at``).

The load generator is raw DEALER sockets and msgspec, one socket per
simulated agent (an agent has one grab in flight, like a person): each
worker is also an intake that submits inquiries for its own agents at
``grabs-per-s / racers`` per second; ``--racers`` agents race for each one,
the winner resolves it. The window subscribes, as every agent window does,
to the inquiry and agent streams, so it also digests all of that traffic.

Prints verdict_p50_ms, verdict_p99_ms, presses and background_grabs_per_s
(achieved during the presses); ``ok`` is p99 <= 50 ms. ``bare_grab_*`` is
the same broker's grab round trip from a bare socket in this process, taken
between presses: the floor the window's own path adds to.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

import zmq

from broker.wire import protocol as p
from tools.bench.harness import RawClient, command, cpu_seconds, percentile, start_broker
from grabdesk.cli import positive_int

TARGET_P99_MS = 50.0
DEFAULT_PRESSES = 200
DEFAULT_GRABS_PER_S = 5_000.0
DEFAULT_LOAD_AGENTS = 200
DEFAULT_LOAD_PROCESSES = 2
DEFAULT_RACERS = 2
#: presses before the measured ones (first paints, caches)
WARMUP_PRESSES = 5
#: load runs this long before the first press, so the broker is in its steady state
LOAD_SETTLE_S = 2.0
#: a single wait (pool, verdict, start-up) gives up after this
STEP_TIMEOUT_S = 10.0
BROKER_START_TIMEOUT_S = 20.0
WORKER_READY_TIMEOUT_S = 30.0
#: inquiries per Submit command from a load worker
SUBMIT_BATCH_MAX = 200
#: submits a worker may have unanswered
SUBMITS_IN_FLIGHT = 4
#: grabs waiting for an idle simulated agent beyond which the intake holds back
BACKLOG_MAX = 4_000
#: simulated agents sharing one DEALER socket (each with at most one request in flight)
AGENTS_PER_SOCKET = 25
#: poll timeout of the load loop (pyzmq wants whole milliseconds, >= 1)
LOAD_POLL_MS = 1

SHOP = "bench-shop"
LOAD_SKILL = "bench_load"
DESK_SKILL = "bench_desk"
DESK_AGENT = "desk-agent"
#: grabs the same broker with a bare socket between presses: the floor the window adds to
PROBE_AGENT = "probe-agent"
PROBE_SKILL = "bench_probe"


def add_arguments(parser) -> None:
    parser.add_argument("--presses", type=positive_int, default=DEFAULT_PRESSES, help="measured key presses")
    parser.add_argument("--grabs-per-s", type=float, default=DEFAULT_GRABS_PER_S,
                        help="background grabs per second from simulated agents (0: no load)")
    parser.add_argument("--load-agents", type=int, default=DEFAULT_LOAD_AGENTS, help="simulated agents")
    parser.add_argument("--load-processes", type=positive_int, default=DEFAULT_LOAD_PROCESSES,
                        help="worker processes the simulated agents run in")
    parser.add_argument("--racers", type=int, default=DEFAULT_RACERS,
                        help="simulated agents racing for each background inquiry")
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL",
                        help="the broker's SQLite durability (default FULL, as in production)")
    parser.add_argument("--visible", action="store_true", help="show the window (default offscreen)")


# --------------------------------------------------------------------------
# The floor
# --------------------------------------------------------------------------

def _define_floor(admin: RawClient, load_agents: int) -> list[str]:
    admin.call(p.DefineShop, shop=p.ShopRecord(id=SHOP, mode="grab"))
    generous = p.Quotas(concurrent_cap=1_000, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)
    admin.call(p.DefineGroup, group=p.GroupRecord(id="bench", quotas=generous))
    ids = [f"load{i:04d}" for i in range(load_agents)]
    for start in range(0, len(ids), 200):
        admin.call(p.DefineAgents, agents=[
            p.AgentSpec(id=a, name=a, group="bench", skills={LOAD_SKILL: 3}, languages=["zh"], quality=95.0)
            for a in ids[start:start + 200]])
    admin.call(p.DefineAgents, agents=[
        p.AgentSpec(id=DESK_AGENT, name="Desk", group="bench", skills={DESK_SKILL: 3}, languages=["zh"],
                    quality=95.0),
        p.AgentSpec(id=PROBE_AGENT, name="Probe", group="bench", skills={PROBE_SKILL: 3}, languages=["zh"],
                    quality=95.0)])
    admin.call(p.SetStatus, status="online", agent=PROBE_AGENT)
    return ids


# --------------------------------------------------------------------------
# The load generator (runs in worker processes)
# --------------------------------------------------------------------------

def _load_worker(endpoint: str, worker: int, agent_ids: list[str], grabs_per_s: float, racers: int,
                 ready, go, stop, results) -> None:
    """Submit inquiries and race ``racers`` agents for each; report verdicts per second.

    Simulated agents share a few DEALER sockets (``AGENTS_PER_SOCKET`` each):
    the broker acts on the ``who`` of each command, and polling a handful of
    sockets instead of one per agent keeps the generator's own CPU small, so
    the machine's cores go to the broker and the window being measured. Each
    agent has at most one request in flight, like a person at a desk.
    """
    ctx = zmq.Context()
    socks: list[zmq.Socket] = []
    try:
        intake = ctx.socket(zmq.DEALER)
        intake.setsockopt(zmq.LINGER, 0)
        intake.connect(endpoint)
        socks.append(intake)
        poller = zmq.Poller()
        poller.register(intake, zmq.POLLIN)
        by_agent: dict[str, zmq.Socket] = {}
        for start in range(0, len(agent_ids), AGENTS_PER_SOCKET):
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
            socks.append(s)
            poller.register(s, zmq.POLLIN)
            for agent in agent_ids[start:start + AGENTS_PER_SOCKET]:
                by_agent[agent] = s
        ids = itertools.count(1)
        # every simulated agent signs in itself and waits for the answer
        for agent, s in by_agent.items():
            s.send(command(p.SetStatus, "agent", agent, f"{agent}-0", status="online"))
        waiting = set(by_agent)
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while waiting and time.monotonic() < deadline:
            for s, _ in poller.poll(100):
                while s is not intake:
                    try:
                        reply = p.decode_reply(s.recv(zmq.NOBLOCK))
                    except zmq.Again:
                        break
                    waiting.discard(reply.re.rsplit("-", 1)[0])
        if waiting:
            raise RuntimeError(f"{len(waiting)} simulated agents were not set online")
        ready.put(worker)
        go.wait()

        intake_who = f"bench-intake-{worker}"
        inquiry_rate = grabs_per_s / racers
        idle: deque[str] = deque(agent_ids)
        tasks: deque[str] = deque()  # inquiry ids, one entry per racer still to send
        submits: dict[str, list[str]] = {}
        per_second: Counter[int] = Counter()
        outcomes: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        submitted = 0
        cpu0 = time.process_time()
        t0 = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - t0) * inquiry_rate) - submitted
            if due > 0 and len(submits) < SUBMITS_IN_FLIGHT and len(tasks) < BACKLOG_MAX:
                batch = [f"w{worker}-{submitted + i}" for i in range(min(due, SUBMIT_BATCH_MAX))]
                msg_id = f"{intake_who}-{next(ids)}"
                intake.send(command(p.Submit, "intake", intake_who, msg_id, inquiries=[
                    p.NewInquiry(id=i, shop=SHOP, skill=LOAD_SKILL) for i in batch]))
                submits[msg_id] = batch
                submitted += len(batch)
            for s, _ in poller.poll(LOAD_POLL_MS):
                while True:
                    try:
                        data = s.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    reply = p.decode_reply(data)
                    if s is intake:
                        for inquiry in submits.pop(reply.re, ()):
                            tasks.extend([inquiry] * racers)
                        continue
                    agent = reply.re.rsplit("-", 1)[0]  # message ids are "<agent>-<n>"
                    if agent not in by_agent:  # an error with no readable id (too-many-pending)
                        errors[getattr(reply, "code", p.ErrorCode.INTERNAL).value] += 1
                        continue
                    if isinstance(reply, p.Verdict):
                        per_second[int(time.time())] += 1
                        outcomes[reply.outcome] += 1
                        if reply.outcome == "won":
                            s.send(command(p.Resolve, "agent", agent, f"{agent}-{next(ids)}",
                                           inquiry=reply.inquiry))
                            continue
                    elif isinstance(reply, p.Error):
                        errors[reply.code.value] += 1
                    idle.append(agent)
            while tasks and idle:
                agent = idle.popleft()
                inquiry = tasks.popleft()
                n = next(ids)
                by_agent[agent].send(command(p.Grab, "agent", agent, f"{agent}-{n}",
                                             grab_id=f"{agent}-g{n}", inquiry=inquiry))
        results.put({"worker": worker, "per_second": dict(per_second), "outcomes": dict(outcomes),
                     "errors": dict(errors), "submitted": submitted, "backlog": len(tasks),
                     "cpu_s": time.process_time() - cpu0, "run_s": time.monotonic() - t0})
    except Exception as exc:  # the parent reports it; a worker must not hang the bench
        results.put({"worker": worker, "failed": f"{type(exc).__name__}: {exc}"})
    finally:
        for s in socks:
            s.close(linger=0)
        ctx.destroy(linger=0)


class _Load:
    def __init__(self, endpoint: str, agent_ids: list[str], processes: int, grabs_per_s: float, racers: int):
        mp = multiprocessing.get_context("spawn")
        self.ready, self.results = mp.Queue(), mp.Queue()
        self.go, self.stop_event = mp.Event(), mp.Event()
        self.procs = []
        for worker in range(processes):
            share = agent_ids[worker::processes]
            proc = mp.Process(target=_load_worker, name=f"bench-load-{worker}", daemon=True, args=(
                endpoint, worker, share, grabs_per_s / processes, racers,
                self.ready, self.go, self.stop_event, self.results))
            proc.start()
            self.procs.append(proc)

    def start(self) -> None:
        waiting = len(self.procs)
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while waiting:
            try:
                self.ready.get(timeout=0.2)
                waiting -= 1
                continue
            except queue.Empty:
                pass
            dead = [proc.name for proc in self.procs if proc.exitcode is not None]
            if dead or time.monotonic() > deadline:
                failure = ""
                try:
                    failure = self.results.get_nowait().get("failed", "")
                except queue.Empty:
                    pass
                raise RuntimeError(f"load workers did not get ready ({', '.join(dead) or 'time-out'}) {failure}")
        self.go.set()

    def stop(self) -> list[dict]:
        self.stop_event.set()
        out = []
        for _ in self.procs:
            try:
                out.append(self.results.get(timeout=STEP_TIMEOUT_S))
            except queue.Empty:
                break
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
        return out


# --------------------------------------------------------------------------
# Driving the window
# --------------------------------------------------------------------------

def _wait(predicate, signals, timeout_s: float = STEP_TIMEOUT_S) -> bool:
    """Run the Qt event loop until ``predicate()`` or the deadline; never spins."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return True
    loop = QEventLoop()

    def check(*_args) -> None:
        if predicate():
            loop.quit()

    for signal_ in signals:
        signal_.connect(check)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    try:
        loop.exec()
    finally:
        deadline.stop()
        for signal_ in signals:
            signal_.disconnect(check)
    return predicate()


def _press_until_verdict(window, desk_admin: RawClient, inquiry_id: str) -> tuple[float, float, str]:
    """One press: (arrival-to-pool ms, press-to-verdict ms, outcome)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    submitted = time.perf_counter()
    desk_admin.call(p.Submit, inquiries=[p.NewInquiry(id=inquiry_id, shop=SHOP, skill=DESK_SKILL)])
    if not _wait(lambda: inquiry_id in window.desk.pool, [window.link.changed]):
        raise RuntimeError(f"{inquiry_id} never reached the pool")
    in_pool = time.perf_counter()
    window.pool_panel.view.clearSelection()  # Space grabs the oldest: the one just submitted
    shown = []
    window.verdict_shown.connect(shown.append)
    try:
        pressed = time.perf_counter()
        QTest.keyClick(window.pool_panel.view, Qt.Key.Key_Space)
        if not _wait(lambda: bool(shown), [window.verdict_shown]):
            raise RuntimeError(f"no verdict on screen for {inquiry_id}")
    finally:
        window.verdict_shown.disconnect(shown.append)
    verdict_ms = (window.last_verdict_shown_at - pressed) * 1000.0
    if shown[0].outcome == "won":
        window.resolve(inquiry_id)  # keep "my inquiries" short; not timed
    return (in_pool - submitted) * 1000.0, verdict_ms, shown[0].outcome


def _probe_grab_ms(desk_admin: RawClient, probe: RawClient, inquiry_id: str) -> float:
    """One grab round trip from a bare DEALER in this process (no Qt), in ms."""
    desk_admin.call(p.Submit, inquiries=[p.NewInquiry(id=inquiry_id, shop=SHOP, skill=PROBE_SKILL)])
    start = time.perf_counter()
    verdict = probe.call(p.Grab, grab_id=inquiry_id, inquiry=inquiry_id)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    if verdict.outcome == "won":
        probe.call(p.Resolve, inquiry=inquiry_id)
    return elapsed_ms


def measure(presses: int, grabs_per_s: float, load_agents: int, load_processes: int, racers: int,
            synchronous: str, visible: bool = False) -> dict:
    if not visible:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from supervisor.agentwin.window import AGENT_STREAMS, AgentWindow, prefer_latency
    from supervisor.common.link import BrokerLink, LinkSettings

    prefer_latency()  # as `grabdesk agent` does

    loadavg_before = os.getloadavg()[0]
    app = QApplication.instance() or QApplication([sys.argv[0]])
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-bench-agent-"))
    # the window remembers its place: in the scratch directory, never in the user's settings
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "settings"))
    # start_broker's long agent time-outs keep the simulated agents, who send no heartbeats, on the floor
    broker = start_broker(workdir, synchronous=synchronous)
    ctx = zmq.Context()
    load = None
    link = window = None
    admin = desk_admin = probe = None
    try:
        admin = RawClient(ctx, broker.command_endpoint, "admin", "bench-admin")
        load_ids = _define_floor(admin, load_agents)
        desk_admin = RawClient(ctx, broker.command_endpoint, "intake", "bench-desk-intake")
        probe = RawClient(ctx, broker.command_endpoint, "agent", PROBE_AGENT)
        if grabs_per_s > 0:
            load = _Load(broker.command_endpoint, load_ids, max(1, load_processes), grabs_per_s, max(1, racers))
            load.start()

        link = BrokerLink(LinkSettings(command_endpoint=broker.command_endpoint,
                                       events_endpoint=broker.events_endpoint),
                          "agent", DESK_AGENT, streams=AGENT_STREAMS, name="bench-desk")
        window = AgentWindow(link, dialogs=False)
        link.start()
        window.show()
        if not _wait(lambda: link.live and window.desk.me is not None and window.desk.me.status == "online",
                     [link.changed, link.reset, link.status_changed], BROKER_START_TIMEOUT_S):
            raise RuntimeError(f"the window did not go live ({link.status})")
        settle = time.monotonic() + LOAD_SETTLE_S
        _wait(lambda: time.monotonic() >= settle, [], LOAD_SETTLE_S)

        for i in range(WARMUP_PRESSES):
            _press_until_verdict(window, desk_admin, f"warm-{i}")
        cpu_gui0, cpu_broker0 = cpu_seconds(os.getpid()), cpu_seconds(broker.pid)
        wall0, t0 = time.time(), time.monotonic()
        to_pool, verdicts, outcomes, probes = [], [], Counter(), []
        for i in range(presses):
            pool_ms, verdict_ms, outcome = _press_until_verdict(window, desk_admin, f"desk-{i}")
            to_pool.append(pool_ms)
            verdicts.append(verdict_ms)
            outcomes[outcome] += 1
            probes.append(_probe_grab_ms(desk_admin, probe, f"probe-{i}"))
        elapsed = time.monotonic() - t0
        wall1 = time.time()
        cpu_gui, cpu_broker = cpu_seconds(os.getpid()) - cpu_gui0, cpu_seconds(broker.pid) - cpu_broker0
        reports = load.stop() if load is not None else []
        load = None
    finally:
        if load is not None:
            load.stop()
        if window is not None:
            window.close()
        if link is not None:
            link.stop()
        for client in (admin, desk_admin, probe):
            if client is not None:
                client.close()
        broker.stop()
        ctx.destroy(linger=0)
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with broker.log) only when the run failed

    failed = [r["failed"] for r in reports if "failed" in r]
    # achieved background rate over the whole seconds the presses spanned
    first_s, last_s = int(wall0) + 1, int(wall1) - 1
    grabs_in_window = sum(n for r in reports for s, n in r.get("per_second", {}).items()
                          if first_s <= s <= last_s)
    seconds = max(1, last_s - first_s + 1)
    load_outcomes = Counter()
    load_errors = Counter()
    for r in reports:
        load_outcomes.update(r.get("outcomes", {}))
        load_errors.update(r.get("errors", {}))
    p99 = percentile(verdicts, 99)
    return {
        "verdict_p50_ms": round(percentile(verdicts, 50), 2),
        "verdict_p99_ms": round(p99, 2),
        "verdict_max_ms": round(max(verdicts), 2) if verdicts else None,
        "presses": len(verdicts),
        "outcomes": dict(outcomes),
        "bare_grab_p50_ms": round(percentile(probes, 50), 2),
        "bare_grab_p99_ms": round(percentile(probes, 99), 2),
        "arrival_to_pool_p50_ms": round(percentile(to_pool, 50), 2),
        "arrival_to_pool_p99_ms": round(percentile(to_pool, 99), 2),
        "background_grabs_per_s": round(grabs_in_window / seconds, 1) if last_s >= first_s else None,
        "background_target_per_s": grabs_per_s,
        "background_outcomes": dict(load_outcomes),
        "background_errors": dict(load_errors),
        "load_failures": failed,
        "load_agents": load_agents, "load_processes": load_processes, "racers": racers,
        "window_process_cpu_pct": round(100.0 * cpu_gui / elapsed, 1),
        "load_cpu_pct": round(100.0 * sum(r.get("cpu_s", 0.0) for r in reports)
                              / max(1e-9, max((r.get("run_s", 0.0) for r in reports), default=0.0)), 1),
        "broker_cpu_pct": round(100.0 * cpu_broker / elapsed, 1),
        "elapsed_s": round(elapsed, 2),
        "synchronous": synchronous,
        "cpus": os.cpu_count(),
        # other work on the machine shows here: the figures are only as quiet as it was
        "loadavg_1m_before": round(loadavg_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "target_p99_ms": TARGET_P99_MS,
        "ok": bool(verdicts) and not failed and p99 <= TARGET_P99_MS,
    }


def run(args) -> dict:
    return measure(args.presses, args.grabs_per_s, args.load_agents, args.load_processes, args.racers,
                   args.synchronous, args.visible)
