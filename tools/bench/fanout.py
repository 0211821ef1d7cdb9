"""``grabdesk bench fanout``: events delivered to 1,000 agents and 10 consoles.

A real broker process publishes a steady event load (inquiries arriving,
grabbed, resolved, plus the agent's load: four events each, on the
``inquiry`` and ``agent`` streams). Subscribers in worker processes: agents subscribe to ``inquiry``
and ``agent``, consoles to every stream. Each subscriber follows the
sequence chain from frame headers (``prev``, ``last``) and records the ranges
it received and the gaps it detected (a ``prev`` it had not reached, or a
heartbeat announcing a seq it had not seen).

Afterwards the broker's journal is the truth: every journaled event on a
subscriber's streams, after it joined, must be in a frame it received or in
a gap it detected. ``undetected_loss`` counts those that are neither; it must
be 0. The broker coalesces events into one frame per stream per publish
interval: one machine cannot deliver each event to 1,000 sockets one by one
(README, Performance: traps, has the figures).
"""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
import tempfile
import time
from bisect import bisect_right
from pathlib import Path

import msgspec
import zmq

from broker.wire import protocol as p
from tools.bench.harness import RawClient, command, define_floor, running_broker
from grabdesk.cli import positive_int

#: queued, grabbed, resolved, and the agent's load (one per agent per batch: each tick's grab and
#: resolve of an inquiry reach the broker together, and no agent gets two inquiries in one tick)
EVENTS_PER_INQUIRY = 4
AGENT_STREAMS = ("inquiry", "agent")
WARMUP_S = 2.0
#: after the load stops, subscribers get this long to read what is queued for them
DRAIN_S = 30.0
#: a subscriber process with no frame for this long has read everything
QUIET_S = 2.0


def add_arguments(parser) -> None:
    parser.add_argument("--agents", type=int, default=1000, help="subscribing agents (default 1000)")
    parser.add_argument("--consoles", type=int, default=10, help="subscribing consoles (default 10)")
    parser.add_argument("--events-per-s", type=float, default=5000.0, help="offered event rate")
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--processes", type=positive_int, default=2, help="subscriber processes")


def _subscribe(endpoint: str, specs: list[tuple[str, tuple[str, ...]]], ready, stop, results,
               last_frame_at) -> None:
    """Run subscribers; report per subscriber its received ranges and detected gaps."""
    ctx = zmq.Context()
    poller = zmq.Poller()
    subs = {}
    for name, streams in specs:
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.RCVHWM, 100_000)
        s.setsockopt(zmq.LINGER, 0)
        for stream in streams:
            s.setsockopt(zmq.SUBSCRIBE, p.topic_of(stream))
        s.setsockopt(zmq.SUBSCRIBE, p.HEARTBEAT_TOPIC)
        s.connect(endpoint)
        poller.register(s, zmq.POLLIN)
        # per stream: last seq followed (None until the first frame), ranges, gaps
        subs[s] = {"name": name, "streams": streams, "last": {}, "ranges": {st: [] for st in streams},
                   "gaps": {st: [] for st in streams}, "frames": 0, "events": 0}
    header = p.decode_frame_header
    decode_hb = p.decode_heartbeat
    EVENTS, POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)
    ready.set()
    while not stop.is_set():
        polled = poller.poll(50)
        if polled:
            last_frame_at.value = time.monotonic()
        for sock, _ in polled:
            st = subs[sock]
            last = st["last"]
            while sock.getsockopt(EVENTS) & POLLIN:
                topic, body = sock.recv_multipart()
                if topic == p.HEARTBEAT_TOPIC:
                    hb = decode_hb(body)
                    for stream in st["streams"]:
                        seen = last.get(stream)
                        announced = hb.streams.get(stream, 0)
                        if seen is not None and announced > seen:
                            st["gaps"][stream].append((seen, announced))
                            last[stream] = announced
                    continue
                frame = header(body)
                seen = last.get(frame.stream)
                if seen is not None and frame.prev > seen:
                    st["gaps"][frame.stream].append((seen, frame.prev))
                if seen is None or frame.last > seen:
                    st["ranges"][frame.stream].append((frame.prev, frame.last))
                    last[frame.stream] = frame.last
                st["frames"] += 1
    for st in subs.values():
        results.put({k: st[k] for k in ("name", "streams", "ranges", "gaps", "frames")})
    for s in subs:
        s.close(0)
    ctx.term()


def _drive(endpoint: str, agent_ids: list[str], inquiries_per_s: float, stop, counts) -> None:
    """Submit inquiries and have agents grab and resolve them: four events each.

    Pipelined: each tick submits a batch and grabs and resolves the batch of the
    tick before (decided by then), and never waits for a reply; replies are read
    as they come so nothing piles up.
    """
    ctx = zmq.Context()
    intake = ctx.socket(zmq.DEALER)
    dealer = ctx.socket(zmq.DEALER)
    poller = zmq.Poller()
    for sock in (intake, dealer):
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(endpoint)
        poller.register(sock, zmq.POLLIN)
    n = 0
    previous: list[str] = []
    tick_s = 0.02
    per_tick = max(1, int(inquiries_per_s * tick_s))
    next_tick = time.perf_counter()
    while not stop.is_set():
        batch = [f"f{n + i}" for i in range(per_tick)]
        intake.send(command(p.Submit, "intake", "fanout-intake", f"s{n}",
                            inquiries=[p.NewInquiry(id=i, shop="s1", skill="pre_sales") for i in batch]))
        for k, inquiry in enumerate(previous):
            agent = agent_ids[k % len(agent_ids)]
            dealer.send(command(p.Grab, "agent", agent, f"g{inquiry}", grab_id=f"g{inquiry}", inquiry=inquiry))
            dealer.send(command(p.Resolve, "agent", agent, f"r{inquiry}", inquiry=inquiry))
        previous = batch
        n += per_tick
        next_tick += tick_s
        while True:  # read replies until the next tick is due
            delay = next_tick - time.perf_counter()
            if delay <= 0:
                break
            for sock, _ in poller.poll(max(1, int(delay * 1000))):
                while sock.poll(0):
                    sock.recv()
    counts.put(n)
    intake.close(0)
    dealer.close(0)
    ctx.term()


