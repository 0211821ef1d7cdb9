"""SqliteStore: schema, durability settings, round trips, atomic batches.

The store's promise is that a restart rebuilds exactly the state the arbiter
had at its last commit, and that a batch is either wholly durable or not at
all. State comes from a real ``Arbiter`` driven through a day's events, so
the round trip covers every record kind the core produces.
"""
from __future__ import annotations

import shutil
import sqlite3

import msgspec
import psycopg
import pytest

from broker.arbiter.core import Arbiter, Changes, CoreConfig, EmittedEvent
from broker.wire.protocol import (
    AgentSpec, Event, FloorMetrics, GroupRecord, NewInquiry, Quotas, ShopRecord, encode,
)
from broker.service.pgstore import MIGRATIONS as PG_MIGRATIONS
from broker.service.store import (
    JOURNAL_MIGRATIONS, STATE_MIGRATIONS, WAL_PRESIZE_BYTES, SqliteStore, StoreError, state_path_for,
)

from helpers import FakeClock, pg_dsn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "data" / "broker.db"


@pytest.fixture
def open_sqlite(store_path):
    """Factory of SQLite stores on ``store_path``; every one is closed at the end."""
    stores: list[SqliteStore] = []

    def make(**kw) -> SqliteStore:
        kw.setdefault("checkpoint_thread", False)
        kw.setdefault("synchronous", "NORMAL")
        store = SqliteStore(store_path, **kw)
        stores.append(store)
        return store

    yield make
    for store in stores:
        try:
            store.close()
        except sqlite3.ProgrammingError:
            pass  # closed by the test already


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request, open_sqlite, pg_schema):
    """Factory of stores of one backend on one place (a file, a schema): the conformance suite.

    Every store opened by one test sees the same data, like a broker restarting
    on it. PostgreSQL stores fold the journal only on demand, as SQLite's do here.
    """
    if request.param == "sqlite":
        yield open_sqlite
        return
    from broker.service.pgstore import PgStore

    dsn, schema = pg_dsn(), pg_schema()
    stores: list[PgStore] = []

    def make(**kw) -> PgStore:
        store = PgStore(dsn, schema, maintenance=None)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def hold_lease(store) -> None:
    """Make ``store`` the shard's writer (a PostgreSQL store writes only under the lease)."""
    if isinstance(store, SqliteStore):
        return
    from broker.service.lease import Lease

    lease = Lease(store.dsn, store.schema, store.shard, holder=f"test-{id(store)}", ttl_s=3600)
    store.epoch = lease.try_take()
    lease.close()
    assert store.epoch is not None, "the test's lease was held by someone else"


def schema_version(store) -> int:
    if isinstance(store, SqliteStore):
        return store._db.execute("PRAGMA user_version").fetchone()[0]
    return store._db.execute(f"SELECT version FROM {store._sql['s']}.schema_version").fetchone()[0]


def materialized_position(store) -> int:
    if isinstance(store, SqliteStore):
        return store._state.execute("SELECT journal_id FROM position").fetchone()[0]
    return store._state.execute(f"SELECT journal_id FROM {store._sql['s']}.position").fetchone()[0]


