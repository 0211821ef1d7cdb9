"""The claim race harness: N agents in worker processes claim from one store.

Every contender of ``bench claim-peers`` (grabdesk, PostgreSQL, Redis, with
and without rules) runs on this one harness, so their figures compare.

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
import multiprocessing
import queue
import random
import threading
import time
import traceback
from collections import deque
from typing import Any, Callable, Hashable, Iterable

from tools.bench.race_results import RaceOutcome


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


async def close_async(obj: Any) -> None:
    """``aclose()`` or ``close()`` an object if it has one (awaited if a coroutine); never raises."""
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
            await close_async(c)
        await close_async(make_claimer)


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



# --- for contenders whose agents share connections ----------------------------


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

