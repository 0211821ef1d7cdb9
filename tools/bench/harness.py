"""Pieces every broker benchmark shares: a broker process, a floor, raw clients.

Benchmarks run the real broker as its own process (``python -m grabdesk
broker``) on a temporary store, so the load generator never shares its GIL.
Load is generated with raw DEALER sockets and msgspec, not ``BrokerClient``:
the full client's thread and futures would cost more than the broker's
decision and hide what is measured.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import zmq

from broker.wire import protocol as p
from tools.bench.race_results import percentile as race_percentile

#: how long a broker gets to start answering, and to stop
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    """The shared benchmark percentile (race_results.percentile); NaN when there are no values."""
    value = race_percentile(values, pct)
    return float("nan") if value is None else value


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _stat_cpu_seconds(stat_path: str) -> float:
    """User+system CPU seconds from a /proc .../stat file."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a whole process, to report broker CPU per grab."""
    return _stat_cpu_seconds(f"/proc/{pid}/stat")


def server_cpu_seconds(*, comm: str | None = None, pid: int | None = None) -> float | None:
    """CPU seconds of a local server: every process named ``comm`` (PostgreSQL's postmaster
    and backends), or the process ``pid`` and its children (the broker and its
    materializer), each with its reaped children's times (a backend that exits moves its
    CPU to the postmaster's). None when no such process is visible."""
    total = 0
    found = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        this, parent = int(stat.parent.name), int(fields[1])
        if (comm is not None and name == comm) or (pid is not None and pid in (this, parent)):
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds per thread of a process, keyed "name/tid" (libzmq names its I/O threads)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            out[f"{name}/{tid}"] = _stat_cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue  # the thread ended meanwhile
    return out


def command(cls, role: str, who: str, msg_id: str, **fields) -> bytes:
    return p.encode(cls(v=p.PROTOCOL_VERSION, id=msg_id, role=role, who=who, **fields))


_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)
_NOBLOCK = int(zmq.NOBLOCK)


class SocketSet:
    """Many sockets waited on with epoll: what one load process drives 100 agents with.

    ``zmq.Poller`` looks at every registered socket on every call (64 µs for 100
    sockets on this machine, more than the broker spends deciding a grab), which
    would measure the load generator rather than the broker; epoll reports only
    the ready ones. ZeroMQ's FD signals a change of state, not a message: it
    fires only for a socket whose reader has found it empty since the last
    signal, and any send may consume a signal. So ``drain`` reads a socket until
    ZMQ_EVENTS says it is empty, and a socket sent on outside ``drain`` is
    drained right after the send. ``register`` reads ZMQ_EVENTS once, which
    arms the signal, and refuses a socket that already has a message waiting,
    since nothing would ever signal that message.
    """

    def __init__(self, sockets=()):
        self._epoll = select.epoll()
        self._by_fd: dict[int, zmq.Socket] = {}
        for sock in sockets:
            self.register(sock)

    def register(self, sock: zmq.Socket) -> None:
        fd = sock.getsockopt(zmq.FD)
        self._by_fd[fd] = sock
        self._epoll.register(fd, select.EPOLLIN)
        if sock.get(_EVENTS) & _POLLIN:
            raise ValueError("register a socket before anything arrives on it")

    def poll(self, timeout_ms: float) -> list[zmq.Socket]:
        """Sockets whose state changed within ``timeout_ms``: drain each."""
        by_fd = self._by_fd
        return [by_fd[fd] for fd, _ in self._epoll.poll(timeout_ms / 1000.0)]

    @staticmethod
    def drain(sock: zmq.Socket, on_message) -> None:
        """Call ``on_message(sock, data)`` for every message waiting, including any that
        arrive while handling (``on_message`` may send on ``sock``)."""
        get, recv = sock.get, sock.recv
        while get(_EVENTS) & _POLLIN:
            on_message(sock, recv(_NOBLOCK))

    def close(self) -> None:
        self._epoll.close()


class RawClient:
    """A blocking DEALER for set-up steps (define, submit, snapshot)."""

    def __init__(self, ctx: zmq.Context, endpoint: str, role: str, who: str, curve=None):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            self.sock.curve_serverkey, self.sock.curve_publickey, self.sock.curve_secretkey = curve
        self.sock.connect(endpoint)
        self.role, self.who = role, who
        self._n = 0

    def call(self, cls, timeout_s: float = 30.0, **fields):
        self._n += 1
        msg_id = f"{self.who}-{self._n}"
        self.sock.send(command(cls, self.role, self.who, msg_id, **fields))
        parts = []
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.sock.poll(int(remaining * 1000) + 1):
                raise TimeoutError(f"no reply to {cls.__name__} within {timeout_s} s")
            reply = p.decode_reply(self.sock.recv())
            if reply.re != msg_id:
                continue
            if isinstance(reply, p.SnapshotPart):
                parts.extend(reply.records)
                continue
            if isinstance(reply, p.SnapshotEnd):
                return parts, reply
            if isinstance(reply, p.Error):
                raise RuntimeError(f"{cls.__name__} refused: {reply.code.value}: {reply.reason}")
            return reply

    def close(self) -> None:
        self.sock.close(linger=0)


