"""The store in PostgreSQL, for brokers that run as an active/standby pair.

Same shape as ``SqliteStore`` (see store.py): an append-only **journal**, one
row per committed batch, is the only write on the decision path; the
**state** tables (shops, groups, agents, inquiries, grabs, audit) are folded
from it by a materializer (``store.fold_journal``) off the decision path, and
``load()`` folds whatever is left before it reads them. Everything lives in
one schema per shard, with a ``schema_version`` table and the shard's
``lease`` row (lease.py).

**Fencing.** Every write is one statement that inserts only if the lease row
still carries this store's epoch, locking that row ``FOR SHARE`` until it
commits::

    INSERT INTO journal (...) SELECT ... FROM lease WHERE shard = $s AND epoch = $e FOR SHARE

A standby takes over by updating the lease row (epoch + 1), which waits for
any such insert in flight and makes every later one insert nothing. So a
broker that was frozen past its lease and wakes up finds its commit refused
(``Fenced``) and never announces the verdicts it decided; whatever it
committed before the takeover is in the journal the new active loads.

Each commit runs in autocommit: one statement, one transaction, one round
trip, flushed to the WAL before it returns (``synchronous_commit = on`` is
set per session, whatever the server's default).
"""
from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from broker.arbiter.core import Changes
from broker.service.store import (
    CLOSED_RELOAD, MATERIALIZE_BATCH_ROWS, MAINTENANCE_INTERVAL_S, VERDICT_RELOAD_S, Loaded, StoreError,
    _agent_dec, _event_list_dec, _group_dec, _inq_dec, _shop_dec, _one_blob, _transcript_dec, fold_journal, journal_row,
)
from broker.wire.protocol import STREAMS, AgentGrabAttempt, AuditEntry, GrabAttempt, PastInquiry, TranscriptRecord

log = logging.getLogger(__name__)

#: a server that does not answer a connection attempt this fast is treated as down
CONNECT_TIMEOUT_S = 2
#: unacknowledged data on a connection for this long drops it (a cut network would
#: otherwise leave a commit waiting for the TCP timeout, minutes)
TCP_USER_TIMEOUT_MS = 3_000

