"""The client side of the grabdesk protocol, shared by every client.

``BrokerClient`` owns a DEALER (commands) and a SUB (events) socket on its
own I/O thread, so neither a GUI nor a simulator ever blocks on the network.
It follows the ZeroMQ guide's Clone pattern:

1. subscribe to the chosen streams, then ask for a snapshot;
2. buffer events while the snapshot streams in;
3. hand the snapshot to ``on_reset``, then the buffered events that are newer;
4. follow events; a frame whose ``prev`` is not the last seq seen on that
   stream, a heartbeat announcing a seq not seen, or a new broker ``epoch``
   means something was missed: ask for a snapshot again (re-sync);
5. nothing heard for ``LIVENESS_S``: close, back off, reconnect, re-sync.

Failover: the endpoints may be lists (or comma-separated strings), one
command/events pair per broker of an active/standby set. A standby answers
``not-active`` naming the active broker; the client goes there (or to the
next pair when the active is unknown or the connection is lost), re-syncs,
and re-sends the grabs and queries it had in flight with their ids
(``RETRIED_ON_FAILOVER``): a grab's ``grab_id`` makes that safe. Other
commands in flight when a connection is lost fail with ``ConnectionError``
(their outcome is unknown); a command a standby refused was never run, so
it is re-sent whatever its kind.

Callbacks (``on_reset``, ``on_events``, ``on_status``) run on the I/O
thread; a Qt adapter re-emits them as signals onto the GUI thread. Commands
go in from any thread with ``request`` and come back as futures.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Iterable

import msgspec
import zmq

from broker.wire import protocol as p
from broker.wire.floorclock import FloorClock

log = logging.getLogger(__name__)

#: the client says it is alive this often
HEARTBEAT_S = 1.0
#: nothing from the broker for this long means the connection is lost
LIVENESS_S = 3.5
#: reconnect back-off: starts here, doubles, stops doubling at the ceiling
BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 8.0
#: event frames a client queues before libzmq drops (coalesced frames: seconds of events)
SUB_RCVHWM = 1_000
#: event frames read per I/O loop turn before replies and outgoing commands get a turn
MAX_FRAMES_PER_TURN = 64
#: a command unanswered this long fails with TimeoutError
REQUEST_TIMEOUT_S = 5.0
SNAPSHOT_TIMEOUT_S = 60.0
#: commands re-sent after a lost connection: idempotent by their ids, or reads
RETRIED_ON_FAILOVER = (p.Grab, p.QueryGrabs, p.QueryAudit, p.QueryStats)


def split_endpoints(endpoints: str | Iterable[str]) -> list[str]:
    """``"tcp://a:5570,tcp://b:5570"`` or a list -> the endpoints, in order, without blanks."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    return [e.strip() for e in items if e and e.strip()]


def pair_endpoints(command: str | Iterable[str], events: str | Iterable[str]) -> list[tuple[str, str]]:
    """Command and events endpoints paired broker by broker; ValueError if the lists differ in length."""
    commands, events_ = split_endpoints(command), split_endpoints(events)
    if not commands or len(commands) != len(events_):
        raise ValueError(f"give one events endpoint per command endpoint ({len(commands)} command, "
                         f"{len(events_)} events)")
    return list(zip(commands, events_))


class BrokerRefused(Exception):
    """The broker answered with an error reply."""

    def __init__(self, error: p.Error):
        super().__init__(f"{error.code.value}: {error.reason}")
        self.error = error
        self.code = error.code
        self.reason = error.reason
        #: the sentence's key and parameters (broker/wire/reasons.py), to say it in the user's language
        self.key = error.key
        self.params = error.params


@dataclass
class ConnectionStatus:
    #: "connecting", "syncing", "live", "lost", "stopped"
    state: str
    #: wall-clock time the state began
    since: float
    detail: str = ""
    gaps: int = 0
    resyncs: int = 0
    epoch: str = ""
    #: the command endpoint of the broker this status is about
    endpoint: str = ""
    #: times the client moved to another broker of its list
    failovers: int = 0
    #: wall-clock time of the last move to another broker (0: never)
    failover_at: float = 0.0
    #: from the broker's welcome: its shard, and since when it is the active one (a takeover)
    shard: str = ""
    active_since: float | None = None


@dataclass
class CurveKeys:
    """Key material for CurveZMQ (z85-encoded, as written by ``grabdesk keys``)."""

    server_public: bytes
    public: bytes
    secret: bytes