@dataclass
class BrokerProcess:
    proc: subprocess.Popen
    command_endpoint: str
    events_endpoint: str
    workdir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def write_config(path: Path, **broker_fields) -> Path:
    lines = ["[broker]"]
    for key, value in broker_fields.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def start_broker(workdir: Path | None = None, ctx: zmq.Context | None = None, curve_client=None,
                 **broker_fields) -> BrokerProcess:
    """Start ``grabdesk broker`` as a process on free loopback ports; wait until it answers."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="grabdesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cmd_ep = f"tcp://127.0.0.1:{free_port()}"
    ev_ep = f"tcp://127.0.0.1:{free_port()}"
    fields = dict(command_endpoint=cmd_ep, events_endpoint=ev_ep, db=str(workdir / "broker.db"),
                  agent_timeout_s=3600.0, offline_grace_s=3600.0)
    fields.update(broker_fields)
    cmd_ep, ev_ep = fields["command_endpoint"], fields["events_endpoint"]
    config = write_config(workdir / "broker.toml", **fields)
    log_path = workdir / "broker.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "grabdesk", "broker", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    broker = BrokerProcess(proc, cmd_ep, ev_ep, workdir, log_path)
    own = ctx is None
    ctx = ctx or zmq.Context()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"broker exited with {proc.returncode}; log: {log_path}\n"
                                   + log_path.read_text()[-2000:])
            client = RawClient(ctx, cmd_ep, "admin", "bench", curve=curve_client)
            try:
                client.call(p.Hello, timeout_s=1.0)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    broker.stop()
                    raise RuntimeError(f"broker did not answer within {START_TIMEOUT_S} s; log: {log_path}")
            finally:
                client.close()
    finally:
        if own:
            ctx.term()
    return broker


def agent_ids(n: int, prefix: str = "a") -> list[str]:
    """The ids ``define_floor`` gives ``n`` agents; curve_setup enrols keys for the same ids."""
    return [f"{prefix}{i:04d}" for i in range(n)]


def define_floor(client: RawClient, agents: int, skill: str = "pre_sales", shop: str = "s1",
                 prefix: str = "a", quotas: p.Quotas | None = None) -> list[str]:
    """One shop, one group, ``agents`` online gold-tier agents with generous quotas."""
    client.call(p.DefineShop, shop=p.ShopRecord(id=shop))
    client.call(p.DefineGroup, group=p.GroupRecord(id=skill, quotas=quotas or p.Quotas(
        concurrent_cap=20, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)))
    ids = agent_ids(agents, prefix)
    for start in range(0, agents, 200):
        client.call(p.DefineAgents, agents=[p.AgentSpec(id=a, group=skill, skills={skill: 3}, quality=95.0)
                                            for a in ids[start:start + 200]])
    for agent in ids:
        client.call(p.SetStatus, status="online", agent=agent)
    return ids


@contextlib.contextmanager
def running_broker(**kwargs):
    broker = start_broker(**kwargs)
    try:
        yield broker
    finally:
        broker.stop()


class LoopWatch:
    """Follows the broker's floor metrics on a thread, to read the loop's longest turn.

    Each ``metrics.floor`` event carries ``loop_max_turn_ms``: the longest turn
    of the broker's loop since the previous metrics (about a second). The watch
    files each with the moment it arrived, so a phase's longest stall is the
    largest figure that arrived within it.
    """

    def __init__(self, events_endpoint: str):
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.SUBSCRIBE, p.topic_of("metrics"))
        self._sock.connect(events_endpoint)
        #: (time.monotonic() when received, loop_max_turn_ms, loop_max_turn_cpu_ms, loop_max_periodic_cpu_ms)
        self.samples: list[tuple[float, float, float, float]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._follow, name="loop-watch", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        sock = self._sock
        while not self._stop:
            if not sock.poll(100):
                continue
            _topic, body = sock.recv_multipart()
            frame = p.decode_event_frame(body)
            at = time.monotonic()
            for event in frame.events:
                if isinstance(event.record, p.FloorMetrics):
                    m = event.record
                    self.samples.append((at, m.loop_max_turn_ms, m.loop_max_turn_cpu_ms, m.loop_max_periodic_cpu_ms))

    def longest_ms(self, since: float, until: float, what: str = "turn") -> float | None:
        """The longest ``what`` ("turn": wall time, "cpu": a turn's CPU time, "periodic":
        the CPU time of periodic work in a turn) reported by the metrics that arrived within [since, until];
        None if none did."""
        column = {"turn": 1, "cpu": 2, "periodic": 3}[what]
        values = [s[column] for s in self.samples if since <= s[0] <= until]
        return max(values) if values else None

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self._sock.close(0)
        self._ctx.term()
