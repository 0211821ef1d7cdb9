"""The claim-peers contenders (PostgreSQL, Redis) and their shared harness.

These need the local PostgreSQL (127.0.0.1:5432, trust auth, database
``test``) and Redis (127.0.0.1:6379) that every machine of this project,
CI included, runs.  They are not skipped when a server is missing: a missing
server is a broken environment, and the failure message says which.
"""
from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest

psycopg = pytest.importorskip("psycopg", reason="the 'peers' extra is not installed")
redis = pytest.importorskip("redis", reason="the 'peers' extra is not installed")

from tools.bench import peer_postgres, peer_redis, race, race_results  # noqa: E402  (after the importorskip guards)
from tools.bench.claim_rules import ClaimRules  # noqa: E402

PG_DSN = "postgresql://127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
#: Ports nothing listens on, so a connection is refused at once.
PG_DEAD_DSN = "postgresql://127.0.0.1:1/test"
REDIS_DEAD_URL = "redis://127.0.0.1:1/0"

#: Short races: enough to see contention, quick enough for every test run.
AGENTS = 12
DURATION_S = 0.7
PROCESSES = 2
#: An unreachable server must be reported well within this.
UNREACHABLE_WITHIN_S = 3.0


class FailingFactory:
    """A claimer factory whose set-up fails in the worker (module level: picklable)."""

    def __call__(self, agent_id: int):
        raise RuntimeError(f"set-up of agent {agent_id} failed on purpose")


def assert_no_workers_left() -> None:
    assert multiprocessing.active_children() == []


def assert_sound(result: race_results.ContenderResult) -> None:
    """What every contender's run must show."""
    assert result.available, result.reason
    assert result.reason is None, result.reason
    assert result.claims > 0
    assert result.claims_per_s > 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.double_claims == 0
    check = result.settings["verification"]
    assert check["wins_with_wrong_or_missing_owner"] == 0
    assert next(v for k, v in check.items() if k.startswith("owned_")) == 0
    assert result.settings["errors"] == 0
    assert result.settings["misses"] == 0, "the pool ran dry"
    assert result.durability
    assert_no_workers_left()


# --- the harness, without a store ---------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["threads", "asyncio"])
def test_harness_runs_agents_in_processes(use_async: bool) -> None:
    outcome = race.run_claim_race(race.NullClaimerFactory(use_async), agents=6, duration_s=0.3, processes=2)
    assert outcome.mode == ("asyncio" if use_async else "threads")
    assert outcome.claims == len(outcome.claimed_ids) == len(outcome.latencies_ms) == len(outcome.claimed_by) > 0
    assert len(set(outcome.claimed_ids)) == outcome.claims
    assert set(outcome.claimed_by) == set(range(6)), "every agent claimed"
    assert outcome.errors == outcome.misses == 0
    assert 0.3 <= outcome.elapsed_s < 2.0
    assert_no_workers_left()


def test_harness_paces_claims_at_the_requested_rate() -> None:
    outcome = race.run_claim_race(race.NullClaimerFactory(True), agents=10, duration_s=1.0, processes=2,
                                   rate_per_s=500)
    assert 400 <= outcome.claims_per_s <= 600


def test_harness_reports_a_worker_that_fails_to_set_up() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="failed on purpose"):
        race.run_claim_race(FailingFactory(), agents=4, duration_s=0.3, processes=2)
    assert time.monotonic() - started < 15
    assert_no_workers_left()


def test_percentile_and_double_claims() -> None:
    assert race_results.percentile([], 50) is None
    assert race_results.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert race_results.percentile([1.0, 2.0], 50) == 1.5
    assert race_results.percentile(list(range(101)), 99) == 99
    with pytest.raises(ValueError):
        race_results.percentile([1.0], 101)
    assert race_results.count_double_claims([1, 2, 3]) == 0
    assert race_results.count_double_claims([1, 2, 2, 3, 3, 3]) == 2


