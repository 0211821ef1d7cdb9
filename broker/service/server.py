"""The broker process: one writer loop around the arbiter.

Each turn of the loop: read every command that is waiting (up to a batch),
decide them all in the core, commit the batch once, then send the batch's
replies, then publish its events. Sending after the commit is what makes a
verdict a promise (group commit): the more commands wait while one batch is
being committed, the larger the next batch, so one fsync serves more grabs
exactly when the load is high.

Nothing else holds a batch's replies. Periodic work (SLA and reclaim timers,
the once-a-second agent sweep, floor metrics) runs after them, in slices
bounded to about a commit's time (``Arbiter.tick(sliced=True)``, periodic
jobs that return an iterator of slices), and what it produced is committed
with the next batch. The floor metrics report the loop's longest turn, so a
stall shows (``loop_max_turn_ms``).

The commit runs on this thread. A committer thread overlapping fsync with the
next decisions was measured slower here (p50 1.9-2.0 ms against 1.2-1.3 ms at
5,000 grabs/s, equal throughput): the two thread hand-offs per batch cost more
than the overlap gains when the other core is busy with network I/O anyway, and
SQLite releases the GIL while it waits on the disk. Slow work (materializing,
WAL checkpoints) runs in another process; the loop never sleeps on anything but
the poller and the commit.
"""
from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import msgspec
import zmq
import zmq.backend

from broker.wire import protocol as p
from broker.service.clock import broker_clock, parse_start, time_scale_of
from broker.service.config import FileConfig, robot_settings
from broker.arbiter.core import Arbiter, CoreConfig
from broker.service.dispatch import Peer, Service, ThrottledLog
from broker.service.ports import bind_failure
from broker.service.retention import retention_of
from broker.service.store import Loaded, SqliteStore, default_db_path

log = logging.getLogger(__name__)

#: poll at least this often to run timers and heartbeats (ms; pyzmq wants >= 1)
MAX_POLL_MS = 50
#: most events in one published frame
MAX_EVENTS_PER_FRAME = 2_000
#: accept queue for reconnect storms: libzmq's 100 stalled some of 200 clients
#: connecting at once for about 1 s on SYN retransmits (README, Performance: traps)
LISTEN_BACKLOG = 1_000
#: distinct refused keys remembered to audit each at most once a minute
REFUSED_KEYS_REMEMBERED = 10_000
#: a commit slower than this is logged (throttled): verdicts waited that long for the disk
SLOW_COMMIT_S = 0.1
#: Python thread switch interval inside the broker (default 5 ms)
SWITCH_INTERVAL_S = 0.0005
#: ROUTER queue per client, both ways: far above a client's allowed unanswered
#: requests (max_pending_per_client) and a whole snapshot's parts, yet small enough
#: that a client which sends and never reads cannot make the broker buffer much
ROUTER_HWM = 2_000
# pyzmq's flag enums cost microseconds per call on the hot path; use plain ints
_NOBLOCK = int(zmq.NOBLOCK)
_SNDMORE = int(zmq.SNDMORE)
#: the Cython send under pyzmq's Python wrapper, which checks for DRAFT options
#: on every call: half the cost of a reply's two frames (0.56 against 1.10 µs)
_raw_send = zmq.backend.Socket.send
_RCVMORE = int(zmq.RCVMORE)


class BindError(RuntimeError):
    """An endpoint could not be bound; the message names it and, if it can, who holds it."""


class CommitFailed(RuntimeError):
    """The store refused a batch: the broker stops rather than answer from state the disk lacks."""


