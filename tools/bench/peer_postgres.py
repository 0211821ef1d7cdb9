"""The PostgreSQL contender of ``bench claim-peers``: ``FOR UPDATE SKIP LOCKED``.

``run_postgres(dsn, agents, duration_s, processes, ...) -> ContenderResult``
runs ``UPDATE .. WHERE id = (SELECT .. FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id`` in autocommit mode with ``synchronous_commit = on``.  With
``rules`` (a ``ClaimRules``) each claim is one call of a PL/pgSQL function
instead, in the same autocommit transaction and durability: it locks the
agent's row, answers a grab id it has seen with what that grab got, checks
online status, skill, concurrent cap and daily quota, takes the inquiry
(SKIP LOCKED), counts it on the agent, and records the grab and an event.
PostgreSQL cannot give 200 agents a connection each on a default server
(``max_connections`` = 100), so agents share a bounded set of connections per
process (``race.FairPool``); ``settings`` states how many and why.  The table
also holds handled inquiries, as a live one would (see
``PG_HISTORY_FRACTION``), and the run checks the claim's plan.  Agents are
asyncio tasks (100 per process by default), which measured better than a
thread per agent on 2 cores.  The store is checked afterwards against what
each agent was told (``settings["verification"]``).  It never raises when
the server is missing or fails: it returns ``available=False`` with a
``reason`` naming the address it tried and the error; the table and worker
processes are cleaned up on every exit path.
"""
from __future__ import annotations

import math
import os
import uuid
from typing import Any, Callable

from tools.bench.claim_rules import ClaimRules
from tools.bench.race import DEFAULT_AGENTS, DEFAULT_DURATION_S, DEFAULT_PROCESSES, FairPool, close_async, run_claim_race
from tools.bench.harness import server_cpu_seconds
from tools.bench.race_results import (
    ContenderResult, cpu_us_per_claim, join_notes, one_line, pool_size_for, race_failed, result_from_race,
    told_vs_owned, unavailable,
)

#: How long to wait for the server to accept a connection.  libpq rounds any
#: connect_timeout below 2 s up to 2 s anyway.
CONNECT_TIMEOUT_S = 2
#: Pool sizing: a claim rate PostgreSQL does not reach on this class of
#: machine (measured about 6-9 k/s), so the pool never runs dry.  A run that
#: does run dry says so in its ``reason``.
PG_CLAIM_CEILING_PER_S = 25_000
#: Handled inquiries loaded below the pool, as a fraction of the pool.  With
#: pending rows only, the planner sees an all-NULL ``owner`` column, walks
#: the primary key instead of the partial index, and every claim steps over
#: all the rows claimed so far (measured: 6.8 k claims/s in the first second
#: falling to 1.8 k/s averaged over 5 s).  A table in real use holds history,
#: and with it the planner picks the partial index; the run checks the plan.
PG_HISTORY_FRACTION = 1.0
#: ``owner`` of those handled inquiries (agents are numbered from 0).
PG_HISTORY_OWNER = -1
#: PostgreSQL connections this benchmark leaves free for everyone else
#: (other tests, psql sessions) below max_connections.
PG_CONNECTION_HEADROOM = 10
#: Upper bound on PostgreSQL connections even when the server allows more:
#: on 2 cores more backends only add context switches and lock contention
#: (measured, 200 agents, 5 s, two runs each: 8 connections 6.4-6.8 k
#: claims/s, 16 6.9-7.1 k, 32 5.6-7.4 k, 64 3.4-6.2 k).
PG_DEFAULT_MAX_CONNECTIONS = 16

#: The claim: lock the lowest unowned inquiry no one else holds, take it,
#: and say which one it was.  Run in autocommit, so it is committed before
#: the server answers.
_PG_CLAIM_SQL = (
    "UPDATE {t} SET owner = %s WHERE id = ("
    "SELECT id FROM {t} WHERE owner IS NULL ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
    ") RETURNING id"
)


