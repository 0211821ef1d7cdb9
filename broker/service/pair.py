"""A broker on PostgreSQL as one of an active/standby set for its shard.

Every broker of a shard runs this the same way; the shard's lease (lease.py)
decides which one is active. The sockets are bound once, at start, and kept
across roles, so clients never see a port disappear:

* **standby**: every command is answered ``not-active`` with the active
  broker's endpoints (as the lease row advertises them); the lease is tried
  every ``lease_s / RENEWALS_PER_TTL``, with a back-off while PostgreSQL is
  unreachable;
* **active**: the lease was taken (epoch + 1); a fresh ``BrokerServer`` loads
  the state from PostgreSQL and serves on the same sockets, renewing the lease
  from its loop. Its store's writes are fenced by the epoch (pgstore.py).

The active steps down (back to standby, state dropped, nothing of the
failed batch announced) when a renewal finds the lease moved on, when a
commit is fenced, or when PostgreSQL is lost: a lost database means no more
verdicts; once it answers again the broker takes the lease back if nobody
else did and reloads, or stays standby. A stop (SIGTERM) releases the lease
so a standby takes over at once.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Callable

import zmq

from broker.service.clock import broker_clock, parse_start, time_scale_of
from broker.service.config import FileConfig
from broker.service.lease import RENEWALS_PER_TTL, Lease, LeaseState
from broker.service.pgstore import PgStore, StoreError, StoreUnavailable, address_of, schema_for
from broker.service.server import BrokerServer, CommitFailed, bind_sockets
from broker.wire import protocol as p

log = logging.getLogger(__name__)

#: ceiling of the back-off between attempts to reach PostgreSQL
UNREACHABLE_BACKOFF_MAX_S = 2.0


class PairedBroker:
    """Runs standby and active turns until stopped. Same lifecycle surface as BrokerServer."""

    def __init__(self, config: FileConfig, clock: Callable[[], float] | None = None,
                 context: zmq.Context | None = None, authenticator=None, floor_views: bool = True):
        b = config.broker
        self.config = config
        if clock is None:  # one floor clock for every active turn (a scaled one keeps running)
            clock = broker_clock(b.time_scale, parse_start(b.start, b.day_tz) if b.start else None)
        self.clock = clock
        self.time_scale = time_scale_of(clock)
        self.shard = b.shard
        self.dsn = b.store
        self.schema = b.pg_schema or schema_for(b.shard)
        self.authenticator = authenticator
        self.floor_views = floor_views
        # PostgreSQL unreachable or a schema from a newer grabdesk: a start-up error (exit 2)
        PgStore(self.dsn, self.schema, self.shard, maintenance=None).close()
        self._own_context = context is None
        self.ctx = context or zmq.Context()
        self.router, self.pub = bind_sockets(self.ctx, b, authenticator)
        self.command_endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.events_endpoint = self.pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = Lease(self.dsn, self.schema, self.shard, self.holder, b.lease_s,
                           b.advertise_command_endpoint or self.command_endpoint,
                           b.advertise_events_endpoint or self.events_endpoint)
        #: the server of the current active turn, None while standby
        self.server: BrokerServer | None = None
        self.role = "standby"
        #: set once the sockets are bound and answering (standby or active)
        self.ready = threading.Event()
        #: set while active and serving
        self.active = threading.Event()
        self.stopped = threading.Event()
        self._stop_reason: str | None = None
        self._wake = threading.Event()
        self.takeovers = 0
        #: called with each active turn's BrokerServer before it runs (metrics, ...)
        self.on_server: list[Callable[[BrokerServer], None]] = []

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self, reason: str = "stop requested") -> None:
        """Thread- and signal-safe."""
        if self._stop_reason is None:
            self._stop_reason = reason
        server = self.server
        if server is not None:
            server.request_stop(reason)

    def install_signal_handlers(self) -> None:
        import signal

        def handler(signum, _frame):
            self.request_stop(f"signal {signal.Signals(signum).name}")
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> None:
        log.info("shard %s on %s (schema %s) as %s; commands on %s, events on %s", self.shard,
                 address_of(self.dsn), self.schema, self.holder, self.command_endpoint, self.events_endpoint)
        self.ready.set()
        try:
            while self._stop_reason is None:
                taken = self._stand_by()
                if taken is None:
                    break
                self._serve_active(*taken)
        finally:
            self.lease.close()
            self.router.close(linger=500)
            self.pub.close(linger=500)
            if self.authenticator is not None:
                self.authenticator.stop()
            if self._own_context:
                self.ctx.term()
            self.stopped.set()

    # ------------------------------------------------------------------ standby

    def _stand_by(self) -> tuple[int, float] | None:
        """Answer ``not-active`` until the lease is ours: (its epoch, when the take was sent),
        or None when asked to stop."""
        self.role = "standby"
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        interval_s = self.config.broker.lease_s / RENEWALS_PER_TTL
        backoff_s = interval_s
        next_try = 0.0
        seen: LeaseState | None = None
        unreachable_logged = False
        while self._stop_reason is None:
            now = time.monotonic()
            if now >= next_try:
                try:
                    sent = time.monotonic()
                    epoch = self.lease.try_take()
                    if epoch is not None:
                        return epoch, sent
                    state = self.lease.read()
                    if seen is None or (state.holder, state.epoch) != (seen.holder, seen.epoch):
                        log.warning("standby for shard %s: %s is active (epoch %d, commands on %s); taking "
                                    "over if its lease (%.1f s) is not renewed", self.shard, state.holder,
                                    state.epoch, state.command_endpoint or "?", self.config.broker.lease_s)
                    seen = state
                    backoff_s = interval_s
                    unreachable_logged = False
                except StoreUnavailable as exc:
                    if not unreachable_logged:
                        log.error("standby for shard %s: %s; retrying with back-off up to %g s", self.shard,
                                  exc, UNREACHABLE_BACKOFF_MAX_S)
                        unreachable_logged = True
                    backoff_s = min(backoff_s * 2, UNREACHABLE_BACKOFF_MAX_S)
                    seen = None
                next_try = time.monotonic() + backoff_s
            if poller.poll(max(1, int(1000 * min(0.05, max(0.0, next_try - time.monotonic()))))):
                self._refuse_waiting(seen)
        return None

    def _refuse_waiting(self, active: LeaseState | None) -> None:
        """Answer every waiting command with ``not-active`` and where to go instead."""
        if active is not None and active.command_endpoint and not active.expired:
            reason = f"not active, try {active.command_endpoint}"
            detail = {"shard": self.shard, "active": active.command_endpoint,
                      "active_events": active.events_endpoint, "epoch": active.epoch}
        else:
            reason = f"not active; shard {self.shard} has no active broker right now, try again shortly"
            detail = {"shard": self.shard, "active": None, "active_events": None,
                      "epoch": active.epoch if active is not None else None}
        while True:
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            ident, body = frames[0], frames[-1]
            try:
                re = p.decode_command(body).id
            except Exception:  # anything undecodable still learns where to go
                re = ""
            try:
                self.router.send_multipart([ident, p.encode(p.Error(
                    re=re, code=p.ErrorCode.NOT_ACTIVE, reason=reason, detail=detail))], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass  # the client left or its queue is full; it will ask again

    # ------------------------------------------------------------------ active

    def _serve_active(self, epoch: int, taken_mono: float) -> None:
        b = self.config.broker
        self.takeovers += 1
        log.warning("taking over shard %s at epoch %d (lease %.1f s): loading the state from %s", self.shard,
                    epoch, b.lease_s, address_of(self.dsn))
        try:
            store = PgStore(self.dsn, self.schema, self.shard, maintenance=b.materializer)
        except StoreError as exc:
            log.error("shard %s: cannot open the store after taking the lease: %s; standing by", self.shard, exc)
            return
        store.epoch = epoch
        server = BrokerServer(self.config, self.clock, store=store, context=self.ctx,
                              authenticator=self.authenticator, floor_views=self.floor_views,
                              sockets=(self.router, self.pub))
        # clients compare epochs for equality only; the lease epoch first makes a takeover readable in logs
        server.service.epoch = f"{epoch}-{server.service.epoch}"
        server.service.shard = self.shard
        server.service.active_since = time.time()
        # the lease was taken just now; the database dates its expiry no earlier than this
        last_renewed = [taken_mono]

        def renew(_now: float) -> None:
            sent = time.monotonic()
            try:
                if not self.lease.renew():
                    log.error("shard %s: the lease moved on from epoch %d (another broker took over)",
                              self.shard, epoch)
                    server.abandon("lease lost")
                    return
                last_renewed[0] = sent
            except StoreUnavailable as exc:
                if time.monotonic() - last_renewed[0] >= b.lease_s:
                    log.error("shard %s: %s; the lease cannot be renewed", self.shard, exc)
                    server.abandon("PostgreSQL lost")

        server.periodic.append([b.lease_s / RENEWALS_PER_TTL, renew])
        # Our own count of the lease runs out before the database's (it starts before each
        # renewal is sent), so a broker frozen past its lease says nothing when it wakes,
        # not even events it committed before: the new active has those.
        server.may_announce = lambda: time.monotonic() - last_renewed[0] < b.lease_s
        for hook in self.on_server:
            hook(server)
        self.server = server
        if self._stop_reason is not None:
            server.request_stop(self._stop_reason)
        self.role = "active"
        loading = threading.Thread(target=self._while_loading, args=(server, renew), name="pair-loading",
                                   daemon=True)
        loading.start()
        try:
            server.run()
        except CommitFailed as exc:
            log.error("shard %s: stepping down after a failed commit (%s); nothing of that batch was "
                      "announced", self.shard, exc)
        except Exception:
            log.exception("shard %s: the active turn failed; standing by", self.shard)
        else:
            if server.store_failed:  # the lease ran out or moved on between commits
                log.error("shard %s: stepping down (%s); nothing more was announced", self.shard,
                          server.stop_reason)
        finally:
            self.active.clear()
            self.server = None
            self.role = "standby"
        if self._stop_reason is not None and not server.store_failed:
            self.lease.release()
            log.info("shard %s: lease released for a standby to take over at once", self.shard)
        else:
            self.lease.epoch = None

    def _while_loading(self, server: BrokerServer, renew: Callable[[float], None]) -> None:
        """Renew the lease while the state loads (a big floor takes seconds), then mark us active."""
        interval_s = self.config.broker.lease_s / RENEWALS_PER_TTL
        while not server.ready.wait(interval_s):
            renew(0.0)
        if not server.stopped.is_set():
            self.active.set()
