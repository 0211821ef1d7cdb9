"""An active/standby pair on PostgreSQL: takeover under load, fencing, the standby's answer.

Brokers run as an operator runs them (``python -m grabdesk broker`` with
``store = "postgresql://..."``), two per shard, on one fresh schema per test
and a 1 s lease so a takeover takes about a second. Clients are given both
brokers' endpoints and follow the active one.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout

import pytest
import zmq

from broker.service.pgstore import PgStore
from broker.wire import protocol as p
from broker.wire.client import BrokerClient

from helpers import pg_dsn, wait_until
from pair_helpers import AGENTS, Pair, define_floor


def stored(schema: str):
    """Everything the shard's store holds: (inquiries by id with state and owner)."""
    store = PgStore(pg_dsn(), schema, maintenance=None)
    try:
        store.catch_up()
        rows = store.query_state("SELECT id, state, owner FROM inquiries")
        return {i: (state, owner) for i, state, owner in rows}
    finally:
        store.close()


# --------------------------------------------------------------------------- the standby

def test_the_second_broker_stands_by_and_names_the_active_one(pair):
    shard = pair()
    first = shard.start()
    shard.wait_active(first)
    second = shard.start()
    wait_until(lambda: "standby for shard main" in shard.log(second), timeout_s=20,
               message="the second broker never said it stands by")
    reply = shard.answer(second, timeout_s=5)
    assert isinstance(reply, p.Error) and reply.code == p.ErrorCode.NOT_ACTIVE
    assert reply.re == "probe"
    assert reply.reason == f"not active, try {first['command']}"
    assert (reply.detail["active"], reply.detail["active_events"], reply.detail["shard"], reply.detail["epoch"]) \
        == (first["command"], first["events"], "main", 1)
    # a client given the standby first ends up served by the active broker
    admin = BrokerClient([second["command"], first["command"]], [second["events"], first["events"]],
                         "admin", "root").start()
    shard.clients.append(admin)
    wait_until(lambda: admin.command_endpoint == first["command"], timeout_s=10,
               message="the client did not follow the standby's answer")
    assert isinstance(admin.call(p.Hello), p.Welcome)


# --------------------------------------------------------------------------- takeover under load

class Load:
    """Submitters and agents that remember exactly what they were told."""

    def __init__(self, shard: Pair):
        self.shard = shard
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[str] = []
        self.wins: dict[str, str] = {}             # inquiry -> agent told it won
        self.double_wins: list[tuple] = []
        self.verdict_times: dict[str, float] = {}  # agent -> monotonic time of its last verdict
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._submitter, daemon=True)] + \
            [threading.Thread(target=self._agent, args=(a,), daemon=True) for a in AGENTS]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _guard(self, fn):
        try:
            return fn()
        except (ConnectionError, TimeoutError, FutureTimeout):
            return None  # not acknowledged: may or may not have happened
        except BaseException as exc:
            self.errors.append(exc)
            self.stop.set()
            return None

    def _submitter(self) -> None:
        client = self.shard.client("intake", "gw")
        i = 0
        while not self.stop.is_set():
            ids = [f"q{i + k}" for k in range(5)]
            i += 5
            reply = self._guard(lambda: client.call(
                p.Submit, inquiries=[p.NewInquiry(id=q, shop="s1", skill="pre_sales") for q in ids]))
            if reply is not None:
                assert not reply.rejected, reply.rejected
                with self.lock:
                    self.acked.extend(ids)

    def _agent(self, agent: str) -> None:
        client = self.shard.client("agent", agent)
        rng = random.Random(agent)
        n = 0
        while not self.stop.is_set():
            with self.lock:
                recent = self.acked[-10:]
            if not recent:
                time.sleep(0.001)
                continue
            futures = []
            for _ in range(3):
                n += 1
                futures.append(client.request(p.Grab, grab_id=f"{agent}-{n}", inquiry=rng.choice(recent)))
            for future in futures:
                verdict = self._guard(lambda: future.result(15))
                if verdict is None:
                    continue
                with self.lock:
                    self.verdict_times[agent] = time.monotonic()
                    if verdict.outcome == "won":
                        other = self.wins.setdefault(verdict.inquiry, agent)
                        if other != agent:
                            self.double_wins.append((verdict.inquiry, other, agent))

    def finish(self) -> None:
        self.stop.set()
        self.shard.stop_clients()
        for t in self.threads:
            t.join(20)
            assert not t.is_alive(), "a load thread did not stop"