# Each entry migrates from version i to i+1; never edit one that has shipped.
# {s} is the shard's schema, quoted.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE {s}.lease (
        shard TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL, taken_at TIMESTAMPTZ NOT NULL,
        command_endpoint TEXT NOT NULL, events_endpoint TEXT NOT NULL);
    CREATE TABLE {s}.journal (id BIGSERIAL PRIMARY KEY, epoch BIGINT NOT NULL, last_seq BIGINT NOT NULL,
                              at DOUBLE PRECISION NOT NULL, events BYTEA NOT NULL, grabs BYTEA NOT NULL);
    CREATE TABLE {s}.settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE {s}.position (id INTEGER PRIMARY KEY CHECK (id = 1), journal_id BIGINT NOT NULL,
                               seq BIGINT NOT NULL, stream_last TEXT NOT NULL);
    INSERT INTO {s}.position VALUES (1, 0, 0, '{{}}');
    CREATE TABLE {s}.config (kind TEXT NOT NULL, id TEXT NOT NULL, record BYTEA NOT NULL,
                             PRIMARY KEY (kind, id));
    CREATE TABLE {s}.agents (id TEXT PRIMARY KEY, record BYTEA NOT NULL);
    CREATE TABLE {s}.inquiries (
        id TEXT PRIMARY KEY, state TEXT NOT NULL, shop TEXT NOT NULL, skill TEXT NOT NULL,
        language TEXT NOT NULL, channel TEXT NOT NULL, owner TEXT, arrived_at DOUBLE PRECISION NOT NULL,
        taken_at DOUBLE PRECISION, first_response_at DOUBLE PRECISION, closed_at DOUBLE PRECISION,
        satisfaction INTEGER, record BYTEA NOT NULL);
    CREATE INDEX inquiries_open ON {s}.inquiries (state) WHERE state IN ('queued', 'held');
    CREATE INDEX inquiries_closed ON {s}.inquiries (closed_at) WHERE closed_at IS NOT NULL;
    CREATE INDEX inquiries_arrived ON {s}.inquiries (arrived_at);
    CREATE TABLE {s}.grabs (n BIGSERIAL PRIMARY KEY, inquiry TEXT NOT NULL, grab_id TEXT NOT NULL,
                            agent TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                            latency_s DOUBLE PRECISION NOT NULL, outcome TEXT NOT NULL, code TEXT NOT NULL,
                            reason TEXT NOT NULL, winner TEXT, won_at DOUBLE PRECISION);
    CREATE INDEX grabs_inquiry ON {s}.grabs (inquiry);
    CREATE INDEX grabs_at ON {s}.grabs (at);
    CREATE TABLE {s}.audit (seq BIGINT PRIMARY KEY, at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL,
                            role TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
                            reason TEXT NOT NULL, ok BOOLEAN NOT NULL);
    CREATE INDEX audit_actor ON {s}.audit (actor, seq);
    """,
    # a customer's earlier inquiries and an agent's recent grabs, for the windows' history views
    """
    ALTER TABLE {s}.inquiries ADD COLUMN customer TEXT NOT NULL DEFAULT '';
    CREATE INDEX inquiries_customer ON {s}.inquiries (customer, arrived_at) WHERE customer != '';
    CREATE INDEX grabs_agent ON {s}.grabs (agent, at);
    """,
    # what the customer wrote and the robot replied (docs/protocol.md, "Transcripts")
    """
    CREATE TABLE {s}.transcripts (id TEXT PRIMARY KEY, record BYTEA NOT NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Fenced(StoreError):
    """A write carried an epoch the lease no longer has: another broker took over."""


class StoreUnavailable(StoreError):
    """PostgreSQL did not answer (down, unreachable, connection lost)."""


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


def address_of(dsn: str) -> str:
    """host:port/dbname of a DSN, for messages (never the password)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(dsn)
    except Exception:
        return "<unparsable PostgreSQL URL>"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or '(default db)'}"


def schema_for(shard: str) -> str:
    """The schema a shard's tables live in, unless the configuration names one."""
    return "grabdesk_" + re.sub(r"[^a-z0-9_]", "_", shard.lower())


def connect(dsn: str):
    """A connection in autocommit with the durability the store promises, or StoreUnavailable."""
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(f"a PostgreSQL store needs psycopg ({exc}); pip install 'psycopg[binary]'") from exc
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               tcp_user_timeout=TCP_USER_TIMEOUT_MS, keepalives=1, keepalives_idle=1,
                               keepalives_interval=1, keepalives_count=3, application_name="grabdesk-broker")
        # a verdict is a promise: its commit is on the WAL disk before the reply
        conn.execute("SET synchronous_commit = on")
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL not reachable at {address_of(dsn)}: {_one_line(exc)}") from exc
    return conn


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_schema(dsn: str, schema: str) -> str:
    """What a start would find, read-only: one line, or StoreError/StoreUnavailable saying what is wrong."""
    import psycopg

    location = f"{address_of(dsn)} schema {schema}"
    conn = connect(dsn)
    try:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".schema_version',)).fetchone()[0]
        if not exists:
            return f"PostgreSQL {location} (new; will be created)"
        version = conn.execute(f'SELECT version FROM "{schema}".schema_version').fetchone()
        version = version[0] if version else 0
    except psycopg.Error as exc:
        raise StoreError(f"cannot read schema {schema} at {address_of(dsn)}: {_one_line(exc)}") from None
    finally:
        conn.close()
    if version > len(MIGRATIONS):
        raise StoreError(f"{location} has schema version {version}, newer than this broker "
                         f"({len(MIGRATIONS)}); upgrade grabdesk")
    return f"PostgreSQL {location} (schema version {version})"


