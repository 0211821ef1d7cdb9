"""``grabdesk bench console``: is the supervisor console responsive on a busy floor?

The real console main window (offscreen) follows a real broker process that
holds ``--agents`` online agents and ``--queued`` queued inquiries, while a
load process (its own GIL) drives about ``--events-per-s`` events a second:
agents grab and release inquiries and step away and back. Measured over
``--duration-s`` after a warm-up:

* ``frame_p95_ms``: wall time of each refresh tick of the window: replaying
  the changes into the models, the once-a-second chart ``setData`` and
  column refresh, and rendering what changed (the pending paint events are
  flushed inside the tick, so the paint is counted in the frame it belongs to);
* ``latency_p95_ms``: for every event the console received, from the
  broker's decision (the event's ``at``) to the end of the first frame that
  rendered it;
* ``rss_mb``: the console process's resident memory at the end (VmRSS).

The chart's history is pre-filled to ``--history-s`` (default: its full four
hours), so ``setData`` is measured at the size it reaches after a shift.
Targets: frame p95 <= 33 ms, latency p95 <= 250 ms, RSS < 350 MB. ``--profile
FILE`` writes cProfile statistics of the measured window.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import time
import uuid
from pathlib import Path

import zmq

from broker.wire import protocol as p
from tools.bench.harness import RawClient, command, percentile, rss_mb, start_broker
from grabdesk.cli import positive_int

TARGET_FRAME_P95_MS = 33.0
TARGET_LATENCY_P95_MS = 250.0
TARGET_RSS_MB = 350.0
SKILLS = ("pre_sales", "after_sales", "logistics", "complaint")
SHOP = "bench-shop"
#: share of agents that step away and back instead of grabbing (status events)
TOGGLING_SHARE = 0.1
#: operation mix of the load: (kind, weight, events each produces)
OPS = (("grab", 0.45, 2), ("release", 0.45, 2), ("status", 0.10, 1))
#: held inquiries the load keeps between (grabs and releases balance around this band)
HELD_LOW, HELD_HIGH = 300, 1_500
#: requests one load socket keeps in flight (the broker refuses more than 64 per client)
IN_FLIGHT_PER_SOCKET = 48
LOAD_SOCKETS = 8
SUBMIT_BATCH = 1_000
LIVE_TIMEOUT_S = 120.0


def add_arguments(parser) -> None:
    parser.add_argument("--agents", type=positive_int, default=1_000, help="online agents on the floor")
    parser.add_argument("--queued", type=int, default=20_000, help="queued inquiries at the start")
    parser.add_argument("--events-per-s", type=float, default=2_000.0, help="target events per second")
    parser.add_argument("--duration-s", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="load before measuring")
    parser.add_argument("--history-s", type=int, default=4 * 3600,
                        help="seconds of chart history pre-filled (the buffer's full size by default)")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the measured window")
    parser.add_argument("--keep", action="store_true", help="keep the broker's work directory")


# ---------------------------------------------------------------------- the floor

def define_floor(client: RawClient, agents: int, queued: int) -> tuple[list[str], list[str]]:
    """Agents with one or two of the skills, generous quotas; ``queued`` inquiries."""
    client.call(p.DefineShop, shop=p.ShopRecord(id=SHOP, name="Bench Shop"))
    for skill in SKILLS:
        client.call(p.DefineGroup, group=p.GroupRecord(id=skill, name=skill, quotas=p.Quotas(
            concurrent_cap=20, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)))
    rng = random.Random(7)
    specs = []
    for i in range(agents):
        main = SKILLS[i % len(SKILLS)]
        skills = {main: 4}
        if i % 3 == 0:
            skills[SKILLS[(i + 1) % len(SKILLS)]] = 2
        specs.append(p.AgentSpec(id=f"a{i:04d}", name=f"Agent {i}", group=main, skills=skills,
                                 languages=["zh", "en"], quality=rng.uniform(70.0, 99.0)))
    for start in range(0, agents, 250):
        client.call(p.DefineAgents, agents=specs[start:start + 250])
    for spec in specs:
        client.call(p.SetStatus, status="online", agent=spec.id)
    now = time.time()
    ids = [f"q{i:06d}" for i in range(queued)]
    for start in range(0, queued, SUBMIT_BATCH):
        batch = [p.NewInquiry(id=i, shop=SHOP, skill=SKILLS[n % len(SKILLS)], language="zh",
                              customer=f"c{n}", arrived_at=now - rng.uniform(0.0, 300.0))
                 for n, i in enumerate(ids[start:start + SUBMIT_BATCH], start)]
        reply = client.call(p.Submit, inquiries=batch)
        if reply.rejected:
            raise RuntimeError(f"submit refused: {reply.rejected[:3]}")
    return [s.id for s in specs], ids


# ---------------------------------------------------------------------- the load

def _load_process(endpoint: str, agents: dict[str, str], inquiries: list[tuple[str, str]],
                  events_per_s: float, run_s: float, results) -> None:
    """Grab, release and toggle status at a steady rate from raw DEALER sockets.

    It tracks what it holds so every grab names a queued inquiry an idle-enough
    agent may take; a refused grab or release is rolled back from the verdict.
    """
    rng = random.Random(11)
    ctx = zmq.Context()
    socks = []
    for _ in range(LOAD_SOCKETS):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        socks.append(s)
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    in_flight = [dict() for _ in socks]
    by_skill: dict[str, list[str]] = {}
    for agent_id, skill in agents.items():
        by_skill.setdefault(skill, []).append(agent_id)
    toggling = [a for i, a in enumerate(sorted(agents)) if i % round(1 / TOGGLING_SHARE) == 0]
    grabbing = {skill: [a for a in ids if a not in set(toggling)] for skill, ids in by_skill.items()}
    away: set[str] = set()
    queued = list(inquiries)
    held: list[tuple[str, str, str]] = []  # (inquiry, skill, agent)
    counts = {"sent": 0, "grab": 0, "release": 0, "status": 0, "won": 0, "refused": 0, "errors": 0}
    mean_events = sum(w * e for _, w, e in OPS) / sum(w for _, w, e in OPS)
    ops_per_s = events_per_s / mean_events
    seq = 0
    start = time.monotonic()
    sent = 0

    def pick_op() -> str:
        if len(held) < HELD_LOW:
            return "grab" if rng.random() < 0.9 else "status"
        if len(held) > HELD_HIGH:
            return "release" if rng.random() < 0.9 else "status"
        r = rng.random() * sum(w for _, w, _ in OPS)
        for kind, weight, _ in OPS:
            r -= weight
            if r <= 0:
                return kind
        return OPS[-1][0]

    while True:
        now = time.monotonic()
        if now - start >= run_s:
            break
        due = int((now - start) * ops_per_s) - sent
        for _ in range(max(0, due)):
            k = seq % LOAD_SOCKETS
            if len(in_flight[k]) >= IN_FLIGHT_PER_SOCKET:
                break
            kind = pick_op()
            seq += 1
            msg_id = f"l{seq}"
            if kind == "grab" and queued:
                i = rng.randrange(len(queued))
                queued[i], queued[-1] = queued[-1], queued[i]
                inquiry_id, skill = queued.pop()
                agent_id = rng.choice(grabbing[skill])
                body = command(p.Grab, "agent", agent_id, msg_id, grab_id=uuid.uuid4().hex[:16],
                               inquiry=inquiry_id)
                in_flight[k][msg_id] = ("grab", inquiry_id, skill, agent_id)
            elif kind == "release" and held:
                i = rng.randrange(len(held))
                held[i], held[-1] = held[-1], held[i]
                inquiry_id, skill, agent_id = held.pop()
                body = command(p.Release, "agent", agent_id, msg_id, inquiry=inquiry_id)
                in_flight[k][msg_id] = ("release", inquiry_id, skill, agent_id)
            else:
                agent_id = rng.choice(toggling)
                status = "online" if agent_id in away else "away"
                (away.discard if status == "online" else away.add)(agent_id)
                body = command(p.SetStatus, "agent", agent_id, msg_id, status=status)
                in_flight[k][msg_id] = ("status", "", "", agent_id)
                kind = "status"
            socks[k].send(body, zmq.NOBLOCK)
            counts[kind] += 1
            counts["sent"] += 1
            sent += 1
        for sock, _ in poller.poll(1):
            k = socks.index(sock)
            while True:
                try:
                    reply = p.decode_reply(sock.recv(zmq.NOBLOCK))
                except zmq.Again:
                    break
                op = in_flight[k].pop(reply.re, None)
                if op is None:
                    continue
                kind, inquiry_id, skill, agent_id = op
                if kind == "grab":
                    if isinstance(reply, p.Verdict) and reply.outcome == "won":
                        counts["won"] += 1
                        held.append((inquiry_id, skill, agent_id))
                    else:
                        counts["refused"] += 1
                        queued.append((inquiry_id, skill))
                elif kind == "release" and isinstance(reply, p.Error):
                    counts["errors"] += 1
                    held.append((inquiry_id, skill, agent_id))
                elif isinstance(reply, p.Error):
                    counts["errors"] += 1
    counts["elapsed_s"] = time.monotonic() - start
    results.put(counts)
    for s in socks:
        s.close(linger=0)
    ctx.term()


# ---------------------------------------------------------------------- the console

def _prefill_history(state, seconds: int, now: float) -> None:
    """A shift's worth of plausible samples, so the chart draws a full buffer."""
    rng = random.Random(3)
    depth = {s: 5_000.0 for s in SKILLS}
    for k in range(min(seconds, state.history.capacity)):
        for s in SKILLS:
            depth[s] = max(0.0, depth[s] + rng.uniform(-40.0, 40.0))
        state.history.append(now - seconds + k, {s: int(v) for s, v in depth.items()},
                             {s: 60.0 + (k % 600) for s in SKILLS})


