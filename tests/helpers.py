"""Helpers every test folder shares, imported as a normal module (``from helpers import ...``).

``FakeClock`` drives the broker's notion of time where a test needs hours to
pass; ``wait_until`` waits on a condition with a deadline; ``BrokerHandle``
wraps a running broker (the fixtures that start one are in tests/conftest.py).
"""
from __future__ import annotations

import os
import threading
import time

import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.mirror import Mirror
from broker.service.config import BrokerSection, FileConfig
from broker.service.server import BrokerServer


class FakeClock:
    """A settable wall clock (epoch seconds); thread-safe enough for reads."""

    def __init__(self, start: float = 1_795_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until(condition, timeout_s: float = 5.0, interval_s: float = 0.005, message: str = ""):
    """Poll ``condition`` until true or fail the test at the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval_s)
    pytest.fail(message or f"condition not met within {timeout_s} s")


def stable(read):
    """Read state another thread is changing (the broker's loop, a client's I/O thread):
    a dict that changes size under the copy is simply read again."""
    for _ in range(100):
        try:
            return read()
        except RuntimeError:
            time.sleep(0.001)
    return read()


#: the PostgreSQL every machine of this project runs (CI included); GRABDESK_TEST_PG overrides
PG_DSN = os.environ.get("GRABDESK_TEST_PG", "postgresql://127.0.0.1:5432/test")


def pg_dsn() -> str:
    """The test PostgreSQL's URL, or fail saying it is absent: a missing server is a broken
    environment, never a reason for a PostgreSQL test to pass."""
    from broker.service.pgstore import StoreError, connect

    try:
        connect(PG_DSN).close()
    except StoreError as exc:
        pytest.fail(f"PostgreSQL is needed for this test and is not available: {exc} "
                    "(start it, or point GRABDESK_TEST_PG at one)", pytrace=False)
    return PG_DSN


def loopback_config(tmp_path, **broker_fields) -> FileConfig:
    fields = dict(command_endpoint="tcp://127.0.0.1:*", events_endpoint="tcp://127.0.0.1:*",
                  db=str(tmp_path / "broker.db"), synchronous="NORMAL", heartbeat_s=0.2,
                  materializer="thread")
    fields.update(broker_fields)
    return FileConfig(broker=BrokerSection(**fields))


class BrokerHandle:
    """A running broker plus helpers to define a floor and make clients."""

    def __init__(self, server: BrokerServer, thread: threading.Thread, clock=None):
        self.server = server
        self.thread = thread
        self.clock = clock
        self.clients: list[BrokerClient] = []
        self._admin: BrokerClient | None = None

    @property
    def core(self):
        return self.server.core

    def client(self, role: str, who: str, *, follow: bool = False, **kwargs) -> BrokerClient:
        c = BrokerClient(self.server.command_endpoint, self.server.events_endpoint, role, who,
                         follow=follow, **kwargs).start()
        self.clients.append(c)
        return c

    @property
    def admin(self) -> BrokerClient:
        if self._admin is None:
            self._admin = self.client("admin", "root")
        return self._admin

    def define(self, shops=("s1",), agents=(), groups=()) -> None:
        for group in groups:
            self.admin.call(p.DefineGroup, group=group if isinstance(group, p.GroupRecord) else p.GroupRecord(id=group))
        for shop in shops:
            self.admin.call(p.DefineShop, shop=shop if isinstance(shop, p.ShopRecord) else p.ShopRecord(id=shop))
        if agents:
            self.admin.call(p.DefineAgents, agents=list(agents))

    def follow(self, who: str, role: str = "supervisor", **kwargs) -> tuple[BrokerClient, Mirror]:
        """A live client and its mirror of the floor (snapshot, then events)."""
        mirror = Mirror()
        client = self.client(role, who, follow=True, on_reset=mirror.reset, on_events=mirror.apply, **kwargs)
        assert client.wait_live(10), f"{who} never got live"
        return client, mirror

    def online(self, *agent_ids: str) -> None:
        for agent_id in agent_ids:
            self.admin.call(p.SetStatus, status="online", agent=agent_id)

    def submit(self, *inquiries: p.NewInquiry):
        return self.admin.call(p.Submit, inquiries=list(inquiries))

    def stop(self) -> None:
        for c in self.clients:
            c.stop()
        self.clients.clear()
        self.server.request_stop("test over")
        self.thread.join(10)
        assert not self.thread.is_alive(), "broker thread did not stop"


def agent_spec(agent_id: str, skills=("pre_sales",), languages=("zh",), **kw) -> p.AgentSpec:
    return p.AgentSpec(id=agent_id, skills={s: 3 for s in skills}, languages=list(languages),
                       quality=kw.pop("quality", 95.0), **kw)
