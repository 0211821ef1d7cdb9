"""The claim race run against what users would pick instead of grabdesk.

``claim-peers`` asks one question of every contender: *N agents claim
inquiries from one shared pool as fast as they can; how many claims per
second, at what latency, and is there ever a second winner?*  Every
contender is held to the same durability class: **a claim is committed
before its verdict reaches the agent** (each contender's ``durability``
sentence says what that buys on that store: a process crash, a power loss).

Contenders here
---------------
``run_postgres(dsn, agents, duration_s, processes, ...) -> ContenderResult``
    ``UPDATE .. WHERE id = (SELECT .. FOR UPDATE SKIP LOCKED LIMIT 1)
    RETURNING id`` in autocommit mode with ``synchronous_commit = on``.
    PostgreSQL cannot give 200 agents a connection each on a default server
    (``max_connections`` = 100), so agents share a bounded set of
    connections per process (``FairPool``); ``settings`` states how many
    and why.  The table also holds handled inquiries, as a live one would
    (see ``PG_HISTORY_FRACTION``), and the run checks the claim's plan.
``run_redis(url, agents, duration_s, processes, ...) -> ContenderResult``
    A Lua script (``EVALSHA``) that pops an id from a pending list and
    records the owner with ``HSETNX`` atomically; one connection per agent.
    For the run it switches the server to ``appendonly yes`` +
    ``appendfsync always`` when ``CONFIG SET`` is allowed, and restores the
    previous settings afterwards.

In both, agents are asyncio tasks (100 per process by default), which
measured better than a thread per agent on 2 cores.  Both check the store
afterwards against what each agent was told (``settings["verification"]``).
Neither raises when its server is missing or fails: it returns
``available=False`` with a ``reason`` naming the address it tried and the
error.  Both clean up (table, keys, server settings, worker processes) on
every exit path.

The harness, for other contenders (the grabdesk one plugs in here)
------------------------------------------------------------------
``run_claim_race(make_claimer, agents, duration_s, processes, *,
rate_per_s=None) -> RaceOutcome``

* Agents ``0 .. agents-1`` are dealt round-robin to ``processes`` worker
  processes (``spawn`` start method: nothing of the caller's sockets,
  connections or threads is inherited).  As always with ``spawn``, a
  calling *script* needs the ``if __name__ == "__main__":`` guard;
  ``python -c``, ``python -m grabdesk``, console scripts and pytest are fine.
* ``make_claimer`` must be picklable (a module-level function, or an
  instance of a module-level class); each worker receives its own copy and
  calls ``make_claimer(agent_id)`` once per agent, *before* the clock starts,
  so connecting is never timed.  It returns the agent's *claimer*:

  - a plain callable ``claimer() -> id | None`` -- the worker runs each
    agent in its own thread (simple, but with ~100 agents per process the
    GIL hand-offs show in the tail latency); or
  - an ``async`` callable -- the worker runs all its agents as tasks on one
    asyncio loop (preferred).  ``make_claimer`` itself may then be ``async``
    too (it is awaited on that loop, e.g. to open an async connection).
    Agents that share connections should take them from a ``FairPool``.
    A claim must really suspend (await its I/O): one that never does keeps
    the loop, and the other agents of its process never run.

  One call is one claim attempt: return the claimed inquiry id (any
  hashable, picklable value) when this agent won one, ``None`` when there
  was nothing to claim.  An exception counts as an error (the first few are
  reported) and the agent carries on after a short back-off.
* Teardown, in the worker, even when the run fails: every claimer's
  ``aclose()``/``close()``, then ``make_claimer.aclose()``/``close()``, if
  they exist (awaited when they are coroutines).  Per-process resources
  (a connection pool, a context) belong on the factory, opened lazily on
  the first ``make_claimer`` call.
* Timing: all workers finish their set-up, then start together; each agent
  claims back to back (saturated) until ``duration_s`` has passed, or, with
  ``rate_per_s``, on a fixed per-agent schedule whose sum is ``rate_per_s``
  (latency then counts from the *scheduled* moment, so a slow claim that
  delays the agent's next one is not hidden).  No new claim starts after
  ``duration_s``; claims/s is claims over the time until the last one
  ended.  Latency is measured per claim with ``time.perf_counter``.
* ``RaceOutcome`` carries the claims, per-claim latencies (ms), the claimed
  ids with the agent that was told it won each, misses, errors and the
  elapsed time.  ``count_double_claims(outcome.claimed_ids)`` and
  ``result_from_race(name, outcome, durability=..., settings=...)`` turn it
  into a ``ContenderResult``; ``percentile`` is the shared percentile.

``NullClaimerFactory`` is the smallest contender (no store at all): it
measures the harness itself, i.e. the ceiling of this load generator on
this machine.
"""
from __future__ import annotations

