"""The Redis contender of ``bench claim-peers``: a Lua script per claim.

``run_redis(url, agents, duration_s, processes, ...) -> ContenderResult``
runs a Lua script (``EVALSHA``) that pops an id from a pending list and
records the owner with ``HSETNX`` atomically; one connection per agent,
agents as asyncio tasks.  With ``rules`` (a ``ClaimRules``) the script also
answers a grab id it has seen with what that grab got, checks the agent's
online status, skill, concurrent cap and daily quota (its day from the
server's ``TIME``), counts the claim on the agent, and records the grab and
an event (``XADD``), all in the one atomic script, at the same durability.  For the run it switches the server to
``appendonly yes`` + ``appendfsync always`` when ``CONFIG SET`` is allowed,
and restores the previous settings afterwards.  The store is checked
afterwards against what each agent was told (``settings["verification"]``).
It never raises when the server is missing or fails: it returns
``available=False`` with a ``reason`` naming the address it tried and the
error; keys, server settings and worker processes are cleaned up on every
exit path.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from tools.bench.claim_rules import ClaimRules
from tools.bench.race import (
    DEFAULT_AGENTS, DEFAULT_DURATION_S, DEFAULT_PROCESSES, POLL_INTERVAL_S, READY_TIMEOUT_S, RESULT_GRACE_S,
    close_async, run_claim_race,
)
from tools.bench.race_results import (
    ContenderResult, cpu_us_per_claim, join_notes, one_line, pool_size_for, race_failed, result_from_race,
    told_vs_owned, unavailable,
)

#: How long to wait for the server to accept a connection.
CONNECT_TIMEOUT_S = 2
#: A claim that takes longer than this is a stuck server, not a slow claim.
REDIS_SOCKET_TIMEOUT_S = 10.0
#: Pool sizing: a claim rate Redis does not reach on this class of machine
#: (measured about 30 k/s), so the pool never runs dry.
REDIS_CLAIM_CEILING_PER_S = 100_000
#: Inquiries pushed to Redis per RPUSH (bounded request size).
REDIS_LOAD_CHUNK = 10_000
#: Redis keys of this benchmark share this prefix (plus a per-run id).
REDIS_KEY_PREFIX = "grabdesk:bench:claim-peers"
#: Serialises runs that change the server's AOF settings, so two concurrent
#: runs cannot restore each other's settings in the wrong order.
REDIS_CONFIG_LOCK_KEY = f"{REDIS_KEY_PREFIX}:config-lock"
#: Longest wait for the AOF rewrite that ``CONFIG SET appendonly yes`` starts.
REDIS_AOF_READY_TIMEOUT_S = 30.0


#: Pops the oldest pending inquiry and records its owner in one atomic step.
#: HSETNX (not HSET) so a second owner could never silently overwrite the
#: first: it would surface as an error instead.
REDIS_CLAIM_LUA = """
local id = redis.call('LPOP', KEYS[1])
if not id then return false end
if redis.call('HSETNX', KEYS[2], id, ARGV[1]) == 0 then
  return redis.error_reply('double claim of inquiry ' .. id)
end
return id
"""

#: The claim with the rules (see claim_rules.py), atomic like every Lua script.
#: KEYS: the skill's pending list, the owners hash, the agent's hash, the grabs hash
#: (agent:grab id -> inquiry, "" for nothing), the events stream.
#: ARGV: agent, grab id, the skill claimed for, the quota day's UTC offset in seconds.
REDIS_RULES_CLAIM_LUA = """
local agent, grab = ARGV[1], ARGV[2]
local key = agent .. ':' .. grab
local seen = redis.call('HGET', KEYS[4], key)
if seen then
  if seen == '' then return false end
  return seen
end
local a = redis.call('HMGET', KEYS[3], 'status', 'held', 'cap', 'day', 'grabs_today', 'daily', 'skill:' .. ARGV[3])
local now = redis.call('TIME')
local today = tostring(math.floor((tonumber(now[1]) + tonumber(ARGV[4])) / 86400))
local grabs_today = 0
if a[4] == today then grabs_today = tonumber(a[5]) end
local id = false
if a[1] == 'online' and a[7] and tonumber(a[2]) < tonumber(a[3]) and grabs_today < tonumber(a[6]) then
  id = redis.call('LPOP', KEYS[1])