@pytest.mark.slow
def test_kill_9_of_the_active_under_load_loses_nothing_and_clients_are_served_again(pair):
    shard = pair()
    first = shard.start()
    shard.wait_active(first)
    second = shard.start()
    wait_until(lambda: "standby for shard main" in shard.log(second), timeout_s=20)
    define_floor(shard.client("admin", "root"))
    console_epochs: list[str] = []
    console = shard.client("supervisor", "lead", follow=True,
                           on_reset=lambda records, end: console_epochs.append(end.epoch))
    assert console.wait_live(10)

    load = Load(shard)
    load.start()
    wait_until(lambda: len(load.wins) >= 50, timeout_s=30, message="no grabs were won before the kill")
    first["proc"].kill()
    killed_at, killed_wall = time.monotonic(), time.time()
    first["proc"].wait(10)
    shard.wait_active(second, timeout_s=20)
    # every agent is served by the new active
    wait_until(lambda: all(load.verdict_times.get(a, 0) > killed_at for a in AGENTS), timeout_s=30,
               message=f"not every agent got a verdict after the takeover: {load.verdict_times}")
    wins_before = len(load.wins)
    wait_until(lambda: len(load.wins) > wins_before + 20, timeout_s=20, message="grabbing did not resume")
    wait_until(lambda: console.status.state == "live" and len(console_epochs) >= 2, timeout_s=20,
               message="the console never re-synced to the new active broker")
    assert console_epochs[-1].startswith("2-") and console.command_endpoint == second["command"]
    # what the console's status bar shows: the shard, and that the takeover happened after the kill
    assert console.status.shard == "main" and console.status.active_since > killed_wall
    load.finish()
    assert not load.errors, load.errors

    assert load.double_wins == [], "an inquiry was won by two agents"
    inquiries = stored(shard.schema)
    lost = [q for q in load.acked if q not in inquiries]
    assert lost == [], f"{len(lost)} acknowledged inquiries are not in the store"
    wrong = {q: (agent, inquiries.get(q)) for q, agent in load.wins.items() if inquiries.get(q, ("", ""))[1] != agent}
    assert wrong == {}, "acknowledged wins the store does not show (inquiry: told, stored)"
    assert "taking over shard main at epoch 2" in shard.log(second)


# --------------------------------------------------------------------------- fencing