import array
import asyncio
import inspect
import math

from broker.staffing.reports import quantile
import multiprocessing
import os
import queue
import random
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Hashable, Iterable, Sequence

# --- named constants (units in the name) ------------------------------------

#: How long to wait for a server to accept a connection.  libpq rounds any
#: connect_timeout below 2 s up to 2 s anyway.
CONNECT_TIMEOUT_S = 2
#: A claim that takes longer than this is a stuck server, not a slow claim.
REDIS_SOCKET_TIMEOUT_S = 10.0
#: Workers must have connected all their agents within this.
READY_TIMEOUT_S = 60.0
#: After the run window, how long to wait for every worker's results.
RESULT_GRACE_S = 30.0
#: How long to wait for a worker process to exit before terminating it.
JOIN_TIMEOUT_S = 5.0
#: Pause after a failed claim, so a broken server does not become a hot loop.
ERROR_BACKOFF_S = 0.01
#: How many error messages a run keeps (the count is always exact).
ERROR_SAMPLES = 3
#: How often the parent looks at its workers while waiting on them.
POLL_INTERVAL_S = 0.1

DEFAULT_AGENTS = 200
DEFAULT_DURATION_S = 5.0
DEFAULT_PROCESSES = 2

#: Pool sizing: a claim rate no contender reaches on this class of machine
#: (PERF-NOTES: PostgreSQL about 6 k/s, Redis about 30 k/s), so the pool
#: never runs dry.  A run that does run dry says so in its ``reason``.
PG_CLAIM_CEILING_PER_S = 25_000
REDIS_CLAIM_CEILING_PER_S = 100_000
#: The smallest pool loaded, so short test runs still have room.
MIN_POOL_SIZE = 10_000
#: Inquiries pushed to Redis per RPUSH (bounded request size).
REDIS_LOAD_CHUNK = 10_000

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

#: Redis keys of this benchmark share this prefix (plus a per-run id).
REDIS_KEY_PREFIX = "grabdesk:bench:claim-peers"
#: Serialises runs that change the server's AOF settings, so two concurrent
#: runs cannot restore each other's settings in the wrong order.
REDIS_CONFIG_LOCK_KEY = f"{REDIS_KEY_PREFIX}:config-lock"
#: Longest wait for the AOF rewrite that ``CONFIG SET appendonly yes`` starts.
REDIS_AOF_READY_TIMEOUT_S = 30.0


# --- results -----------------------------------------------------------------


@dataclass
class ContenderResult:
    """One contender's figures in the claim race.

    ``claims_per_s``, ``p50_ms`` and ``p99_ms`` are ``None`` when the
    contender did not run (``available`` is False, ``reason`` says why).
    ``reason`` may also be set on a run that did happen, to flag a figure
    that should not be trusted (errors, a pool that ran dry).
    ``double_claims`` counts inquiries that more than one claim was told it
    won; it must be 0.
    """

    name: str
    claims_per_s: float | None
    p50_ms: float | None
    p99_ms: float | None
    claims: int
    double_claims: int
    durability: str
    available: bool
    reason: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: settings hold only JSON types)."""
        return asdict(self)


@dataclass
class RaceOutcome:
    """What ``run_claim_race`` measured, merged over all worker processes.

    ``claimed_ids[i]`` was won by agent ``claimed_by[i]`` in
    ``latencies_ms[i]`` milliseconds.  ``misses`` are attempts that found
    nothing to claim; ``errors`` attempts that raised.
    """

    agents: int
    processes: int
    duration_s: float
    elapsed_s: float
    claims: int
    latencies_ms: list[float]
    claimed_ids: list[Hashable]
    claimed_by: list[int]
    misses: int
    errors: int
    error_samples: list[str]
    mode: str
    rate_per_s: float | None = None

    @property
    def claims_per_s(self) -> float:
        return self.claims / self.elapsed_s if self.elapsed_s > 0 else 0.0


def unavailable(name: str, reason: str, durability: str = "not measured", **settings: Any) -> ContenderResult:
    """The result of a contender that could not run."""
    return ContenderResult(
        name=name, claims_per_s=None, p50_ms=None, p99_ms=None, claims=0, double_claims=0,
        durability=durability, available=False, reason=reason, settings=dict(settings),
    )


# --- statistics --------------------------------------------------------------


def percentile(values: Sequence[float], q: float, *, is_sorted: bool = False) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default).

    ``None`` for an empty sequence.  Pass ``is_sorted=True`` to skip sorting
    when taking several percentiles of one sorted list.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return None
    # one definition for benchmarks, reports and the console's figures
    return quantile(list(values) if is_sorted else sorted(values), q / 100.0)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max of a latency list, in ms (all ``None`` if empty)."""
    data = sorted(latencies_ms)
    summary: dict[str, float | None] = {
        f"p{q:g}_ms": percentile(data, q, is_sorted=True) for q in (50, 90, 99, 99.9)
    }
    summary["max_ms"] = data[-1] if data else None
    return summary


