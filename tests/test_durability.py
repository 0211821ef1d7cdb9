"""Durability: load a broker process, ``kill -9`` it, restart it, lose nothing.

The broker runs as an operator runs it (``python -m grabdesk broker`` with the
default ``synchronous=FULL``). Several client threads submit inquiries and
race for them; every acknowledged submit and every verdict received is
recorded. The process is killed with SIGKILL in the middle of that load and
started again on the same database. Everything a client was told must
still be true: acknowledged inquiries exist, acknowledged wins are owned by
their winners, and a retried grab id gets the verdict it got before.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import msgspec
import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.mirror import Mirror

from helpers import stable, wait_until

ROOT = Path(__file__).resolve().parent.parent
AGENTS = [f"a{i}" for i in range(8)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "durable.db"
        self.command = f"tcp://127.0.0.1:{_free_port()}"
        self.events = f"tcp://127.0.0.1:{_free_port()}"
        self.config = tmp_path / "broker.toml"
        # the rate limit and pending cap protect a live floor; the load here is deliberate
        self.config.write_text("[broker]\ngrab_rate_per_s = 100000.0\nmax_pending_per_client = 1000\n")
        self.log_path = tmp_path / "broker.log"
        self.procs: list[subprocess.Popen] = []
        self.clients: list[BrokerClient] = []

    def start(self) -> subprocess.Popen:
        log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen(
            [sys.executable, "-m", "grabdesk", "broker", "--db", str(self.db), "--config", str(self.config),
             "--command-endpoint", self.command, "--events-endpoint", self.events],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(proc)
        hello = self.client("admin", "probe")
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"the broker exited ({proc.returncode}): {self.log_path.read_text()}"
            try:
                hello.call(p.Hello, timeout_s=0.5)
                break
            except (ConnectionError, TimeoutError, FutureTimeout):
                if time.monotonic() > deadline:
                    pytest.fail(f"the broker never answered a Hello: {self.log_path.read_text()}")
                time.sleep(0.05)
        return proc

    def client(self, role: str, who: str, **kw) -> BrokerClient:
        c = BrokerClient(self.command, self.events, role, who, follow=kw.pop("follow", False), **kw).start()
        self.clients.append(c)
        return c

    def stop_clients(self) -> None:
        for c in self.clients:
            c.stop()
        self.clients.clear()

    def cleanup(self) -> None:
        self.stop_clients()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@pytest.fixture
def broker_process(tmp_path):
    bp = BrokerProcess(tmp_path)
    try:
        yield bp
    finally:
        bp.cleanup()


class Load:
    """Submitters and racing agents that remember exactly what they were told."""

    def __init__(self, bp: BrokerProcess):
        self.bp = bp
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[str] = []                 # submits the broker acknowledged
        self.verdicts: dict[tuple[str, str], p.Verdict] = {}   # (agent, grab id) -> verdict
        self.resolve_sent: set[str] = set()        # resolves sent, acknowledged or not
        self.resolved: set[str] = set()            # resolves acknowledged
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def run(self) -> None:
        for n in range(2):
            self.threads.append(threading.Thread(target=self._submitter, args=(n,), daemon=True))
        for agent in AGENTS:
            self.threads.append(threading.Thread(target=self._agent, args=(agent,), daemon=True))
        for t in self.threads:
            t.start()

    def wins(self) -> int:
        with self.lock:
            return sum(1 for v in self.verdicts.values() if v.outcome == "won")

    def _guard(self, fn):
        try:
            return fn()
        except (ConnectionError, TimeoutError, FutureTimeout):
            return None  # not acknowledged: may or may not have happened
        except BaseException as exc:  # anything else is a test failure
            self.errors.append(exc)
            self.stop.set()
            return None

    def _submitter(self, n: int) -> None:
        client = self.bp.client("intake", f"gw{n}")
        i = 0
        while not self.stop.is_set():
            ids = [f"q{n}-{i + k}" for k in range(5)]
            i += 5
            reply = self._guard(lambda: client.call(
                p.Submit, inquiries=[p.NewInquiry(id=q, shop="s1", skill="pre_sales") for q in ids]))
            if reply is None:
                continue
            rejected = {r.index for r in reply.rejected}
            assert not rejected, reply.rejected
            with self.lock:
                self.acked.extend(q for k, q in enumerate(ids) if k not in rejected)

    def _agent(self, agent: str) -> None:
        client = self.bp.client("agent", agent)
        rng = random.Random(agent)
        n = 0
        while not self.stop.is_set():
            with self.lock:
                recent = self.acked[-15:]
            if not recent:
                time.sleep(0.001)
                continue
            batch = []
            for _ in range(4):
                n += 1
                grab_id = f"{agent}-{n}"
                batch.append((grab_id, client.request(p.Grab, grab_id=grab_id, inquiry=rng.choice(recent))))
            for grab_id, future in batch:
                verdict = self._guard(lambda: future.result(6))
                if verdict is None:
                    continue
                with self.lock:
                    self.verdicts[(agent, grab_id)] = verdict
                if verdict.outcome == "won" and rng.random() < 0.3:
                    with self.lock:
                        self.resolve_sent.add(verdict.inquiry)
                    if self._guard(lambda: client.call(p.Resolve, inquiry=verdict.inquiry, timeout_s=6)):
                        with self.lock:
                            self.resolved.add(verdict.inquiry)

    def finish(self) -> None:
        self.stop.set()
        self.bp.stop_clients()  # fails whatever is still in flight: not acknowledged
        for t in self.threads:
            t.join(15)
            assert not t.is_alive(), "a load thread did not stop"


@pytest.mark.slow
def test_kill_9_under_load_loses_nothing_acknowledged(broker_process):
    bp = broker_process
    proc = bp.start()
    admin = bp.client("admin", "root")
    admin.call(p.DefineShop, shop=p.ShopRecord(id="s1"))
    admin.call(p.DefineAgents, agents=[
        p.AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                    quotas=p.Quotas(concurrent_cap=1000, daily_grabs=100_000)) for a in AGENTS])
    for a in AGENTS:
        admin.call(p.SetStatus, status="online", agent=a)

    # a console that stays connected through the crash and the restart
    survivor_view = Mirror()
    survivor = BrokerClient(bp.command, bp.events, "supervisor", "night-lead", follow=True,
                            on_reset=survivor_view.reset, on_events=survivor_view.apply)
    try:
        survivor.start()
        assert survivor.wait_live(10)
        first_epoch = survivor.status.epoch
        _load_kill_restart_check(bp, proc)
        wait_until(lambda: survivor.status.state == "live" and survivor.status.epoch != first_epoch,
                   timeout_s=30, message=f"the console never re-synced to the restarted broker: {survivor.status}")
        fresh = Mirror()
        watcher = bp.client("supervisor", "auditor-2", follow=True, on_reset=fresh.reset, on_events=fresh.apply)
        assert watcher.wait_live(20)
        wait_until(lambda: _view(survivor_view) == _view(fresh), timeout_s=20,
                   message="the surviving console's view differs from the restarted broker's")
    finally:
        survivor.stop()

    # an orderly stop by signal after the recovery keeps everything too
    recovered = _view(fresh)
    bp.stop_clients()
    bp.procs[-1].send_signal(signal.SIGTERM)
    assert bp.procs[-1].wait(20) == 0, bp.log_path.read_text()[-2000:]
    bp.start()
    again = Mirror()
    assert bp.client("supervisor", "auditor-3", follow=True, on_reset=again.reset,
                     on_events=again.apply).wait_live(20)
    assert _view(again) == recovered


def _view(mirror: Mirror) -> tuple:
    # the client's I/O thread may be applying events right now
    return stable(lambda: (msgspec.to_builtins(mirror.inquiries),
                           {a: {**msgspec.to_builtins(r), "last_seen": 0} for a, r in mirror.agents.items()}))


def _load_kill_restart_check(bp: BrokerProcess, proc: subprocess.Popen) -> None:
    load = Load(bp)
    load.run()
    wait_until(lambda: len(load.acked) >= 300 and load.wins() >= 100, timeout_s=30,
               message="the load never got going")
    proc.send_signal(signal.SIGKILL)  # mid-load, no warning
    proc.wait(10)
    load.finish()
    assert not load.errors, load.errors

    acked = list(load.acked)
    verdicts = dict(load.verdicts)
    won = {v.inquiry: (agent, v) for (agent, _g), v in verdicts.items() if v.outcome == "won"}
    assert len({v.inquiry for v in verdicts.values() if v.outcome == "won"}) == len(won), \
        "two acknowledged winners of one inquiry"

    bp.start()
    mirror = Mirror()
    watcher = bp.client("supervisor", "auditor", follow=True, on_reset=mirror.reset, on_events=mirror.apply)
    assert watcher.wait_live(20)

    # every acknowledged inquiry exists: open, or closed by a resolve that was sent
    missing = [q for q in acked if q not in mirror.inquiries and q not in load.resolve_sent]
    assert not missing, f"{len(missing)} acknowledged inquiries lost, e.g. {missing[:5]}"
    for q in load.resolved:
        assert q not in mirror.inquiries, f"acknowledged resolve of {q} undone"
    # every acknowledged win is still owned by its winner
    for inquiry, (agent, verdict) in won.items():
        if inquiry in load.resolve_sent:
            continue
        assert inquiry in mirror.inquiries, f"won inquiry {inquiry} vanished"
        assert mirror.inquiries[inquiry].owner == agent, \
            f"{inquiry} won by {agent} is owned by {mirror.inquiries[inquiry].owner}"
    held: dict[str, int] = {}
    for inq in mirror.inquiries.values():
        if inq.owner:
            held[inq.owner] = held.get(inq.owner, 0) + 1
    assert {a: mirror.agents[a].held for a in AGENTS} == {a: held.get(a, 0) for a in AGENTS}

    # a grab retried with the same id after the restart gets the same verdict
    sample = random.Random(7).sample(sorted(verdicts), min(60, len(verdicts)))
    assert any(verdicts[k].outcome == "won" for k in sample) and any(verdicts[k].outcome == "lost" for k in sample)
    agents = {a: bp.client("agent", a) for a in AGENTS}
    for agent, grab_id in sample:
        before = verdicts[(agent, grab_id)]
        after = agents[agent].call(p.Grab, grab_id=grab_id, inquiry=before.inquiry)
        assert (after.outcome, after.code, after.winner, after.won_at) == \
            (before.outcome, before.code, before.winner, before.won_at), (agent, grab_id)
