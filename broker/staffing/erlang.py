"""Erlang C staffing: how many agents an hour of expected arrivals needs.

Erlang C is the contact-centre standard for turning "N inquiries per hour,
each taking T seconds of agent time" into "K agents so that X % are answered
within Y seconds". It models the floor as an M/M/c queue:

* arrivals form a Poisson process (independent customers),
* handle times are exponentially distributed with mean ``aht_s``,
* ``c`` identical servers take from one first-come-first-served queue,
* nobody abandons and the queue is unbounded,
* the system is in steady state within the hour being planned.

Formulas (``A`` = traffic in Erlangs = arrivals per second x AHT,
``c`` = servers)::

    Erlang B  B(A, 0) = 1,   B(A, n) = A*B(A, n-1) / (n + A*B(A, n-1))
    Erlang C  C(A, c) = B(A, c) / (1 - (A/c) * (1 - B(A, c)))     (c > A)
    SL(t)     = 1 - C(A, c) * exp(-(c - A) * t / AHT)
    ASA       = C(A, c) * AHT / (c - A)
    occupancy = A / c

Why the Erlang B recursion: the textbook form of Erlang C has ``A**c / c!``
terms that overflow a float past c ~ 170 and lose precision well before. The
recursion only ever multiplies and divides numbers in [0, 1] and a few
hundreds, so it is exact to float precision for thousands of servers, and it
lets :func:`required_agents` walk ``c`` upwards in O(1) per step.

Chat concurrency (the modelling choice grabdesk makes)
------------------------------------------------------
A chat agent holds several inquiries at once (a per-agent quota, say 3). We
model an agent holding ``concurrency`` chats as ``concurrency`` independent
servers ("slots"), each slot serving one chat at a time with the *given* AHT,
and staff ``agents = ceil(slots / concurrency)``.

Limits of that model, stated so nobody over-trusts it:

* ``aht_s`` must be the handle time of a chat *while the agent multitasks*
  (wall-clock from grab to resolve), which is longer than a single-chat AHT.
  Feed it the single-chat AHT and the result is optimistic.
* Slots of one agent are not independent in reality: a busy agent answers
  every held chat more slowly, and an agent's slots come and go together
  (breaks, log-outs). The model ignores both.
* Rounding ``slots / concurrency`` up means the staffed team offers
  ``agents * concurrency`` slots; the reported service level, probability of
  waiting and occupancy are computed for those slots, so they may beat the
  target a little.
* Erlang C ignores abandonment, so it over-staffs slightly when customers
  give up; and it assumes the hour's arrival rate is flat.

With ``concurrency == 1`` all of this reduces to plain Erlang C.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Staffing",
    "average_speed_of_answer_s",
    "erlang_b",
    "erlang_c",
    "required_agents",
    "service_level",
    "traffic_erlangs",
]

_SECONDS_PER_HOUR = 3600.0
# SL is compared against the target with this slack so that a service level
# that equals the target up to float rounding (e.g. 0.7999999999999999 vs
# 80 %) is accepted rather than costing one more agent.
_TARGET_SLACK = 1e-12


# --------------------------------------------------------------------------
# input checks: one clear sentence each, raised as ValueError
# --------------------------------------------------------------------------

def _check_number(name: str, value: float, *, minimum: float = 0.0, strict: bool = False) -> float:
    """Return ``value`` as float, or raise ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if strict and value <= minimum:
        raise ValueError(f"{name} must be greater than {minimum:g}, got {value:g}.")
    if not strict and value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {value:g}.")
    return value