#: The rules run's tables and its claim (see claim_rules.py): agents with their status,
#: skills, load and limits; every grab by (agent, grab id), for idempotency; an event per
#: claim. The claim is one function call, so one round trip and one transaction.
_PG_RULES_SCHEMA = """
CREATE TABLE {agents} (id integer PRIMARY KEY, status text NOT NULL, skills text[] NOT NULL,
    held integer NOT NULL DEFAULT 0, concurrent_cap integer NOT NULL,
    day date, grabs_today integer NOT NULL DEFAULT 0, daily_grabs integer NOT NULL);
CREATE TABLE {grabs} (agent integer NOT NULL, grab_id text NOT NULL, inquiry bigint,
    PRIMARY KEY (agent, grab_id));
CREATE TABLE {events} (seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL, agent integer NOT NULL, inquiry bigint NOT NULL);
CREATE FUNCTION {claim}(p_agent integer, p_grab text, p_tz text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ag {agents}%ROWTYPE;
    today date := (now() AT TIME ZONE p_tz)::date;
    got bigint;
BEGIN
    -- the agent's claims are decided one at a time (as grabdesk decides them)
    SELECT * INTO ag FROM {agents} WHERE id = p_agent FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT inquiry INTO got FROM {grabs} WHERE agent = p_agent AND grab_id = p_grab;
    IF FOUND THEN
        RETURN got;  -- a retried grab gets what it got the first time
    END IF;
    IF ag.status = 'online' AND ag.held < ag.concurrent_cap
            AND (ag.day IS DISTINCT FROM today OR ag.grabs_today < ag.daily_grabs) THEN
        UPDATE {pool} SET owner = p_agent WHERE id = (
            SELECT id FROM {pool} WHERE owner IS NULL AND skill = ANY (ag.skills)
            ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING id INTO got;
    END IF;
    INSERT INTO {grabs} (agent, grab_id, inquiry) VALUES (p_agent, p_grab, got);
    IF got IS NOT NULL THEN
        UPDATE {agents} SET held = held + 1, day = today,
            grabs_today = CASE WHEN day = today THEN grabs_today + 1 ELSE 1 END
        WHERE id = p_agent;
        INSERT INTO {events} (kind, agent, inquiry) VALUES ('inquiry.grabbed', p_agent, got);
    END IF;
    RETURN got;
END
$$
"""
_PG_RULES_CLAIM_SQL = "SELECT {claim}(%s, %s, %s)"
#: the pick inside the claim function, for the plan check
_PG_RULES_PICK_SQL = ("SELECT id FROM {t} WHERE owner IS NULL AND skill = ANY (%s) "
                      "ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1")


def _rules_names(table: str) -> dict[str, str]:
    """The rules run's objects, named after its pool table."""
    return {"pool": table, "agents": f"{table}_agents", "grabs": f"{table}_grabs",
            "events": f"{table}_events", "claim": f"{table}_claim"}


def create_rules(admin: Any, table: str, agents: int, rules: ClaimRules) -> str:
    """Beside the pool ``table``: the rules run's tables, its claim function (returned, by
    name) and ``agents`` agents, online, with the rules' skill and limits."""
    from psycopg import sql

    names = _rules_names(table)
    admin.execute(sql.SQL(_PG_RULES_SCHEMA).format(**{k: sql.Identifier(v) for k, v in names.items()}))
    admin.execute(sql.SQL(
        "INSERT INTO {} (id, status, skills, concurrent_cap, daily_grabs) "
        "SELECT g, 'online', ARRAY[%s], %s, %s FROM generate_series(0, %s) g").format(
        sql.Identifier(names["agents"])), (rules.skill, rules.concurrent_cap, rules.daily_grabs, agents - 1))
    return names["claim"]