class PgStore:
    """Journal + materialized state in one PostgreSQL schema. See the module docstring.

    ``epoch`` is the lease epoch the broker holds (lease.py); ``write`` and
    ``save_roster`` are fenced by it and raise ``Fenced`` once another broker
    took the lease. ``maintenance`` folds the journal into the state tables
    every MAINTENANCE_INTERVAL_S in a child process at the lowest priority
    ("process": the decoding never holds the broker's GIL, as SqliteStore's),
    on a thread ("thread"), or only when a query or ``load`` needs it (None).
    """

    def __init__(self, dsn: str, schema: str, shard: str = "main", *, maintenance: str | None = "thread"):
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"schema name {schema!r}: use lower-case letters, digits and _ (at most 63)")
        self.dsn = dsn
        self.schema = schema
        self.shard = shard
        self.location = f"{address_of(dsn)} schema {schema}"
        self.epoch: int | None = None
        self._db = connect(dsn)
        self._mat_lock = threading.Lock()
        try:
            self._migrate()
            self._state = connect(dsn)
        except BaseException:
            self._db.close()
            raise
        self._sql = self._statements()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = None
        if maintenance == "process":
            import multiprocessing
            import os

            ctx = multiprocessing.get_context("spawn")
            self._process = ctx.Process(target=_materializer_main, name="grabdesk-pg-materializer",
                                        args=(dsn, schema, shard, os.getpid()), daemon=True)
            self._process.start()
        elif maintenance == "thread":
            self._thread = threading.Thread(target=self._maintenance_loop, name="pg-store-maintenance",
                                            daemon=True)
            self._thread.start()

    # -------------------------------------------------------------- schema

    def _migrate(self) -> None:
        import psycopg
        from psycopg import sql

        s = sql.Identifier(self.schema).as_string(self._db)
        try:
            with self._db.transaction():
                # two brokers starting at once: one migrates, the other waits and finds it done
                self._db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("grabdesk:" + self.schema,))
                self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {s}.schema_version (version INTEGER NOT NULL)")
                row = self._db.execute(f"SELECT version FROM {s}.schema_version").fetchone()
                version = row[0] if row else 0
                if version > len(MIGRATIONS):
                    raise StoreError(f"{self.location} has schema version {version}, newer than this broker "
                                     f"({len(MIGRATIONS)}); upgrade grabdesk")
                if row is None:
                    self._db.execute(f"INSERT INTO {s}.schema_version VALUES (0)")
                for target in range(version, len(MIGRATIONS)):
                    log.info("migrating %s to schema version %d", self.location, target + 1)
                    for statement in MIGRATIONS[target].format(s=s).split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"UPDATE {s}.schema_version SET version = %s", (target + 1,))
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL at {address_of(self.dsn)} failed while preparing "
                                   f"schema {self.schema}: {_one_line(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot prepare schema {self.schema} at {address_of(self.dsn)}: "
                             f"{_one_line(exc)}") from exc

    def _statements(self) -> dict[str, str]:
        from psycopg import sql

        s = sql.Identifier(self.schema).as_string(self._db)
        fenced_by = f"FROM {s}.lease WHERE shard = %s AND epoch = %s FOR SHARE"
        return {
            "journal": f"INSERT INTO {s}.journal (epoch, last_seq, at, events, grabs) "
                       f"SELECT %s, %s, %s, %s, %s {fenced_by}",
            "roster": f"INSERT INTO {s}.settings (key, value) SELECT 'roster', %s {fenced_by} "
                      f"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            "s": s,
        }

    # -------------------------------------------------------------- decision path

    def write(self, changes: Changes) -> None:
        """Make one batch durable: one fenced insert, one commit; ``Fenced`` if the lease moved on."""
        row = journal_row(changes)
        if row is None:
            return  # only periodic views (metrics) changed: nothing to keep
        self._fenced(self._sql["journal"], (self._held_epoch(), *row, self.shard, self.epoch))

    def save_roster(self, fmt: str, text: str) -> None:
        """Rosters are configuration: kept so a restart keeps the last accepted one."""
        self._fenced(self._sql["roster"], (json.dumps([fmt, text]), self.shard, self._held_epoch()))

    def _held_epoch(self) -> int:
        if self.epoch is None:
            raise Fenced(f"shard {self.shard}: this broker does not hold the lease; it may not write")
        return self.epoch

    def _fenced(self, statement: str, args: tuple) -> None:
        import psycopg

        try:
            inserted = self._db.execute(statement, args).rowcount
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL at {address_of(self.dsn)}: {_one_line(exc)}") from exc
        if inserted != 1:
            raise Fenced(f"shard {self.shard}: the lease is no longer at epoch {self.epoch} "
                         "(another broker took over); nothing was written")

    # -------------------------------------------------------------- materializing

    def _maintenance_loop(self) -> None:
        import psycopg

        while not self._stop.wait(MAINTENANCE_INTERVAL_S):
            try:
                self.catch_up()
            except (psycopg.Error, StoreError) as exc:
                log.warning("store maintenance failed: %s", _one_line(exc))

    def catch_up(self) -> None:
        """Fold every committed journal row into the state tables."""
        import psycopg

        with self._mat_lock:
            try:
                while self._step():
                    pass
            except psycopg.OperationalError as exc:
                raise StoreUnavailable(f"PostgreSQL at {address_of(self.dsn)}: {_one_line(exc)}") from exc

    def _step(self) -> bool:
        """Fold up to MATERIALIZE_BATCH_ROWS journal rows in one transaction; True if more may follow.

        The position row is locked first, so several brokers' materializers
        (the active's, a standby's ``load``) apply each row exactly once.
        """
        s = self._sql["s"]
        db = self._state
        with db.transaction():
            position, seq, stream_last = db.execute(
                f"SELECT journal_id, seq, stream_last FROM {s}.position FOR UPDATE").fetchone()
            rows = db.execute(f"SELECT id, last_seq, events, grabs FROM {s}.journal WHERE id > %s "
                              f"ORDER BY id LIMIT %s", (position, MATERIALIZE_BATCH_ROWS)).fetchall()
            if not rows:
                return False
            folded = fold_journal(rows, seq, json.loads(stream_last), lambda agent_id: _one_blob(db.execute(
                f"SELECT record FROM {s}.agents WHERE id = %s", (agent_id,)).fetchone()))
            with db.cursor() as cur:
                if folded.inquiries:
                    cur.executemany(
                        f"INSERT INTO {s}.inquiries (id, state, shop, skill, language, channel, owner, "
                        "arrived_at, taken_at, first_response_at, closed_at, satisfaction, customer, record) "
                        "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET "
                        "state = EXCLUDED.state, owner = EXCLUDED.owner, taken_at = EXCLUDED.taken_at, "
                        "first_response_at = EXCLUDED.first_response_at, closed_at = EXCLUDED.closed_at, "
                        "satisfaction = EXCLUDED.satisfaction, shop = EXCLUDED.shop, skill = EXCLUDED.skill, "
                        "language = EXCLUDED.language, channel = EXCLUDED.channel, "
                        "arrived_at = EXCLUDED.arrived_at, customer = EXCLUDED.customer, "
                        "record = EXCLUDED.record", folded.inquiries)
                if folded.agents:
                    cur.executemany(f"INSERT INTO {s}.agents (id, record) VALUES (%s, %s) "
                                    "ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record", folded.agents)
                if folded.config:
                    cur.executemany(f"INSERT INTO {s}.config (kind, id, record) VALUES (%s, %s, %s) "
                                    "ON CONFLICT (kind, id) DO UPDATE SET record = EXCLUDED.record",
                                    folded.config)
                if folded.grabs:
                    with cur.copy(f"COPY {s}.grabs (inquiry, grab_id, agent, at, latency_s, outcome, code, "
                                  "reason, winner, won_at) FROM STDIN") as copy:
                        for grab in folded.grabs:
                            copy.write_row(grab)
                if folded.audit:
                    cur.executemany(
                        f"INSERT INTO {s}.audit VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (seq) DO NOTHING",
                        [(*a[:7], bool(a[7])) for a in folded.audit])
                if folded.transcripts:
                    cur.executemany(f"INSERT INTO {s}.transcripts (id, record) VALUES (%s, %s) "
                                    "ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record", folded.transcripts)
            db.execute(f"UPDATE {s}.position SET journal_id = %s, seq = %s, stream_last = %s",
                       (folded.journal_id, folded.seq, json.dumps(folded.stream_last)))
        return len(rows) == MATERIALIZE_BATCH_ROWS

    # -------------------------------------------------------------- restart

    def load(self, now: float) -> Loaded:
        """Rebuild the arbiter's state: fold the journal tail, then read the state tables."""
        self.catch_up()
        s = self._sql["s"]
        out = Loaded()
        with self._mat_lock, self._state.transaction():
            db = self._state
            # one snapshot of the tables for everything read below
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for kind, blob in db.execute(f"SELECT kind, record FROM {s}.config"):
                if kind == "shop":
                    out.shops.append(_shop_dec.decode(blob))
                elif kind == "group":
                    out.groups.append(_group_dec.decode(blob))
            out.agents = [_agent_dec.decode(b) for (b,) in db.execute(f"SELECT record FROM {s}.agents")]
            out.inquiries = [_inq_dec.decode(b) for (b,) in db.execute(
                f"SELECT record FROM {s}.inquiries WHERE state IN ('queued', 'held', 'robot')")]
            out.transcripts = [_transcript_dec.decode(b) for (b,) in db.execute(
                f"SELECT t.record FROM {s}.transcripts t JOIN {s}.inquiries i ON i.id = t.id "
                f"WHERE i.state IN ('queued', 'held', 'robot')")]
            out.closed = [tuple(r) for r in db.execute(
                f"SELECT id, state, owner, taken_at FROM (SELECT id, state, owner, taken_at, closed_at "
                f"FROM {s}.inquiries WHERE closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT %s) c "
                f"ORDER BY closed_at", (CLOSED_RELOAD,))]
            _pos, seq, stream_last = db.execute(
                f"SELECT journal_id, seq, stream_last FROM {s}.position").fetchone()
            last = db.execute(f"SELECT MAX(last_seq) FROM {s}.journal").fetchone()[0] or 0
            out.seq = max(seq, last)
            out.stream_last = {st: 0 for st in STREAMS} | json.loads(stream_last)
            roster = db.execute(f"SELECT value FROM {s}.settings WHERE key = 'roster'").fetchone()
            if roster:
                fmt, text = json.loads(roster[0])
                out.roster = (fmt, text)
            out.recent_grabs = [tuple(r) for r in db.execute(
                f"SELECT inquiry, grab_id, agent, outcome, code, reason, winner, won_at FROM {s}.grabs "
                f"WHERE at >= %s ORDER BY n", (now - VERDICT_RELOAD_S,))]
        return out

    # -------------------------------------------------------------- queries

    def _query(self, statement: str, args=()) -> list[tuple]:
        """Read the state, current to the last commit."""
        self.catch_up()
        with self._mat_lock:
            # without arguments psycopg leaves % alone (LIKE patterns)
            return [tuple(r) for r in self._state.execute(statement, args or None).fetchall()]

    def grab_history(self, inquiry: str) -> list[GrabAttempt]:
        s = self._sql["s"]
        return [GrabAttempt(*row) for row in self._query(
            f"SELECT grab_id, agent, at, latency_s, outcome, code, reason FROM {s}.grabs "
            "WHERE inquiry = %s ORDER BY n", (inquiry,))]

    def agent_grabs(self, agent: str, limit: int) -> list[AgentGrabAttempt]:
        """An agent's latest grab attempts, newest first."""
        s = self._sql["s"]
        return [AgentGrabAttempt(*row) for row in self._query(
            f"SELECT inquiry, grab_id, at, latency_s, outcome, code, reason, winner FROM {s}.grabs "
            "WHERE agent = %s ORDER BY at DESC LIMIT %s", (agent, limit))]

    def customer_history(self, customer: str, limit: int) -> list[PastInquiry]:
        """A customer's latest inquiries (open ones included), newest first."""
        s = self._sql["s"]
        return [PastInquiry(*row) for row in self._query(
            f"SELECT id, shop, skill, arrived_at, state, owner, closed_at, satisfaction FROM {s}.inquiries "
            "WHERE customer = %s AND customer != '' ORDER BY arrived_at DESC LIMIT %s", (customer, limit))]

    def transcript(self, inquiry: str) -> TranscriptRecord | None:
        s = self._sql["s"]
        rows = self._query(f"SELECT record FROM {s}.transcripts WHERE id = %s", (inquiry,))
        return _transcript_dec.decode(rows[0][0]) if rows else None

    def audit(self, limit: int, actor: str | None = None, kind_prefix: str | None = None,
              only_refusals: bool = False) -> list[AuditEntry]:
        s = self._sql["s"]
        statement = f"SELECT seq, at, actor, role, kind, subject, reason, ok FROM {s}.audit WHERE true"
        args: list[Any] = []
        if actor:
            statement += " AND actor = %s"
            args.append(actor)
        if kind_prefix:
            statement += " AND starts_with(kind, %s)"
            args.append(kind_prefix)
        if only_refusals:
            statement += " AND NOT ok"
        statement += " ORDER BY seq DESC LIMIT %s"
        args.append(max(1, min(limit, 5000)))
        return [AuditEntry(seq=seq, at=at, actor=a, role=r, kind=k, subject=subj, reason=why, ok=ok)
                for seq, at, a, r, k, subj, why, ok in self._query(statement, args)]

    def journal(self, since_seq: int = 0):
        """Yield every journaled event after ``since_seq``, oldest first."""
        s = self._sql["s"]
        with self._mat_lock:
            blobs = self._state.execute(f"SELECT events FROM {s}.journal WHERE last_seq > %s ORDER BY id",
                                        (since_seq,)).fetchall()
        for (blob,) in blobs:
            for event in _event_list_dec.decode(blob):
                if event.seq > since_seq:
                    yield event

    def query_state(self, statement: str, args=()) -> list[tuple]:
        """Read-only SQL over the state tables, written for SQLite (reports share it).

        Placeholders ``?`` become ``%s``; ``CAST(x AS INTEGER)`` becomes
        ``FLOOR(x)::bigint`` (PostgreSQL rounds where SQLite truncates, and
        the reports bucket times into hours with it); the tables are this
        shard's.
        """
        statement = _CAST_INT.sub(r"FLOOR(\1)::bigint", statement).replace("?", "%s")
        statement = _TABLES.sub(lambda m: f"{m.group(1)} {self._sql['s']}.{m.group(2)}", statement)
        return self._query(statement, args)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=10)
        for conn in (self._db, self._state):
            try:
                conn.close()
            except Exception:  # closing a broken connection has nothing left to lose
                pass


def _materializer_main(dsn: str, schema: str, shard: str, parent_pid: int) -> None:
    """The maintenance process: fold the journal until the broker goes (see SqliteStore's)."""
    import os
    import signal
    import time

    import psycopg

    from broker.service.store import _lowest_priority

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the broker decides when this stops
    _lowest_priority()
    store = None
    while os.getppid() == parent_pid:
        try:
            if store is None:
                store = PgStore(dsn, schema, shard, maintenance=None)
            store.catch_up()
        except (psycopg.Error, StoreError) as exc:
            log.warning("store maintenance failed: %s", _one_line(exc))
            if store is not None:
                store.close()
                store = None
        time.sleep(MAINTENANCE_INTERVAL_S)


_CAST_INT = re.compile(r"CAST\(([^()]+?) AS INTEGER\)", re.IGNORECASE)
_TABLES = re.compile(r"\b(FROM|JOIN)\s+(inquiries|grabs|audit|agents|config)\b", re.IGNORECASE)