@dataclass
class _Pending:
    future: Future
    deadline: float
    parts: list = field(default_factory=list)
    #: the command, when the caller waits for it (re-sent on failover if it may be)
    cmd: p.Command | None = None


class BrokerClient:
    def __init__(self, command_endpoint: str | Iterable[str], events_endpoint: str | Iterable[str],
                 role: str, who: str, *,
                 streams: Iterable[str] | None = None,
                 on_reset: Callable[[list[p.Record], p.SnapshotEnd], None] | None = None,
                 on_events: Callable[[list[p.Event]], None] | None = None,
                 on_status: Callable[[ConnectionStatus], None] | None = None,
                 curve: CurveKeys | None = None, name: str = "",
                 context: zmq.Context | None = None, follow: bool = True,
                 liveness_s: float = LIVENESS_S, heartbeat_s: float = HEARTBEAT_S):
        #: (command, events) per broker; the client talks to one at a time
        self.endpoints = pair_endpoints(command_endpoint, events_endpoint)
        self._current = 0
        self.command_endpoint, self.events_endpoint = self.endpoints[0]
        #: commands to re-send on the next connection: (cmd, future, deadline)
        self._carried: list[tuple[p.Command, Future, float]] = []
        #: command endpoint -> when its connection last dropped (see _fail_over)
        self._dropped_at: dict[str, float] = {}
        self.role = role
        self.who = who
        self.streams = list(streams) if streams is not None else list(p.STREAMS)
        self.follow = follow
        self.on_reset = on_reset
        self.on_events = on_events
        self.on_status = on_status
        self.curve = curve
        self.name = name or f"{role}:{who}"
        self.liveness_s = liveness_s
        self.heartbeat_s = heartbeat_s
        self._ctx = context or zmq.Context.instance()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]
        self._wake_addr = f"inproc://grabdesk-client-{self._prefix}"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.status = ConnectionStatus("connecting", time.time(), endpoint=self.command_endpoint)
        #: the broker's clock, followed from its welcome, snapshots and heartbeats
        self.floor_clock = FloorClock()
        self._wake_send: zmq.Socket | None = None
        self._wake_lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    def start(self) -> "BrokerClient":
        self._wake_recv = self._ctx.socket(zmq.PAIR)
        self._wake_recv.bind(self._wake_addr)
        self._wake_send = self._ctx.socket(zmq.PAIR)
        self._wake_send.connect(self._wake_addr)
        self._thread = threading.Thread(target=self._run, name=f"client-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._wake_send is not None:
            with self._wake_lock:
                self._wake_send.close(linger=0)
                self._wake_send = None

    def command(self, cls: type[p.Command], **fields) -> p.Command:
        """Build a command with this client's envelope."""
        return cls(v=p.PROTOCOL_VERSION, id=f"{self._prefix}-{next(self._ids)}", role=self.role,  # type: ignore[arg-type]
                   who=self.who, **fields)

    def request(self, cls: type[p.Command] | p.Command, timeout_s: float | None = None, **fields) -> Future:
        """Send a command from any thread; the future resolves to its reply.

        An error reply resolves the future with ``BrokerRefused``; no reply in
        time with ``TimeoutError``; a lost connection with ``ConnectionError``.
        """
        cmd = cls if isinstance(cls, p.Command) else self.command(cls, **fields)
        if timeout_s is None:
            timeout_s = SNAPSHOT_TIMEOUT_S if isinstance(cmd, p.Snapshot) else REQUEST_TIMEOUT_S
        future: Future = Future()
        self._outbox.put((cmd, future, timeout_s))
        self._wake()
        return future

    def call(self, cls: type[p.Command], timeout_s: float | None = None, **fields):
        """Blocking ``request`` for scripts and tests: the reply, or raise."""
        future = self.request(cls, timeout_s, **fields)
        return future.result((timeout_s or REQUEST_TIMEOUT_S) + 1.0)

    def floor_now(self) -> float:
        """The floor's time: the broker's clock as last heard, run on at its pace."""
        return self.floor_clock.now()

    def wait_live(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.status.state == "live":
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------ I/O thread

    def _wake(self) -> None:
        with self._wake_lock:
            if self._wake_send is not None:
                try:
                    self._wake_send.send(b"", zmq.NOBLOCK)
                except zmq.Again:
                    pass  # already woken

    def _set_status(self, state: str, detail: str = "") -> None:
        st = self.status
        if state != st.state or detail != st.detail:
            self.status = ConnectionStatus(state, time.time() if state != st.state else st.since,
                                           detail, st.gaps, st.resyncs, st.epoch, self.command_endpoint,
                                           st.failovers, st.failover_at, st.shard, st.active_since)
            if self.on_status is not None:
                self.on_status(self.status)

    def _open(self) -> None:
        self.dealer = self._ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        self.dealer.setsockopt(zmq.RCVHWM, 0)  # never drop our own replies (snapshots are long)
        self.sub = self._ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        # Small on purpose: a frozen client reaches the broker's drop point soon, then
        # sees the gap and re-syncs, instead of buffering minutes of events in memory.
        self.sub.setsockopt(zmq.RCVHWM, SUB_RCVHWM)
        for sock in (self.dealer, self.sub):
            if self.curve is not None:
                sock.curve_serverkey = self.curve.server_public
                sock.curve_publickey = self.curve.public
                sock.curve_secretkey = self.curve.secret
        if self.follow:
            for stream in self.streams:
                self.sub.setsockopt(zmq.SUBSCRIBE, p.topic_of(stream))
        self.sub.setsockopt(zmq.SUBSCRIBE, p.HEARTBEAT_TOPIC)
        self.monitor = None
        watched = 0
        if self.curve is not None:
            # the only way to learn that the broker refused our key is the handshake event
            watched |= zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL \
                | zmq.EVENT_HANDSHAKE_SUCCEEDED
        if len(self.endpoints) > 1:
            # with somewhere else to go, a dropped or refused connection (a broker killed) is
            # reason enough to move on; silence (a frozen broker) still waits for the liveness limit
            watched |= zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
        self._disconnected = False
        if watched:
            self.monitor = self.dealer.get_monitor_socket(watched)
        self.dealer.connect(self.command_endpoint)
        self.sub.connect(self.events_endpoint)

    def _close(self) -> None:
        if getattr(self, "monitor", None) is not None:
            self.dealer.disable_monitor()
            self.monitor.close(linger=0)
            self.monitor = None
        for name in ("dealer", "sub"):
            sock = getattr(self, name, None)
            if sock is not None:
                sock.close(linger=0)
                setattr(self, name, None)

    def _run(self) -> None:
        backoff = BACKOFF_START_S
        try:
            while not self._stopping.is_set():
                self._open()
                outcome = self._session()
                self._close()
                if outcome == "stopped":
                    break
                if self._was_live:
                    backoff = BACKOFF_START_S  # a good session ends the back-off
                self._carry_in_flight(ConnectionError(f"connection to {self.command_endpoint} lost"))
                self._set_status("lost", outcome)
                if self._disconnected:
                    self._dropped_at[self.command_endpoint] = time.monotonic()
                moved = self._fail_over()
                if moved and self._redirected:
                    waited = 0.0  # a standby named the active broker: go there at once
                elif self._not_active is not None:
                    # a standby answered, so the network is fine: a takeover is under way; ask again soon
                    waited = BACKOFF_START_S
                else:
                    waited = backoff
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                if self._stopping.wait(waited):
                    break
                self._set_status("connecting", f"retrying after {waited:g} s" if waited else
                                 f"following the active broker to {self.command_endpoint}")
        except Exception:
            log.exception("client %s I/O thread failed", self.name)
            self._set_status("lost", "client error; see the log")
        finally:
            self._close()
            self._fail_in_flight(ConnectionError("client stopped"))
            for _cmd, future, _deadline in self._carried:
                if not future.done():
                    future.set_exception(ConnectionError("client stopped"))
            self._carried = []
            self._drain_outbox(ConnectionError("client stopped"))
            self._wake_recv.close(linger=0)
            self._set_status("stopped")

    def _session(self) -> str:
        """One connection's life. Returns "stopped" or why it was lost."""
        self._in_flight: dict[str, _Pending] = {}
        self._snapshot_id: str | None = None
        self._buffer: list[p.EventFrame] = []
        self._last_seen: dict[str, int] = {}
        self._epoch = ""
        #: the epoch of the broker at the other end, whether or not this client follows events
        self._broker_epoch = ""
        self._was_live = False
        self._snapshot_retry_at: float | None = None
        #: set when a standby answered not-active: (command, events) of the active, or None
        self._not_active: tuple[str, str] | None = None
        self._redirected = False
        poller = zmq.Poller()
        poller.register(self.dealer, zmq.POLLIN)
        poller.register(self.sub, zmq.POLLIN)
        poller.register(self._wake_recv, zmq.POLLIN)
        if self.monitor is not None:
            poller.register(self.monitor, zmq.POLLIN)
        self._set_status("connecting", self.command_endpoint)
        self._send(self.command(p.Hello, client=self.name), None, REQUEST_TIMEOUT_S)
        if self.follow:
            self._resync(first=True)
        carried, self._carried = self._carried, []
        for cmd, future, deadline in carried:
            if not future.done():
                self._send(cmd, future, max(0.0, deadline - time.monotonic()))
        last_heard = last_beat = time.monotonic()
        while not self._stopping.is_set():
            now = time.monotonic()
            # read each turn: the welcome may shorten the period (_beat_period)
            next_beat = last_beat + self._beat_period()
            timeout_ms = max(1, int(1000 * min(next_beat - now, 0.25)))
            events = dict(poller.poll(timeout_ms))
            if self._wake_recv in events:
                while True:
                    try:
                        self._wake_recv.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
            if self.monitor is not None and self.monitor in events:
                self._read_monitor()
            self._drain_outbox()
            if self.dealer in events:
                last_heard = time.monotonic()
                self._read_replies()
            if self.sub in events:
                last_heard = time.monotonic()
                self._read_events()
            now = time.monotonic()
            if now >= next_beat:
                last_beat = now
                self._send(self.command(p.Heartbeat), None, REQUEST_TIMEOUT_S)
            self._expire(now)
            if self._snapshot_retry_at is not None and now >= self._snapshot_retry_at:
                self._snapshot_retry_at = None
                self._resync()
            if self._not_active is not None:
                return "not the active broker"
            if self._disconnected:
                return f"{self.command_endpoint} dropped the connection"
            liveness_s = self._liveness()
            if now - last_heard > liveness_s:
                return f"no word from the broker for {liveness_s:g} s"
        return "stopped"

    def _read_monitor(self) -> None:
        from zmq.utils.monitor import recv_monitor_message

        while self.monitor.poll(0):
            event = recv_monitor_message(self.monitor)["event"]
            if event in (zmq.EVENT_DISCONNECTED, zmq.EVENT_CONNECT_RETRIED):
                self._disconnected = True
            elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self._set_status(self.status.state, "the broker refused this key (not enrolled, or revoked)")
            elif event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                self._set_status(self.status.state, "security handshake failed (wrong broker key?)")

    def _beat_period(self) -> float:
        """Seconds between our heartbeats: ours, or often enough that the broker hears
        from us three times within its ``agent_timeout_s``, whichever is shorter."""
        welcome = getattr(self, "welcome", None)
        if welcome is None or not welcome.agent_timeout_s:
            return self.heartbeat_s
        return min(self.heartbeat_s, welcome.agent_timeout_s / 3.0)

    def _liveness(self) -> float:
        """Silence that means the broker is gone: ours, or 3.5 of its heartbeats if slower."""
        welcome = getattr(self, "welcome", None)
        return max(self.liveness_s, 3.5 * welcome.heartbeat_s) if welcome is not None else self.liveness_s

    def _carry_in_flight(self, error: Exception) -> None:
        """At the end of a session: keep what may be re-sent on the next one, fail the rest."""
        in_flight, self._in_flight = getattr(self, "_in_flight", {}), {}
        for pending in in_flight.values():
            if pending.future.done():
                continue
            if pending.cmd is not None and isinstance(pending.cmd, RETRIED_ON_FAILOVER) \
                    and len(self.endpoints) > 1:
                self._carried.append((pending.cmd, pending.future, pending.deadline))
            else:
                pending.future.set_exception(error)

    def _fail_over(self) -> bool:
        """Choose the broker for the next session; True if it is another one than this session's."""
        before = self._current
        self._redirected = False
        target = self._not_active
        dropped_at = self._dropped_at.get(target[0], -LIVENESS_S) if target is not None else -LIVENESS_S
        if target is not None and target[0] and time.monotonic() - dropped_at < LIVENESS_S:
            # a standby still names the broker whose connection just dropped (its lease has not
            # run out yet): stay with the standby, which is about to take over
            pass
        elif target is not None and target[0]:
            commands = [c for c, _e in self.endpoints]
            if target[0] in commands:
                self._current = commands.index(target[0])
            else:  # the active broker advertises an endpoint we were not given: trust the set
                self.endpoints.append(target)
                self._current = len(self.endpoints) - 1
            self._redirected = self._current != before
        elif len(self.endpoints) > 1:
            self._current = (self._current + 1) % len(self.endpoints)
        self.command_endpoint, self.events_endpoint = self.endpoints[self._current]
        if self._current == before:
            return False
        self.status.failovers += 1
        self.status.failover_at = time.time()
        log.info("client %s: moving to %s", self.name, self.command_endpoint)
        return True

    def _send(self, cmd: p.Command, future: Future | None, timeout_s: float) -> None:
        pending = _Pending(future if future is not None else Future(), time.monotonic() + timeout_s,
                           cmd=cmd if future is not None else None)
        try:
            self.dealer.send(p.encode(cmd), zmq.NOBLOCK)
        except zmq.Again:
            # no connection to queue on: the broker is down or refused our key
            why = self.status.detail or f"not connected to {self.command_endpoint}"
            if not pending.future.done():
                pending.future.set_exception(ConnectionError(why))
            if isinstance(cmd, p.Snapshot):
                self._snapshot_id = None
                self._snapshot_retry_at = time.monotonic() + BACKOFF_START_S * 4
            return
        self._in_flight[cmd.id] = pending

    def _drain_outbox(self, error: Exception | None = None) -> None:
        while True:
            try:
                cmd, future, timeout_s = self._outbox.get_nowait()
            except queue.Empty:
                return
            if error is not None:
                future.set_exception(error)
                continue
            try:
                self._send(cmd, future, timeout_s)
            except zmq.ZMQError as exc:
                self._in_flight.pop(cmd.id, None)
                future.set_exception(ConnectionError(str(exc)))

    def _fail_in_flight(self, error: Exception) -> None:
        for pending in getattr(self, "_in_flight", {}).values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._in_flight = {}

    def _expire(self, now: float) -> None:
        expired = [mid for mid, pend in self._in_flight.items() if pend.deadline <= now]
        for mid in expired:
            pending = self._in_flight.pop(mid)
            if not pending.future.done():
                pending.future.set_exception(TimeoutError(f"no reply to {mid} in time"))
            if mid == self._snapshot_id:
                self._snapshot_id = None
                self._resync()

    def _read_replies(self) -> None:
        while True:
            try:
                data = self.dealer.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                reply = p.decode_reply(data)
            except msgspec.MsgspecError as exc:
                log.warning("client %s: undecodable reply: %s", self.name, exc)
                continue
            pending = self._in_flight.get(reply.re)
            if pending is None:
                continue  # a reply to something we stopped waiting for
            if isinstance(reply, p.SnapshotPart):
                pending.parts.extend(reply.records)
                pending.deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
                continue
            del self._in_flight[reply.re]
            if isinstance(reply, p.Error) and reply.code == p.ErrorCode.NOT_ACTIVE:
                self._on_not_active(reply, pending)
                continue
            if reply.re == self._snapshot_id and isinstance(reply, p.SnapshotEnd):
                self._snapshot_id = None
                self._install(pending.parts, reply)
                continue
            if reply.re == self._snapshot_id:
                # the snapshot itself was refused (e.g. our key is not enrolled yet): say so, retry later
                self._snapshot_id = None
                log.warning("client %s: snapshot refused: %s", self.name, reply)
                self._set_status("syncing", f"refused: {getattr(reply, 'reason', 'snapshot refused')}")
                self._snapshot_retry_at = time.monotonic() + BACKOFF_MAX_S
                continue
            if isinstance(reply, p.Error):
                if reply.code in (p.ErrorCode.UNAUTHENTICATED, p.ErrorCode.FORBIDDEN) \
                        and self.status.state in ("connecting", "syncing"):
                    self._set_status(self.status.state, f"refused: {reply.reason}")
                pending.future.set_exception(BrokerRefused(reply))
            else:
                if isinstance(reply, p.Welcome):
                    self.welcome = reply
                    self.floor_clock.sync(reply.now, reply.time_scale)
                    self._note_epoch(reply.epoch)
                    if not self.follow:
                        self._was_live = True  # welcomed is as good as it gets without a snapshot
                    if (reply.shard, reply.active_since) != (self.status.shard, self.status.active_since):
                        self.status = dataclasses.replace(self.status, shard=reply.shard,
                                                          active_since=reply.active_since)
                        if self.on_status is not None:
                            self.on_status(self.status)
                pending.future.set_result(reply)

    def _on_not_active(self, reply: p.Error, pending: _Pending) -> None:
        """A standby answered: the command was not run; send it again to the active broker."""
        active, events = reply.detail.get("active"), reply.detail.get("active_events")
        self._not_active = (str(active), str(events or "")) if active and events else ("", "")
        if pending.cmd is not None and not pending.future.done():
            self._carried.append((pending.cmd, pending.future, pending.deadline))
        self._set_status(self.status.state, reply.reason)

    def _resync(self, first: bool = False) -> None:
        if not first:
            self.status.resyncs += 1
        self._buffer = []
        cmd = self.command(p.Snapshot, streams=self.streams)
        self._snapshot_id = cmd.id
        self._set_status("syncing", "" if first else "re-syncing after a gap")
        self._send(cmd, None, SNAPSHOT_TIMEOUT_S)

    def _install(self, records: list[p.Record], end: p.SnapshotEnd) -> None:
        self.floor_clock.sync(end.now, end.time_scale)
        self._epoch = end.epoch
        self.status.epoch = end.epoch
        self._last_seen = {s: end.streams.get(s, 0) for s in self.streams}
        if self.on_reset is not None:
            self.on_reset(records, end)
        buffered, self._buffer = self._buffer, []
        self._was_live = True
        self._set_status("live")
        for frame in buffered:
            if not self._follow(frame):
                return

    def _read_events(self) -> None:
        """Read a bounded number of frames, so replies and sends are not starved."""
        sub = self.sub
        for _ in range(MAX_FRAMES_PER_TURN):
            try:
                topic, body = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except ValueError:
                continue  # not a two-frame message: not from a grabdesk broker
            try:
                if topic == p.HEARTBEAT_TOPIC:
                    self._on_heartbeat(p.decode_heartbeat(body))
                    continue
                frame = p.decode_event_frame(body)
            except msgspec.MsgspecError as exc:
                log.warning("client %s: undecodable event frame: %s", self.name, exc)
                continue
            if self._snapshot_id is not None:
                self._buffer.append(frame)
            elif self.status.state == "live":
                self._follow(frame)

    def _follow(self, frame: p.EventFrame) -> bool:
        """Apply one frame under the sequence rules; False if it forced a re-sync."""
        if frame.epoch != self._epoch:
            self._gap(f"broker restarted (epoch {frame.epoch})")
            return False
        if not frame.events:
            return True
        seen = self._last_seen.get(frame.stream, 0)
        last = frame.events[-1].seq
        if last <= seen:
            return True  # already in the snapshot
        if frame.prev > seen:
            self._gap(f"missed {frame.stream} events {seen + 1}..{frame.prev}")
            return False
        fresh = frame.events if frame.prev == seen else [e for e in frame.events if e.seq > seen]
        self._last_seen[frame.stream] = last
        if self.on_events is not None:
            self.on_events(fresh)
        return True

    def _on_heartbeat(self, hb: p.BrokerHeartbeat) -> None:
        self.floor_clock.sync(hb.at, hb.time_scale)
        self._note_epoch(hb.epoch)
        if self._snapshot_id is not None or not self.follow:
            return
        if self.status.state != "live":
            return
        if hb.epoch != self._epoch:
            self._gap(f"broker restarted (epoch {hb.epoch})")
            return
        for stream in self.streams:
            announced = hb.streams.get(stream, 0)
            if announced > self._last_seen.get(stream, 0):
                self._gap(f"heartbeat announces {stream} seq {announced}, last seen "
                          f"{self._last_seen.get(stream, 0)}")
                return

    def _note_epoch(self, epoch: str) -> None:
        """A new broker epoch on the same connection (a broker of a pair became active again):
        what it had not answered before may have died with its old state, so re-send the
        grabs and queries in flight with their ids; it answers each as it did, or decides it."""
        known = self._broker_epoch
        self._broker_epoch = epoch
        if not known or known == epoch:
            return
        for pending in list(self._in_flight.values()):
            if isinstance(pending.cmd, RETRIED_ON_FAILOVER) and not pending.future.done():
                try:
                    self.dealer.send(p.encode(pending.cmd), zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass  # the liveness rules end this connection; the command fails or moves on

    def _gap(self, why: str) -> None:
        self.status.gaps += 1
        log.info("client %s: %s; re-syncing", self.name, why)
        self._resync()


def new_grab_id() -> str:
    """Client-chosen grab ids: unique per agent, safe to retry."""
    return uuid.uuid4().hex[:16] + format(os.getpid() & 0xFFFF, "04x")