def _check_int(name: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return value


def traffic_erlangs(arrivals_per_hour: float, aht_s: float) -> float:
    """Offered traffic in Erlangs: the average number of busy servers needed.

    >>> traffic_erlangs(200, 180)   # 200 calls an hour of 3 minutes each
    10.0
    """
    arrivals_per_hour = _check_number("arrivals_per_hour", arrivals_per_hour)
    aht_s = _check_number("aht_s", aht_s, strict=True)
    return arrivals_per_hour * aht_s / _SECONDS_PER_HOUR


# --------------------------------------------------------------------------
# the formulas
# --------------------------------------------------------------------------

def _erlang_b_step(traffic: float, servers: int, b_prev: float) -> float:
    """One step of the Erlang B recursion: B(A, n) from B(A, n-1)."""
    ab = traffic * b_prev
    return ab / (servers + ab)


def _erlang_c_from_b(traffic: float, servers: int, b: float) -> float:
    """Erlang C from Erlang B for the same (A, c); 1.0 when the queue is unstable."""
    if servers <= traffic:
        # c <= A: the queue grows without bound, so in the long run every
        # arrival waits. Erlang C is undefined there; 1.0 is the limit and
        # the safe answer for staffing ("this is not enough").
        return 1.0
    rho = traffic / servers
    return b / (1.0 - rho * (1.0 - b))


def erlang_b(traffic_erlangs: float, servers: int) -> float:
    """Blocking probability of an Erlang B (loss) system with ``servers`` lines.

    Computed with the stable recursion; exposed because it is the building
    block of Erlang C and is checked on its own against published tables.
    """
    traffic = _check_number("traffic_erlangs", traffic_erlangs)
    servers = _check_int("servers", servers, minimum=0)
    b = 1.0
    for n in range(1, servers + 1):
        b = _erlang_b_step(traffic, n, b)
    return b


def erlang_c(traffic_erlangs: float, servers: int) -> float:
    """Probability that an arrival has to wait (Erlang C), for ``servers`` agents.

    Returns 0.0 for no traffic and 1.0 when ``servers <= traffic_erlangs``
    (an unstable queue: sooner or later everyone waits).
    """
    traffic = _check_number("traffic_erlangs", traffic_erlangs)
    servers = _check_int("servers", servers, minimum=0)
    if traffic == 0.0:
        return 0.0
    if servers <= traffic:
        return 1.0
    return _erlang_c_from_b(traffic, servers, erlang_b(traffic, servers))


def _service_level_from_c(prob_wait: float, traffic: float, servers: int, aht_s: float, within_s: float) -> float:
    if servers <= traffic:
        return 0.0  # unstable: the waiting time grows without bound
    return 1.0 - prob_wait * math.exp(-(servers - traffic) * within_s / aht_s)


def service_level(arrivals_per_hour: float, aht_s: float, servers: int, within_s: float) -> float:
    """Fraction of arrivals answered within ``within_s`` seconds (0.0 .. 1.0).

    ``servers`` are Erlang C servers: agents for calls, chat slots for chats
    (see the module docstring). No arrivals means every (non-)arrival is
    answered in time: 1.0.
    """
    traffic = traffic_erlangs(arrivals_per_hour, aht_s)
    servers = _check_int("servers", servers, minimum=0)
    within_s = _check_number("within_s", within_s)
    if traffic == 0.0:
        return 1.0
    return _service_level_from_c(erlang_c(traffic, servers), traffic, servers, aht_s, within_s)


def average_speed_of_answer_s(arrivals_per_hour: float, aht_s: float, servers: int) -> float:
    """Mean wait before an agent picks the arrival up, in seconds (ASA).

    ``math.inf`` when the queue is unstable (``servers <= traffic``).
    """
    traffic = traffic_erlangs(arrivals_per_hour, aht_s)
    servers = _check_int("servers", servers, minimum=0)
    if traffic == 0.0:
        return 0.0
    if servers <= traffic:
        return math.inf
    return erlang_c(traffic, servers) * aht_s / (servers - traffic)


@dataclass(frozen=True)
class Staffing:
    """The answer of :func:`required_agents`.

    ``servers`` is the number of Erlang C servers the staffed team offers
    (``agents * concurrency`` chat slots); ``service_level``, ``prob_wait``
    and ``occupancy`` are computed for exactly those servers. ``occupancy``
    is the busy fraction of a slot (of an agent when concurrency is 1).
    """

    agents: int
    servers: int
    service_level: float
    prob_wait: float
    occupancy: float
    traffic_erlangs: float


def required_agents(
    arrivals_per_hour: float,
    aht_s: float,
    target_pct: float,
    within_s: float,
    concurrency: int = 1,
    max_occupancy_pct: float | None = None,
) -> Staffing:
    """Smallest number of agents so that ``target_pct`` % are answered within ``within_s``.

    ``concurrency`` chats per agent are modelled as that many Erlang C
    servers (see the module docstring for why and where that breaks down).
    ``max_occupancy_pct``, when given, adds a second constraint: slots are
    added until occupancy is at most that, because a floor planned at 95 %
    occupancy burns agents out even when the service level looks fine.

    Raises ValueError with a clear sentence for negative arrivals, a zero or
    negative AHT, a target outside (0, 100), a negative ``within_s``, a
    concurrency below 1 or a maximum occupancy outside (0, 100].
    """
    arrivals_per_hour = _check_number("arrivals_per_hour", arrivals_per_hour)
    aht_s = _check_number("aht_s", aht_s, strict=True)
    target_pct = _check_number("target_pct", target_pct)
    if not 0.0 < target_pct < 100.0:
        # 100 % is never reachable under Erlang C (some arrival always waits
        # a little), so the search would not end; 0 % needs no agents at all
        # and is almost certainly a typo for a fraction like 0.8.
        raise ValueError(f"target_pct must be between 0 and 100 (exclusive), got {target_pct:g}.")
    within_s = _check_number("within_s", within_s)
    concurrency = _check_int("concurrency", concurrency, minimum=1)
    max_occupancy: float | None = None
    if max_occupancy_pct is not None:
        max_occupancy_pct = _check_number("max_occupancy_pct", max_occupancy_pct)
        if not 0.0 < max_occupancy_pct <= 100.0:
            raise ValueError(
                f"max_occupancy_pct must be above 0 and at most 100, got {max_occupancy_pct:g}."
            )
        max_occupancy = max_occupancy_pct / 100.0

    traffic = arrivals_per_hour * aht_s / _SECONDS_PER_HOUR
    if traffic == 0.0:
        return Staffing(agents=0, servers=0, service_level=1.0, prob_wait=0.0, occupancy=0.0, traffic_erlangs=0.0)

    target = target_pct / 100.0 - _TARGET_SLACK

    # Walk the number of slots upwards from the first stable one, carrying
    # Erlang B along so each step costs O(1). Service level rises strictly
    # with slots, so the first slot count that passes is the smallest.
    slots = math.floor(traffic) + 1
    b = erlang_b(traffic, slots)
    while True:
        prob_wait = _erlang_c_from_b(traffic, slots, b)
        sl = _service_level_from_c(prob_wait, traffic, slots, aht_s, within_s)
        occupancy_ok = max_occupancy is None or traffic / slots <= max_occupancy + _TARGET_SLACK
        if sl >= target and occupancy_ok:
            break
        slots += 1
        b = _erlang_b_step(traffic, slots, b)

    agents = math.ceil(slots / concurrency)
    servers = agents * concurrency
    # Recompute for the slots the whole agents actually provide.
    while slots < servers:
        slots += 1
        b = _erlang_b_step(traffic, slots, b)
    prob_wait = _erlang_c_from_b(traffic, servers, b)
    return Staffing(
        agents=agents,
        servers=servers,
        service_level=_service_level_from_c(prob_wait, traffic, servers, aht_s, within_s),
        prob_wait=prob_wait,
        occupancy=traffic / servers,
        traffic_erlangs=traffic,
    )
