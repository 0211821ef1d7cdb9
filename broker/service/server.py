"""The broker process: one writer loop around the arbiter.

Each turn of the loop: read every command that is waiting (up to a batch),
decide them all in the core, commit the batch once, then send the batch's
replies, then publish its events. Sending after the commit is what makes a
verdict a promise (group commit): the more commands wait while one batch is
being committed, the larger the next batch, so one fsync serves more grabs
exactly when the load is high.

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
from typing import Callable

import msgspec
import zmq
import zmq.backend

from broker.wire import protocol as p
from broker.service.config import FileConfig
from broker.arbiter.core import Arbiter, CoreConfig
from broker.service.dispatch import Peer, Service, ThrottledLog
from broker.service.ports import bind_failure
from broker.service.store import Loaded, SqliteStore, default_db_path

log = logging.getLogger(__name__)

#: poll at least this often to run timers and heartbeats (ms; pyzmq wants >= 1)
MAX_POLL_MS = 50
#: most events in one published frame
MAX_EVENTS_PER_FRAME = 2_000
#: accept queue for reconnect storms (PERF-NOTES trap 2)
LISTEN_BACKLOG = 1_000
#: distinct refused keys remembered to audit each at most once a minute
REFUSED_KEYS_REMEMBERED = 10_000
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
    def __init__(self, config: FileConfig, clock: Callable[[], float] = time.time,
                 store=None, context: zmq.Context | None = None, authenticator=None,
                 floor_views: bool = True):
        self.config = config
        b = config.broker
        self.clock = clock
        core_config = CoreConfig(default_quotas=config.quotas, tiers=list(config.tiers),
                                 default_sla=config.sla, agent_timeout_s=b.agent_timeout_s,
                                 offline_grace_s=b.offline_grace_s, day_tz=b.day_tz)
        self.core = Arbiter(core_config, clock=clock)
        self.db_path = Path(b.db).expanduser() if b.db else default_db_path()
        self.store = store if store is not None else SqliteStore(self.db_path, synchronous=b.synchronous,
                                                                 maintenance=b.materializer)
        self.service = Service(self.core, self.store, max_command_bytes=b.max_command_bytes,
                               heartbeat_s=b.heartbeat_s, on_shutdown=self.request_stop,
                               grab_rate_per_s=b.grab_rate_per_s)
        self._own_context = context is None
        self.ctx = context or zmq.Context()
        self.authenticator = authenticator
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self._stop_reason: str | None = None
        self.command_endpoint = ""
        self.events_endpoint = ""
        #: periodic jobs run on the loop: (interval_s, fn(now)); metrics and coverage add theirs
        self.periodic: list[list] = []
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
                       loaded.stream_last, loaded.recent_grabs, loaded.closed)
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
        log.info("store %s: %d shops, %d agents, %d open inquiries, seq %d", self.db_path,
                 len(self.core.shops), len(self.core.agents), len(self.core.inquiries), self.core.seq)
        # what was loaded goes to the hooks, not onto self: the closed inquiries in it
        # are tens of MB the core has copied already
        for hook in self.on_loaded:
            hook(self, loaded)

    def _bind(self) -> None:
        b = self.config.broker
        self.router = self.ctx.socket(zmq.ROUTER)
        self.pub = self.ctx.socket(zmq.PUB)
        for sock in (self.router, self.pub):
            sock.setsockopt(zmq.LINGER, 1000)
            sock.setsockopt(zmq.BACKLOG, LISTEN_BACKLOG)
            if self.authenticator is not None:
                self.authenticator.configure_server(sock)
        # Without ROUTER_MANDATORY a reply to a peer whose queue is full vanishes
        # silently (PERF-NOTES trap 1); with it we at least know and count it.
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.SNDHWM, ROUTER_HWM)
        self.router.setsockopt(zmq.RCVHWM, ROUTER_HWM)
        # A frozen subscriber hits this and loses frames; the sequence gap makes it re-sync.
        self.pub.setsockopt(zmq.SNDHWM, b.pub_hwm)
        # Frames up to 4x the limit are read and answered "too-large"; beyond that
        # libzmq drops the connection, so nobody can make the broker buffer gigabytes.
        self.router.setsockopt(zmq.MAXMSGSIZE, 4 * b.max_command_bytes + 4096)
        for sock, endpoint, what in ((self.router, b.command_endpoint, "commands"),
                                     (self.pub, b.events_endpoint, "events")):
            try:
                sock.bind(endpoint)
            except zmq.ZMQError as exc:
                raise BindError(bind_failure(endpoint, what, exc)) from None
        self.command_endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.events_endpoint = self.pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        log.info("commands on %s, events on %s", self.command_endpoint, self.events_endpoint)

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
            if self._serving:
                # stop reading; make what was decided durable, then answer and publish it
                self._commit_and_publish([])
                self._flush_events()
                log.info("shutting down: %s (%d loop turns, %d commit transactions, %.1f s committing, "
                         "%d commands)", reason, self.loop_turns, self.commits, self.commit_s,
                         self.service.counters["commands"])
        except Exception:
            log.exception("error while publishing the final state")
        finally:
            for hook in self.on_stop:
                try:
                    hook()
                except Exception:
                    log.exception("stop hook failed")
            for name in ("router", "pub"):
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
        figures = self.figures
        for job in self.periodic:
            job.append(0.0)  # last run
        while self._stop_reason is None:
            now_m = mono()
            due = self.core.next_timer_due()
            wait_s = min(MAX_POLL_MS / 1000.0, max(0.0, next_heartbeat - now_m))
            if self._pending_count:
                wait_s = min(wait_s, max(0.0, self._last_flush + publish_interval - now_m))
            if due is not None:
                wait_s = min(wait_s, max(0.0, due - self.clock()))
            # pyzmq rounds a timeout below 1 ms to 0 and the loop would spin (trap 3)
            timeout_ms = max(1, int(wait_s * 1000))
            replies: list[tuple[bytes, bytes]] = []
            if poller.poll(timeout_ms):
                turn_started = perf()
                self._read_batch(router, handle, replies, max_batch)
            else:
                turn_started = perf()
            self.core.tick()
            self.loop_turns += 1
            # answer first: periodic jobs (metrics take milliseconds) must not delay verdicts
            self._commit_and_publish(replies)
            if figures is not None:
                figures.replied(turn_started, perf())
            now_m = mono()
            ran_job = False
            for job in self.periodic:
                interval, fn, last = job
                if now_m - last >= interval:
                    job[2] = now_m
                    ran_job = True
                    try:
                        fn(self.clock())
                    except Exception:
                        log.exception("periodic job %s failed", getattr(fn, "__name__", fn))
            if ran_job:
                self._commit_and_publish([])  # what the jobs produced (metrics, alerts)
            if self._pending_count and (now_m - self._last_flush >= publish_interval
                                        or self._pending_count >= MAX_EVENTS_PER_FRAME):
                self._flush_events()
            if now_m >= next_heartbeat:
                next_heartbeat = now_m + heartbeat_s
                self._flush_events()
                self.pub.send_multipart([p.HEARTBEAT_TOPIC, p.encode(p.BrokerHeartbeat(
                    v=p.PROTOCOL_VERSION, epoch=self.service.epoch, at=self.clock(),
                    seq=self.core.seq, streams=dict(self._published_last)))])
            if figures is not None:
                figures.turn(turn_started, perf())

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
                log.warning("refused a connection from a key that is not enrolled (%s…)", key[:8])
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
        changes = self.core.drain()
        idents, self._batch_idents = self._batch_idents, []
        if changes:
            t0 = time.perf_counter()
            try:
                self.store.write(changes)
            except Exception as exc:
                log.critical("commit failed; nothing of this batch (%d replies) was sent: %s",
                             len(replies), exc)
                raise CommitFailed(f"the store refused a commit: {exc}") from exc
            elapsed = time.perf_counter() - t0
            self.commit_s += elapsed
            self.commits += 1
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


def serve_in_thread(config: FileConfig, clock: Callable[[], float] = time.time,
                    timeout_s: float = 10.0, **kwargs) -> tuple[BrokerServer, threading.Thread]:
    """Start a broker on a thread (tests, demo); returns once it is bound."""
    server = BrokerServer(config, clock, **kwargs)
    thread = threading.Thread(target=server.run, name="broker", daemon=True)
    thread.start()
    if not server.ready.wait(timeout_s) or server.stopped.is_set():
        raise RuntimeError("broker did not start; see the log")
    return server, thread
