"""``grabdesk bench disk``: does the store level off, or grow with time?

The real decision path without the network: the arbiter decides a steady
stream of inquiries (each submitted, grabbed twice, one win and one loss, and
resolved a little later), every batch is committed to a real ``SqliteStore``,
and after every broker second the store's maintenance pass runs (the
materializer's work: fold the journal into the state file, checkpoint, prune
the journal, apply the retention). Broker time is a virtual clock that
advances ``batch_ms`` per batch, so an hour of broker time at 5,000 grabs/s
takes as long as the machine needs for 18 million grabs and their
maintenance, not an hour (reported as ``speed``, broker seconds per real
second). Running maintenance in step is what a materializer that keeps up
does; whether it keeps up in real time is the separate figure
``materializer_grabs_per_s``: the grabs one core folds per second, to compare
with the rate (in the broker it runs in its own process at idle priority, so
a peak above that rate is folded afterwards, the journal growing meanwhile).

Two shapes:

* steady (default): ``grabs_per_s`` of broker time; the store's size is
  sampled at each of ``minutes``;
* ``--day``: a simulated Double-11 day, 24 hours whose rate follows the
  night's shape (the peak at midnight, a quiet early morning, a busy
  evening) with ``day_peak_grabs_per_s`` at the peak; sampled every hour.

History is kept ``retention_min`` minutes (the broker's default is 90 days;
a short one here shows within the run that retained history, not uptime,
sets the size). Reported per sample: the journal (with its WAL, pre-sized to
64 MB), the state file (with its WAL), journal rows waiting, and the total.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from broker.arbiter.core import Arbiter, CoreConfig
from broker.service import retention
from broker.service.retention import RetentionPolicy
from broker.service.store import SqliteStore, state_path_for
from broker.wire.protocol import AgentSpec, NewInquiry, Quotas, ShopRecord

AGENTS = 200
#: inquiries each agent holds before it resolves its oldest (keeps the open floor steady)
HELD_PER_AGENT = 3
#: share of the day's peak rate, hour by hour from midnight: Double 11 opens at 00:00
DOUBLE_11_SHAPE = (1.0, 0.8, 0.5, 0.3, 0.15, 0.1, 0.1, 0.15, 0.25, 0.35, 0.4, 0.4,
                   0.45, 0.4, 0.4, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.85, 0.95)
HOUR_S = 3600.0
MB = 1e6


def add_arguments(parser) -> None:
    parser.add_argument("--grabs-per-s", type=float, default=5000.0,
                        help="grab attempts per second of broker time (default 5000)")
    parser.add_argument("--minutes", default="10,30,60",
                        help="broker minutes at which to sample the store's size (default 10,30,60)")
    parser.add_argument("--day", action="store_true",
                        help="simulate a Double-11 day (24 broker hours, sampled hourly) instead")
    parser.add_argument("--day-peak-grabs-per-s", type=float, default=100.0,
                        help="with --day: the rate at the midnight peak (default 100)")
    parser.add_argument("--retention-min", type=float, default=10.0,
                        help="history kept, in broker minutes (default 10; the broker's default is 90 days)")
    parser.add_argument("--batch-ms", type=float, default=10.0,
                        help="broker time per committed batch (default 10, one group commit)")


def _sizes(path: Path) -> dict:
    def size(p: Path) -> int:
        try:
            return p.stat().st_size
        except OSError:
            return 0

    state = state_path_for(path)
    journal = size(path) + size(Path(f"{path}-wal"))
    state_b = size(state) + size(Path(f"{state}-wal"))
    return {"journal_mb": round(journal / MB, 1), "state_mb": round(state_b / MB, 1),
            "store_mb": round((journal + state_b + size(Path(f"{path}-shm")) + size(Path(f"{state}-shm"))) / MB, 1)}


class _Clock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now


class Floor:
    """Inquiries arrive, are grabbed twice (won and lost) and resolved; every batch is committed."""

    def __init__(self, store: SqliteStore, clock: _Clock):
        self.store, self.clock = store, clock
        self.core = Arbiter(CoreConfig(agent_timeout_s=1e9, offline_grace_s=1e9), clock=clock)
        self.core.define_shop(ShopRecord(id="s1"), "bench")
        self.agents = [f"a{i:03d}" for i in range(AGENTS)]
        for a in self.agents:
            self.core.define_agent(AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                                             quotas=Quotas(concurrent_cap=100, daily_grabs=100_000)), "bench")
            self.core.set_status(a, "online", a)
        self.held: list[tuple[str, str]] = []
        self.n = 0
        self.grabs = 0
        self.commit()

    def commit(self) -> None:
        changes = self.core.drain()
        if changes:
            self.store.write(changes)

    def batch(self, inquiries: int, batch_s: float) -> None:
        core, agents = self.core, self.agents
        for _ in range(inquiries):
            self.n += 1
            q = f"q{self.n}"
            core.submit(NewInquiry(id=q, shop="s1", skill="pre_sales"), "gw")
            winner = agents[self.n % AGENTS]
            if core.grab(winner, q, f"g{self.n}").outcome == "won":
                # a first response at once: at a day's quiet hours an inquiry is held for
                # minutes, and a silent owner would lose it back to the pool
                core.respond(winner, q)
                self.held.append((winner, q))
            core.grab(agents[(self.n + 7) % AGENTS], q, f"l{self.n}")
        self.grabs += 2 * inquiries
        keep = HELD_PER_AGENT * AGENTS
        if len(self.held) > keep:
            for winner, q in self.held[:len(self.held) - keep]:
                core.resolve(winner, q, 5)
            del self.held[:len(self.held) - keep]
        self.clock.now += batch_s
        self.commit()


def run(args) -> dict:
    batch_s = args.batch_ms / 1000.0
    if args.day:
        schedule = [(hour + 1) * HOUR_S for hour in range(24)]
        rate_at = lambda t: args.day_peak_grabs_per_s * DOUBLE_11_SHAPE[min(23, int(t // HOUR_S))]  # noqa: E731
    else:
        schedule = sorted(float(m) * 60.0 for m in args.minutes.split(","))
        rate_at = lambda t: args.grabs_per_s  # noqa: E731
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-disk-"))
    path = workdir / "broker.db"
    policy = RetentionPolicy(days=args.retention_min / 1440.0)
    # NORMAL: fsyncs cost time, not bytes; the broker's default FULL writes the same files
    store = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False, retention=policy)
    # the retention is applied every pass: once a broker second here, not once a real minute
    retention.RETENTION_EVERY_S = 0.0
    start = 1_795_000_000.0
    clock = _Clock(start)
    floor = Floor(store, clock)
    samples = []
    load_before = os.getloadavg()
    started = time.monotonic()
    carry = 0.0
    maintain_s = 0.0
    next_pass = start + 1.0
    try:
        for until in schedule:
            while clock.now - start < until:
                carry += rate_at(clock.now - start) * batch_s / 2  # two grabs per inquiry
                inquiries, carry = int(carry), carry - int(carry)
                floor.batch(inquiries, batch_s)
                if clock.now >= next_pass:
                    next_pass += 1.0
                    t0 = time.monotonic()
                    store.catch_up()
                    store.maintain()
                    maintain_s += time.monotonic() - t0
            rows = store._db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
            samples.append({"broker_min": round(until / 60.0), "grabs": floor.grabs, "journal_rows": rows,
                            "real_s": round(time.monotonic() - started, 1), **_sizes(path)})
            # as it goes, on stderr: a long run that is stopped still leaves its figures
            print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
    finally:
        store.close()
    elapsed = time.monotonic() - started
    sizes = [s["store_mb"] for s in samples]
    half = len(sizes) // 2
    result = {
        "shape": "double-11 day" if args.day else "steady",
        "grabs_per_s": None if args.day else args.grabs_per_s,
        "day_peak_grabs_per_s": args.day_peak_grabs_per_s if args.day else None,
        "retention_min": args.retention_min,
        "samples": samples,
        "grabs": floor.grabs,
        "real_s": round(elapsed, 1),
        # broker seconds per real second: the virtual clock ran this much faster than the wall
        "speed": round((clock.now - start) / elapsed, 2),
        "maintenance_real_s": round(maintain_s, 1),
        "materializer_grabs_per_s": round(floor.grabs / maintain_s) if maintain_s else None,
        # the store's growth over the second half of the run, in MB (0 or less: levelled off)
        "second_half_growth_mb": round(sizes[-1] - sizes[half], 1) if len(sizes) > 1 else None,
        "max_store_mb": max(sizes),
        "load_average": [round(x, 2) for x in load_before] + [round(x, 2) for x in os.getloadavg()],
    }
    for f in workdir.iterdir():
        f.unlink()
    workdir.rmdir()
    return result