def count_double_claims(claimed_ids: Iterable[Hashable]) -> int:
    """How many inquiries were reported won by more than one claim."""
    return sum(1 for n in Counter(claimed_ids).values() if n > 1)


def result_from_race(
    name: str,
    outcome: RaceOutcome,
    *,
    durability: str,
    settings: dict[str, Any] | None = None,
    extra_double_claims: int = 0,
) -> ContenderResult:
    """A ``ContenderResult`` from a race outcome.

    ``extra_double_claims`` adds double claims found by a contender's own
    check of its store (e.g. a winner the store does not record as owner).
    ``reason`` is set when the figures are suspect: claim errors, or misses
    in a saturated run (the pool ran dry, so the rate is not the store's).
    """
    data = sorted(outcome.latencies_ms)
    notes = []
    if outcome.errors:
        notes.append(f"{outcome.errors} claim attempts failed (first: {outcome.error_samples[:1]})")
    if outcome.misses:
        notes.append(f"{outcome.misses} claim attempts found the pool empty")
    merged = {
        "agents": outcome.agents,
        "processes": outcome.processes,
        "duration_s": outcome.duration_s,
        "elapsed_s": round(outcome.elapsed_s, 4),
        "mode": outcome.mode,
        "rate_per_s": outcome.rate_per_s,
        "misses": outcome.misses,
        "errors": outcome.errors,
        "error_samples": outcome.error_samples,
        "latency": {k: _round(v) for k, v in latency_summary(data).items()},
        "latency_measures": (
            "from the agent issuing the claim (or, with rate_per_s, from its scheduled "
            "moment) to the verdict in its hands, waits for a shared connection included"
        ),
    }
    merged.update(settings or {})
    return ContenderResult(
        name=name,
        claims_per_s=round(outcome.claims_per_s, 1),
        p50_ms=_round(percentile(data, 50, is_sorted=True)),
        p99_ms=_round(percentile(data, 99, is_sorted=True)),
        claims=outcome.claims,
        double_claims=count_double_claims(outcome.claimed_ids) + extra_double_claims,
        durability=durability,
        available=True,
        reason="; ".join(notes) or None,
        settings=merged,
    )


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- the harness ---------------------------------------------------------------


def run_claim_race(
    make_claimer: Callable[[int], Any],
    agents: int = DEFAULT_AGENTS,
    duration_s: float = DEFAULT_DURATION_S,
    processes: int = DEFAULT_PROCESSES,
    *,
    rate_per_s: float | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> RaceOutcome:
    """Race ``agents`` claimers for ``duration_s`` seconds in ``processes`` processes.

    See the module docstring for the claimer protocol.  Raises
    ``RuntimeError`` when a worker fails to set up, dies, or does not report
    in time; worker processes are always joined (terminated, then killed,
    if they do not exit within ``JOIN_TIMEOUT_S``).
    """
    if agents < 1 or processes < 1 or duration_s <= 0:
        raise ValueError("agents and processes must be >= 1 and duration_s > 0")
    if rate_per_s is not None and rate_per_s <= 0:
        raise ValueError("rate_per_s must be > 0")
    processes = min(processes, agents)
    # spawn, not fork: a forked child would share the caller's open sockets
    # (a psycopg connection closed at the child's exit would end the
    # parent's session too) and its threads' locks.
    ctx = multiprocessing.get_context("spawn")
    messages = ctx.Queue()
    start = ctx.Event()
    abort = ctx.Event()
    workers = []
    for index in range(processes):
        agent_ids = list(range(index, agents, processes))
        per_agent_rate = None if rate_per_s is None else rate_per_s / agents
        proc = ctx.Process(
            target=_worker_main,
            args=(index, agent_ids, make_claimer, duration_s, per_agent_rate,
                  ready_timeout_s, messages, start, abort),
            name=f"claim-race-{index}",
            daemon=True,  # never outlive the caller
        )
        workers.append(proc)
    results: dict[int, dict[str, Any]] = {}
    try:
        for proc in workers:
            proc.start()
        _await_messages(messages, workers, "ready", ready_timeout_s, results)
        results.clear()
        start.set()
        _await_messages(messages, workers, "result", duration_s + RESULT_GRACE_S, results)
    except BaseException:
        abort.set()
        raise
    finally:
        _join_all(workers)
        messages.close()
        messages.join_thread()
    return _merge(results, agents, processes, duration_s, rate_per_s)


def _await_messages(
    messages: Any, workers: list[Any], kind: str, timeout_s: float, into: dict[int, dict[str, Any]]
) -> None:
    """Collect one ``kind`` message from every worker, or raise RuntimeError."""
    deadline = time.monotonic() + timeout_s
    pending = set(range(len(workers)))
    while pending:
        try:
            msg_kind, index, payload = messages.get(timeout=POLL_INTERVAL_S)
        except queue.Empty:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(pending)} sent no {kind!r} within {timeout_s:.0f} s") from None
            dead = [i for i in pending if workers[i].exitcode is not None]
            if dead:
                # a last look: the message may have arrived just before exit
                try:
                    msg_kind, index, payload = messages.get(timeout=POLL_INTERVAL_S)
                except queue.Empty:
                    codes = {i: workers[i].exitcode for i in dead}
                    raise RuntimeError(f"worker(s) exited without {kind!r}: exit codes {codes}") from None
            else:
                continue
        if msg_kind == "error":
            raise RuntimeError(f"worker {index} failed:\n{payload}")
        if msg_kind == kind:
            into[index] = payload
            pending.discard(index)


