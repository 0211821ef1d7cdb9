"""Shared fixtures: a real broker on loopback, and clients that clean up.

Every broker here is the production ``BrokerServer`` on a real SQLite file
in ``tmp_path``, bound to ephemeral loopback ports. Helpers (``FakeClock``,
``wait_until``, ``agent_spec`` ...) are in tests/helpers.py, imported normally;
each test folder's own fixtures are in its conftest.py.
"""
from __future__ import annotations

import os
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from broker.service.config import FileConfig
from broker.service.server import serve_in_thread
from helpers import PG_DSN, BrokerHandle, loopback_config, pg_dsn
from pair_helpers import Pair


@pytest.fixture
def pg_schema():
    """Factory of fresh schemas (unique per test, so parallel runs never meet); dropped at the end."""
    made: list[str] = []

    def make() -> str:
        pg_dsn()
        name = f"grabdesk_test_{uuid.uuid4().hex[:12]}"
        made.append(name)
        return name

    yield make
    if made:
        from broker.service.pgstore import connect

        conn = connect(PG_DSN)
        for name in made:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.close()


@pytest.fixture
def start_broker(tmp_path):
    """Factory: ``start_broker(clock=None, **broker_section_fields)`` -> BrokerHandle."""
    handles: list[BrokerHandle] = []

    def start(clock=None, config: FileConfig | None = None, **fields) -> BrokerHandle:
        cfg = config or loopback_config(tmp_path, **fields)
        server, thread = serve_in_thread(cfg, clock)  # None: the configured clock (wall unless scaled)
        handle = BrokerHandle(server, thread, clock)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        if handle.thread.is_alive():
            handle.stop()


@pytest.fixture
def broker(start_broker) -> BrokerHandle:
    """A broker on the real clock with shop s1 defined."""
    handle = start_broker()
    handle.define()
    return handle


@pytest.fixture
def pair(tmp_path, pg_schema):
    """Factory: ``pair(shard="main")`` -> a Pair of brokers on a fresh schema, cleaned up after."""
    made: list[Pair] = []

    def make(shard: str = "main") -> Pair:
        made.append(Pair(tmp_path, pg_schema(), shard))
        return made[-1]

    yield make
    for one in made:
        one.cleanup()
