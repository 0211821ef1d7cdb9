"""Durable state behind a small interface.

The broker calls ``write(changes)`` once per batch of commands and sends
that batch's verdicts only after it returns (group commit), so every verdict a
client has seen survives a crash. ``load()`` rebuilds the arbiter's state.

``SqliteStore`` is the embedded default. A PostgreSQL store for several
brokers and a standby implements the same ``Store`` protocol; nothing in
the core knows which one it talks to.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec

from broker.core import Changes
from broker.protocol import (
    AgentRecord, AuditEntry, GrabAttempt, GroupRecord, InquiryRecord, ShopRecord, encode,
)

log = logging.getLogger(__name__)

#: streams whose events form the journal; metrics and coverage are periodic views
JOURNALED_STREAMS = frozenset({"inquiry", "agent", "config", "audit", "alert"})
#: verdicts reloaded at start so a grab retried across a restart gets the same answer
VERDICT_RELOAD_S = 600.0
#: how often the side thread folds the WAL back into the database
CHECKPOINT_INTERVAL_S = 1.0


@dataclass
class Loaded:
    shops: list[ShopRecord] = field(default_factory=list)
    groups: list[GroupRecord] = field(default_factory=list)
    agents: list[AgentRecord] = field(default_factory=list)
    inquiries: list[InquiryRecord] = field(default_factory=list)
    seq: int = 0
    stream_last: dict[str, int] = field(default_factory=dict)
    #: (inquiry, grab_id, agent, outcome, code, reason, winner, won_at)
    recent_grabs: list[tuple] = field(default_factory=list)
    roster: tuple[str, str] | None = None


class Store(Protocol):
    def load(self, now: float) -> Loaded: ...
    def write(self, changes: Changes) -> None: ...
    def grab_history(self, inquiry: str) -> list[GrabAttempt]: ...
    def audit(self, limit: int, actor: str | None, kind_prefix: str | None,
              only_refusals: bool) -> list[AuditEntry]: ...
    def close(self) -> None: ...


# Each entry migrates from version i to i+1; never edit one that has shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE config (kind TEXT NOT NULL, id TEXT NOT NULL, record BLOB NOT NULL,
                         PRIMARY KEY (kind, id));
    CREATE TABLE agents (id TEXT PRIMARY KEY, record BLOB NOT NULL);
    CREATE TABLE inquiries (
        id TEXT PRIMARY KEY, state TEXT NOT NULL, shop TEXT NOT NULL, skill TEXT NOT NULL,
        owner TEXT, arrived_at REAL NOT NULL, taken_at REAL, first_response_at REAL,
        closed_at REAL, satisfaction INTEGER, record BLOB NOT NULL);
    CREATE INDEX inquiries_open ON inquiries (state) WHERE state IN ('queued', 'held');
    CREATE INDEX inquiries_closed ON inquiries (closed_at) WHERE closed_at IS NOT NULL;
    CREATE INDEX inquiries_arrived ON inquiries (arrived_at);
    CREATE TABLE grabs (inquiry TEXT NOT NULL, grab_id TEXT NOT NULL, agent TEXT NOT NULL,
                        at REAL NOT NULL, latency_s REAL NOT NULL, outcome TEXT NOT NULL,
                        code TEXT NOT NULL, reason TEXT NOT NULL);
    CREATE INDEX grabs_inquiry ON grabs (inquiry);
    CREATE INDEX grabs_at ON grabs (at);
    CREATE TABLE journal (seq INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL,
                          actor TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL,
                          event BLOB NOT NULL);
    CREATE INDEX journal_kind ON journal (kind, seq);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path() -> Path:
    """Per-user data location (XDG), so a bare ``grabdesk broker`` just works."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "grabdesk" / "broker.db"


class StoreError(RuntimeError):
    pass


_agent_dec = msgspec.msgpack.Decoder(AgentRecord)
_inq_dec = msgspec.msgpack.Decoder(InquiryRecord)
_shop_dec = msgspec.msgpack.Decoder(ShopRecord)
_group_dec = msgspec.msgpack.Decoder(GroupRecord)
_audit_event_dec = msgspec.msgpack.Decoder(dict)