def _join_all(workers: list[Any]) -> None:
    """Join every started worker; terminate, then kill, the ones that hang."""
    for proc in workers:
        if proc.pid is None:
            continue
        proc.join(JOIN_TIMEOUT_S)
        if proc.is_alive():
            proc.terminate()
            proc.join(JOIN_TIMEOUT_S)
        if proc.is_alive():
            proc.kill()
            proc.join(JOIN_TIMEOUT_S)


def _merge(
    results: dict[int, dict[str, Any]], agents: int, processes: int, duration_s: float, rate_per_s: float | None
) -> RaceOutcome:
    latencies: list[float] = []
    ids: list[Hashable] = []
    owners: list[int] = []
    misses = errors = 0
    samples: list[str] = []
    elapsed = 0.0
    modes = set()
    for index in sorted(results):
        r = results[index]
        latencies.extend(array.array("d", r["latencies_ms"]))
        ids.extend(r["ids"])
        owners.extend(r["owners"])
        misses += r["misses"]
        errors += r["errors"]
        samples.extend(r["error_samples"])
        elapsed = max(elapsed, r["elapsed_s"])
        modes.add(r["mode"])
    return RaceOutcome(
        agents=agents, processes=processes, duration_s=duration_s, elapsed_s=elapsed,
        claims=len(ids), latencies_ms=latencies, claimed_ids=ids, claimed_by=owners,
        misses=misses, errors=errors, error_samples=samples[:ERROR_SAMPLES],
        mode="/".join(sorted(modes)), rate_per_s=rate_per_s,
    )


# --- inside a worker process ---------------------------------------------------------------


class _AgentLog:
    """What one agent did; merged by its worker."""

    __slots__ = ("latencies_ms", "ids", "misses", "errors", "error_samples")

    def __init__(self) -> None:
        self.latencies_ms = array.array("d")
        self.ids: list[Hashable] = []
        self.misses = 0
        self.errors = 0
        self.error_samples: list[str] = []

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(f"{type(exc).__name__}: {exc}")


class _Schedule:
    """When an agent issues its next claim: back to back, or on a fixed grid."""

    def __init__(self, agent_id: int, t0: float, interval_s: float | None) -> None:
        self.interval_s = interval_s
        # a per-agent random phase so paced agents do not fire in lock-step
        self.next = t0 + (random.Random(agent_id).random() * interval_s if interval_s else 0.0)

    def slot(self, now: float) -> float:
        """The moment this claim counts from; advances the grid."""
        if self.interval_s is None:
            return now
        when = self.next
        self.next += self.interval_s
        return when


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


def _worker_main(
    index: int,
    agent_ids: list[int],
    make_claimer: Any,
    duration_s: float,
    per_agent_rate: float | None,
    ready_timeout_s: float,
    messages: Any,
    start: Any,
    abort: Any,
) -> None:
    """Entry point of a worker process: set up, wait for start, race, report."""
    try:
        if _is_async(make_claimer):
            payload = asyncio.run(_race_async(index, agent_ids, make_claimer, duration_s, per_agent_rate,
                                              ready_timeout_s, messages, start, abort, None))
        else:
            claimers: list[Any] = []
            handed_over = False  # to _race_async, which then closes everything
            try:
                claimers = [make_claimer(a) for a in agent_ids]
                if any(_is_async(c) for c in claimers):
                    handed_over = True
                    payload = asyncio.run(_race_async(index, agent_ids, make_claimer, duration_s,
                                                      per_agent_rate, ready_timeout_s, messages, start,
                                                      abort, claimers))
                else:
                    payload = _race_threads(index, agent_ids, claimers, duration_s, per_agent_rate,
                                            ready_timeout_s, messages, start, abort)
            finally:
                if not handed_over:
                    for c in claimers:
                        _close_sync(c)
                    _close_sync(make_claimer)
        if payload is not None:
            messages.put(("result", index, payload))
    except BaseException:  # report everything, including KeyboardInterrupt, then exit
        messages.put(("error", index, traceback.format_exc()))
    finally:
        messages.close()
        messages.join_thread()  # flush before the process exits