class Floor:
    """An arbiter whose every batch is written to a store, like the server loop."""

    def __init__(self, store, clock: FakeClock):
        hold_lease(store)
        self.store = store
        self.clock = clock
        self.core = Arbiter(CoreConfig(), clock=clock)

    def commit(self) -> None:
        changes = self.core.drain()
        if changes:
            self.store.write(changes)

    def busy_day(self) -> None:
        core, clock = self.core, self.clock
        core.define_shop(ShopRecord(id="s1", name="Flagship"), "root")
        core.define_shop(ShopRecord(id="s2", mode="hybrid", hybrid_after_s=10.0), "root")
        core.define_group(GroupRecord(id="night", quotas=Quotas(concurrent_cap=3)), "root")
        for a in ("a1", "a2", "a3"):
            core.define_agent(AgentSpec(id=a, group="night", skills={"pre_sales": 3, "after_sales": 2},
                                        quality=95), "root")
            core.set_status(a, "online", a)
            core.seen(a)
        self.commit()
        for i in range(12):
            core.submit(NewInquiry(id=f"q{i}", shop="s2" if i % 4 == 3 else "s1",
                                   skill="after_sales" if i % 3 == 0 else "pre_sales", customer=f"c{i}"), "gw")
        self.commit()
        clock.advance(3)
        core.grab("ghost", "q0", "g0")    # refused: unknown agent
        core.grab("a1", "q0", "g1")
        core.grab("a2", "q0", "g2")       # lost to a1
        core.grab("a2", "q1", "g3")
        core.grab("a3", "q2", "g4")
        core.grab("a3", "nope", "g5")     # refused: not found
        self.commit()
        clock.advance(30)
        core.respond("a1", "q0")
        core.resolve("a2", "q1", 4)
        core.release("a3", "q2")
        core.grab("a1", "q2", "g6")       # re-grabbed after the release
        core.transfer("a1", "q2", "a2")
        core.reassign("q4", "a3", "boss", "VIP")
        core.grab("a1", "q4", "g7")       # lost to a supervisor's choice
        core.set_quotas(Quotas(daily_grabs=50), "boss", "peak", agent_id="a3")
        core.abandon("q5", "gw")
        core.audit("boss", "supervisor", "set_quotas", "a3", "peak", True)
        self.commit()
        clock.advance(15)
        core.tick()  # the hybrid shop auto-assigns what waited 10 s
        self.commit()
        clock.advance(200)
        core.tick()  # silent owners lose their inquiries
        self.commit()


def _agents_without_last_seen(agents):
    # a restart deliberately restarts the liveness clocks of known agents
    return {a.id: msgspec.structs.replace(a, last_seen=0.0) for a in agents}


# --------------------------------------------------------------------------- schema

def test_first_open_creates_both_files_at_the_current_schema_version(open_sqlite, store_path):
    store = open_sqlite()
    assert store_path.exists() and state_path_for(store_path).exists()
    journal_version = store._db.execute("PRAGMA user_version").fetchone()[0]
    state_version = store._state.execute("PRAGMA user_version").fetchone()[0]
    assert (journal_version, state_version) == (len(JOURNAL_MIGRATIONS), len(STATE_MIGRATIONS))
    tables = {r[0] for r in store._state.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"position", "config", "agents", "inquiries", "grabs", "audit"} <= tables
    assert {"journal", "settings"} <= {r[0] for r in store._db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}


def test_reopening_does_not_migrate_again_or_lose_data(open_store, clock):
    floor = Floor(open_store(), clock)
    floor.busy_day()
    floor.store.close()
    again = open_store()
    loaded = again.load(clock())
    assert {s.id for s in loaded.shops} == {"s1", "s2"}
    assert schema_version(again) == (len(JOURNAL_MIGRATIONS) if isinstance(again, SqliteStore)
                                     else len(PG_MIGRATIONS))


def test_an_empty_existing_file_is_migrated(open_sqlite, store_path):
    store_path.parent.mkdir(parents=True)
    sqlite3.connect(store_path).close()  # a zero-version database, e.g. touched by an operator
    store = open_sqlite()
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == len(JOURNAL_MIGRATIONS)


@pytest.mark.parametrize("which", ["journal", "state"])
def test_a_newer_schema_is_refused_with_a_clear_error(open_sqlite, store_path, which):
    open_sqlite().close()
    path = store_path if which == "journal" else state_path_for(store_path)
    newer = len(JOURNAL_MIGRATIONS if which == "journal" else STATE_MIGRATIONS) + 5
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={newer}")
    db.close()
    with pytest.raises(StoreError) as info:
        open_sqlite()
    message = str(info.value)
    assert str(path) in message and str(newer) in message and "upgrade" in message
    # refusing must not touch the file: the newer broker can still use it
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == newer
    db.close()


def test_bad_synchronous_setting_is_refused(store_path):
    with pytest.raises(StoreError, match="synchronous"):
        SqliteStore(store_path, synchronous="SOMETIMES", checkpoint_thread=False)