end
if not id then
  redis.call('HSET', KEYS[4], key, '')
  return false
end
if redis.call('HSETNX', KEYS[2], id, agent) == 0 then
  return redis.error_reply('double claim of inquiry ' .. id)
end
redis.call('HSET', KEYS[3], 'held', tonumber(a[2]) + 1, 'day', today, 'grabs_today', grabs_today + 1)
redis.call('HSET', KEYS[4], key, id)
redis.call('XADD', KEYS[5], '*', 'kind', 'inquiry.grabbed', 'agent', agent, 'inquiry', id)
return id
"""

#: Deletes the config lock only if this run still holds it.
_REDIS_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                socket_timeout=REDIS_SOCKET_TIMEOUT_S, single_connection_client=True)


def _redis_address(url: str) -> str:
    try:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path
        return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}{parts.path or ''}"
    except Exception:
        return "<unparsable url>"


class RedisClaimerFactory:
    """Async claimers, one Redis connection per agent (Redis has room: maxclients 10 000).

    asyncio rather than a thread per agent: measured with 200 agents in 2
    processes, threads reached about 22 k claims/s with p99 about 100 ms
    (GIL hand-offs), asyncio about 32 k/s with p99 about 14 ms.
    """

    def __init__(self, url: str, sha: str, pending_key: str, owners_key: str,
                 rules: tuple[str, str, str, str, int] | None = None) -> None:
        self.url = url
        self.sha = sha
        self.pending_key = pending_key
        self.owners_key = owners_key
        #: with the rules: (key prefix of the agents' hashes, the grabs hash, the events stream,
        #: the skill the pending list holds, the quota day's UTC offset in seconds)
        self.rules = rules
        self._clients: list[Any] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "sha": self.sha, "pending_key": self.pending_key, "owners_key": self.owners_key,
                "rules": self.rules}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    async def __call__(self, agent_id: int) -> Callable[[], Any]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(
            self.url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            single_connection_client=True)
        self._clients.append(client)
        await client.ping()  # connect now, during set-up, not in the first timed claim
        evalsha = client.evalsha
        if self.rules is None:
            args = (self.sha, 2, self.pending_key, self.owners_key, agent_id)

            async def claim() -> int | None:
                claimed = await evalsha(*args)
                return None if claimed is None else int(claimed)

            return claim
        agent_prefix, grabs_key, events_key, skill, day_offset_s = self.rules
        head = (self.sha, 5, self.pending_key, self.owners_key, f"{agent_prefix}{agent_id}", grabs_key, events_key)
        grab_ids = iter(range(1, 1 << 62))

        async def claim() -> int | None:
            claimed = await evalsha(*head, agent_id, f"c{next(grab_ids)}", skill, day_offset_s)
            return None if claimed is None else int(claimed)

        return claim

    async def aclose(self) -> None:
        for client in self._clients:
            await close_async(client)
        self._clients.clear()


def _redis_persistence(client: Any) -> dict[str, str]:
    config: dict[str, str] = {}
    for key in ("appendonly", "appendfsync", "save"):
        try:
            config.update({k: v for k, v in client.config_get(key).items()})
        except Exception as exc:  # CONFIG may be renamed or forbidden
            config[key] = f"unknown ({type(exc).__name__})"
    return config


def _redis_durability(config: dict[str, str]) -> str:
    aof, fsync, save = config.get("appendonly"), config.get("appendfsync"), config.get("save")
    tail = "; one server, no replica, so losing the machine's disk loses claims"
    if aof == "yes" and fsync == "always":
        return ("AOF with appendfsync always: the claim script is written and fsynced to the AOF before "
                "the reply is sent, so a claim survives a Redis process crash and a power loss, as far as "
                "the disk honours fsync" + tail)
    if aof == "yes" and fsync == "everysec":
        return ("AOF with appendfsync everysec: the claim is written to the AOF (OS page cache) before the "
                "reply, so it survives a Redis process crash, but a power loss or OS crash can lose about "
                "the last 1-2 s of claims" + tail)
    if aof == "yes":
        return (f"AOF with appendfsync {fsync}: survives a Redis process crash; a power loss can lose "
                "whatever the OS had not yet written back (up to ~30 s)" + tail)
    if aof == "no" and save:
        return (f"no AOF, RDB snapshots only (save '{save}'): a process crash or power loss loses every "
                "claim since the last snapshot -- NOT the committed-before-verdict class" + tail)
    if aof == "no":
        return ("memory only (AOF off, no RDB snapshots): every claim is lost on a Redis process crash or "
                "a power loss -- NOT the committed-before-verdict class" + tail)
    return f"unknown: could not read the persistence settings ({config})"


def _wait_for_aof(client: Any, timeout_s: float) -> None:
    """Wait until the rewrite that turning AOF on starts has finished."""
    deadline = time.monotonic() + timeout_s
    while True:
        info = client.info("persistence")
        if (info.get("aof_enabled") == 1 and not info.get("aof_rewrite_in_progress")
                and not info.get("aof_rewrite_scheduled")):
            if info.get("aof_last_bgrewrite_status", "ok") != "ok":
                raise RuntimeError(f"Redis AOF rewrite failed: {info.get('aof_last_bgrewrite_status')}")
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis AOF was not ready within {timeout_s:.0f} s")
        time.sleep(POLL_INTERVAL_S)


def run_redis(
    url: str = "redis://127.0.0.1:6379/0",
    agents: int = DEFAULT_AGENTS,
    duration_s: float = DEFAULT_DURATION_S,
    processes: int = DEFAULT_PROCESSES,
    pool_size: int | None = None,
    *,
    force_durable: bool = True,
    rate_per_s: float | None = None,
    rules: ClaimRules | None = None,
) -> ContenderResult:
    """The claim race on a Redis Lua script (EVALSHA); with ``rules``, the script also
    applies them (see the module docstring), and the result is named ``redis+rules``.

    With ``force_durable`` (default) the server is switched to
    ``appendonly yes`` + ``appendfsync always`` for the run -- the
    committed-before-verdict class of the others -- and switched back
    afterwards, even on failure.  If ``CONFIG SET`` is refused, or another
    run holds the config lock, the race runs on the settings as they are and
    ``durability`` says what those give.  ``pool_size`` inquiries (default:
    enough for ``REDIS_CLAIM_CEILING_PER_S``) live under a unique key prefix
    and are deleted afterwards.  Never raises for a server problem; a failed
    restore is reported in ``reason``.

    Turning AOF on leaves AOF files in the server's ``dir``
    (``appendonlydir``); Redis keeps them when AOF is turned off and
    replaces them at the next rewrite, so they stay bounded by one run.
    """
    name = "redis" if rules is None else "redis+rules"
    address = _redis_address(url)
    try:
        import redis
    except ImportError as exc:
        return unavailable(name, f"redis-py is not installed ({exc}); pip install 'grabdesk[peers]'")
    try:
        admin = _redis_client(url)
        admin.ping()
    except Exception as exc:
        return unavailable(name, f"Redis not reachable at {address} (connect timeout {CONNECT_TIMEOUT_S} s): "
                                 f"{type(exc).__name__}: {one_line(exc)}", url_address=address)

    run_id = uuid.uuid4().hex[:12]
    keys = _RunKeys(f"{REDIS_KEY_PREFIX}:{run_id}", agents, rules)
    original = _redis_persistence(admin)
    restore: dict[str, str] = {}  # the settings this run changed, to put back
    result: ContenderResult | None = None
    try:
        config_note = _redis_make_durable(admin, run_id, original, restore, duration_s) if force_durable \
            else "left as found (force_durable=False)"
        result = _race_redis(admin, url, address, keys, agents, duration_s, processes, pool_size, rate_per_s,
                             original, config_note, rules)
    except redis.RedisError as exc:
        result = unavailable(name, f"Redis at {address} failed during the run: {type(exc).__name__}: {exc}",
                             url_address=address)
    finally:
        notes = _redis_teardown(admin, keys, restore, run_id)
        admin.close()
        if notes and result is not None:
            result.reason = join_notes(result.reason, notes)
    return result


def _redis_make_durable(
    admin: Any, run_id: str, original: dict[str, str], restore: dict[str, str], duration_s: float
) -> str:
    """Switch to AOF + fsync always if allowed; fills ``restore``; says what happened."""
    import redis

    if original.get("appendonly") == "yes" and original.get("appendfsync") == "always":
        return "already appendonly yes + appendfsync always"
    # The lock outlives a crashed run only by its TTL.
    lock_ttl_ms = int((duration_s + READY_TIMEOUT_S + RESULT_GRACE_S + REDIS_AOF_READY_TIMEOUT_S) * 1000)
    if not admin.set(REDIS_CONFIG_LOCK_KEY, run_id, nx=True, px=lock_ttl_ms):
        return "another run holds the config lock: ran on the settings as found"
    restore["_lock"] = run_id
    try:
        for key, value in (("appendfsync", "always"), ("appendonly", "yes")):
            admin.config_set(key, value)
            restore[key] = original[key]  # recorded only once it changed
        _wait_for_aof(admin, REDIS_AOF_READY_TIMEOUT_S)
    except (redis.ResponseError, RuntimeError) as exc:
        return f"could not switch to appendonly yes + appendfsync always ({exc}): ran on the settings as found"
    return (f"set appendonly yes + appendfsync always for the run; restored to appendonly "
            f"{original.get('appendonly')} + appendfsync {original.get('appendfsync')} afterwards")


class _RunKeys:
    """The keys of one run, all under its own prefix."""

    def __init__(self, prefix: str, agents: int, rules: ClaimRules | None) -> None:
        self.prefix = prefix
        skill = rules.skill if rules is not None else "any"
        self.pending = f"{prefix}:pending:{skill}"
        self.owners = f"{prefix}:owners"
        self.grabs = f"{prefix}:grabs"
        self.events = f"{prefix}:events"
        self.agent_prefix = f"{prefix}:agent:"
        self.agents = [f"{self.agent_prefix}{i}" for i in range(agents)] if rules is not None else []

    def all(self) -> list[str]:
        return [self.pending, self.owners, self.grabs, self.events, *self.agents]


def _redis_teardown(admin: Any, keys: _RunKeys, restore: dict[str, str], run_id: str) -> str | None:
    """Delete the run's keys, restore changed settings, release the lock; a note on failure."""
    problems = []
    try:
        admin.unlink(*keys.all())
    except Exception as exc:
        problems.append(f"could not delete the keys under {keys.prefix} ({exc})")
    for key in ("appendonly", "appendfsync"):  # AOF off first, then its fsync policy
        if key in restore:
            try:
                admin.config_set(key, restore[key])
            except Exception as exc:
                problems.append(f"could not restore {key}={restore[key]} ({exc}): set it by hand")
    if "_lock" in restore:
        try:
            admin.eval(_REDIS_UNLOCK_LUA, 1, REDIS_CONFIG_LOCK_KEY, run_id)
        except Exception:
            pass  # it expires by itself
    return "; ".join(problems) or None