def _close_sync(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # teardown must go on; the run's figures are already taken
            pass


async def _close_async(obj: Any) -> None:
    close = getattr(obj, "aclose", None) or getattr(obj, "close", None)
    if callable(close):
        try:
            result = close()
            if inspect.isawaitable(result):
                await result
        except Exception:
            pass


def _wait_for_start(start: Any, abort: Any, ready_timeout_s: float) -> bool:
    """Block until the parent says go; False if it aborted or never did."""
    deadline = time.monotonic() + ready_timeout_s + RESULT_GRACE_S
    while not start.wait(POLL_INTERVAL_S):
        if abort.is_set() or time.monotonic() > deadline:
            return False
    return not abort.is_set()


def _race_threads(
    index: int, agent_ids: list[int], claimers: list[Any], duration_s: float,
    per_agent_rate: float | None, ready_timeout_s: float, messages: Any, start: Any, abort: Any,
) -> dict[str, Any] | None:
    """One thread per agent; blocking claimers release the GIL while they wait."""
    go = threading.Event()
    logs = [_AgentLog() for _ in agent_ids]
    clock = {"t0": 0.0, "end": 0.0}
    interval = None if per_agent_rate is None else 1.0 / per_agent_rate

    def agent(agent_id: int, claimer: Any, log: _AgentLog) -> None:
        go.wait()
        t_end = clock["end"]
        schedule = _Schedule(agent_id, clock["t0"], interval)
        perf = time.perf_counter
        while True:
            now = perf()
            t0 = schedule.slot(now)
            if t0 >= t_end:
                break
            if t0 > now:
                time.sleep(t0 - now)
            try:
                claimed = claimer()
            except Exception as exc:
                log.error(exc)
                time.sleep(ERROR_BACKOFF_S)
                continue
            if claimed is None:
                log.misses += 1
            else:
                log.latencies_ms.append((perf() - t0) * 1000.0)
                log.ids.append(claimed)

    threads = [threading.Thread(target=agent, args=(a, c, log), daemon=True, name=f"agent-{a}")
               for a, c, log in zip(agent_ids, claimers, logs)]
    for t in threads:
        t.start()
    messages.put(("ready", index, None))
    started = _wait_for_start(start, abort, ready_timeout_s)
    clock["t0"] = time.perf_counter()
    # not started: an empty window, so the threads exit at once
    clock["end"] = clock["t0"] + (duration_s if started else 0.0)
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - clock["t0"]
    return _payload(agent_ids, logs, elapsed, "threads") if started else None


async def _race_async(
    index: int, agent_ids: list[int], make_claimer: Any, duration_s: float,
    per_agent_rate: float | None, ready_timeout_s: float, messages: Any, start: Any, abort: Any,
    claimers: list[Any] | None,
) -> dict[str, Any] | None:
    """All of this worker's agents as tasks on one event loop."""
    loop = asyncio.get_running_loop()
    try:
        if claimers is None:
            claimers = []
            for a in agent_ids:
                c = make_claimer(a)
                claimers.append(await c if inspect.isawaitable(c) else c)
        logs = [_AgentLog() for _ in agent_ids]
        interval = None if per_agent_rate is None else 1.0 / per_agent_rate
        messages.put(("ready", index, None))
        # the wait blocks; run it off the loop so the loop stays responsive
        started = await loop.run_in_executor(None, _wait_for_start, start, abort, ready_timeout_s)
        if not started:
            return None
        t_start = time.perf_counter()
        t_end = t_start + duration_s

        async def agent(agent_id: int, claimer: Any, log: _AgentLog) -> None:
            schedule = _Schedule(agent_id, t_start, interval)
            perf = time.perf_counter
            while True:
                now = perf()
                t0 = schedule.slot(now)
                if t0 >= t_end:
                    break
                if t0 > now:
                    await asyncio.sleep(t0 - now)
                try:
                    claimed = claimer()
                    if inspect.isawaitable(claimed):
                        claimed = await claimed
                except Exception as exc:
                    log.error(exc)
                    await asyncio.sleep(ERROR_BACKOFF_S)
                    continue
                if claimed is None:
                    log.misses += 1
                else:
                    log.latencies_ms.append((perf() - t0) * 1000.0)
                    log.ids.append(claimed)

        await asyncio.gather(*(agent(a, c, log) for a, c, log in zip(agent_ids, claimers, logs)))
        return _payload(agent_ids, logs, time.perf_counter() - t_start, "asyncio")
    finally:
        for c in claimers or ():
            await _close_async(c)
        await _close_async(make_claimer)


def _payload(agent_ids: list[int], logs: list[_AgentLog], elapsed_s: float, mode: str) -> dict[str, Any]:
    latencies = array.array("d")
    ids: list[Hashable] = []
    owners: list[int] = []
    samples: list[str] = []
    for agent_id, log in zip(agent_ids, logs):
        latencies.extend(log.latencies_ms)
        ids.extend(log.ids)
        owners.extend([agent_id] * len(log.ids))
        samples.extend(log.error_samples)
    return {
        "latencies_ms": latencies.tobytes(),  # compact over the pipe
        "ids": ids,
        "owners": owners,
        "misses": sum(log.misses for log in logs),
        "errors": sum(log.errors for log in logs),
        "error_samples": samples[:ERROR_SAMPLES],
        "elapsed_s": elapsed_s,
        "mode": mode,
    }


class NullClaimerFactory:
    """A contender with no store: every attempt wins a fresh id at once.

    It measures the harness itself -- the most claims/s this load generator
    can issue on this machine -- and exercises both worker modes.
    """

    def __init__(self, use_async: bool = False) -> None:
        self.use_async = use_async

    def __call__(self, agent_id: int) -> Callable[[], Any]:
        counter = iter(range(1 << 62))
        # ids unique across agents without shared state: (agent, sequence)
        if self.use_async:
            async def claim() -> tuple[int, int]:
                await asyncio.sleep(0)  # suspend, as any claim doing I/O would
                return agent_id, next(counter)
            return claim
        return lambda: (agent_id, next(counter))


# --- PostgreSQL ---------------------------------------------------------------------


#: The claim: lock the lowest unowned inquiry no one else holds, take it,
#: and say which one it was.  Run in autocommit, so it is committed before
#: the server answers.
_PG_CLAIM_SQL = (
    "UPDATE {t} SET owner = %s WHERE id = ("
    "SELECT id FROM {t} WHERE owner IS NULL ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
    ") RETURNING id"
)


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


class FairPool:
    """A first-come, first-served pool of shared objects (connections) for asyncio tasks.

    A plain queue is unfair here: the agent that just handed a connection
    back asks again at once and takes it before the waiter woken for it,
    which then queues again at the back.  Measured with 200 agents on 8..80
    connections (threads and ``queue.Queue``), that starved some agents for
    the whole run (p99 about 5 s) and cost two thirds of the throughput.
    ``release`` therefore hands the object straight to the longest waiter.
    Not thread-safe: one pool per event loop.
    """

    def __init__(self, items: Iterable[Any]) -> None:
        self._idle = list(items)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    async def acquire(self) -> Any:
        if self._idle:  # never non-empty while someone waits
            return self._idle.pop()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # cancelled after being handed an object: pass it on, not lose it
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())
            raise

    def release(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # skip waiters that were cancelled
                waiter.set_result(item)
                return
        self._idle.append(item)


class PgClaimerFactory:
    """Async claimers that share ``connections_per_process`` connections in each process.

    An agent waits (first come, first served) for a free connection, runs
    the claim as one autocommit statement -- committed, WAL flushed, before
    the server answers -- and hands the connection back.  Connections are
    opened on the first call, i.e. during set-up.  asyncio rather than a
    thread per agent: with 100 agents per process it gave the same or
    better throughput with less client CPU on 2 cores.
    """

    def __init__(self, dsn: str, table: str, connections_per_process: int) -> None:
        self.dsn = dsn
        self.table = table
        self.connections_per_process = connections_per_process
        self._pool: FairPool | None = None
        self._all: list[Any] = []

    def __getstate__(self) -> dict[str, Any]:
        # only the recipe crosses the process boundary, never connections
        return {"dsn": self.dsn, "table": self.table, "connections_per_process": self.connections_per_process}

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
        text = sql.SQL(_PG_CLAIM_SQL).format(t=sql.Identifier(self.table)).as_string(self._all[0])
        params = (agent_id,)

        async def claim() -> int | None:
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
            await _close_async(conn)
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
) -> ContenderResult:
    """The claim race on PostgreSQL ``FOR UPDATE SKIP LOCKED``.

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
    name = "postgresql"
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
                                 f"{type(exc).__name__}: {_one_line(exc)}", dsn_address=address)
    table = f"grabdesk_bench_claims_{uuid.uuid4().hex[:12]}"
    result: ContenderResult | None = None
    try:
        result = _race_postgres(admin, dsn, address, table, agents, duration_s, processes, pool_size,
                                connections, rate_per_s)
    except psycopg.Error as exc:
        result = unavailable(name, f"PostgreSQL at {address} failed during the run: "
                                   f"{type(exc).__name__}: {_one_line(exc)}", dsn_address=address)
    finally:
        drop_error = _pg_drop_table(admin, dsn, table)
        admin.close()
        if drop_error and result is not None:
            result.reason = _join_notes(result.reason, drop_error)
    return result


def _pg_drop_table(admin: Any, dsn: str, table: str) -> str | None:
    """Drop the run's table (on a fresh connection if ``admin`` broke); a note if it failed."""
    from psycopg import sql

    statement = sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table))
    try:
        admin.execute(statement)
        return None
    except Exception:
        pass
    try:
        with _pg_connect(dsn) as conn:
            conn.execute(statement)
        return None
    except Exception as exc:
        return f"could not drop the benchmark table {table} ({type(exc).__name__}: {exc}); drop it by hand"