@pytest.mark.parametrize("synchronous, level", [("FULL", 2), ("NORMAL", 1)])
def test_wal_mode_without_autocheckpoint(open_sqlite, synchronous, level):
    store = open_sqlite(synchronous=synchronous)
    for db in (store._db, store._state):
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    # the journal is what makes a verdict a promise: it gets the configured durability
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == level


# --------------------------------------------------------------------------- round trips

def test_write_then_load_rebuilds_the_arbiter_exactly(open_store, clock):
    floor = Floor(open_store(), clock)
    floor.busy_day()
    core = floor.core
    core.check_invariants()

    loaded = open_store().load(clock())
    fresh = Arbiter(CoreConfig(), clock=clock)
    fresh.load(loaded.shops, loaded.groups, loaded.agents, loaded.inquiries, loaded.seq,
               loaded.stream_last, loaded.recent_grabs, loaded.closed)
    fresh.check_invariants()
    assert fresh.shops == core.shops and fresh.groups == core.groups
    assert _agents_without_last_seen(fresh.agents.values()) == _agents_without_last_seen(core.agents.values())
    assert fresh.inquiries == core.inquiries
    assert (fresh.seq, fresh.stream_last) == (core.seq, core.stream_last)
    assert fresh.closed_inquiries() == core.closed_inquiries()
    assert fresh.drain().events == [], "loading must not emit anything"


def test_a_retried_grab_gets_the_same_verdict_after_a_restart(open_store, clock):
    """Every verdict a client may retry within the reload window survives a restart unchanged."""
    floor = Floor(open_store(), clock)
    floor.busy_day()
    before = floor.core.remembered_verdicts()
    assert {f.outcome for f in before.values()} == {"won", "lost", "refused"}

    loaded = open_store().load(clock())
    fresh = Arbiter(CoreConfig(), clock=clock)
    fresh.load(loaded.shops, loaded.groups, loaded.agents, loaded.inquiries, loaded.seq,
               loaded.stream_last, loaded.recent_grabs, loaded.closed)
    differ = {}
    for (agent, grab_id), facts in before.items():
        again = fresh.grab(agent, facts.inquiry, grab_id)
        was = (facts.outcome, facts.code, facts.winner, facts.won_at)
        now = (again.outcome, again.code, again.winner, again.won_at)
        if now != was:
            differ[(agent, grab_id)] = (was, now)
    assert differ == {}, "verdicts changed by the restart (before, after): " + repr(differ)


def test_late_grab_after_restart_learns_who_had_a_closed_inquiry(open_store, clock):
    floor = Floor(open_store(), clock)
    floor.busy_day()
    loaded = open_store().load(clock())
    fresh = Arbiter(CoreConfig(), clock=clock)
    fresh.load(loaded.shops, loaded.groups, loaded.agents, loaded.inquiries, loaded.seq,
               loaded.stream_last, loaded.recent_grabs, loaded.closed)
    late = fresh.grab("a3", "q1", "late")  # q1 was resolved by a2 before the restart
    assert (late.outcome, late.winner) == ("lost", "a2")


def test_load_replays_what_the_state_tables_have_not_caught_up_with(open_store, clock):
    writer = open_store()
    floor = Floor(writer, clock)
    floor.busy_day()
    # a crash before the side thread materialized anything: only the journal has it
    reader = open_store()
    assert materialized_position(reader) == 0
    loaded = reader.load(clock())
    assert {i.id for i in loaded.inquiries} == set(floor.core.inquiries)
    assert loaded.seq == floor.core.seq


def test_the_state_file_can_be_rebuilt_from_the_journal(open_sqlite, store_path, clock):
    floor = Floor(open_sqlite(), clock)
    floor.busy_day()
    floor.store.close()
    for suffix in ("", "-wal", "-shm"):
        path = state_path_for(store_path).with_name(state_path_for(store_path).name + suffix)
        path.unlink(missing_ok=True)
    loaded = open_sqlite().load(clock())
    assert {i.id: i for i in loaded.inquiries} == floor.core.inquiries
    assert loaded.seq == floor.core.seq


