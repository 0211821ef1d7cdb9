"""Bounded disk: the journal is pruned once materialized, history has a retention, restarts lose nothing."""
from __future__ import annotations

import csv
import sqlite3

import pytest

from broker.arbiter.core import Arbiter, CoreConfig
from broker.service import retention
from broker.service.retention import RetentionPolicy
from broker.service.store import SqliteStore, state_path_for
from broker.wire.protocol import AgentSpec, NewInquiry, Quotas, ShopRecord
from helpers import FakeClock

ROUND_S = 60.0
AGENTS = [f"a{i}" for i in range(10)]


def data_bytes(path) -> int:
    """The store's files but the journal's WAL, which is pre-sized to a constant 64 MB at start."""
    total = 0
    for f in (path, state_path_for(path), state_path_for(path).with_name(state_path_for(path).name + "-wal")):
        if f.exists():
            total += f.stat().st_size
    return total


class Floor:
    """An arbiter writing every batch to a store, like the broker's loop, on a fake clock."""

    def __init__(self, store: SqliteStore, clock: FakeClock):
        self.store, self.clock = store, clock
        self.core = Arbiter(CoreConfig(), clock=clock)
        self.n = 0

    def commit(self) -> None:
        changes = self.core.drain()
        if changes:
            self.store.write(changes)

    def open_floor(self) -> None:
        self.core.define_shop(ShopRecord(id="s1"), "root")
        for a in AGENTS:
            self.core.define_agent(AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                                             quotas=Quotas(concurrent_cap=100, daily_grabs=100_000)), "root")
            self.core.set_status(a, "online", a)
        self.commit()

    def busy_minute(self, inquiries: int = 60) -> None:
        """Inquiries arrive, are grabbed (with a losing second grab each) and resolved."""
        core = self.core
        for a in AGENTS:  # back from the minute's silence the fake clock skipped
            core.seen(a)
            if core.agents[a].status != "online":
                core.set_status(a, "online", a)
        for _ in range(inquiries):
            self.n += 1
            q = f"q{self.n}"
            core.submit(NewInquiry(id=q, shop="s1", skill="pre_sales"), "gw")
            winner, loser = AGENTS[self.n % 10], AGENTS[(self.n + 1) % 10]
            won = core.grab(winner, q, f"g{self.n}").outcome == "won"
            core.grab(loser, q, f"l{self.n}")
            if won:
                core.respond(winner, q)
                core.resolve(winner, q, 5)
            self.commit()
        self.clock.advance(ROUND_S)
        core.tick()
        self.commit()


def test_the_store_levels_off_and_a_restart_restores_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(retention, "RETENTION_EVERY_S", 0.0)
    path = tmp_path / "broker.db"
    exports = tmp_path / "exported"
    clock = FakeClock()
    # ten minutes of history on the broker's clock: a run of an hour laps it six times
    policy = RetentionPolicy(days=600 / 86_400, export_dir=str(exports))
    store = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False, retention=policy)
    floor = Floor(store, clock)
    floor.open_floor()
    sizes, journal_rows = [], []
    for minute in range(60):
        floor.busy_minute()
        store.maintain()
        sizes.append(data_bytes(path))
        journal_rows.append(store._db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
    # the journal keeps only what is not yet materialized (a pass's worth), not the hour
    assert max(journal_rows[10:]) < 3 * 62, journal_rows
    # history older than ten minutes is gone from the state file ...
    oldest = store._state.execute("SELECT MIN(at) FROM grabs").fetchone()[0]
    assert oldest >= clock() - 600 - 2 * ROUND_S
    # ... after being exported
    with open(next(exports.glob("grabs-*.csv"))) as f:
        exported = list(csv.reader(f))
    assert exported[0][:2] == ["inquiry", "grab_id"] and len(exported) > 1000
    # the second half of the hour costs no more disk than the first half ended with
    assert sizes[-1] <= sizes[29] * 1.05, sizes
    store.close()

    reopened = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False, retention=policy)
    loaded = reopened.load(clock())
    assert {i.id: i for i in loaded.inquiries} == floor.core.inquiries
    assert {a.id: a.held for a in loaded.agents} == {a.id: a.held for a in floor.core.agents.values()}
    assert loaded.seq == floor.core.seq
    reopened.close()