def _race_redis(
    admin: Any, url: str, address: str, keys: _RunKeys, agents: int, duration_s: float,
    processes: int, pool_size: int | None, rate_per_s: float | None, original: dict[str, str],
    config_note: str, rules: ClaimRules | None,
) -> ContenderResult:
    """``run_redis`` once connected and configured: load, race, verify (keys deleted by the caller)."""
    name = "redis" if rules is None else "redis+rules"
    pending_key, owners_key = keys.pending, keys.owners
    pool_size = pool_size_for(pool_size, rate_per_s, REDIS_CLAIM_CEILING_PER_S, duration_s)
    pipe = admin.pipeline(transaction=False)
    for first in range(1, pool_size + 1, REDIS_LOAD_CHUNK):
        pipe.rpush(pending_key, *range(first, min(first + REDIS_LOAD_CHUNK, pool_size + 1)))
    if rules is not None:
        for agent_key in keys.agents:
            pipe.hset(agent_key, mapping={"status": "online", "held": 0, "cap": rules.concurrent_cap,
                                          "grabs_today": 0, "daily": rules.daily_grabs, f"skill:{rules.skill}": 1})
    pipe.execute()
    lua = REDIS_CLAIM_LUA if rules is None else REDIS_RULES_CLAIM_LUA
    sha = admin.script_load(lua)
    during = _redis_persistence(admin)

    factory = RedisClaimerFactory(url, sha, pending_key, owners_key, rules=None if rules is None else (
        keys.agent_prefix, keys.grabs, keys.events, rules.skill, rules.day_utc_offset_s))
    cpu0 = _redis_cpu_seconds(admin)
    try:
        outcome = run_claim_race(factory, agents, duration_s, processes, rate_per_s=rate_per_s)
    except Exception as exc:
        return race_failed(name, address, exc, url_address=address)
    cpu_s = _redis_cpu_seconds(admin) - cpu0
    after = _redis_persistence(admin)

    # The store against what agents were told (as for PostgreSQL).
    owned = {int(k): int(v) for k, v in admin.hgetall(owners_key).items()}
    wrong_owner, unreported = told_vs_owned(outcome, owned)
    durability = _redis_durability(during)
    if after != during:
        durability += f" (WARNING: the persistence settings changed during the run, to {after})"
    settings = {
        "url_address": address,
        "server_version": admin.info("server").get("redis_version"),
        "claim": "EVALSHA of a Lua script: LPOP pending list, HSETNX owners hash (atomic)" + (
            "" if rules is None else "; first the rules: grab id seen, online, skill, cap, daily quota; "
                                     "then count it on the agent, record the grab and XADD an event"),
        "claim_lua": lua.strip(),
        "pool_size": pool_size,
        "connections": agents,
        "server_cpu_us_per_claim": cpu_us_per_claim(cpu_s, outcome.claims),
        "connections_note": f"one connection per agent ({agents}), agents are asyncio tasks",
        "persistence_during_run": during,
        "persistence_before_run": original,
        "config_change": config_note,
        "verification": {
            "owners_recorded": len(owned),
            "wins_with_wrong_or_missing_owner": wrong_owner,
            "owned_ids_no_agent_was_told_of": unreported,
            "pending_left": admin.llen(pending_key),
        },
    }
    if rules is not None:
        settings["rules"] = rules.to_dict()
        settings["verification"].update(_redis_rules_check(admin, keys, owned, rules))
    result = result_from_race(name, outcome, durability=durability, settings=settings,
                              extra_double_claims=wrong_owner)
    if unreported:
        result.reason = join_notes(result.reason, f"{unreported} ids are owned but no agent was told it won them")
    if rules is not None:
        check = settings["verification"]
        if any(check[k] for k in ("agents_over_cap", "agents_over_daily_quota", "agents_held_not_owned")) \
                or check["events_recorded"] != outcome.claims:
            result.reason = join_notes(result.reason, f"the rules were not kept: {check}")
    return result


