"""Issue 7, hostile traffic: a broker process under 100,000 malformed and hostile
frames while real agents grab; a frozen subscriber; and known holes, pinned.

Brokers here are separate processes (``harness.start_broker``) so their RSS
is their own and a crash cannot take the test runner with it.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import threading
import time

import msgspec
import pytest
import zmq

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.mirror import Mirror
from tools.bench import arbitration, fuzz
from tools.bench.harness import RawClient, command, define_floor, rss_mb, start_broker

from conftest import wait_until

#: fuzz categories that kill or bloat the broker today; each is pinned by an xfail test below.
#: When one is fixed its xfail test passes (strict: the suite says so): remove it here too.
KNOWN_BROKER_BUGS: tuple[str, ...] = ()
RSS_BOUND_MB = 30.0
#: more timed rounds of each kind when the first ones disagree by more than the margin
EXTRA_ROUNDS_ON_NOISE = 3
FLOOR_QUOTAS = p.Quotas(concurrent_cap=20, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)


@pytest.fixture
def broker_process(tmp_path):
    started = []

    def start(**fields):
        fields.setdefault("synchronous", "NORMAL")
        b = start_broker(workdir=tmp_path / f"broker{len(started)}", **fields)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


# --------------------------------------------------------------------------- the fuzzer

def test_100k_hostile_frames_while_real_agents_grab(tmp_path):
    result = fuzz.fuzz(frames=100_000, agents=10, agent_rate=10.0, fuzzers=2, curve=True,
                       exclude=KNOWN_BROKER_BUGS, workdir=tmp_path / "fuzz")
    summary = {k: result[k] for k in ("frames_sent", "broker_alive", "agent_grabs_ok", "agent_grabs_failed",
                                      "agent_grabs_ok_during_fuzz", "rss_growth_mb", "broker_rss_samples_mb",
                                      "unanswered_frames", "error_replies_by_code", "agent_failures_by_code")}
    assert result["frames_sent"] >= 100_000, summary
    assert result["broker_alive"], (summary, result.get("broker_log_tail"))
    assert result["agent_grabs_ok_during_fuzz"] > 0, summary
    assert result["agent_grabs_failed"] == 0, summary
    assert result["rss_growth_mb"] < RSS_BOUND_MB, summary
    assert result["unanswered_frames"] == 0, summary
    codes = result["error_replies_by_code"]
    for code in ("bad-request", "unsupported-version", "too-large", "forbidden", "unauthenticated",
                 "rate-limited", "too-many-pending"):
        assert codes.get(code, 0) > 0, (code, codes)
    assert "internal" not in codes, codes
    sent, dropped = map(int, result["beyond_cap_dropped"].split("/"))
    assert sent > 0 and dropped == sent, result["beyond_cap_dropped"]
    sent, refused = map(int, result["unenrolled_refused"].split("/"))
    assert sent > 0 and refused == sent, result["unenrolled_refused"]
    assert result["ok"]


# --------------------------------------------------------------------------- a frozen subscriber

class FrozenSubscriber(BrokerClient):
    """A BrokerClient whose own receive queue is tiny.

    ``BrokerClient`` lets its SUB queue 100,000 frames, which a frozen client
    takes minutes to fill, so the broker's ``pub_hwm`` is never reached in a
    test's time. Shrinking the client's queue (libzmq applies a changed HWM to
    live pipes) makes the broker's PUB queue the one that overflows, as it
    would for a console frozen long enough.
    """

    def _open(self) -> None:
        super()._open()
        self.sub.setsockopt(zmq.RCVHWM, 10)


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


@pytest.mark.slow
def test_frozen_subscriber_neither_slows_arbitration_nor_stays_inconsistent(broker_process):
    broker = broker_process(pub_hwm=50, grab_rate_per_s=1e6)
    zctx = zmq.Context()
    admin = RawClient(zctx, broker.command_endpoint, "admin", "bench")
    agents = define_floor(admin, 20, quotas=FLOOR_QUOTAS)
    admin.close()
    zctx.term()
    mctx = mp.get_context("fork")
    submitted, taken, stop = mctx.Value("q", 0), mctx.Value("q", 0), mctx.Event()
    # the intake keeps 20,000 inquiries queued: heavy publishing besides the grabs' own events
    intake = mctx.Process(target=arbitration._intake, args=(broker.command_endpoint, submitted, taken, stop, None))
    intake.start()
    client = None
    try:
        wait_until(lambda: submitted.value >= 10_000, 30, 0.02, "the intake did not fill the pool")

        def timed(n: int = 12_000) -> float:
            out = mctx.Queue()
            worker = mctx.Process(target=_grab_n, args=(broker.command_endpoint, agents, n, submitted, taken, out))
            worker.start()
            elapsed = out.get(timeout=150)
            worker.join(10)
            assert elapsed is not None, "the grabs were not all answered"
            return elapsed

        timed(4_000)  # warm-up
        valve = threading.Event()  # set: the subscriber reads; clear: it is frozen
        valve.set()
        mirror = Mirror()

        def on_events(events):
            valve.wait(120)  # a frozen console's thread hangs here, its socket unread
            mirror.apply(events)

        client = FrozenSubscriber(broker.command_endpoint, broker.events_endpoint, "supervisor", "frozen",
                                  on_reset=mirror.reset, on_events=on_events).start()
        assert client.wait_live(10), client.status

        def frozen_runs(count: int) -> list[float]:
            gaps = client.status.gaps
            valve.clear()
            times = [timed() for _ in range(count)]
            valve.set()
            # resumed: it reads what was queued, sees the sequence gap the drops left, re-syncs
            wait_until(lambda: client.status.gaps > gaps and client.status.state == "live", 20, 0.02,
                       f"the resumed subscriber never noticed its gap and re-synced: {client.status}")
            return times

        plain = [timed()]
        with_frozen = frozen_runs(2)
        plain.append(timed())
        # a noisy machine (another process taking a core for a moment) can slow any one
        # run; the best of a few runs of each is what the frozen subscriber costs
        for _ in range(EXTRA_ROUNDS_ON_NOISE):
            if min(with_frozen) <= 1.10 * min(plain):
                break
            with_frozen += frozen_runs(1)
            plain.append(timed())
        ratio = min(with_frozen) / min(plain)
        assert ratio <= 1.10, f"with a frozen subscriber: {with_frozen} s, without: {plain} s ({ratio:.2f})"
        assert client.status.resyncs >= 1

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

            wait_until(consistent, 15, 0.2, "the resumed subscriber's view differs from the broker's state")
        finally:
            reader.close()
            zctx.term()
        assert len(mirror.inquiries) > 1000
    finally:
        stop.set()
        if client is not None:
            client.stop()
        intake.join(15)


# --------------------------------------------------------------------------- holes found by fuzzing, now closed

def test_deeply_nested_frame_is_refused_and_the_broker_lives(broker_process):
    broker = broker_process()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(broker.command_endpoint)
    try:
        frame = msgspec.msgpack.encode({"type": "hello", "v": 1, "id": "deep", "role": "intake", "who": "x",
                                        "zzz": None})
        sock.send(frame[:-1] + b"\x91" * 5_000 + b"\xc0")  # 5 KB: "zzz" is 5,000 nested arrays
        deadline = time.monotonic() + 5
        while not sock.poll(50) and broker.proc.poll() is None and time.monotonic() < deadline:
            pass
        reply = p.decode_reply(sock.recv()) if sock.poll(0) else None
        assert broker.proc.poll() is None, "the broker died of one frame"
        assert isinstance(reply, p.Error) and reply.code == p.ErrorCode.BAD_REQUEST
    finally:
        sock.close(0)
        ctx.term()


def test_long_identifiers_within_the_rate_limit_do_not_grow_broker_memory(broker_process):
    broker = broker_process()
    ctx = zmq.Context()
    admin = RawClient(ctx, broker.command_endpoint, "admin", "bench")
    define_floor(admin, 1, quotas=FLOOR_QUOTAS)
    admin.close()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(broker.command_endpoint)
    try:
        sock.send(command(p.Hello, "agent", "a0000", "warm"))
        assert sock.poll(5_000)
        sock.recv()
        before = rss_mb(broker.pid)
        big = "x" * 100_000
        n = in_flight = 0
        end = time.monotonic() + 3.0
        while time.monotonic() < end or in_flight:
            while in_flight < 16 and time.monotonic() < end:
                n += 1
                gid = f"{n}-{big}"
                sock.send(command(p.Grab, "agent", "a0000", f"m{n}", grab_id=gid, inquiry=gid))
                in_flight += 1
            if sock.poll(100):
                while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    sock.recv()
                    in_flight -= 1
            elif time.monotonic() > end + 10:
                break
        growth = rss_mb(broker.pid) - before
        assert broker.proc.poll() is None
        assert growth < RSS_BOUND_MB, f"{growth:.0f} MB for 3 s of grabs within the rate limit"
    finally:
        sock.close(0)
        ctx.term()


def test_a_client_that_never_reads_cannot_balloon_broker_memory(broker_process):
    broker = broker_process()
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
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            for s in socks:
                for _ in range(64):
                    try:
                        s.send(junk, zmq.NOBLOCK)
                    except zmq.Again:
                        break
            time.sleep(0.001)
        probe.call(p.Hello, timeout_s=30)  # the broker has read everything sent so far
        growth = rss_mb(broker.pid) - before
        probe.close()
        assert broker.proc.poll() is None
        assert growth < RSS_BOUND_MB, f"{growth:.0f} MB queued for four clients that never read"
    finally:
        for s in socks:
            s.close(0)
        ctx.term()