def _journal_seqs(workdir: Path) -> dict[str, list[int]]:
    """Every journaled event's seq per stream: the truth the subscribers are checked against."""
    db = sqlite3.connect(workdir / "broker.db")
    dec = msgspec.msgpack.Decoder(list[_SeqKind])
    out: dict[str, list[int]] = {}
    for (blob,) in db.execute("SELECT events FROM journal ORDER BY id"):
        for e in dec.decode(blob):
            out.setdefault(e.kind.split(".", 1)[0], []).append(e.seq)
    db.close()
    return out


class _SeqKind(msgspec.Struct):
    seq: int
    kind: str


def _count_in(seqs: list[int], low: int, high: int) -> int:
    """Events with low < seq <= high."""
    return bisect_right(seqs, high) - bisect_right(seqs, low)


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-fanout-"))
    specs = [(f"agent{i}", AGENT_STREAMS) for i in range(args.agents)] + \
            [(f"console{i}", p.STREAMS) for i in range(args.consoles)]
    ctx = mp.get_context("fork")
    # one driver socket speaks for 50 agents, so it may have more requests in flight than one client
    with running_broker(workdir=workdir, synchronous="NORMAL", grab_rate_per_s=1_000_000.0,
                        max_pending_per_client=1000) as broker:
        zctx = zmq.Context()
        admin = RawClient(zctx, broker.command_endpoint, "admin", "bench")
        agent_ids = define_floor(admin, 50)
        admin.close()
        zctx.term()
        stop_subs, stop_drive = ctx.Event(), ctx.Event()
        results, counts = ctx.Queue(), ctx.Queue()
        readies, workers, activity = [], [], []
        for i in range(args.processes):
            ready = ctx.Event()
            last_frame_at = ctx.Value("d", time.monotonic())
            activity.append(last_frame_at)
            w = ctx.Process(target=_subscribe, args=(broker.events_endpoint, specs[i::args.processes], ready,
                                                     stop_subs, results, last_frame_at))
            w.start()
            readies.append(ready)
            workers.append(w)
        for ready in readies:
            ready.wait(60)
        time.sleep(WARMUP_S)  # let 1,010 SUB connections finish their handshakes
        driver = ctx.Process(target=_drive, args=(broker.command_endpoint, agent_ids,
                                                  args.events_per_s / EVENTS_PER_INQUIRY, stop_drive, counts))
        t0 = time.perf_counter()
        driver.start()
        time.sleep(args.duration_s)
        stop_drive.set()
        inquiries = counts.get(timeout=60)
        elapsed = time.perf_counter() - t0
        driver.join(10)
        # let every subscriber read what is queued for it (and a last heartbeat)
        drain_deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < drain_deadline:
            time.sleep(0.5)
            if all(time.monotonic() - a.value > QUIET_S for a in activity):
                break
        stop_subs.set()
        reports = [results.get(timeout=120) for _ in specs]
        for w in workers:
            w.join(30)
    truth = _journal_seqs(workdir)
    delivered = gaps = undetected = unseen_tail = 0
    for rep in reports:
        for stream in rep["streams"]:
            seqs = truth.get(stream, [])
            ranges, detected = rep["ranges"][stream], rep["gaps"][stream]
            if not ranges:
                continue
            start = ranges[0][0]
            # how far this subscriber got: its last frame, or a gap it knows it has
            position = max([hi for _lo, hi in ranges] + [hi for _lo, hi in detected])
            got = sum(_count_in(seqs, lo, hi) for lo, hi in ranges)
            missed = _count_in(seqs, start, position) - got
            covered = sum(_count_in(seqs, lo, hi) for lo, hi in detected)
            delivered += got
            gaps += len(detected)
            undetected += max(0, missed - covered)
            # events after its position were not lost, only not read before the run ended
            unseen_tail += _count_in(seqs, position, seqs[-1] if seqs else position)
    events = sum(len(v) for k, v in truth.items() if k in AGENT_STREAMS)
    return {
        "events_per_s": round(events / elapsed),
        "offered_events_per_s": args.events_per_s,
        "subscribers": len(specs),
        "delivered": delivered,
        "deliveries_per_s": round(delivered / elapsed),
        "gaps_detected": gaps,
        "undetected_loss": undetected,
        "not_yet_read_at_end": unseen_tail,
        "inquiries": inquiries,
        "duration_s": round(elapsed, 2),
        "ok": undetected == 0,
    }
