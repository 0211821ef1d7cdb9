"""What a claim race measured, and the statistics every benchmark shares.

``RaceOutcome`` is the harness's raw record (``tools.bench.race``);
``ContenderResult`` is one contender's figures as ``bench claim-peers``
reports them.  ``percentile`` is the one percentile definition of the
benchmarks.  The checks at the end are shared by the store contenders, so
their verification figures compare.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Hashable, Iterable, Sequence

from broker.staffing.reports import quantile

#: The smallest pool a store contender loads, so short test runs still have room.
MIN_POOL_SIZE = 10_000

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



# --- shared by the store contenders ------------------------------------------------


def one_line(exc: BaseException) -> str:
    """An error message on one line (libpq's span several)."""
    return " ".join(str(exc).split())


def join_notes(*notes: str | None) -> str | None:
    """Notes joined with "; ", or None when there are none."""
    return "; ".join(n for n in notes if n) or None


def race_failed(name: str, address: str, exc: BaseException, **settings: Any) -> ContenderResult:
    """``available=False`` for a race whose workers failed: the gist in
    ``reason``, the whole worker traceback in ``settings``."""
    text = str(exc).strip()
    gist = text.splitlines()[-1] if text else type(exc).__name__
    return unavailable(name, f"the race against {address} failed: {gist}", error_detail=text, **settings)


def pool_size_for(pool_size: int | None, rate_per_s: float | None, ceiling_per_s: float, duration_s: float) -> int:
    """``pool_size``, or enough inquiries that the race never runs dry: twice a paced rate,
    else a rate the store does not reach (``ceiling_per_s``)."""
    if pool_size is not None:
        return pool_size
    ceiling = rate_per_s * 2 if rate_per_s else ceiling_per_s
    return max(MIN_POOL_SIZE, math.ceil(ceiling * duration_s))


def cpu_us_per_claim(cpu_s: float | None, claims: int) -> float | None:
    """A server's CPU per claim over a race, in µs (None if it could not be read)."""
    return None if cpu_s is None or not claims else round(1e6 * cpu_s / claims, 1)


def told_vs_owned(outcome: RaceOutcome, owned: dict[int, int]) -> tuple[int, int]:
    """(wins whose stored owner is not the agent told it won, owned ids no agent was told of).

    Both stores are checked by this one rule, so their verification figures compare."""
    told = dict(zip(outcome.claimed_ids, outcome.claimed_by))
    wrong_owner = sum(1 for i, a in told.items() if owned.get(i) != a)
    return wrong_owner, len(set(owned) - set(told))
