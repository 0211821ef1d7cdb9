"""An active/standby pair of broker processes on PostgreSQL, for the failover and shard tests.

Brokers run as an operator runs them (``python -m grabdesk broker`` with
``store = "postgresql://..."``) on one schema per pair and a 1 s lease; the
``pair`` fixture (tests/conftest.py) makes them and cleans up.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import zmq

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from helpers import pg_dsn, wait_until
from tools.bench.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
AGENTS = [f"a{i}" for i in range(6)]
LEASE_S = 1.0


class Pair:
    """Broker processes of one shard on one schema; each with its own ports and log."""

    def __init__(self, tmp_path: Path, schema: str, shard: str = "main"):
        self.tmp_path = tmp_path
        self.schema = schema
        self.config = tmp_path / f"{shard}.toml"
        # the rate limit and pending cap protect a live floor; the load here is deliberate
        self.config.write_text(
            f'[broker]\nstore = "{pg_dsn()}"\nshard = "{shard}"\npg_schema = "{schema}"\n'
            f"lease_s = {LEASE_S}\nheartbeat_s = 0.2\ngrab_rate_per_s = 100000.0\n"
            "max_pending_per_client = 1000\n")
        self.brokers: list[dict] = []
        self.clients: list[BrokerClient] = []

    def start(self) -> dict:
        n = len(self.brokers)
        broker = {"command": f"tcp://127.0.0.1:{free_port()}", "events": f"tcp://127.0.0.1:{free_port()}",
                  "log": self.tmp_path / f"broker-{self.schema[-4:]}-{n}.log"}
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(broker["log"], "ab") as log:
            broker["proc"] = subprocess.Popen(
                [sys.executable, "-m", "grabdesk", "broker", "--config", str(self.config),
                 "--command-endpoint", broker["command"], "--events-endpoint", broker["events"]],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.brokers.append(broker)
        return broker

    def log(self, broker: dict) -> str:
        return broker["log"].read_text()

    def answer(self, broker: dict, timeout_s: float = 0.5):
        """One Hello straight to ``broker``: its reply (welcome or error), or None if silent."""
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(broker["command"])
            sock.send(p.encode(p.Hello(v=1, id="probe", role="admin", who="probe")))
            if sock.poll(int(timeout_s * 1000)):
                return p.decode_reply(sock.recv())
            return None
        finally:
            sock.close()

    def wait_active(self, broker: dict, timeout_s: float = 20.0) -> p.Welcome:
        found: list = []

        def active() -> bool:
            assert broker["proc"].poll() is None, f"broker exited: {self.log(broker)[-3000:]}"
            reply = self.answer(broker)
            if isinstance(reply, p.Welcome):
                found.append(reply)
                return True
            return False
        wait_until(active, timeout_s=timeout_s, interval_s=0.05,
                   message=f"{broker['command']} never became active")
        return found[-1]

    def client(self, role: str, who: str, **kw) -> BrokerClient:
        c = BrokerClient([b["command"] for b in self.brokers], [b["events"] for b in self.brokers],
                         role, who, follow=kw.pop("follow", False), **kw).start()
        self.clients.append(c)
        return c

    def stop_clients(self) -> None:
        for c in self.clients:
            c.stop()
        self.clients.clear()

    def cleanup(self) -> None:
        self.stop_clients()
        for broker in self.brokers:
            proc = broker["proc"]
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # a frozen one must be able to die
                proc.kill()
            proc.wait(10)


def define_floor(admin: BrokerClient, shop: str = "s1", agents=AGENTS) -> None:
    admin.call(p.DefineShop, shop=p.ShopRecord(id=shop))
    admin.call(p.DefineAgents, agents=[
        p.AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                    quotas=p.Quotas(concurrent_cap=1000, daily_grabs=100_000)) for a in agents])
    for a in agents:
        admin.call(p.SetStatus, status="online", agent=a)