def test_server_cpu_is_read_from_local_processes() -> None:
    """What claim-peers divides by the claims: a process's CPU (with its children's), or
    every process of a name; None for a server it cannot see."""
    import os

    from tools.bench.harness import server_cpu_seconds

    mine = server_cpu_seconds(pid=os.getpid())
    assert mine is not None and mine > 0
    assert server_cpu_seconds(comm="no-such-server-here") is None
    assert race_results.cpu_us_per_claim(0.5, 1_000) == 500.0
    assert race_results.cpu_us_per_claim(None, 1_000) is None and race_results.cpu_us_per_claim(0.5, 0) is None


def test_verification_rules_shared_by_both_stores() -> None:
    outcome = race_results.RaceOutcome(
        agents=3, processes=1, duration_s=1.0, elapsed_s=1.0, claims=3, latencies_ms=[1.0] * 3,
        claimed_ids=[1, 2, 3], claimed_by=[0, 1, 0], misses=0, errors=0, error_samples=[], mode="asyncio")
    # id 2 stored under the wrong agent, id 3 not stored at all, id 4 stored but never told
    assert race_results.told_vs_owned(outcome, {1: 0, 2: 2, 4: 1}) == (2, 1)
    assert race_results.pool_size_for(123, None, 1_000, 60.0) == 123
    assert race_results.pool_size_for(None, None, 1_000, 60.0) == 60_000
    assert race_results.pool_size_for(None, 500.0, 1_000, 60.0) == 60_000  # twice a paced rate
    assert race_results.pool_size_for(None, None, 1_000, 0.5) == race_results.MIN_POOL_SIZE


# --- PostgreSQL -----------------------------------------------------------------


def test_postgres_race() -> None:
    result = peer_postgres.run_postgres(PG_DSN, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES)
    assert_sound(result)
    assert result.name == "postgresql"
    assert result.settings["claim_plan_uses_partial_index"]
    assert result.settings["connections"] <= AGENTS
    assert result.settings["verification"]["rows_owned"] == result.claims
    assert "power loss" in result.durability
    assert_no_table_left(result.settings["claim_sql"].split()[1])


def assert_no_table_left(table: str) -> None:
    with psycopg.connect(PG_DSN, connect_timeout=2) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None


@pytest.fixture
def pg_pool_table():
    """A pool table of 20 000 pending inquiries, dropped afterwards."""
    table = f"grabdesk_test_claims_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=2) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, owner integer)")
        try:
            conn.execute(f"INSERT INTO {table} (id) SELECT generate_series(1, 20000)")
            conn.execute(f"CREATE INDEX ON {table} (id) WHERE owner IS NULL")
            yield table
        finally:
            conn.execute(f"DROP TABLE {table}")


def test_postgres_claimers_plug_into_the_harness(pg_pool_table: str) -> None:
    """Every id an agent was told it won is unique and recorded with that agent."""
    outcome = race.run_claim_race(peer_postgres.PgClaimerFactory(PG_DSN, pg_pool_table, 2), agents=AGENTS,
                                   duration_s=0.5, processes=PROCESSES)
    assert outcome.claims > 0 and outcome.errors == 0
    assert len(set(outcome.claimed_ids)) == len(outcome.claimed_ids)
    with psycopg.connect(PG_DSN, connect_timeout=2) as conn:
        owned = dict(conn.execute(f"SELECT id, owner FROM {pg_pool_table} WHERE owner IS NOT NULL").fetchall())
    assert owned == dict(zip(outcome.claimed_ids, outcome.claimed_by))
    assert_no_workers_left()


def assert_rules_kept(result: race_results.ContenderResult) -> None:
    check = result.settings["verification"]
    assert (check["agents_over_cap"], check["agents_over_daily_quota"], check["agents_held_not_owned"]) == (0, 0, 0)
    assert check["events_recorded"] == check["grabs_recorded"] == result.claims


