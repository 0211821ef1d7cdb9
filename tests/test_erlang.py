"""Erlang C staffing (broker/staffing/erlang.py) against published numbers and its own laws.

Published data points used (each with the tolerance its rounding allows):

1. Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked
   Example": 100 calls per 30 minutes, AHT 180 s, 80 % within 20 s
   -> traffic 10 Erlangs; 11 agents: Pw = 0.6821, SL = 39.0 %;
   14 agents: Pw = 0.1741, SL = 88.8 %, ASA = 7.8 s, occupancy 71.4 %;
   14 is the first agent count that meets 80/20.
2. "The Erlang-C formula" step-by-step example (the classic one quoted by
   calculator vendors): 360 calls per half hour, 4-minute calls, 55 agents,
   target 15 s -> traffic 48 Erlangs, occupancy 0.873, Pw = 0.239 (23.9 %),
   ASA = 8.2 s.
3. Erlang B tables (any standard teletraffic table, e.g. the ITU-T/Bell
   tables reprinted in traffic-engineering texts), 1 % grade of service:
   5 lines carry 1.36 E, 10 lines 4.46 E, 20 lines 12.03 E, 50 lines 37.90 E.
   Our Erlang C is built on that recursion, so these pin it down.
4. Closed forms from queueing textbooks (e.g. Kleinrock, Queueing Systems
   Vol. 1, M/M/1 and M/M/2): Pw = rho for one server, Pw = 2 rho^2 / (1 + rho)
   for two; and Erlang C(c=3, A=2) = 4/9 exactly (the ErlangC[3, 2] example
   of the Wolfram Language documentation).
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.staffing.erlang import (
    Staffing,
    average_speed_of_answer_s,
    erlang_b,
    erlang_c,
    required_agents,
    service_level,
    traffic_erlangs,
)


# --------------------------------------------------------------------------
# an independent reference: the textbook factorial formula in exact rationals
# --------------------------------------------------------------------------

def _erlang_c_exact(traffic: Fraction, servers: int) -> Fraction:
    """Erlang C straight from its definition, exact; only usable for small c."""
    term = Fraction(1)
    head = Fraction(0)  # sum_{k < c} A^k / k!
    for k in range(servers):
        head += term
        term = term * traffic / (k + 1)
    # term is now A^c / c!
    tail = term * servers / (servers - traffic)
    return tail / (head + tail)


# --------------------------------------------------------------------------
# 1. Call Centre Helper worked example
# --------------------------------------------------------------------------

CCH_ARRIVALS_PER_HOUR = 200  # 100 calls per 30 minutes
CCH_AHT_S = 180


def test_call_centre_helper_traffic_is_10_erlangs():
    assert traffic_erlangs(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S) == pytest.approx(10.0)


def test_call_centre_helper_11_agents():
    # published to 4 decimals (Pw) and 1 decimal of a percent (SL)
    assert erlang_c(10.0, 11) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S, 11, 20) == pytest.approx(0.390, abs=5e-4)


def test_call_centre_helper_14_agents():
    assert erlang_c(10.0, 14) == pytest.approx(0.1741, abs=5e-5)
    assert service_level(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S, 14, 20) == pytest.approx(0.888, abs=5e-4)
    assert average_speed_of_answer_s(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S, 14) == pytest.approx(7.8, abs=0.05)


def test_call_centre_helper_needs_14_agents_for_80_in_20():
    staffing = required_agents(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S, 80, 20)
    assert staffing.agents == 14
    assert staffing.servers == 14
    assert staffing.occupancy == pytest.approx(0.714, abs=5e-4)
    assert staffing.prob_wait == pytest.approx(0.1741, abs=5e-5)
    assert staffing.traffic_erlangs == pytest.approx(10.0)
    # 13 agents is the published "not enough" step (79.6 % < 80 %)
    assert service_level(CCH_ARRIVALS_PER_HOUR, CCH_AHT_S, 13, 20) < 0.80


# --------------------------------------------------------------------------
# 2. the 360-calls-per-half-hour example
# --------------------------------------------------------------------------

def test_360_calls_per_half_hour_55_agents():
    arrivals_per_hour = 720  # 360 per half hour
    aht_s = 240  # 4 minutes
    assert traffic_erlangs(arrivals_per_hour, aht_s) == pytest.approx(48.0)
    assert erlang_c(48.0, 55) == pytest.approx(0.239, abs=5e-4)
    assert average_speed_of_answer_s(arrivals_per_hour, aht_s, 55) == pytest.approx(8.2, abs=0.05)


# --------------------------------------------------------------------------
# 3. Erlang B table, 1 % grade of service
# --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("lines", "traffic"),
    [(5, 1.36), (10, 4.46), (20, 12.03), (50, 37.90)],
)
def test_erlang_b_matches_published_table_at_one_percent(lines, traffic):
    # the tables round the traffic to 0.01 E; that moves B by < 0.0002 here
    assert erlang_b(traffic, lines) == pytest.approx(0.01, abs=2e-4)


# --------------------------------------------------------------------------
# 4. closed forms
# --------------------------------------------------------------------------

@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9, 0.99])
def test_single_server_waits_with_probability_rho(rho):
    assert erlang_c(rho, 1) == pytest.approx(rho, rel=1e-12)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_two_servers_closed_form(rho):
    traffic = 2 * rho
    assert erlang_c(traffic, 2) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)


def test_erlang_c_three_servers_two_erlangs_is_four_ninths():
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9, rel=1e-12)


@pytest.mark.parametrize(
    ("traffic", "servers"),
    [(Fraction(1, 2), 1), (Fraction(7, 2), 5), (Fraction(10), 11), (Fraction(10), 14), (Fraction(99, 4), 30), (Fraction(48), 55)],
)
def test_recursion_agrees_with_exact_factorial_formula(traffic, servers):
    assert erlang_c(float(traffic), servers) == pytest.approx(float(_erlang_c_exact(traffic, servers)), rel=1e-10)


def test_hundreds_of_servers_stay_finite_and_match_log_space_formula():
    # the factorial formula overflows a float at c ~ 171; check c = 1050 and
    # 5100 against the same formula done in log space with lgamma
    for traffic, servers in [(1000.0, 1050), (5000.0, 5100)]:
        pw = erlang_c(traffic, servers)
        log_terms = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(servers)]
        log_tail = servers * math.log(traffic) - math.lgamma(servers + 1) + math.log(servers / (servers - traffic))
        peak = max(max(log_terms), log_tail)
        head = sum(math.exp(t - peak) for t in log_terms)
        tail = math.exp(log_tail - peak)
        assert 0.0 < pw < 1.0
        assert pw == pytest.approx(tail / (head + tail), rel=1e-9)


# --------------------------------------------------------------------------
# laws: monotonicity, minimality, the concurrency rule
# --------------------------------------------------------------------------

arrivals = st.floats(min_value=0.5, max_value=3000, allow_nan=False)
ahts = st.floats(min_value=10, max_value=1800, allow_nan=False)
targets = st.floats(min_value=1, max_value=99, allow_nan=False)
withins = st.floats(min_value=0, max_value=600, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(arrivals, ahts, withins)
def test_more_agents_never_lower_service_level_or_raise_wait(arrivals_per_hour, aht_s, within_s):
    traffic = traffic_erlangs(arrivals_per_hour, aht_s)
    first = math.floor(traffic) + 1
    previous_sl, previous_pw = -1.0, 2.0
    for servers in range(max(0, first - 2), first + 30):
        sl = service_level(arrivals_per_hour, aht_s, servers, within_s)
        pw = erlang_c(traffic, servers)
        assert 0.0 <= sl <= 1.0 and 0.0 <= pw <= 1.0
        assert sl >= previous_sl - 1e-12
        assert pw <= previous_pw + 1e-12
        previous_sl, previous_pw = sl, pw


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0.1, max_value=200), st.integers(min_value=1, max_value=300))
def test_more_traffic_means_more_waiting(traffic, servers):
    lower = erlang_c(traffic, servers)
    higher = erlang_c(traffic * 1.05, servers)
    assert higher >= lower


@settings(max_examples=200, deadline=None)
@given(arrivals, ahts, targets, withins)
def test_required_agents_is_the_smallest_that_meets_the_target(arrivals_per_hour, aht_s, target_pct, within_s):
    staffing = required_agents(arrivals_per_hour, aht_s, target_pct, within_s)
    assert staffing.service_level >= target_pct / 100 - 1e-9
    assert staffing.service_level == pytest.approx(
        service_level(arrivals_per_hour, aht_s, staffing.agents, within_s), abs=1e-12
    )
    assert service_level(arrivals_per_hour, aht_s, staffing.agents - 1, within_s) < target_pct / 100
    assert staffing.occupancy < 1.0


@settings(max_examples=200, deadline=None)
@given(arrivals, ahts, targets, withins, st.integers(min_value=1, max_value=8))
def test_concurrency_divides_slots_among_agents(arrivals_per_hour, aht_s, target_pct, within_s, concurrency):
    slots_needed = required_agents(arrivals_per_hour, aht_s, target_pct, within_s).agents
    staffing = required_agents(arrivals_per_hour, aht_s, target_pct, within_s, concurrency=concurrency)
    assert staffing.agents == math.ceil(slots_needed / concurrency)
    assert staffing.servers == staffing.agents * concurrency
    # the reported figures are for the slots the whole agents really provide
    assert staffing.service_level == pytest.approx(
        service_level(arrivals_per_hour, aht_s, staffing.servers, within_s), abs=1e-12
    )
    assert staffing.prob_wait == pytest.approx(erlang_c(staffing.traffic_erlangs, staffing.servers), abs=1e-12)


def test_concurrency_three_on_the_worked_example():
    # 14 slots needed -> 5 agents holding 3 chats each = 15 slots
    staffing = required_agents(200, 180, 80, 20, concurrency=3)
    assert staffing == Staffing(
        agents=5,
        servers=15,
        service_level=pytest.approx(service_level(200, 180, 15, 20)),
        prob_wait=pytest.approx(erlang_c(10.0, 15)),
        occupancy=pytest.approx(10 / 15),
        traffic_erlangs=pytest.approx(10.0),
    )


def test_max_occupancy_adds_agents_beyond_the_service_level_answer():
    # 720/h x 240 s = 48 E: 55 agents meet 80/15 at 87.3 % occupancy;
    # capping occupancy at 85 % needs ceil(48 / 0.85) = 57
    assert required_agents(720, 240, 80, 15).agents == 55
    capped = required_agents(720, 240, 80, 15, max_occupancy_pct=85)
    assert capped.agents == 57
    assert capped.occupancy <= 0.85


def test_stricter_target_or_shorter_window_never_needs_fewer_agents():
    assert required_agents(200, 180, 90, 20).agents >= required_agents(200, 180, 80, 20).agents
    assert required_agents(200, 180, 80, 10).agents >= required_agents(200, 180, 80, 20).agents
    assert required_agents(200, 180, 90, 20).agents == 15  # 94.1 % at 15, 88.8 % at 14


def test_large_centre_is_fast_and_sane():
    # 10 000 Erlangs: the search walks ~10 000 slots in O(1) steps each
    staffing = required_agents(120_000, 300, 80, 20)
    assert staffing.traffic_erlangs == pytest.approx(10_000)
    assert 10_000 < staffing.agents < 10_100
    assert staffing.service_level >= 0.80


# --------------------------------------------------------------------------
# edges
# --------------------------------------------------------------------------

def test_zero_arrivals_need_nobody():
    assert required_agents(0, 180, 80, 20, concurrency=3) == Staffing(
        agents=0, servers=0, service_level=1.0, prob_wait=0.0, occupancy=0.0, traffic_erlangs=0.0
    )
    assert service_level(0, 180, 0, 20) == 1.0
    assert erlang_c(0.0, 0) == 0.0
    assert average_speed_of_answer_s(0, 180, 0) == 0.0


def test_unstable_queue_everyone_waits_and_nobody_is_answered_in_time():
    assert erlang_c(10.0, 10) == 1.0
    assert erlang_c(10.0, 3) == 1.0
    assert service_level(200, 180, 10, 20) == 0.0
    assert average_speed_of_answer_s(200, 180, 10) == math.inf


def test_zero_window_service_level_is_the_chance_of_not_waiting():
    assert service_level(200, 180, 14, 0) == pytest.approx(1 - erlang_c(10.0, 14))


def test_tiny_traffic_needs_one_agent():
    staffing = required_agents(0.01, 60, 80, 20)
    assert staffing.agents == 1
    assert staffing.service_level > 0.99


def test_erlang_b_edges():
    assert erlang_b(4.0, 0) == 1.0  # no lines: everything is blocked
    assert erlang_b(0.0, 3) == 0.0
    assert erlang_b(1.0, 1) == pytest.approx(0.5)


# --------------------------------------------------------------------------
# errors: one clear sentence naming the argument
# --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"arrivals_per_hour": -1}, "arrivals_per_hour must be at least 0"),
        ({"arrivals_per_hour": float("nan")}, "arrivals_per_hour must be a finite number"),
        ({"aht_s": 0}, "aht_s must be greater than 0"),
        ({"aht_s": -5}, "aht_s must be greater than 0"),
        ({"target_pct": 0}, "target_pct must be between 0 and 100"),
        ({"target_pct": 100}, "target_pct must be between 0 and 100"),
        ({"target_pct": 120}, "target_pct must be between 0 and 100"),
        ({"within_s": -1}, "within_s must be at least 0"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
        ({"concurrency": 1.5}, "concurrency must be a whole number"),
        ({"max_occupancy_pct": 0}, "max_occupancy_pct must be above 0 and at most 100"),
        ({"max_occupancy_pct": 101}, "max_occupancy_pct must be above 0 and at most 100"),
        ({"aht_s": "180"}, "aht_s must be a number"),
    ],
)
def test_required_agents_rejects_bad_input(kwargs, fragment):
    args = {"arrivals_per_hour": 200, "aht_s": 180, "target_pct": 80, "within_s": 20} | kwargs
    with pytest.raises(ValueError, match=fragment):
        required_agents(**args)


def test_formula_functions_reject_bad_input():
    with pytest.raises(ValueError, match="traffic_erlangs must be at least 0"):
        erlang_c(-1.0, 3)
    with pytest.raises(ValueError, match="servers must be at least 0"):
        erlang_c(1.0, -3)
    with pytest.raises(ValueError, match="servers must be a whole number"):
        erlang_b(1.0, 2.5)
    with pytest.raises(ValueError, match="within_s must be at least 0"):
        service_level(200, 180, 14, -1)
    with pytest.raises(ValueError, match="aht_s must be greater than 0"):
        service_level(200, 0, 14, 20)