class SqliteStore:
    """SQLite in WAL mode; one writer connection owned by the broker loop.

    ``synchronous=FULL`` makes each commit survive a power loss, not only a
    process crash; group commit keeps that affordable. The automatic WAL
    checkpoint is off because it runs on the committing thread and stalls
    verdicts; a side thread checkpoints instead (PERF-NOTES trap 4).
    """

    def __init__(self, path: str | os.PathLike, synchronous: str = "FULL", checkpoint_thread: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._db.execute("PRAGMA journal_mode=WAL")
        if synchronous.upper() not in ("FULL", "NORMAL", "OFF"):
            raise StoreError(f"synchronous must be FULL, NORMAL or OFF, not {synchronous}")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_thread:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="store-checkpoint",
                                                  daemon=True)
            self._checkpointer.start()

    # -------------------------------------------------------------- schema

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {version}, newer than this broker "
                             f"({SCHEMA_VERSION}); upgrade grabdesk")
        for target in range(version, SCHEMA_VERSION):
            log.info("migrating store %s to schema version %d", self.path, target + 1)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={target + 1}")
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise

    def _checkpoint_loop(self) -> None:
        try:
            side = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:  # pragma: no cover - the main connection just opened it
            log.error("checkpoint thread cannot open the store: %s", exc)
            return
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL_S):
                try:
                    side.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            side.close()

    # -------------------------------------------------------------- loop side

    def load(self, now: float) -> Loaded:
        db = self._db
        out = Loaded()
        for kind, blob in db.execute("SELECT kind, record FROM config"):
            if kind == "shop":
                out.shops.append(_shop_dec.decode(blob))
            elif kind == "group":
                out.groups.append(_group_dec.decode(blob))
            elif kind == "roster":
                fmt, text = json.loads(blob)
                out.roster = (fmt, text)
        out.agents = [_agent_dec.decode(b) for (b,) in db.execute("SELECT record FROM agents")]
        out.inquiries = [_inq_dec.decode(b) for (b,) in db.execute(
            "SELECT record FROM inquiries WHERE state IN ('queued', 'held')")]
        meta = dict(db.execute("SELECT key, value FROM meta"))
        out.seq = int(meta.get("seq", 0))
        out.stream_last = json.loads(meta.get("stream_last", "{}"))
        winners = {}
        rows = db.execute("SELECT inquiry, grab_id, agent, outcome, code, reason, at FROM grabs "
                          "WHERE at >= ? ORDER BY rowid", (now - VERDICT_RELOAD_S,)).fetchall()
        for inquiry, _gid, agent, outcome, _c, _r, at in rows:
            if outcome == "won":
                winners[inquiry] = (agent, at)
        for inquiry, grab_id, agent, outcome, code, reason, at in rows:
            winner, won_at = winners.get(inquiry, (None, None))
            out.recent_grabs.append((inquiry, grab_id, agent, outcome, code, reason, winner, won_at))
        return out

    def write(self, changes: Changes) -> None:
        """Make one batch durable: one transaction, one commit."""
        db = self._db
        db.execute("BEGIN")
        try:
            if changes.inquiries:
                db.executemany(
                    "INSERT OR REPLACE INTO inquiries (id, state, shop, skill, owner, arrived_at, taken_at,"
                    " first_response_at, closed_at, satisfaction, record) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(i.id, i.state, i.shop, i.skill, i.owner, i.arrived_at, i.taken_at,
                      i.first_response_at, i.closed_at, i.satisfaction, encode(i))
                     for i in changes.inquiries.values()])
            if changes.agents:
                db.executemany("INSERT OR REPLACE INTO agents (id, record) VALUES (?, ?)",
                               [(a.id, encode(a)) for a in changes.agents.values()])
            if changes.config:
                db.executemany("INSERT OR REPLACE INTO config (kind, id, record) VALUES (?, ?, ?)",
                               [(k, i, r if isinstance(r, bytes) else encode(r))
                                for (k, i), r in changes.config.items()])
            if changes.grabs:
                db.executemany("INSERT INTO grabs VALUES (?,?,?,?,?,?,?,?)", changes.grabs)
            journal = [(seq, at, kind, actor, subject, reason, raw)
                       for (stream, seq, raw, kind, at, actor, subject, reason) in changes.events
                       if stream in JOURNALED_STREAMS]
            if journal:
                db.executemany("INSERT INTO journal VALUES (?,?,?,?,?,?,?)", journal)
            if changes.events:
                db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               [("seq", str(changes.seq)),
                                ("stream_last", json.dumps(changes.stream_last))])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def save_roster(self, fmt: str, text: str) -> None:
        """Rosters are config: kept so a restart keeps the last accepted one."""
        self._db.execute("INSERT OR REPLACE INTO config (kind, id, record) VALUES ('roster', 'current', ?)",
                         (json.dumps([fmt, text]).encode(),))

    # -------------------------------------------------------------- queries

    def grab_history(self, inquiry: str) -> list[GrabAttempt]:
        return [GrabAttempt(*row) for row in self._db.execute(
            "SELECT grab_id, agent, at, latency_s, outcome, code, reason FROM grabs "
            "WHERE inquiry = ? ORDER BY rowid", (inquiry,))]

    def audit(self, limit: int, actor: str | None = None, kind_prefix: str | None = None,
              only_refusals: bool = False) -> list[AuditEntry]:
        sql = "SELECT event FROM journal WHERE kind = 'audit.entry'"
        args: list = []
        if actor:
            sql += " AND actor = ?"
            args.append(actor)
        sql += " ORDER BY seq DESC LIMIT ?"
        # filters on the entry's own fields are applied after decoding; over-fetch for them
        args.append(max(1, min(limit, 5000)) * (4 if (kind_prefix or only_refusals) else 1))
        entries = []
        for (blob,) in self._db.execute(sql, args):
            record = _audit_event_dec.decode(blob).get("record") or {}
            entry = msgspec.convert(record, AuditEntry)
            if kind_prefix and not entry.kind.startswith(kind_prefix):
                continue
            if only_refusals and entry.ok:
                continue
            entries.append(entry)
            if len(entries) >= limit:
                break
        return entries

    def connection(self) -> sqlite3.Connection:
        """The loop's connection, for read-only queries made on the loop (reports)."""
        return self._db

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("final checkpoint failed: %s", exc)
        self._db.close()
