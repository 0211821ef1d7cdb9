"""Three hostile scenarios the fuzz benchmark measures and tests/test_hostile.py checks.

Each runs against its own broker process (``harness.start_broker``) so its
RSS is its own. The functions return figures (memory growth, a slowdown) and
the facts a test asserts (broker alive, every frame answered, a resumed
subscriber consistent): the benchmark reports the figures, the tests assert
only the facts, since on a shared machine a figure moves with the neighbours.

* ``long_identifiers``: one agent pipelines grabs whose ids are 100 KB long,
  within the rate limit, for a few seconds: broker RSS growth.
* ``never_reading``: four clients send junk and never read the answers, with
  tiny receive queues: broker RSS growth.
* ``frozen_subscriber``: a saturated grab load timed with and without a
  subscriber whose thread hangs (its socket unread until the broker's
  ``pub_hwm`` overflows): the slowdown, and whether the resumed subscriber
  noticed its gap, re-synced and ended equal to the broker's state.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import threading
import time
from pathlib import Path

import msgspec
import zmq

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.mirror import Mirror
from tools.bench import arbitration
from tools.bench.harness import RawClient, command, define_floor, rss_mb, start_broker

FLOOR_QUOTAS = p.Quotas(concurrent_cap=20, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)
#: more timed rounds of each kind when the first ones disagree by more than this
NOISE_MARGIN = 1.10
EXTRA_ROUNDS_ON_NOISE = 3


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(0.02)


# ---------------------------------------------------------------------- long identifiers

def long_identifiers(workdir: Path, seconds: float = 3.0, **broker_fields) -> dict:
    """Grabs with 100 KB ids from one agent within the rate limit: answered? RSS growth?"""
    broker = start_broker(workdir=workdir, **broker_fields)
    ctx = zmq.Context()
    try:
        admin = RawClient(ctx, broker.command_endpoint, "admin", "bench")
        define_floor(admin, 1, quotas=FLOOR_QUOTAS)
        admin.close()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(broker.command_endpoint)
        try:
            sock.send(command(p.Hello, "agent", "a0000", "warm"))
            if not sock.poll(5_000):
                raise RuntimeError("the broker did not answer hello")
            sock.recv()
            before = rss_mb(broker.pid)
            big = "x" * 100_000
            sent = answered = in_flight = 0
            end = time.monotonic() + seconds
            while time.monotonic() < end or in_flight:
                while in_flight < 16 and time.monotonic() < end:
                    sent += 1
                    gid = f"{sent}-{big}"
                    sock.send(command(p.Grab, "agent", "a0000", f"m{sent}", grab_id=gid, inquiry=gid))
                    in_flight += 1
                if sock.poll(100):
                    while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                        sock.recv()
                        answered += 1
                        in_flight -= 1
                elif time.monotonic() > end + 10:
                    break
            alive = broker.proc.poll() is None
            growth = rss_mb(broker.pid) - before if alive else None
        finally:
            sock.close(0)
    finally:
        ctx.term()
        broker.stop()
    return {"sent": sent, "answered": answered, "broker_alive": alive,
            "rss_growth_mb": None if growth is None else round(growth, 1)}


# ---------------------------------------------------------------------- clients that never read

def never_reading(workdir: Path, seconds: float = 5.0, **broker_fields) -> dict:
    """Four clients flood junk and never read: is the broker alive and answering? RSS growth?"""
    broker = start_broker(workdir=workdir, **broker_fields)
    ctx = zmq.Context()
    socks = []
    try:
        for _ in range(4):
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVHWM, 1)
            s.setsockopt(zmq.RCVBUF, 4096)
            s.connect(broker.command_endpoint)
            socks.append(s)
        probe = RawClient(ctx, broker.command_endpoint, "intake", "probe")
        probe.call(p.Hello)
        before = rss_mb(broker.pid)
        junk = b"\xc1" * 32  # never valid MessagePack: a bad-request answer each
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for s in socks:
                for _ in range(64):
                    try:
                        s.send(junk, zmq.NOBLOCK)
                    except zmq.Again:
                        break
            time.sleep(0.001)
        try:
            probe.call(p.Hello, timeout_s=30)  # the broker has read everything sent so far
            probe_answered = True
        except Exception:
            probe_answered = False
        alive = broker.proc.poll() is None
        growth = rss_mb(broker.pid) - before if alive else None
        probe.close()
    finally:
        for s in socks:
            s.close(0)
        ctx.term()
        broker.stop()
    return {"broker_alive": alive, "probe_answered": probe_answered,
            "rss_growth_mb": None if growth is None else round(growth, 1)}


# ---------------------------------------------------------------------- a frozen subscriber

#: the frozen subscriber's kernel receive buffer: loopback TCP's autotuned one
#: holds megabytes, seconds of today's small coalesced frames
FROZEN_RCVBUF_BYTES = 4096
#: frozen rounds tried until the broker has had to drop frames for the subscriber
MAX_FROZEN_ROUNDS = 5


class FrozenSubscriber(BrokerClient):
    """A BrokerClient whose own receive queues are tiny.

    ``BrokerClient`` lets its SUB queue 100,000 frames, which a frozen client
    takes minutes to fill, so the broker's ``pub_hwm`` is never reached in a
    run's time. Shrinking the client's queue (libzmq applies a changed HWM to
    live pipes) and its socket's kernel buffer (``FROZEN_RCVBUF_BYTES``, set
    on the context so it applies before connecting) makes the broker's PUB
    queue the one that overflows, as it would for a console frozen long enough.
    """

    def __init__(self, *args, **kwargs):
        self._own_ctx = zmq.Context()
        self._own_ctx.setsockopt(zmq.RCVBUF, FROZEN_RCVBUF_BYTES)
        super().__init__(*args, context=self._own_ctx, **kwargs)

    def _open(self) -> None:
        super()._open()
        self.sub.setsockopt(zmq.RCVHWM, 10)

    def stop(self, timeout_s: float = 5.0) -> None:
        super().stop(timeout_s)
        if self._thread is None or not self._thread.is_alive():  # its sockets are closed
            self._own_ctx.term()


def _grab_n(endpoint: str, agents: list[str], n: int, submitted, taken, out) -> None:
    """Saturate: every agent keeps one grab in flight until ``n`` verdicts; put the wall time."""
    ctx = zmq.Context()
    poller = zmq.Poller()
    socks = {}
    for agent in agents:
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        poller.register(s, zmq.POLLIN)
        socks[s] = agent
    pick = arbitration.TargetPicker(submitted, taken, random.Random(os.getpid()))
    counter = [0]
    tag = f"{os.getpid()}-{time.monotonic_ns()}"  # grab ids are idempotency keys: never reuse one

    def send(s) -> bool:
        i = pick()
        if i is None:
            return False
        counter[0] += 1
        gid = f"{tag}-{counter[0]}"
        s.send(command(p.Grab, "agent", socks[s], gid, grab_id=gid, inquiry=f"q{i}"))
        return True

    t0 = time.perf_counter()
    done = 0
    idle = [s for s in socks if not send(s)]
    deadline = time.monotonic() + 120
    while done < n and time.monotonic() < deadline:
        for s in list(idle):
            if send(s):
                idle.remove(s)
        for s, _ in poller.poll(5):
            while s.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                reply = p.decode_reply(s.recv())
                if not isinstance(reply, p.Verdict):
                    continue  # a resolve's answer
                done += 1
                if reply.outcome == "won":
                    s.send(command(p.Resolve, "agent", socks[s], "r" + reply.grab_id, inquiry=reply.inquiry))
                if not send(s):
                    idle.append(s)
    out.put(time.perf_counter() - t0 if done >= n else None)
    for s in socks:
        s.close(0)
    ctx.term()


def _normalized(mirror: Mirror) -> tuple:
    # last_seen moves with every message and ``day`` rolls silently: neither is worth an event
    agents = {k: msgspec.structs.replace(a, last_seen=0.0, day="") for k, a in mirror.agents.items()}
    return mirror.shops, mirror.groups, agents, mirror.inquiries


def frozen_subscriber(workdir: Path, grabs_per_run: int = 12_000, agents: int = 20) -> dict:
    """Time saturated grab runs with and without a frozen subscriber (best of a few each);
    then check the resumed subscriber re-synced and equals the broker's state."""
    broker = start_broker(workdir=workdir, synchronous="NORMAL", pub_hwm=50, grab_rate_per_s=1e6)
    zctx = zmq.Context()
    admin = RawClient(zctx, broker.command_endpoint, "admin", "bench")
    floor_agents = define_floor(admin, agents, quotas=FLOOR_QUOTAS)
    admin.close()
    zctx.term()  # no live context across fork
    mctx = mp.get_context("fork")
    submitted, taken, stop = mctx.Value("q", 0), mctx.Value("q", 0), mctx.Event()
    # the intake keeps 20,000 inquiries queued: heavy publishing besides the grabs' own events
    intake = mctx.Process(target=arbitration._intake, args=(broker.command_endpoint, submitted, taken, stop, None))
    intake.start()
    client = None
    try:
        _wait(lambda: submitted.value >= 10_000, 30, "the intake did not fill the pool")

        def timed(n: int = grabs_per_run) -> float:
            out = mctx.Queue()
            worker = mctx.Process(target=_grab_n, args=(broker.command_endpoint, floor_agents, n, submitted,
                                                        taken, out))
            worker.start()
            elapsed = out.get(timeout=150)
            worker.join(10)
            if elapsed is None:
                raise RuntimeError("the grabs were not all answered")
            return elapsed

        timed(grabs_per_run // 3)  # warm-up
        valve = threading.Event()  # set: the subscriber reads; clear: it is frozen
        valve.set()
        mirror = Mirror()

        def on_events(events):
            valve.wait(120)  # a frozen console's thread hangs here, its socket unread
            mirror.apply(events)

        client = FrozenSubscriber(broker.command_endpoint, broker.events_endpoint, "supervisor", "frozen",
                                  on_reset=mirror.reset, on_events=on_events).start()
        if not client.wait_live(10):
            raise RuntimeError(f"the subscriber never got live: {client.status}")
        gapped_rounds = 0

        def frozen_runs(count: int) -> list[float]:
            nonlocal gapped_rounds
            gaps = client.status.gaps
            valve.clear()
            times = [timed() for _ in range(count)]
            valve.set()
            # resumed: it reads what was queued, sees the sequence gap the drops left, re-syncs
            try:
                _wait(lambda: client.status.gaps > gaps and client.status.state == "live", 10, "")
                gapped_rounds += 1
            except RuntimeError:
                pass  # nothing was dropped this time (or the re-sync failed: resyncs says)
            return times

        plain = [timed()]
        with_frozen = frozen_runs(2)
        plain.append(timed())
        rounds = 1
        while not gapped_rounds and rounds < MAX_FROZEN_ROUNDS:
            rounds += 1
            with_frozen += frozen_runs(1)
        # a noisy machine (another process taking a core for a moment) can slow any one
        # run; the best of a few runs of each is what the frozen subscriber costs
        for _ in range(EXTRA_ROUNDS_ON_NOISE):
            if min(with_frozen) <= NOISE_MARGIN * min(plain):
                break
            with_frozen += frozen_runs(1)
            plain.append(timed())

        # quiet the floor, then the resumed mirror must equal the broker's own state
        stop.set()
        intake.join(15)
        zctx = zmq.Context()
        reader = RawClient(zctx, broker.command_endpoint, "admin", "bench")
        try:
            def consistent() -> bool:
                records, end = reader.call(p.Snapshot)
                truth = Mirror()
                truth.reset(records, end)
                return _normalized(mirror) == _normalized(truth)

            try:
                _wait(consistent, 15, "")
                same = True
            except RuntimeError:
                same = False
        finally:
            reader.close()
            zctx.term()
        return {
            "plain_runs_s": [round(t, 3) for t in plain],
            "frozen_runs_s": [round(t, 3) for t in with_frozen],
            "slowdown": round(min(with_frozen) / min(plain), 3),
            "grabs_per_run": grabs_per_run,
            "frozen_rounds": rounds,
            "rounds_with_a_gap": gapped_rounds,
            "noticed_gap_and_resynced": gapped_rounds > 0 and client.status.resyncs >= 1,
            "resyncs": client.status.resyncs,
            "consistent_after_resume": same,
            "inquiries_mirrored": len(mirror.inquiries),
            "broker_alive": broker.proc.poll() is None,
        }
    finally:
        stop.set()
        if client is not None:
            client.stop()
        intake.join(15)
        broker.stop()


def all_scenarios(workdir: Path) -> dict:
    """Every scenario's figures, for ``grabdesk bench fuzz``."""
    return {
        "long_identifiers": long_identifiers(workdir / "long-ids", synchronous="NORMAL"),
        "never_reading": never_reading(workdir / "never-reading", synchronous="NORMAL"),
        "frozen_subscriber": frozen_subscriber(workdir / "frozen"),
    }