def _run_console(args, broker, agent_skills: dict[str, str], inquiry_skills: list[tuple[str, str]],
                 workdir: Path) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from supervisor.console.settings import ConsoleSettings
    from supervisor.console.state import LatencyProbe
    from supervisor.console.window import MainWindow
    from supervisor.common.link import BrokerLink

    app = QApplication.instance() or QApplication(["grabdesk-bench-console"])
    # the bench must not read or write the user's console settings
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "settings"))
    settings = ConsoleSettings(command_endpoint=broker.command_endpoint,
                               events_endpoint=broker.events_endpoint, who="bench", lang="en")
    link = BrokerLink(settings.link_settings(), "supervisor", "bench", name="bench-console")
    window = MainWindow(link, settings, restore_layout=False)
    window.resize(1440, 900)
    window.show()
    received = [0]
    link.changed.connect(lambda events: received.__setitem__(0, received[0] + len(events)))
    link.start()
    t_connect = time.monotonic()
    deadline = t_connect + LIVE_TIMEOUT_S
    while not (link.live and window.inquiries.model.rowCount() >= len(inquiry_skills)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"console not live with {len(inquiry_skills)} rows within {LIVE_TIMEOUT_S} s "
                               f"(status {link.status.state}, rows {window.inquiries.model.rowCount()})")
        app.processEvents()
        time.sleep(0.005)
    snapshot_s = time.monotonic() - t_connect
    _prefill_history(window.state, args.history_s, time.time())

    frames_ms: list[float] = []
    measuring = [False]
    probe = LatencyProbe()
    update_request = QEvent.Type.UpdateRequest

    scene = window.chart.view.scene()
    meta_call = QEvent.Type.MetaCall

    refresh_ms: list[float] = []

    def frame() -> None:
        t0 = time.perf_counter()
        window.refresh()
        t_models = time.perf_counter()
        # render now what this tick changed (the event loop would do it next): the chart's
        # scene settles its dirty items through queued calls, then every dirty widget paints
        QCoreApplication.sendPostedEvents(scene, meta_call)
        QCoreApplication.sendPostedEvents(None, update_request)
        t1 = time.perf_counter()
        if measuring[0]:
            frames_ms.append((t1 - t0) * 1000.0)
            refresh_ms.append((t_models - t0) * 1000.0)
            probe.shown(time.time())

    window.timer.timeout.disconnect(window.refresh)
    window.timer.timeout.connect(frame)

    results = multiprocessing.get_context("spawn").Queue()
    load = multiprocessing.get_context("spawn").Process(
        target=_load_process, name="bench-console-load",
        args=(broker.command_endpoint, agent_skills, inquiry_skills, args.events_per_s,
              args.warmup_s + args.duration_s + 1.0, results), daemon=True)
    load.start()

    def pump(seconds: float) -> None:
        """Run the Qt event loop, as the application does, for ``seconds``."""
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    pump(args.warmup_s + 0.5)  # the load process needs a moment to import and connect
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    window.state.probe = probe
    measuring[0] = True
    received_before = received[0]
    t_start = time.monotonic()
    pump(args.duration_s)
    measuring[0] = False
    elapsed = time.monotonic() - t_start
    window.state.probe = None
    events = received[0] - received_before
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    load_counts = results.get(timeout=60)
    load.join(10)
    rss = rss_mb()
    rows = window.inquiries.model.rowCount()
    window.close()
    link.stop()
    return {"frames": len(frames_ms), "frames_ms": frames_ms, "refresh_ms": refresh_ms,
            "latency_ms": probe.samples_ms,
            "events": events, "elapsed_s": elapsed, "rss_mb": rss, "rows": rows,
            "snapshot_s": snapshot_s, "load": load_counts}


