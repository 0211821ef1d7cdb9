"""What only the PostgreSQL store has: its schema, the lease, fencing, an absent server.

The round trips both stores share are in test_store.py (parametrized).
These need the local PostgreSQL (127.0.0.1:5432, database ``test``) and fail,
saying so, when it is absent.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.arbiter.core import Arbiter, CoreConfig
from broker.service.lease import Lease
from broker.service.pgstore import MIGRATIONS, Fenced, PgStore, StoreError, StoreUnavailable
from broker.wire.protocol import NewInquiry, ShopRecord

from helpers import FakeClock, pg_dsn
from tools.bench.harness import free_port

#: a port nothing listens on: the connection is refused at once
DEAD_DSN = "postgresql://127.0.0.1:1/test"


@pytest.fixture
def schema(pg_schema) -> str:
    return pg_schema()


@pytest.fixture
def stores(schema):
    made: list[PgStore] = []

    def make() -> PgStore:
        store = PgStore(pg_dsn(), schema, maintenance=None)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def lease_for(schema: str, holder: str, ttl_s: float = 60.0) -> Lease:
    return Lease(pg_dsn(), schema, "main", holder, ttl_s, f"tcp://{holder}:1", f"tcp://{holder}:2")


def one_batch(core: Arbiter, inquiry: str):
    core.submit(NewInquiry(id=inquiry, shop="s1", skill="pre_sales"), "gw")
    return core.drain()


def test_first_start_creates_the_schema_at_the_current_version(stores, schema):
    store = stores()
    version = store._db.execute(f'SELECT version FROM "{schema}".schema_version').fetchone()[0]
    assert version == len(MIGRATIONS)
    tables = {r[0] for r in store._db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
    assert {"lease", "journal", "settings", "position", "config", "agents", "inquiries", "grabs",
            "audit", "schema_version"} <= tables


def test_a_schema_from_a_newer_grabdesk_is_refused_and_left_alone(stores, schema):
    stores().close()
    newer = len(MIGRATIONS) + 3
    admin = stores()
    admin._db.execute(f'UPDATE "{schema}".schema_version SET version = %s', (newer,))
    with pytest.raises(StoreError) as info:
        stores()
    assert schema in str(info.value) and str(newer) in str(info.value) and "upgrade" in str(info.value)
    assert admin._db.execute(f'SELECT version FROM "{schema}".schema_version').fetchone()[0] == newer


def test_an_unreachable_server_is_one_clear_sentence_and_fast(schema):
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        PgStore(DEAD_DSN, schema, maintenance=None)
    assert "PostgreSQL not reachable at 127.0.0.1:1/test" in str(info.value)
    assert time.monotonic() - started < 10


def test_a_store_without_the_lease_writes_nothing(stores):
    store = stores()
    core = Arbiter(CoreConfig(), clock=FakeClock())
    core.define_shop(ShopRecord(id="s1"))
    with pytest.raises(Fenced, match="does not hold the lease"):
        store.write(core.drain())
    assert list(store.journal()) == []


def test_the_lease_is_taken_once_and_only_after_it_expires(schema, stores):
    stores()  # creates the schema
    first, second = lease_for(schema, "a", ttl_s=0.5), lease_for(schema, "b", ttl_s=0.5)
    try:
        epoch = first.try_take()
        assert epoch == 1
        assert second.try_take() is None, "a live lease was taken"
        state = second.read()
        assert (state.holder, state.epoch, state.expired, state.command_endpoint) == ("a", 1, False, "tcp://a:1")
        assert first.renew() is True
        # the holder stops renewing (crashed, frozen): the lease expires and moves on
        deadline = time.monotonic() + 5
        while (taken := second.try_take()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert taken == 2
        assert first.renew() is False, "the old holder still believes it holds the lease"
        assert first.epoch is None
    finally:
        first.close()
        second.close()


def test_a_write_from_an_older_epoch_is_refused_and_leaves_nothing(schema, stores):
    old, new = stores(), stores()
    old_lease, new_lease = lease_for(schema, "old", ttl_s=0.2), lease_for(schema, "new", ttl_s=60)
    clock = FakeClock()
    core = Arbiter(CoreConfig(), clock=clock)
    try:
        old.epoch = old_lease.try_take()
        core.define_shop(ShopRecord(id="s1"))
        old.write(core.drain())
        deadline = time.monotonic() + 5
        while (epoch := new_lease.try_take()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        new.epoch = epoch
        # the old active wakes up with a batch it decided: PostgreSQL refuses it
        with pytest.raises(Fenced, match="another broker took over"):
            old.write(one_batch(core, "late"))
        with pytest.raises(Fenced):
            old.save_roster("csv", "agent,start,end\n")
        loaded = new.load(clock())
        assert [s.id for s in loaded.shops] == ["s1"] and loaded.inquiries == []
        assert loaded.roster is None
        # the new active writes on from what it loaded
        fresh = Arbiter(CoreConfig(), clock=clock)
        fresh.load(loaded.shops, loaded.groups, loaded.agents, loaded.inquiries, loaded.seq,
                   loaded.stream_last, loaded.recent_grabs, loaded.closed)
        new.write(one_batch(fresh, "q1"))
        assert [i.id for i in stores().load(clock()).inquiries] == ["q1"]
    finally:
        old_lease.close()
        new_lease.close()


def test_reports_sql_runs_on_the_shards_tables(stores, schema):
    """The staffing reports' queries are written once (for SQLite) and run on PostgreSQL too."""
    from broker.staffing import reports

    store = stores()
    lease = lease_for(schema, "a")
    clock = FakeClock(start=7200.0 * 1000 + 1800)  # half past an hour: truncation, not rounding, matters
    try:
        store.epoch = lease.try_take()
        core = Arbiter(CoreConfig(), clock=clock)
        core.define_shop(ShopRecord(id="s1"))
        store.write(one_batch(core, "q1"))
        arrivals = reports.hourly_arrivals(store, 0.0)
        assert [(when.timestamp(), skill, n) for (when, skill), n in arrivals.items()] == \
            [(7200.0 * 1000, "pre_sales", 1.0)]
    finally:
        lease.close()


# --------------------------------------------------------------------------- the broker's start

def _broker(*args: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "grabdesk", "broker",
                           "--command-endpoint", f"tcp://127.0.0.1:{free_port()}",
                           "--events-endpoint", f"tcp://127.0.0.1:{free_port()}", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("check", [False, True])
def test_postgresql_unreachable_at_start_is_one_sentence_and_exit_2(check):
    done = _broker("--db", DEAD_DSN, *(["--check-config"] if check else []))
    assert done.returncode == 2
    assert done.stderr.startswith("grabdesk broker: PostgreSQL not reachable at 127.0.0.1:1/test")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_newer_schema_refuses_the_start_and_check_config_says_so(stores, schema):
    store = stores()
    store._db.execute(f'UPDATE "{schema}".schema_version SET version = %s', (len(MIGRATIONS) + 1,))
    config = ["--db", pg_dsn(), "--shard", schema.removeprefix("grabdesk_")]
    for extra in ([], ["--check-config"]):
        done = _broker(*config, *extra)
        assert done.returncode == 2, done.stderr
        assert "newer than this broker" in done.stderr and "upgrade grabdesk" in done.stderr


def test_check_config_names_the_shards_schema(schema):
    done = _broker("--db", pg_dsn(), "--shard", schema.removeprefix("grabdesk_"), "--check-config")
    assert done.returncode == 0, done.stderr
    assert f"ok: PostgreSQL 127.0.0.1:5432/test schema {schema} (new; will be created)" in done.stdout