def _pg_address(dsn: str) -> str:
    """host:port/dbname of a DSN, for messages (never the password)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(dsn)
    except Exception:
        return "<unparsable dsn>"
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost (default socket)"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    db = params.get("dbname") or os.environ.get("PGDATABASE") or "(default db)"
    return f"{host}:{port}/{db}"


#: Stated per session so the durability class does not depend on the
#: server default: the commit is flushed to the WAL on disk before the
#: claim returns.
_PG_SESSION_SQL = "SET synchronous_commit = on"


def _pg_connect(dsn: str):
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    conn.execute(_PG_SESSION_SQL)
    return conn


async def _pg_connect_async(dsn: str):
    import psycopg

    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    await conn.execute(_PG_SESSION_SQL)
    return conn


class PgClaimerFactory:
    """Async claimers that share ``connections_per_process`` connections in each process.

    An agent waits (first come, first served) for a free connection, runs
    the claim as one autocommit statement -- committed, WAL flushed, before
    the server answers -- and hands the connection back.  Connections are
    opened on the first call, i.e. during set-up.  asyncio rather than a
    thread per agent: with 100 agents per process it gave the same or
    better throughput with less client CPU on 2 cores.
    """

    def __init__(self, dsn: str, table: str, connections_per_process: int, rules_tz: str | None = None) -> None:
        self.dsn = dsn
        self.table = table
        self.connections_per_process = connections_per_process
        #: with the rules (the quota day's time zone), each claim calls the rules' claim function
        self.rules_tz = rules_tz
        self._pool: FairPool | None = None
        self._all: list[Any] = []

    def __getstate__(self) -> dict[str, Any]:
        # only the recipe crosses the process boundary, never connections
        return {"dsn": self.dsn, "table": self.table, "connections_per_process": self.connections_per_process,
                "rules_tz": self.rules_tz}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    async def __call__(self, agent_id: int) -> Callable[[], Any]:
        from psycopg import sql

        if self._pool is None:
            for _ in range(self.connections_per_process):
                self._all.append(await _pg_connect_async(self.dsn))
            self._pool = FairPool(self._all)
        pool = self._pool
        # composed once: as_string needs a connection for quoting
        if self.rules_tz is None:
            text = sql.SQL(_PG_CLAIM_SQL).format(t=sql.Identifier(self.table)).as_string(self._all[0])
        else:
            claim_fn = sql.Identifier(_rules_names(self.table)["claim"])
            text = sql.SQL(_PG_RULES_CLAIM_SQL).format(claim=claim_fn).as_string(self._all[0])
        grab_ids = iter(range(1, 1 << 62))
        rules_tz = self.rules_tz

        async def claim() -> int | None:
            params = (agent_id,) if rules_tz is None else (agent_id, f"c{next(grab_ids)}", rules_tz)
            conn = await pool.acquire()
            try:
                # psycopg prepares the statement server-side after 5 uses
                cursor = await conn.execute(text, params)
                row = await cursor.fetchone()
            finally:
                pool.release(conn)
            return None if row is None else row[0]

        return claim

    async def aclose(self) -> None:
        for conn in self._all:
            await close_async(conn)
        self._all.clear()


def _pg_durability(settings: dict[str, str]) -> str:
    fsync = settings.get("fsync")
    sync_commit = settings.get("synchronous_commit")
    method = settings.get("wal_sync_method")
    standby = settings.get("synchronous_standby_names") or ""
    if fsync == "on" and sync_commit in ("on", "remote_write", "remote_apply", "local"):
        text = (f"committed before the verdict: the commit's WAL record is flushed to disk ({method}) "
                "before the server answers (synchronous_commit=on, fsync=on), so a claim survives a "
                "PostgreSQL process crash and a power loss, as far as the disk honours flushes")
    elif fsync != "on":
        text = ("fsync=off on this server: a committed claim survives a PostgreSQL process crash "
                "(the OS holds the WAL) but NOT a power loss or OS crash")
    else:
        text = (f"synchronous_commit={sync_commit}: the verdict may precede the WAL flush; the last "
                "few hundred ms of claims can be lost on a server crash or a power loss")
    text += ("; one server, no synchronous standby, so losing the machine's disk loses claims"
             if not standby else f"; synchronous standby: {standby}")
    return text


def run_postgres(
    dsn: str = "postgresql://127.0.0.1:5432/test",
    agents: int = DEFAULT_AGENTS,
    duration_s: float = DEFAULT_DURATION_S,
    processes: int = DEFAULT_PROCESSES,
    pool_size: int | None = None,
    *,
    connections: int | None = None,
    rate_per_s: float | None = None,
    rules: ClaimRules | None = None,
) -> ContenderResult:
    """The claim race on PostgreSQL ``FOR UPDATE SKIP LOCKED``; with ``rules``, each claim
    also applies them (see the module docstring), and the result is named
    ``postgresql+rules``.

    ``pool_size`` is the number of pending inquiries loaded (default: enough
    for ``PG_CLAIM_CEILING_PER_S`` over the run).  ``connections`` caps the
    connections all agents share (default ``PG_DEFAULT_MAX_CONNECTIONS``);
    it is further capped by the agents count and by what the server has
    free (``max_connections`` - reserved - in use - ``PG_CONNECTION_HEADROOM``),
    and split evenly over the processes.  ``rate_per_s`` paces the agents
    instead of saturating (see ``run_claim_race``).  The table is created
    under a unique name and dropped afterwards, also on failure; a failed
    drop is reported in ``reason``.  Never raises for a server problem.
    """
    name = "postgresql" if rules is None else "postgresql+rules"
    address = _pg_address(dsn)
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        return unavailable(name, f"psycopg is not installed ({exc}); pip install 'psycopg[binary]==3.3.9'")
    try:
        admin = _pg_connect(dsn)
    except Exception as exc:
        return unavailable(name, f"PostgreSQL not reachable at {address} (connect timeout {CONNECT_TIMEOUT_S} s): "
                                 f"{type(exc).__name__}: {one_line(exc)}", dsn_address=address)
    table = f"grabdesk_bench_claims_{uuid.uuid4().hex[:12]}"
    result: ContenderResult | None = None
    try:
        result = _race_postgres(admin, dsn, address, table, agents, duration_s, processes, pool_size,
                                connections, rate_per_s, rules)
    except psycopg.Error as exc:
        result = unavailable(name, f"PostgreSQL at {address} failed during the run: "
                                   f"{type(exc).__name__}: {one_line(exc)}", dsn_address=address)
    finally:
        drop_error = drop_run(admin, dsn, table)
        admin.close()
        if drop_error and result is not None:
            result.reason = join_notes(result.reason, drop_error)
    return result


def drop_run(admin: Any, dsn: str, table: str) -> str | None:
    """Drop the run's tables and function (on a fresh connection if ``admin`` broke); a note
    if it failed."""
    from psycopg import sql

    names = _rules_names(table)
    statements = [
        sql.SQL("DROP FUNCTION IF EXISTS {}(integer, text, text)").format(sql.Identifier(names["claim"])),
        sql.SQL("DROP TABLE IF EXISTS {}, {}, {}, {}").format(
            *(sql.Identifier(names[k]) for k in ("pool", "agents", "grabs", "events"))),
    ]
    try:
        for statement in statements:
            admin.execute(statement)
        return None
    except Exception:
        pass
    try:
        with _pg_connect(dsn) as conn:
            for statement in statements:
                conn.execute(statement)
        return None
    except Exception as exc:
        return f"could not drop the benchmark table {table} ({type(exc).__name__}: {exc}); drop it by hand"


def _race_postgres(
    admin: Any, dsn: str, address: str, table: str, agents: int, duration_s: float, processes: int,
    pool_size: int | None, connections: int | None, rate_per_s: float | None, rules: ClaimRules | None,
) -> ContenderResult:
    """``run_postgres`` once connected: size, load, race, verify (table dropped by the caller)."""
    from psycopg import sql

    name = "postgresql" if rules is None else "postgresql+rules"
    ident = sql.Identifier(table)
    server = {
        key: admin.execute(sql.SQL("SHOW {}").format(sql.Identifier(key))).fetchone()[0]
        for key in ("server_version", "max_connections", "superuser_reserved_connections",
                    "synchronous_commit", "fsync", "wal_sync_method", "synchronous_standby_names",
                    "full_page_writes")
    }
    in_use = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
    free = int(server["max_connections"]) - int(server["superuser_reserved_connections"]) - in_use
    wanted = connections if connections is not None else PG_DEFAULT_MAX_CONNECTIONS
    processes = max(1, min(processes, agents))
    per_process = min(wanted, agents, free - PG_CONNECTION_HEADROOM) // processes
    if per_process < 1:
        return unavailable(
            name, f"PostgreSQL at {address} has only {free} free connections ({server['max_connections']} "
                  f"max, {in_use} in use); this run needs {processes} plus {PG_CONNECTION_HEADROOM} left for others",
            dsn_address=address)
    total_connections = per_process * processes

    pool_size = pool_size_for(pool_size, rate_per_s, PG_CLAIM_CEILING_PER_S, duration_s)
    history = math.ceil(pool_size * PG_HISTORY_FRACTION)
    skill = rules.skill if rules is not None else ""
    admin.execute(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, owner integer, skill text NOT NULL)").format(
        ident))
    # A live pool table also holds inquiries handled earlier (ids <= 0 here,
    # owner PG_HISTORY_OWNER): they give the planner the statistics of a
    # table in use; see PG_HISTORY_FRACTION.
    admin.execute(sql.SQL("INSERT INTO {} (id, owner, skill) SELECT g, %s, %s FROM generate_series(%s, 0) g").format(
        ident), (PG_HISTORY_OWNER, skill, 1 - history))
    admin.execute(sql.SQL("INSERT INTO {} (id, skill) SELECT g, %s FROM generate_series(1, %s) g").format(ident),
                  (skill, pool_size))
    if rules is not None:
        create_rules(admin, table, agents, rules)
    # What a user would add: claims look for the lowest unowned id, and
    # without a partial index every claim would step over all the rows
    # already claimed.
    pending_index = f"{table}_pending"
    admin.execute(sql.SQL("CREATE INDEX {} ON {} (id) WHERE owner IS NULL").format(
        sql.Identifier(pending_index), ident))
    admin.execute(sql.SQL("VACUUM ANALYZE {}").format(ident))
    if rules is None:
        explained = admin.execute(sql.SQL("EXPLAIN " + _PG_CLAIM_SQL).format(t=ident), (0,))
    else:
        explained = admin.execute(sql.SQL("EXPLAIN " + _PG_RULES_PICK_SQL).format(t=ident), ([rules.skill],))
    plan = "\n".join(row[0] for row in explained)
    uses_pending_index = pending_index in plan

    factory = PgClaimerFactory(dsn, table, per_process, rules_tz=None if rules is None else rules.day_tz)
    # every PostgreSQL process on this machine (other clients' work counts too); None if the
    # server runs elsewhere
    cpu0 = server_cpu_seconds(comm="postgres")
    try:
        outcome = run_claim_race(factory, agents, duration_s, processes, rate_per_s=rate_per_s)
    except Exception as exc:
        return race_failed(name, address, exc, dsn_address=address)
    cpu1 = server_cpu_seconds(comm="postgres")

    # The store against what agents were told: every win recorded with that
    # agent as owner, and nothing owned that no agent heard of.
    owned = dict(admin.execute(
        sql.SQL("SELECT id, owner FROM {} WHERE id > 0 AND owner IS NOT NULL").format(ident)).fetchall())
    wrong_owner, unreported = told_vs_owned(outcome, owned)
    if rules is None:
        claim_sql = _PG_CLAIM_SQL.format(t=table).replace("%s", "$1") + "  -- autocommit"
    else:
        claim_sql = (_PG_RULES_CLAIM_SQL.format(claim=_rules_names(table)["claim"]) % ("$1", "$2", "$3")
                     + "  -- autocommit; the function: " + " ".join(
                         _PG_RULES_SCHEMA.format(**_rules_names(table)).split("CREATE FUNCTION", 1)[1].split()))
    settings = {
        "dsn_address": address,
        "server_version": server["server_version"],
        "claim_sql": claim_sql,
        "index": "primary key on id + partial index on id WHERE owner IS NULL",
        "claim_plan": plan,
        "claim_plan_uses_partial_index": uses_pending_index,
        "pool_size": pool_size,
        "history_rows": history,
        "connections": total_connections,
        "connections_per_process": per_process,
        "connections_note": (
            f"{agents} agents (asyncio tasks) share {total_connections} connections ({per_process} per "
            f"process, handed out first come, first served); capped by PG_DEFAULT_MAX_CONNECTIONS or the "
            f"'connections' argument ({wanted}) and by the server: max_connections="
            f"{server['max_connections']}, {server['superuser_reserved_connections']} reserved, "
            f"{in_use} in use, {PG_CONNECTION_HEADROOM} left free for others"),
        "max_connections": int(server["max_connections"]),
        "server_cpu_us_per_claim": cpu_us_per_claim(None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
                                                    outcome.claims),
        "synchronous_commit": "on (SET per session)",
        "server_synchronous_commit_default": server["synchronous_commit"],
        "fsync": server["fsync"],
        "wal_sync_method": server["wal_sync_method"],
        "full_page_writes": server["full_page_writes"],
        "verification": {
            "rows_owned": len(owned),
            "wins_with_wrong_or_missing_owner": wrong_owner,
            "owned_rows_no_agent_was_told_of": unreported,
        },
    }
    if rules is not None:
        settings["rules"] = rules.to_dict()
        settings["verification"].update(_pg_rules_check(admin, table, rules, outcome.claims))
    result = result_from_race(name, outcome, durability=_pg_durability(dict(server, synchronous_commit="on")),
                              settings=settings, extra_double_claims=wrong_owner)
    if not uses_pending_index:
        result.reason = join_notes(
            result.reason, "the planner did not pick the partial index: claims slow down as the pool is used")
    if unreported:
        result.reason = join_notes(result.reason, f"{unreported} rows are owned but no agent was told it won them")
    if rules is not None:
        broken = [k for k in ("agents_over_cap", "agents_over_daily_quota", "agents_held_not_owned")
                  if settings["verification"][k]]
        if broken or settings["verification"]["events_recorded"] != outcome.claims:
            result.reason = join_notes(result.reason, f"the rules were not kept: {settings['verification']}")
    return result


def _pg_rules_check(admin: Any, table: str, rules: ClaimRules, claims: int) -> dict[str, int]:
    """The rules run's store against its rules: no agent over its cap or daily quota, each
    agent's ``held`` equal to what it owns, one event and one grab per claim."""
    from psycopg import sql

    n = {k: sql.Identifier(v) for k, v in _rules_names(table).items()}
    over_cap, over_daily, held_not_owned = admin.execute(sql.SQL(
        "SELECT count(*) FILTER (WHERE a.held > a.concurrent_cap), "
        "count(*) FILTER (WHERE a.grabs_today > a.daily_grabs), "
        "count(*) FILTER (WHERE a.held <> coalesce(o.n, 0)) "
        "FROM {agents} a LEFT JOIN (SELECT owner, count(*) AS n FROM {pool} WHERE id > 0 GROUP BY owner) o "
        "ON o.owner = a.id").format(**n)).fetchone()
    events = admin.execute(sql.SQL("SELECT count(*) FROM {events}").format(**n)).fetchone()[0]
    grabs = admin.execute(sql.SQL("SELECT count(*) FROM {grabs} WHERE inquiry IS NOT NULL").format(**n)).fetchone()[0]
    return {"agents_over_cap": over_cap, "agents_over_daily_quota": over_daily,
            "agents_held_not_owned": held_not_owned, "events_recorded": events, "grabs_recorded": grabs}

