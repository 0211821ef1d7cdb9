"""``grabdesk bench recovery``: time from restart to serving, with many open inquiries.

Loads a broker with ``--open`` inquiries (a quarter of them held by agents),
then restarts it twice and times from process start to the first answered
command: after a clean stop (SIGTERM: the state is materialized), and after
``kill -9`` (the journal tail since the last materialization is replayed).
Both must bring back every open inquiry; ``recovery_s`` is the slower one.
"""
from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import zmq

from broker.wire import protocol as p
from tools.bench.harness import RawClient, define_floor, start_broker

SUBMIT_BATCH = 2_000
HELD_SHARE = 4  # one in four inquiries is held by an agent


def add_arguments(parser) -> None:
    parser.add_argument("--open", type=int, default=100_000, help="open inquiries (default 100000)")


def _count_open(endpoint: str) -> tuple[int, int]:
    ctx = zmq.Context()
    c = RawClient(ctx, endpoint, "admin", "bench")
    try:
        records, _end = c.call(p.Snapshot, timeout_s=120, streams=["inquiry"])
    finally:
        c.close()
        ctx.term()
    inquiries = [r for r in records if isinstance(r, p.InquiryRecord)]
    return len(inquiries), sum(1 for r in inquiries if r.state == "held")


def _restart(workdir: Path, ports: tuple[str, str]) -> tuple[object, float]:
    t0 = time.perf_counter()
    broker = start_broker(workdir=workdir, command_endpoint=ports[0], events_endpoint=ports[1],
                          synchronous="NORMAL")
    return broker, time.perf_counter() - t0


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-recovery-"))
    broker = start_broker(workdir=workdir, synchronous="NORMAL", grab_rate_per_s=1_000_000.0)
    ports = (broker.command_endpoint, broker.events_endpoint)
    try:
        ctx = zmq.Context()
        admin = RawClient(ctx, broker.command_endpoint, "admin", "bench")
        agents = define_floor(admin, 200, quotas=p.Quotas(concurrent_cap=1000, daily_grabs=100_000,
                                                           continuous_hours=24.0, break_minutes=15.0))
        for start in range(0, args.open, SUBMIT_BATCH):
            admin.call(p.Submit, inquiries=[p.NewInquiry(id=f"r{i}", shop="s1", skill="pre_sales")
                                            for i in range(start, min(args.open, start + SUBMIT_BATCH))])
        grabbers = {a: RawClient(ctx, broker.command_endpoint, "agent", a) for a in agents}
        for i in range(0, args.open, HELD_SHARE):
            agent = agents[i % len(agents)]
            grabbers[agent].call(p.Grab, grab_id=f"h{i}", inquiry=f"r{i}")
        for c in grabbers.values():
            c.close()
        admin.close()
        ctx.term()
        before = _count_open(broker.command_endpoint)
        broker.stop()
        broker, clean_s = _restart(workdir, ports)
        after_clean = _count_open(broker.command_endpoint)
        os.kill(broker.pid, signal.SIGKILL)
        broker.proc.wait(10)
        broker, crash_s = _restart(workdir, ports)
        after_crash = _count_open(broker.command_endpoint)
    finally:
        broker.stop()
    return {
        "open_inquiries": before[0],
        "held": before[1],
        "recovery_s": round(max(clean_s, crash_s), 2),
        "after_clean_stop_s": round(clean_s, 2),
        "after_kill_9_s": round(crash_s, 2),
        "all_back": before == after_clean == after_crash,
        "ok": before == after_clean == after_crash,
        "note": "from process start to the first answered command, Python start-up included",
    }