class BrokerServer:
    def __init__(self, config: FileConfig, clock: Callable[[], float] | None = None,
                 store=None, context: zmq.Context | None = None, authenticator=None,
                 floor_views: bool = True, sockets: tuple[zmq.Socket, zmq.Socket] | None = None):
        """``sockets``: a (ROUTER, PUB) pair already bound by ``bind_sockets`` and owned by
        the caller (an active/standby pair keeps them across roles); else bound in ``run``."""
        self.config = config
        b = config.broker
        if clock is None:  # the configured floor clock: the wall clock unless scaled
            clock = broker_clock(b.time_scale, parse_start(b.start, b.day_tz) if b.start else None)
        self.clock = clock
        self.time_scale = time_scale_of(clock)
        # Agent liveness is transport: a client heartbeats once a real second whatever
        # the floor's pace, so its time-out and reconnect grace are real seconds too.
        core_config = CoreConfig(default_quotas=config.quotas, tiers=list(config.tiers),
                                 default_sla=config.sla, agent_timeout_s=b.agent_timeout_s * self.time_scale,
                                 offline_grace_s=b.offline_grace_s * self.time_scale, day_tz=b.day_tz,
                                 **robot_settings(b, self.time_scale))
        self.core = Arbiter(core_config, clock=clock)
        self.db_path = Path(b.db).expanduser() if b.db else default_db_path()
        self.store = store if store is not None else SqliteStore(self.db_path, synchronous=b.synchronous,
                                                                 maintenance=b.materializer,
                                                                 retention=retention_of(b))
        self.service = Service(self.core, self.store, max_command_bytes=b.max_command_bytes,
                               heartbeat_s=b.heartbeat_s, on_shutdown=self.request_stop,
                               grab_rate_per_s=b.grab_rate_per_s, time_scale=self.time_scale)
        self._own_context = context is None
        self.ctx = context or zmq.Context()
        self.authenticator = authenticator
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self._stop_reason: str | None = None
        #: set when a commit failed or was fenced: nothing more may be committed or announced
        self._store_failed = False
        #: None, or a test that this broker may still speak (an active/standby pair's lease,
        #: pair.py): checked before every reply, publish and heartbeat; False stops the broker
        self.may_announce: Callable[[], bool] | None = None
        self._sockets = sockets
        self.command_endpoint = ""
        self.events_endpoint = ""
        #: periodic jobs run on the loop: (interval_s, fn(now)); metrics and coverage add theirs
        #: (see _run_periodic: a job may return an iterator of bounded slices)
        self.periodic: list[list] = []
        #: job fn -> the iterator of its slices, while one is under way
        self._under_way: dict[Callable, Iterator[None]] = {}
        #: the loop's longest turn since the floor metrics last took it: wall time (what a
        #: waiting command sees, the disk and a busy host's scheduler included) and CPU time
        self.longest_turn_s = 0.0
        self.longest_turn_cpu_s = 0.0
        #: the CPU time the periodic work (timers, the sweep, jobs' slices) took of one turn, at most
        self.longest_periodic_cpu_s = 0.0
        self._send_log = ThrottledLog(log)
        self._published_last: dict[str, int] = {}
        self._pending: dict[str, list] = {}
        self._pending_count = 0
        self._last_flush = 0.0
        #: called once the store is loaded, with what it loaded (the saved roster, ...)
        self.on_loaded: list[Callable[["BrokerServer", Loaded], None]] = []
        #: called once the loop has stopped, before the store closes
        self.on_stop: list[Callable[[], None]] = []
        self.floor = None
        #: the operator's figures (broker/service/metrics.py), when metrics are on
        self.figures = None
        #: refused public key -> when it was last audited
        self._refused_seen: dict[str, float] = {}
        if authenticator is not None:
            self.periodic.append([1.0, self._audit_refused_connections])
            if sockets is None:  # whoever bound the sockets owns the authenticator too
                self.on_stop.append(authenticator.stop)
        if floor_views:
            from broker.service.floor import attach

            attach(self)
        #: loop turns and commit figures, logged at shutdown
        self.loop_turns = 0
        self.commits = 0
        self.commit_s = 0.0
        self._serving = False
        #: client ident -> its commands not answered yet (ROUTER would drop beyond its HWM)
        self._unanswered: dict[bytes, int] = {}
        self._batch_idents: list[bytes] = []

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self, reason: str = "stop requested") -> None:
        """Thread- and signal-safe: the loop notices within MAX_POLL_MS."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def install_signal_handlers(self) -> None:
        def handler(signum, _frame):
            self.request_stop(f"signal {signal.Signals(signum).name}")
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _load(self) -> None:
        loaded = self.store.load(self.clock())
        self.core.load(loaded.shops, loaded.groups, loaded.agents, loaded.inquiries, loaded.seq,
                       loaded.stream_last, loaded.recent_grabs, loaded.closed, loaded.transcripts)
        self._published_last = dict(self.core.stream_last)
        # Seed definitions the store does not know yet (first start, or new entries).
        for shop in self.config.shops:
            if shop.id not in self.core.shops:
                self.core.define_shop(shop, "config")
        for group in self.config.groups:
            if group.id not in self.core.groups:
                self.core.define_group(group, "config")
        new_agents = [a for a in self.config.agents if a.id not in self.core.agents]
        for spec in new_agents:
            self.core.define_agent(spec, "config")
        log.info("store %s: %d shops, %d agents, %d open inquiries, seq %d", self.store.location,
                 len(self.core.shops), len(self.core.agents), len(self.core.inquiries), self.core.seq,
                 extra={"event": "store.loaded", "agents": len(self.core.agents),
                        "open_inquiries": len(self.core.inquiries), "seq": self.core.seq})
        # what was loaded goes to the hooks, not onto self: the closed inquiries in it
        # are tens of MB the core has copied already
        for hook in self.on_loaded:
            hook(self, loaded)

    def _bind(self) -> None:
        if self._sockets is None:
            self.router, self.pub = bind_sockets(self.ctx, self.config.broker, self.authenticator)
        else:
            self.router, self.pub = self._sockets
        self.command_endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.events_endpoint = self.pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        log.info("commands on %s, events on %s", self.command_endpoint, self.events_endpoint,
                 extra={"event": "broker.listening", "command_endpoint": self.command_endpoint,
                        "events_endpoint": self.events_endpoint})

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def store_failed(self) -> bool:
        """True once a commit failed or the broker was abandoned: it commits and announces nothing more."""
        return self._store_failed

    def abandon(self, reason: str) -> None:
        """Stop without committing or announcing anything more (the lease moved on, the store is gone)."""
        self._store_failed = True
        self.request_stop(reason)

    def run(self) -> None:
        """Load, bind, serve until asked to stop, then shut down in order."""
        # Side threads (coverage, ZAP) need the GIL now and then; with the default
        # 5 ms switch interval a busy loop would make them wait that long.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            self._load()
            # What was loaded lives as long as the broker: keep it out of GC passes.
            gc.collect()
            gc.freeze()
            self._bind()
            self._serving = True
            self._commit_and_publish([])  # what seeding produced
            self.ready.set()
            self._serve()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        reason = self._stop_reason or "loop ended"
        try:
            if self._serving and not self._store_failed:
                # stop reading; make what was decided durable, then answer and publish it
                self._commit_and_publish([])
                self._flush_events()
                log.info("shutting down: %s (%d loop turns, %d commit transactions, %.1f s committing, "
                         "%d commands)", reason, self.loop_turns, self.commits, self.commit_s,
                         self.service.counters["commands"],
                         extra={"event": "broker.stopping", "reason": reason, "loop_turns": self.loop_turns,
                                "commits": self.commits, "commands": self.service.counters["commands"]})
        except Exception:
            log.exception("error while publishing the final state")
        finally:
            for hook in self.on_stop:
                try:
                    hook()
                except Exception:
                    log.exception("stop hook failed")
            for name in ("router", "pub") if self._sockets is None else ():
                sock = getattr(self, name, None)
                if sock is not None:
                    sock.close(linger=500)
            self.store.close()
            if self._own_context:
                self.ctx.term()
            self.ready.set()
            self.stopped.set()

    # ------------------------------------------------------------------ the loop

    def _serve(self) -> None:
        b = self.config.broker
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        router = self.router
        handle = self.service.handle
        max_batch = b.max_batch
        publish_interval = b.publish_interval_ms / 1000.0
        heartbeat_s = b.heartbeat_s
        next_heartbeat = 0.0
        mono = time.monotonic
        perf = time.perf_counter
        thread_time = time.thread_time
        figures = self.figures
        for job in self.periodic:
            job.append(0.0)  # last run
        while self._stop_reason is None:
            now_m = mono()
            due = self.core.next_timer_due()
            wait_s = min(MAX_POLL_MS / 1000.0, max(0.0, next_heartbeat - now_m))
            if self._pending_count:
                wait_s = min(wait_s, max(0.0, self._last_flush + publish_interval - now_m))
            if due is not None:  # a floor duration, in real seconds
                wait_s = min(wait_s, max(0.0, (due - self.clock()) / self.time_scale))
            if self._under_way or self.core.has_changes():
                wait_s = 0.0  # a job is under way, or periodic work awaits its commit
            # pyzmq rounds a timeout below 1 ms to 0 and the loop would spin (trap 3)
            timeout_ms = max(1, int(wait_s * 1000))
            replies: list[tuple[bytes, bytes]] = []
            if poller.poll(timeout_ms):
                turn_started = perf()
                turn_cpu = thread_time()
                self._read_batch(router, handle, replies, max_batch)
            else:
                turn_started = perf()
                turn_cpu = thread_time()
            self.loop_turns += 1
            # The batch's replies wait for its decisions and its commit, nothing else.
            # Periodic work (timers, the agent sweep, metrics) runs after them in bounded
            # slices, and what it produced is committed with the next batch.
            self._commit_and_publish(replies)
            if figures is not None:
                figures.replied(turn_started, perf())
            periodic_cpu = thread_time()
            self.core.tick(sliced=True)
            now_m = mono()
            self._run_periodic(now_m)
            periodic_cpu = thread_time() - periodic_cpu
            if periodic_cpu > self.longest_periodic_cpu_s:
                self.longest_periodic_cpu_s = periodic_cpu
            if self._pending_count and (now_m - self._last_flush >= publish_interval
                                        or self._pending_count >= MAX_EVENTS_PER_FRAME):
                self._flush_events()
            if now_m >= next_heartbeat:
                next_heartbeat = now_m + heartbeat_s
                self._flush_events()
                if self._store_failed:
                    continue  # the loop ends at the top without a heartbeat
                self.pub.send_multipart([p.HEARTBEAT_TOPIC, p.encode(p.BrokerHeartbeat(
                    v=p.PROTOCOL_VERSION, epoch=self.service.epoch, at=self.clock(),
                    time_scale=self.time_scale, seq=self.core.seq, streams=dict(self._published_last)))])
            turn_s = perf() - turn_started
            if turn_s > self.longest_turn_s:
                self.longest_turn_s = turn_s
            turn_cpu = thread_time() - turn_cpu
            if turn_cpu > self.longest_turn_cpu_s:
                self.longest_turn_cpu_s = turn_cpu
            if figures is not None:
                figures.turn(turn_started, perf())

    def take_longest_turn(self) -> tuple[float, float, float]:
        """The loop's longest turn since the last call, as (wall s, CPU s), and the most CPU
        its periodic work took of one turn (s); starts over."""
        longest = (self.longest_turn_s, self.longest_turn_cpu_s, self.longest_periodic_cpu_s)
        self.longest_turn_s = self.longest_turn_cpu_s = self.longest_periodic_cpu_s = 0.0
        return longest

    def _run_periodic(self, now_m: float) -> None:
        """Start each periodic job that is due; advance each one under way by one slice.

        A job is ``fn(now)``: either it does its work at once (keep that well under
        a commit's time), or it returns an iterator whose every step is one bounded
        slice, run one per loop turn so commands are read in between.
        """
        under_way = self._under_way
        for job in self.periodic:
            interval, fn, last = job
            slices = under_way.get(fn)
            if slices is None:
                if now_m - last < interval:
                    continue
                job[2] = now_m
                try:
                    slices = fn(self.clock())
                except Exception:
                    log.exception("periodic job %s failed", getattr(fn, "__name__", fn))
                    continue
                if slices is None:
                    continue
                under_way[fn] = slices
            try:
                next(slices)
            except StopIteration:
                del under_way[fn]
            except Exception:
                log.exception("periodic job %s failed", getattr(fn, "__name__", fn))
                del under_way[fn]
        if under_way:
            # a job removed while under way is dropped, so the loop does not keep waking for it
            live = {job[1] for job in self.periodic}
            for fn in [fn for fn in under_way if fn not in live]:
                del under_way[fn]

    def _audit_refused_connections(self, now: float) -> None:
        """ZAP refused these keys (on its own thread); journal them, once a minute per key."""
        seen = self._refused_seen
        while True:
            try:
                key = self.authenticator.refused.get_nowait()
            except Exception:
                return
            self.service.counters["connections_refused"] += 1
            if now - seen.get(key, 0.0) >= 60.0:
                if len(seen) >= REFUSED_KEYS_REMEMBERED:  # bounded: keys are cheap to invent
                    seen.clear()
                seen[key] = now
                log.warning("refused a connection from a key that is not enrolled (%s…)", key[:8],
                            extra={"event": "connection.refused", "key": key[:8]})
                self.core.audit("unknown", "none", "connect", key[:8] + "…",
                                "key not enrolled: connection refused", False)

    def _read_batch(self, router, handle, replies, max_batch: int) -> None:
        """Decide every command waiting, up to ``max_batch``; replies are only queued."""
        recv = router.recv
        getsockopt = router.getsockopt
        authenticator = self.authenticator
        unanswered = self._unanswered
        max_pending = self.config.broker.max_pending_per_client
        counted = self._batch_idents
        copy = authenticator is None  # Curve needs the frame object to read its User-Id
        for _ in range(max_batch):
            try:
                ident = recv(_NOBLOCK)
            except zmq.Again:
                return
            # A ROUTER always delivers [identity, at least one frame]; a DEALER sends one.
            body = recv(copy=copy)
            if getsockopt(_RCVMORE):
                extra = 1
                while getsockopt(_RCVMORE):
                    recv()
                    extra += 1
                self.service.counters["bad_requests"] += 1
                self._send_log.warning("frames", "refused a message of %d frames", extra)
                replies.append((ident, p.encode(p.Error(
                    re="", code=p.ErrorCode.BAD_REQUEST,
                    reason=f"expected one frame per command, got {extra}"))))
                continue
            waiting = unanswered.get(ident, 0)
            if waiting >= max_pending:
                self.service.counters["refused.too-many-pending"] += 1
                self._send_log.warning("pending", "a client has %d requests unanswered; refusing more",
                                       waiting)
                replies.append((ident, p.encode(p.Error(
                    re="", code=p.ErrorCode.TOO_MANY_PENDING,
                    reason=f"{waiting} requests are still unanswered; wait for replies before sending "
                           f"more (limit {max_pending})"))))
                continue
            unanswered[ident] = waiting + 1
            counted.append(ident)
            peer = None
            if authenticator is not None:
                peer = Peer(authenticated=authenticator.identity_of(body))
                body = body.bytes
            for reply in handle(body, peer):
                replies.append((ident, p.encode(reply)))

    def _commit_and_publish(self, replies: list[tuple[bytes, bytes]]) -> None:
        """Make the batch durable, then send its replies and queue its events.

        A failed commit raises: the loop stops with nothing of the batch sent,
        because its state is ahead of the disk and no client may hear of it.
        """
        if self.may_announce is not None and not self.may_announce():
            self.abandon("no longer allowed to announce")
            raise CommitFailed("this broker's lease ran out; nothing more is committed or announced")
        changes = self.core.drain()
        idents, self._batch_idents = self._batch_idents, []
        if changes:
            t0 = time.perf_counter()
            if self._store_failed:
                raise CommitFailed("an earlier commit failed; nothing more is committed")
            try:
                self.store.write(changes)
            except Exception as exc:
                self._store_failed = True
                log.critical("commit failed; nothing of this batch (%d replies) was sent: %s",
                             len(replies), exc, extra={"event": "commit.failed", "replies": len(replies)})
                raise CommitFailed(f"the store refused a commit: {exc}") from exc
            elapsed = time.perf_counter() - t0
            self.commit_s += elapsed
            self.commits += 1
            if elapsed > SLOW_COMMIT_S:
                self._send_log.warning("slow-commit", "a commit took %.0f ms (%d replies waited for it)",
                                       elapsed * 1000, len(replies), event="commit.slow",
                                       elapsed_ms=round(elapsed * 1000, 1), replies=len(replies))
            if self.figures is not None:
                self.figures.committed(changes, elapsed)
        unanswered = self._unanswered
        for ident in idents:
            left = unanswered[ident] - 1
            if left:
                unanswered[ident] = left
            else:
                del unanswered[ident]
        if replies:
            self._send_replies(replies)
        if changes:
            pending = self._pending
            for event in changes.events:
                bucket = pending.get(event.stream)
                if bucket is None:
                    bucket = pending[event.stream] = []
                bucket.append((event.seq, event.raw))
            self._pending_count += len(changes.events)

    def _send_replies(self, replies: list[tuple[bytes, bytes]]) -> None:
        router = self.router
        more = _SNDMORE | _NOBLOCK
        for ident, body in replies:
            try:
                # With ROUTER_MANDATORY an unroutable or full peer fails on the first frame.
                _raw_send(router, ident, more)
                _raw_send(router, body, _NOBLOCK)
            except zmq.Again:
                self.service.counters["replies_dropped_hwm"] += 1
                self._send_log.warning("hwm", "reply dropped: a client's queue is full")
            except zmq.ZMQError as exc:
                if exc.errno == zmq.EHOSTUNREACH:  # the client left before its answer
                    self.service.counters["replies_unroutable"] += 1
                else:
                    raise

    def _flush_events(self) -> None:
        if not self._pending_count:
            return
        if self.may_announce is not None and not self.may_announce():
            self.abandon("no longer allowed to announce")
            return
        send = self.pub.send_multipart
        epoch = self.service.epoch
        for stream, items in self._pending.items():
            for start in range(0, len(items), MAX_EVENTS_PER_FRAME):
                chunk = items[start:start + MAX_EVENTS_PER_FRAME]
                frame = p.EventFrameOut(v=p.PROTOCOL_VERSION, epoch=epoch, stream=stream,
                                        prev=self._published_last.get(stream, 0), last=chunk[-1][0],
                                        events=[msgspec.Raw(raw) for _, raw in chunk])
                send([p.topic_of(stream), p.encode(frame)])
                self._published_last[stream] = chunk[-1][0]
        self._pending.clear()
        self._pending_count = 0
        self._last_flush = time.monotonic()


def bind_sockets(ctx: zmq.Context, b, authenticator=None) -> tuple[zmq.Socket, zmq.Socket]:
    """The broker's ROUTER (commands) and PUB (events), configured and bound; BindError if not."""
    router = ctx.socket(zmq.ROUTER)
    pub = ctx.socket(zmq.PUB)
    for sock in (router, pub):
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.BACKLOG, LISTEN_BACKLOG)
        if authenticator is not None:
            authenticator.configure_server(sock)
    # Without ROUTER_MANDATORY a reply to a peer whose queue is full vanishes
    # silently; with it we at least know and count it.
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)
    router.setsockopt(zmq.SNDHWM, ROUTER_HWM)
    router.setsockopt(zmq.RCVHWM, ROUTER_HWM)
    # A frozen subscriber hits this and loses frames; the sequence gap makes it re-sync.
    pub.setsockopt(zmq.SNDHWM, b.pub_hwm)
    # Frames up to 4x the limit are read and answered "too-large"; beyond that
    # libzmq drops the connection, so nobody can make the broker buffer gigabytes.
    router.setsockopt(zmq.MAXMSGSIZE, 4 * b.max_command_bytes + 4096)
    for sock, endpoint, what in ((router, b.command_endpoint, "commands"), (pub, b.events_endpoint, "events")):
        try:
            sock.bind(endpoint)
        except zmq.ZMQError as exc:
            router.close(linger=0)
            pub.close(linger=0)
            raise BindError(bind_failure(endpoint, what, exc)) from None
    return router, pub


def serve_in_thread(config: FileConfig, clock: Callable[[], float] | None = None,
                    timeout_s: float = 10.0, **kwargs) -> tuple[BrokerServer, threading.Thread]:
    """Start a broker on a thread (tests, demo); returns once it is bound."""
    server = BrokerServer(config, clock, **kwargs)
    thread = threading.Thread(target=server.run, name="broker", daemon=True)
    thread.start()
    if not server.ready.wait(timeout_s) or server.stopped.is_set():
        raise RuntimeError("broker did not start; see the log")
    return server, thread