def test_postgres_race_with_the_rules() -> None:
    """The same winner semantics as the bare claim, with every rule checked in the claim."""
    result = peer_postgres.run_postgres(PG_DSN, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES,
                                        rules=ClaimRules())
    assert_sound(result)
    assert result.name == "postgresql+rules"
    assert result.settings["claim_plan_uses_partial_index"]
    assert_rules_kept(result)
    assert_no_table_left(result.settings["claim_sql"].split("(")[0].split()[1].removesuffix("_claim"))


@pytest.mark.parametrize("rules, per_agent", [(ClaimRules(concurrent_cap=3), 3), (ClaimRules(daily_grabs=2), 2)],
                         ids=["concurrent-cap", "daily-quota"])
def test_postgres_rules_hold_an_agent_to_its_cap_and_daily_quota(rules: ClaimRules, per_agent: int) -> None:
    result = peer_postgres.run_postgres(PG_DSN, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES,
                                        rules=rules)
    assert result.available and result.double_claims == 0
    assert result.claims == AGENTS * per_agent, "every agent claims up to its limit, and no further"
    assert result.settings["misses"] > 0
    assert_rules_kept(result)


def test_postgres_rules_answer_a_repeated_grab_id_with_its_first_verdict() -> None:
    table = f"grabdesk_test_rules_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=2) as conn:
        try:
            conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, owner integer, skill text NOT NULL)")
            conn.execute(f"INSERT INTO {table} (id, skill) SELECT g, 'pre_sales' FROM generate_series(1, 10) g")
            claim = peer_postgres.create_rules(conn, table, 2, ClaimRules())
            sql = f"SELECT {claim}(%s, %s, 'Asia/Shanghai')"
            first = conn.execute(sql, (0, "g1")).fetchone()[0]
            assert conn.execute(sql, (0, "g1")).fetchone()[0] == first
            assert conn.execute(sql, (0, "g2")).fetchone()[0] not in (first, None)
            assert conn.execute(f"SELECT held, grabs_today FROM {table}_agents WHERE id = 0").fetchone() == (2, 2)
            assert conn.execute(f"SELECT count(*) FROM {table}_events").fetchone()[0] == 2
            conn.execute(f"UPDATE {table}_agents SET status = 'away' WHERE id = 1")
            assert conn.execute(sql, (1, "g1")).fetchone()[0] is None, "an agent not online claims nothing"
        finally:
            assert peer_postgres.drop_run(conn, PG_DSN, table) is None
    assert_no_table_left(table)


def test_postgres_unreachable_is_reported_quickly() -> None:
    started = time.monotonic()
    result = peer_postgres.run_postgres(PG_DEAD_DSN, agents=4, duration_s=0.5)
    assert time.monotonic() - started < UNREACHABLE_WITHIN_S
    assert not result.available
    assert "127.0.0.1:1" in result.reason
    assert result.claims_per_s is None and result.claims == 0


# --- Redis --------------------------------------------------------------------------