def run(args) -> dict:
    broker = start_broker(synchronous="NORMAL")
    workdir = broker.workdir
    try:
        ctx = zmq.Context()
        admin = RawClient(ctx, broker.command_endpoint, "admin", "bench")
        try:
            agent_ids, inquiry_ids = define_floor(admin, args.agents, args.queued)
        finally:
            admin.close()
            ctx.term()
        agent_skills = {a: SKILLS[i % len(SKILLS)] for i, a in enumerate(agent_ids)}
        inquiry_skills = [(q, SKILLS[n % len(SKILLS)]) for n, q in enumerate(inquiry_ids)]
        measured = _run_console(args, broker, agent_skills, inquiry_skills, workdir)
    finally:
        broker.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    frame_p95 = percentile(measured["frames_ms"], 95)
    latency_p95 = percentile(measured["latency_ms"], 95)
    rate = measured["events"] / measured["elapsed_s"] if measured["elapsed_s"] else 0.0
    result = {
        "frame_p95_ms": round(frame_p95, 2),
        "latency_p95_ms": round(latency_p95, 1),
        "rss_mb": round(measured["rss_mb"], 1),
        "agents": args.agents,
        "queued": args.queued,
        "events_per_s": round(rate, 1),
        "frames": measured["frames"],
        "changes": len(measured["latency_ms"]),
        "frame_p50_ms": round(percentile(measured["frames_ms"], 50), 2),
        "frame_max_ms": round(max(measured["frames_ms"], default=float("nan")), 2),
        # the part of a frame spent in the console's own refresh (models, chart data), the rest painting
        "frame_refresh_p95_ms": round(percentile(measured["refresh_ms"], 95), 2),
        "latency_p50_ms": round(percentile(measured["latency_ms"], 50), 1),
        "latency_p99_ms": round(percentile(measured["latency_ms"], 99), 1),
        "duration_s": round(measured["elapsed_s"], 1),
        "snapshot_s": round(measured["snapshot_s"], 2),
        "open_rows": measured["rows"],
        "load": measured["load"],
        "targets": {"frame_p95_ms": TARGET_FRAME_P95_MS, "latency_p95_ms": TARGET_LATENCY_P95_MS,
                    "rss_mb": TARGET_RSS_MB},
    }
    result["ok"] = (frame_p95 <= TARGET_FRAME_P95_MS and latency_p95 <= TARGET_LATENCY_P95_MS
                    and measured["rss_mb"] < TARGET_RSS_MB)
    return result