def test_the_newest_journal_row_is_never_pruned(tmp_path):
    """SQLite numbers a new row after the highest left: pruning them all would restart at 1."""
    path = tmp_path / "broker.db"
    clock = FakeClock()
    store = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False)
    floor = Floor(store, clock)
    floor.open_floor()
    for _ in range(3):
        floor.busy_minute(5)
        store.maintain()
    for _ in range(30):  # commits prune a few rows each until only the newest is left
        floor.core.submit(NewInquiry(id=f"x{_}", shop="s1", skill="pre_sales"), "gw")
        floor.commit()
        store.maintain()
    ids = [i for (i,) in store._db.execute("SELECT id FROM journal ORDER BY id")]
    assert ids and ids[0] > 1
    newest = ids[-1]
    store.maintain()
    floor.core.submit(NewInquiry(id="last", shop="s1", skill="pre_sales"), "gw")
    floor.commit()
    assert store._db.execute("SELECT MAX(id) FROM journal").fetchone()[0] == newest + 1
    store.close()
    loaded = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False).load(clock())
    assert "last" in {i.id for i in loaded.inquiries}


def test_retention_zero_keeps_history(tmp_path, monkeypatch):
    monkeypatch.setattr(retention, "RETENTION_EVERY_S", 0.0)
    path = tmp_path / "broker.db"
    clock = FakeClock()
    store = SqliteStore(path, synchronous="NORMAL", checkpoint_thread=False, retention=RetentionPolicy(days=0))
    floor = Floor(store, clock)
    floor.open_floor()
    for _ in range(3):
        floor.busy_minute(10)
        clock.advance(400 * 86_400)
        store.maintain()
    assert store._state.execute("SELECT COUNT(*) FROM grabs").fetchone()[0] == 60
    store.close()


@pytest.mark.slow
def test_kill_9_while_the_journal_is_pruned_loses_nothing(tmp_path, monkeypatch):
    """A real broker process pruning continuously (a materializer pass every 0.1 s) is killed
    under load; on restart every acknowledged decision is back (the checks of test_durability)."""
    from helpers import wait_until
    from test_durability import AGENTS as RACERS, BrokerProcess, _load_kill_restart_check
    from broker.wire import protocol as p

    monkeypatch.setenv("GRABDESK_MATERIALIZE_S", "0.1")
    bp = BrokerProcess(tmp_path)
    try:
        proc = bp.start()
        admin = bp.client("admin", "root")
        admin.call(p.DefineShop, shop=p.ShopRecord(id="s1"))
        admin.call(p.DefineAgents, agents=[
            p.AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                        quotas=p.Quotas(concurrent_cap=1000, daily_grabs=100_000)) for a in RACERS])
        for a in RACERS:
            admin.call(p.SetStatus, status="online", agent=a)

        def oldest_row() -> int:
            with sqlite3.connect(f"file:{bp.db}?mode=ro", uri=True) as db:
                return db.execute("SELECT MIN(id) FROM journal").fetchone()[0] or 0

        n = 0

        def commit_some() -> bool:  # each submit is a commit, and each commit prunes
            nonlocal n
            n += 1
            admin.call(p.Submit, inquiries=[p.NewInquiry(id=f"w{n}-{k}", shop="s1", skill="pre_sales")
                                            for k in range(3)])
            return oldest_row() > 50

        # pruning is under way (rows gone, more going with each commit) when the load starts and
        # the kill lands; how many more rows go before it depends on the machine's load
        wait_until(commit_some, timeout_s=60, interval_s=0.01, message="the journal was never pruned")
        _load_kill_restart_check(bp, proc)
    finally:
        bp.cleanup()