def _redis_cpu_seconds(admin: Any) -> float:
    """The server's CPU seconds so far (its threads and its forked children)."""
    info = admin.info("cpu")
    return sum(float(info.get(k, 0.0)) for k in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
                                                  "used_cpu_user_children"))


def _redis_rules_check(admin: Any, keys: _RunKeys, owned: dict[int, int], rules: ClaimRules) -> dict[str, int]:
    """The rules run's store against its rules (as for PostgreSQL)."""
    pipe = admin.pipeline(transaction=False)
    for agent_key in keys.agents:
        pipe.hmget(agent_key, "held", "grabs_today")
    loads = pipe.execute()
    owned_by: dict[int, int] = {}
    for agent in owned.values():
        owned_by[agent] = owned_by.get(agent, 0) + 1
    held = [int(h) for h, _g in loads]
    return {
        "agents_over_cap": sum(1 for h in held if h > rules.concurrent_cap),
        "agents_over_daily_quota": sum(1 for _h, g in loads if int(g) > rules.daily_grabs),
        "agents_held_not_owned": sum(1 for i, h in enumerate(held) if h != owned_by.get(i, 0)),
        "events_recorded": admin.xlen(keys.events),
        "grabs_recorded": sum(1 for v in admin.hvals(keys.grabs) if v),
    }