def test_a_frozen_active_that_wakes_up_commits_nothing_announces_nothing_and_steps_down(pair):
    shard = pair()
    first = shard.start()
    shard.wait_active(first)
    second = shard.start()
    wait_until(lambda: "standby for shard main" in shard.log(second), timeout_s=20)
    define_floor(shard.client("admin", "root"), agents=["a0"])
    shard.client("intake", "gw").call(p.Submit, inquiries=[p.NewInquiry(id="qf", shop="s1", skill="pre_sales")])

    ctx = zmq.Context.instance()
    # an agent that only knows the old active, and a raw subscriber to its events
    dealer = ctx.socket(zmq.DEALER)
    sub = ctx.socket(zmq.SUB)
    try:
        for sock in (dealer, sub):
            sock.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        dealer.connect(first["command"])
        sub.connect(first["events"])
        dealer.send(p.encode(p.Hello(v=1, id="h", role="agent", who="a0")))
        assert dealer.poll(5000) and isinstance(p.decode_reply(dealer.recv()), p.Welcome)

        os.kill(first["proc"].pid, signal.SIGSTOP)
        dealer.send(p.encode(p.Grab(v=1, id="late", role="agent", who="a0", grab_id="g-late", inquiry="qf")))
        shard.wait_active(second, timeout_s=20)
        while sub.poll(0):  # what it published before the freeze
            sub.recv_multipart()
        os.kill(first["proc"].pid, signal.SIGCONT)

        wait_until(lambda: "stepping down" in shard.log(first), timeout_s=20,
                   message="the old active did not step down")
        wait_until(lambda: isinstance(shard.answer(first), p.Error), timeout_s=10,
                   message="the old active does not answer as a standby")
        replies = []
        while dealer.poll(200):
            replies.append(p.decode_reply(dealer.recv()))
        assert not [r for r in replies if isinstance(r, p.Verdict)], f"the old active announced: {replies}"
        frames = []
        while sub.poll(200):
            topic, body = sub.recv_multipart()
            if topic != p.HEARTBEAT_TOPIC:
                frames.append(p.decode_event_frame(body))
        assert [e for f in frames for e in f.events] == [], "the old active published events after waking"
    finally:
        dealer.close()
        sub.close()

    assert stored(shard.schema)["qf"] == ("queued", None), "the fenced grab reached the store"
    # the new active serves the grab the frozen one could not
    agent = shard.client("agent", "a0")
    verdict = agent.call(p.Grab, grab_id="g-late", inquiry="qf")
    assert verdict.outcome == "won"
    assert shard.answer(first).code == p.ErrorCode.NOT_ACTIVE, "the old active did not stay a standby"
    store = PgStore(pg_dsn(), shard.schema, maintenance=None)
    try:
        rows = store._db.execute(f'SELECT epoch, id FROM "{shard.schema}".journal ORDER BY id').fetchall()
    finally:
        store.close()
    first_of_new = min(i for e, i in rows if e == 2)
    assert [i for e, i in rows if e == 1 and i > first_of_new] == [], "a stale epoch committed after the takeover"


# --------------------------------------------------------------------------- PostgreSQL lost while serving

class CuttableProxy:
    """A TCP proxy in front of PostgreSQL that a test cuts (every connection dropped, new ones
    closed at once, as when the database's machine goes away) and restores."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.cut_off.set()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets.clear()

    def restore(self) -> None:
        self.cut_off.clear()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


def test_postgresql_lost_while_serving_announces_nothing_then_the_broker_resumes(pair):
    shard = pair()
    proxy = CuttableProxy(("127.0.0.1", 5432))
    try:
        # the broker reaches PostgreSQL through the proxy; the test reads it directly
        text = shard.config.read_text().replace(pg_dsn(), f"postgresql://127.0.0.1:{proxy.port}/test")
        shard.config.write_text(text)
        broker = shard.start()
        shard.wait_active(broker)
        define_floor(shard.client("admin", "root"), agents=["a0"])
        shard.client("intake", "gw").call(p.Submit, inquiries=[p.NewInquiry(id="qx", shop="s1", skill="pre_sales")])
        agent = shard.client("agent", "a0")
        assert isinstance(agent.call(p.Hello), p.Welcome)

        proxy.cut()
        lost = agent.request(p.Grab, grab_id="g-cut", inquiry="qx", timeout_s=30)
        wait_until(lambda: "stepping down" in shard.log(broker), timeout_s=20,
                   message="the broker kept serving without its database")
        assert not lost.done() or not isinstance(lost.result(0), p.Verdict), \
            "a verdict was announced without its commit"
        reply = shard.answer(broker, timeout_s=5)
        assert reply.code == p.ErrorCode.NOT_ACTIVE and reply.detail["active"] is None, reply

        proxy.restore()
        shard.wait_active(broker, timeout_s=30)
        verdict = lost.result(30)  # the client re-sent it with the same grab id
        assert isinstance(verdict, p.Verdict) and verdict.outcome == "won"
        assert agent.call(p.Grab, grab_id="g-cut", inquiry="qx").outcome == "won", "a retried grab changed"
        assert stored(shard.schema)["qx"] == ("held", "a0")
        log = shard.log(broker)
        assert "PostgreSQL" in log and "taking over shard main at epoch 2" in log
    finally:
        proxy.close()