def _one_line(exc: BaseException) -> str:
    """An error message on one line (libpq's span several)."""
    return " ".join(str(exc).split())


def _join_notes(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def _race_failed(name: str, address: str, exc: BaseException, **settings: Any) -> ContenderResult:
    """``available=False`` for a race whose workers failed: the gist in
    ``reason``, the whole worker traceback in ``settings``."""
    text = str(exc).strip()
    gist = text.splitlines()[-1] if text else type(exc).__name__
    return unavailable(name, f"the race against {address} failed: {gist}", error_detail=text, **settings)


def _pool_size(pool_size: int | None, rate_per_s: float | None, ceiling_per_s: float, duration_s: float) -> int:
    """``pool_size``, or enough inquiries that the race never runs dry: twice a paced rate,
    else a rate the store does not reach (see PG_CLAIM_CEILING_PER_S)."""
    if pool_size is not None:
        return pool_size
    ceiling = rate_per_s * 2 if rate_per_s else ceiling_per_s
    return max(MIN_POOL_SIZE, math.ceil(ceiling * duration_s))


def _told_vs_owned(outcome: RaceOutcome, owned: dict[int, int]) -> tuple[int, int]:
    """(wins whose stored owner is not the agent told it won, owned ids no agent was told of).

    Both stores are checked by this one rule, so their verification figures compare."""
    told = dict(zip(outcome.claimed_ids, outcome.claimed_by))
    wrong_owner = sum(1 for i, a in told.items() if owned.get(i) != a)
    return wrong_owner, len(set(owned) - set(told))


def _race_postgres(
    admin: Any, dsn: str, address: str, table: str, agents: int, duration_s: float, processes: int,
    pool_size: int | None, connections: int | None, rate_per_s: float | None,
) -> ContenderResult:
    """``run_postgres`` once connected: size, load, race, verify (table dropped by the caller)."""
    from psycopg import sql

    name = "postgresql"
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

    pool_size = _pool_size(pool_size, rate_per_s, PG_CLAIM_CEILING_PER_S, duration_s)
    history = math.ceil(pool_size * PG_HISTORY_FRACTION)
    admin.execute(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, owner integer)").format(ident))
    # A live pool table also holds inquiries handled earlier (ids <= 0 here,
    # owner PG_HISTORY_OWNER): they give the planner the statistics of a
    # table in use; see PG_HISTORY_FRACTION.
    admin.execute(sql.SQL("INSERT INTO {} (id, owner) SELECT g, %s FROM generate_series(%s, 0) g").format(ident),
                  (PG_HISTORY_OWNER, 1 - history))
    admin.execute(sql.SQL("INSERT INTO {} (id) SELECT generate_series(1, %s)").format(ident), (pool_size,))
    # What a user would add: claims look for the lowest unowned id, and
    # without a partial index every claim would step over all the rows
    # already claimed.
    pending_index = f"{table}_pending"
    admin.execute(sql.SQL("CREATE INDEX {} ON {} (id) WHERE owner IS NULL").format(
        sql.Identifier(pending_index), ident))
    admin.execute(sql.SQL("VACUUM ANALYZE {}").format(ident))
    plan = "\n".join(row[0] for row in admin.execute(sql.SQL("EXPLAIN " + _PG_CLAIM_SQL).format(t=ident), (0,)))
    uses_pending_index = pending_index in plan

    try:
        outcome = run_claim_race(PgClaimerFactory(dsn, table, per_process), agents, duration_s, processes,
                                 rate_per_s=rate_per_s)
    except Exception as exc:
        return _race_failed(name, address, exc, dsn_address=address)

    # The store against what agents were told: every win recorded with that
    # agent as owner, and nothing owned that no agent heard of.
    owned = dict(admin.execute(
        sql.SQL("SELECT id, owner FROM {} WHERE id > 0 AND owner IS NOT NULL").format(ident)).fetchall())
    wrong_owner, unreported = _told_vs_owned(outcome, owned)
    settings = {
        "dsn_address": address,
        "server_version": server["server_version"],
        "claim_sql": _PG_CLAIM_SQL.format(t=table).replace("%s", "$1") + "  -- autocommit",
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
    result = result_from_race(name, outcome, durability=_pg_durability(dict(server, synchronous_commit="on")),
                              settings=settings, extra_double_claims=wrong_owner)
    if not uses_pending_index:
        result.reason = _join_notes(
            result.reason, "the planner did not pick the partial index: claims slow down as the pool is used")
    if unreported:
        result.reason = _join_notes(result.reason, f"{unreported} rows are owned but no agent was told it won them")
    return result


# --- Redis -------------------------------------------------------------------------------

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

    def __init__(self, url: str, sha: str, pending_key: str, owners_key: str) -> None:
        self.url = url
        self.sha = sha
        self.pending_key = pending_key
        self.owners_key = owners_key
        self._clients: list[Any] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "sha": self.sha, "pending_key": self.pending_key, "owners_key": self.owners_key}

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
        args = (self.sha, 2, self.pending_key, self.owners_key, agent_id)

        async def claim() -> int | None:
            claimed = await evalsha(*args)
            return None if claimed is None else int(claimed)

        return claim

    async def aclose(self) -> None:
        for client in self._clients:
            await _close_async(client)
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
) -> ContenderResult:
    """The claim race on a Redis Lua script (EVALSHA).

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
    name = "redis"
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
                                 f"{type(exc).__name__}: {_one_line(exc)}", url_address=address)

    run_id = uuid.uuid4().hex[:12]
    keys = (f"{REDIS_KEY_PREFIX}:{run_id}:pending", f"{REDIS_KEY_PREFIX}:{run_id}:owners")
    original = _redis_persistence(admin)
    restore: dict[str, str] = {}  # the settings this run changed, to put back
    result: ContenderResult | None = None
    try:
        config_note = _redis_make_durable(admin, run_id, original, restore, duration_s) if force_durable \
            else "left as found (force_durable=False)"
        result = _race_redis(admin, url, address, keys, agents, duration_s, processes, pool_size, rate_per_s,
                             original, config_note)
    except redis.RedisError as exc:
        result = unavailable(name, f"Redis at {address} failed during the run: {type(exc).__name__}: {exc}",
                             url_address=address)
    finally:
        notes = _redis_teardown(admin, keys, restore, run_id)
        admin.close()
        if notes and result is not None:
            result.reason = _join_notes(result.reason, notes)
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


def _redis_teardown(admin: Any, keys: tuple[str, str], restore: dict[str, str], run_id: str) -> str | None:
    """Delete the run's keys, restore changed settings, release the lock; a note on failure."""
    problems = []
    try:
        admin.unlink(*keys)
    except Exception as exc:
        problems.append(f"could not delete keys {keys} ({exc})")
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
    admin: Any, url: str, address: str, keys: tuple[str, str], agents: int, duration_s: float,
    processes: int, pool_size: int | None, rate_per_s: float | None, original: dict[str, str],
    config_note: str,
) -> ContenderResult:
    """``run_redis`` once connected and configured: load, race, verify (keys deleted by the caller)."""
    name = "redis"
    pending_key, owners_key = keys
    pool_size = _pool_size(pool_size, rate_per_s, REDIS_CLAIM_CEILING_PER_S, duration_s)
    pipe = admin.pipeline(transaction=False)
    for first in range(1, pool_size + 1, REDIS_LOAD_CHUNK):
        pipe.rpush(pending_key, *range(first, min(first + REDIS_LOAD_CHUNK, pool_size + 1)))
    pipe.execute()
    sha = admin.script_load(REDIS_CLAIM_LUA)
    during = _redis_persistence(admin)

    try:
        outcome = run_claim_race(RedisClaimerFactory(url, sha, pending_key, owners_key), agents, duration_s,
                                 processes, rate_per_s=rate_per_s)
    except Exception as exc:
        return _race_failed(name, address, exc, url_address=address)
    after = _redis_persistence(admin)

    # The store against what agents were told (as for PostgreSQL).
    owned = {int(k): int(v) for k, v in admin.hgetall(owners_key).items()}
    wrong_owner, unreported = _told_vs_owned(outcome, owned)
    durability = _redis_durability(during)
    if after != during:
        durability += f" (WARNING: the persistence settings changed during the run, to {after})"
    settings = {
        "url_address": address,
        "server_version": admin.info("server").get("redis_version"),
        "claim": "EVALSHA of a Lua script: LPOP pending list, HSETNX owners hash (atomic)",
        "claim_lua": REDIS_CLAIM_LUA.strip(),
        "pool_size": pool_size,
        "connections": agents,
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
    result = result_from_race(name, outcome, durability=durability, settings=settings,
                              extra_double_claims=wrong_owner)
    if unreported:
        result.reason = _join_notes(result.reason, f"{unreported} ids are owned but no agent was told it won them")
    return result