def redis_persistence() -> dict[str, str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return {**client.config_get("appendonly"), **client.config_get("appendfsync")}
    finally:
        client.close()


def test_redis_race() -> None:
    before = redis_persistence()
    result = peer_redis.run_redis(REDIS_URL, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES)
    assert_sound(result)
    assert result.name == "redis"
    assert result.settings["verification"]["owners_recorded"] == result.claims
    assert redis_persistence() == before, "the server's AOF settings were not restored"
    if result.settings["config_change"].startswith(("set ", "already")):
        assert result.settings["persistence_during_run"]["appendfsync"] == "always"
        assert "power loss" in result.durability
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        leftovers = [k for k in client.scan_iter(match=f"{peer_redis.REDIS_KEY_PREFIX}:*")
                     if k != peer_redis.REDIS_CONFIG_LOCK_KEY.encode()]
        assert leftovers == []
    finally:
        client.close()


def test_redis_claimers_plug_into_the_harness() -> None:
    """Every id an agent was told it won is unique and recorded with that agent."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    prefix = f"{peer_redis.REDIS_KEY_PREFIX}:test-{uuid.uuid4().hex[:12]}"
    pending, owners = f"{prefix}:pending", f"{prefix}:owners"
    try:
        client.rpush(pending, *range(1, 20001))
        sha = client.script_load(peer_redis.REDIS_CLAIM_LUA)
        outcome = race.run_claim_race(peer_redis.RedisClaimerFactory(REDIS_URL, sha, pending, owners), agents=AGENTS,
                                       duration_s=0.5, processes=PROCESSES)
        assert outcome.claims > 0 and outcome.errors == 0
        assert len(set(outcome.claimed_ids)) == len(outcome.claimed_ids)
        owned = {int(k): int(v) for k, v in client.hgetall(owners).items()}
        assert owned == dict(zip(outcome.claimed_ids, outcome.claimed_by))
        assert client.llen(pending) == 20000 - outcome.claims
    finally:
        client.unlink(pending, owners)
        client.close()
    assert_no_workers_left()


def test_redis_race_with_the_rules() -> None:
    """The same winner semantics as the bare claim, with every rule checked in the script."""
    result = peer_redis.run_redis(REDIS_URL, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES,
                                  rules=ClaimRules())
    assert_sound(result)
    assert result.name == "redis+rules"
    assert_rules_kept(result)
    assert_no_redis_keys_left()


@pytest.mark.parametrize("rules, per_agent", [(ClaimRules(concurrent_cap=3), 3), (ClaimRules(daily_grabs=2), 2)],
                         ids=["concurrent-cap", "daily-quota"])
def test_redis_rules_hold_an_agent_to_its_cap_and_daily_quota(rules: ClaimRules, per_agent: int) -> None:
    result = peer_redis.run_redis(REDIS_URL, agents=AGENTS, duration_s=DURATION_S, processes=PROCESSES,
                                  rules=rules)
    assert result.available and result.double_claims == 0
    assert result.claims == AGENTS * per_agent, "every agent claims up to its limit, and no further"
    assert result.settings["misses"] > 0
    assert_rules_kept(result)
    assert_no_redis_keys_left()


def test_redis_rules_answer_a_repeated_grab_id_with_its_first_verdict() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    prefix = f"{peer_redis.REDIS_KEY_PREFIX}:test-{uuid.uuid4().hex[:12]}"
    keys = [f"{prefix}:pending", f"{prefix}:owners", f"{prefix}:agent:0", f"{prefix}:grabs", f"{prefix}:events"]
    try:
        client.rpush(keys[0], *range(1, 11))
        client.hset(keys[2], mapping={"status": "online", "held": 0, "cap": 5, "grabs_today": 0, "daily": 100,
                                      "skill:pre_sales": 1})
        script = client.register_script(peer_redis.REDIS_RULES_CLAIM_LUA)
        first = script(keys=keys, args=[0, "g1", "pre_sales", 28800])
        assert script(keys=keys, args=[0, "g1", "pre_sales", 28800]) == first
        assert script(keys=keys, args=[0, "g2", "pre_sales", 28800]) not in (first, None)
        assert script(keys=keys, args=[0, "g3", "complaints", 28800]) is None, "a skill the agent lacks"
        assert client.hmget(keys[2], "held", "grabs_today") == [b"2", b"2"]
        assert client.xlen(keys[4]) == 2
        client.hset(keys[2], "status", "away")
        assert script(keys=keys, args=[0, "g4", "pre_sales", 28800]) is None, "an agent not online"
    finally:
        client.unlink(*keys)
        client.close()


def assert_no_redis_keys_left() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        leftovers = [k for k in client.scan_iter(match=f"{peer_redis.REDIS_KEY_PREFIX}:*")
                     if k != peer_redis.REDIS_CONFIG_LOCK_KEY.encode() and b":test-" not in k]
        assert leftovers == []
    finally:
        client.close()


def test_redis_unreachable_is_reported_quickly() -> None:
    started = time.monotonic()
    result = peer_redis.run_redis(REDIS_DEAD_URL, agents=4, duration_s=0.5)
    assert time.monotonic() - started < UNREACHABLE_WITHIN_S
    assert not result.available
    assert "127.0.0.1:1" in result.reason
    assert result.claims_per_s is None and result.claims == 0