def test_many_batches_are_all_materialized(open_store, clock):
    store = open_store()
    floor = Floor(store, clock)
    floor.core.define_shop(ShopRecord(id="s1"))
    floor.commit()
    for i in range(450):  # more than one materialization batch
        floor.core.submit(NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales"))
        floor.commit()
    loaded = open_store().load(clock())
    assert len(loaded.inquiries) == 450 and loaded.seq == floor.core.seq
    assert [e.seq for e in store.journal(since_seq=floor.core.seq - 3)] == \
        list(range(floor.core.seq - 2, floor.core.seq + 1))


def test_queries_see_the_latest_commit(open_store, clock):
    floor = Floor(open_store(), clock)
    floor.busy_day()
    history = floor.store.grab_history("q0")
    assert [(a.grab_id, a.agent, a.outcome) for a in history] == \
        [("g0", "ghost", "refused"), ("g1", "a1", "won"), ("g2", "a2", "lost")]
    entries = floor.store.audit(10, actor="boss")
    assert entries and entries[0].kind == "set_quotas" and entries[0].reason == "peak"
    floor.core.audit("boss", "supervisor", "reassign", "q9", "just now", False)
    floor.commit()
    newest = floor.store.audit(1, only_refusals=True)
    assert [(e.subject, e.reason, e.ok) for e in newest] == [("q9", "just now", False)]


# --------------------------------------------------------------------------- atomicity

def test_a_failed_write_leaves_nothing_half_done(open_store, clock):
    store = open_store()
    floor = Floor(store, clock)
    floor.core.define_shop(ShopRecord(id="s1"))
    floor.commit()
    seq_before = floor.core.seq

    floor.core.submit(NewInquiry(id="first", shop="s1", skill="pre_sales"))
    good = floor.core.drain()
    floor.core.submit(NewInquiry(id="second", shop="s1", skill="pre_sales"))
    broken = floor.core.drain()
    broken.seq = None  # the journal row violates a constraint
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
        store.write(broken)

    loaded = open_store().load(clock())
    assert loaded.inquiries == [] and loaded.seq == seq_before, "part of a failed batch became durable"
    # the store is usable after the failure
    store.write(good)
    assert [i.id for i in open_store().load(clock()).inquiries] == ["first"]


def test_batches_without_journaled_events_write_nothing(open_store, clock):
    store = open_store()
    floor = Floor(store, clock)
    floor.core.define_shop(ShopRecord(id="s1"))
    floor.commit()
    journal = list(store.journal())
    seq = floor.core.seq + 1
    metrics = FloorMetrics(at=clock())
    raw = encode(Event(seq=seq, kind="metrics.floor", at=clock(), record=metrics))
    store.write(Changes(events=[EmittedEvent("metrics", seq, raw, "metrics.floor", clock())], seq=seq,
                        stream_last={"metrics": seq}))  # a periodic view only
    assert list(store.journal()) == journal


def test_a_crash_with_a_pre_sized_wal_loses_no_commit(open_sqlite, store_path, tmp_path, clock):
    """The journal's WAL is padded with zeros so commits overwrite instead of extend
    it; the files as a crash leaves them (copied while the store is still open, so
    nothing was checkpointed or cleaned up) must load every committed batch."""
    store = open_sqlite()
    wal = store_path.parent / f"{store_path.name}-wal"
    assert wal.stat().st_size >= WAL_PRESIZE_BYTES
    floor = Floor(store, clock)
    floor.busy_day()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for path in store_path.parent.iterdir():
        shutil.copy(path, crashed / path.name)
    survivor = SqliteStore(crashed / store_path.name, synchronous="NORMAL", checkpoint_thread=False)
    try:
        loaded = survivor.load(clock())
    finally:
        survivor.close()
    assert {i.id: i for i in loaded.inquiries} == floor.core.inquiries
    assert loaded.seq == floor.core.seq
