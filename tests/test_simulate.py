"""The traffic simulator: a seeded plan that follows the curve, and a live run.

The plan tests are offline and exact for a seed. The live tests run the
simulator against a real broker on loopback (the demo floor, roster and
profile) at a high time scale for a few seconds.
"""
from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broker.wire import protocol as p
from broker.service.app import DEMO_FLOOR
from broker.wire.client import BrokerRefused
from broker.service.config import load_config
from broker.staffing.forecast import load_profile, parse_profile
from broker.wire.mirror import Mirror
from broker.staffing.roster import load_roster
from tools.simulate.agents import Job, SimAgent
from tools.simulate.personas import make_personas
from tools.simulate.plan import DEFAULT_MIX, ArrivalPlan, SimClock, rostered
from tools.simulate.runner import DEFAULT_PROFILE, DEFAULT_ROSTER, SimOptions, SimStats, Simulation

from helpers import loopback_config, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: a Monday in winter (Berlin on UTC+1), so the demo roster's follow-the-sun hours are fixed
MONDAY = datetime(2025, 11, 10, tzinfo=SHANGHAI)
#: tolerance for an hourly count: this many Poisson standard deviations (plus 1 for discreteness)
SIGMAS = 4.0


@pytest.fixture(scope="module")
def profile():
    return load_profile(DEFAULT_PROFILE)


@pytest.fixture(scope="module")
def roster():
    return load_roster(DEFAULT_ROSTER)


def first(plan: ArrivalPlan, n: int, start=MONDAY):
    out = []
    for arrival in plan.arrivals(start):
        out.append(arrival)
        if len(out) == n:
            return out
    return out


# --------------------------------------------------------------------------
# the plan: deterministic, on the curve
# --------------------------------------------------------------------------

def test_same_seed_gives_the_same_arrivals_and_personas(profile):
    a = first(ArrivalPlan(profile, seed=42), 500)
    b = first(ArrivalPlan(profile, seed=42), 500)
    assert len(a) == 500 and a == b
    skills = {"a001": ["pre_sales", "logistics"], "a002": ["after_sales"], "a003": ["complaint"]}
    assert make_personas(skills, 42) == make_personas(skills, 42)


def test_different_seeds_give_different_arrivals_and_personas(profile):
    a = first(ArrivalPlan(profile, seed=42), 200)
    b = first(ArrivalPlan(profile, seed=43), 200)
    assert [x.at for x in a] != [x.at for x in b]
    skills = {f"a{i:03d}": ["pre_sales", "logistics"] for i in range(1, 21)}
    assert make_personas(skills, 42) != make_personas(skills, 43)


def test_a_persona_does_not_depend_on_the_other_agents():
    alone = make_personas({"a007": ["logistics"]}, 9)["a007"]
    crowded = make_personas({f"a{i:03d}": ["logistics"] for i in range(1, 41)}, 9)["a007"]
    assert alone == crowded


def test_arrivals_over_a_week_follow_the_hourly_curve_per_skill(profile):
    """Counts per local hour and skill over 7 simulated days match 7 x the profile.

    Each count is Poisson with mean 7 x rate; it must lie within 4 sigma.
    The profile has no weekday pattern, so the 7 days add up.
    """
    days = 7
    arrivals = list(ArrivalPlan(profile, seed=11).arrivals(MONDAY, MONDAY + timedelta(days=days)))
    counts = Counter((datetime.fromtimestamp(a.at, SHANGHAI).hour, a.skill) for a in arrivals)
    for skill, rates in profile.arrivals_per_hour.items():
        for hour, rate in enumerate(rates):
            expected = days * rate
            observed = counts[(hour, skill)]
            assert abs(observed - expected) <= SIGMAS * math.sqrt(expected) + 1, (skill, hour, observed, expected)
        total_expected = days * sum(rates)
        total = sum(counts[(h, skill)] for h in range(24))
        assert abs(total - total_expected) <= SIGMAS * math.sqrt(total_expected), (skill, total)
    by_hour = Counter(datetime.fromtimestamp(a.at, SHANGHAI).hour for a in arrivals)
    night = sum(by_hour[h] for h in (2, 3, 4, 5))
    evening = sum(by_hour[h] for h in (20, 21, 22, 23))
    assert evening > 10 * night, "quiet nights, busy evenings"


def test_surge_multiplies_the_load(profile):
    day = (MONDAY, MONDAY + timedelta(days=1))
    normal = sum(1 for _ in ArrivalPlan(profile, seed=3).arrivals(*day))
    surged = sum(1 for _ in ArrivalPlan(profile, seed=3, surge=5.0).arrivals(*day))
    expected = 5 * sum(sum(r) for r in profile.arrivals_per_hour.values())
    assert abs(surged - expected) <= SIGMAS * math.sqrt(expected)
    assert surged > 4 * normal


def test_hours_follow_the_profile_zone_not_utc():
    """A profile in a half-hour zone: the busy local hour starts at :30 UTC."""
    rates = [0.0] * 24
    rates[12] = 3600.0  # one a second, 12:00-13:00 Kolkata local only
    prof = parse_profile(f'tz = "Asia/Kolkata"\n[arrivals_per_hour]\nx = {rates}\n')
    start = datetime(2025, 6, 1, tzinfo=timezone.utc)
    arrivals = list(ArrivalPlan(prof, seed=1).arrivals(start, start + timedelta(days=1)))
    assert arrivals
    local_hours = {datetime.fromtimestamp(a.at, ZoneInfo("Asia/Kolkata")).hour for a in arrivals}
    assert local_hours == {12}


def test_arrivals_are_dressed_from_the_mix(profile):
    arrivals = first(ArrivalPlan(profile, seed=5), 3000)
    assert [a.at for a in arrivals] == sorted(a.at for a in arrivals)
    assert len({a.id for a in arrivals}) == len(arrivals)
    assert {a.channel for a in arrivals} == set(DEFAULT_MIX.channels)
    assert {a.shop for a in arrivals} == set(DEFAULT_MIX.shops)
    languages = Counter(a.language for a in arrivals)
    assert languages.most_common(1)[0][0] == "zh" and languages["en"] > 0
    global_languages = Counter(a.language for a in arrivals if a.shop == "global-store")
    assert global_languages.most_common(1)[0][0] == "en", "the global store hears mostly English"
    urgent = Counter(a.priority > 0 for a in arrivals if a.skill == "complaint")
    assert urgent[True] > urgent[False], "complaints are mostly urgent"
    assert all(a.patience_s > 0 for a in arrivals)


def test_only_the_brokers_shops_get_traffic():
    mix = DEFAULT_MIX.with_shops(["jd-outlet", "elsewhere"])
    assert dict(mix.shops) == {"jd-outlet": DEFAULT_MIX.shops["jd-outlet"]}
    assert dict(DEFAULT_MIX.with_shops(["s1", "s2"]).shops) == {"s1": 1.0, "s2": 1.0}


def test_sim_clock_scales_time():
    clock = SimClock(sim_start=1_000_000.0, real_start=50.0, time_scale=60.0)
    assert clock.sim_at(51.0) == 1_000_060.0
    assert clock.real_at(1_000_120.0) == 52.0
    assert clock.real_s(300.0) == 5.0


# --------------------------------------------------------------------------
# roster-driven availability
# --------------------------------------------------------------------------

def test_a_night_shift_agent_works_at_three_in_the_morning_not_in_the_afternoon(roster):
    # a026 is rostered sun-wed 22:00-06:00 Shanghai: Monday 03:00 is Sunday's shift
    assert rostered(roster, "a026", MONDAY.replace(hour=3))
    assert not rostered(roster, "a026", MONDAY.replace(hour=15))
    assert rostered(roster, "a026", MONDAY.replace(hour=3).timestamp()), "epoch seconds work too"


def test_a_berlin_evening_shift_covers_the_shanghai_night(roster):
    # a036: mon-thu 17:00-01:00 Europe/Berlin = 00:00-08:00 Shanghai in winter
    tuesday = MONDAY + timedelta(days=1)
    assert rostered(roster, "a036", tuesday.replace(hour=2))
    assert not rostered(roster, "a036", tuesday.replace(hour=12))


# --------------------------------------------------------------------------
# one agent's replies, without a broker
# --------------------------------------------------------------------------

class _FakeSim:
    """Just enough of a Simulation for one SimAgent: commands are recorded, never sent."""

    def __init__(self):
        self.stats = SimStats()
        self.mirror = Mirror()
        self.sent: list[tuple[type, dict]] = []

    def send(self, client, on_done, cls, **fields):
        self.sent.append((cls, fields))

    def after(self, delay_s, fn):
        pass


def _leaving_agent_holding(inquiry: str, ending: str):
    sim = _FakeSim()
    persona = make_personas({"a001": ["logistics"]}, 1)["a001"]
    agent = SimAgent(sim, persona, random.Random(1))
    agent.client = object()  # connected, as far as the agent can tell
    agent.state = "leaving"
    job = Job(inquiry, "logistics", ending, responded=True)
    agent.jobs[inquiry] = job
    return sim, agent, job


def _failed(exc: BaseException) -> Future:
    future: Future = Future()
    future.set_exception(exc)
    return future


def _refused(code: p.ErrorCode) -> BrokerRefused:
    return BrokerRefused(p.Error(re="c1", code=code, reason=code.value))


@pytest.mark.parametrize("exc", [TimeoutError("no reply"), ConnectionError("gone")])
def test_a_transfer_without_an_answer_drops_the_job_so_a_leaving_agent_signs_off(exc):
    sim, agent, job = _leaving_agent_holding("q1", "transfer")
    agent._transferred(job, _failed(exc))
    assert agent.jobs == {} and job.cancelled
    assert sim.stats.errors == 1 and sim.stats.transferred == 0
    assert agent.state == "off"
    assert sim.sent == [(p.SetStatus, {"status": "offline"})]


def test_a_refused_transfer_is_resolved_instead_unless_the_inquiry_is_gone():
    sim, agent, job = _leaving_agent_holding("q1", "transfer")
    agent._transferred(job, _failed(_refused(p.ErrorCode.QUOTA_CONCURRENT)))
    assert job.ending == "resolve" and agent.jobs == {"q1": job}
    assert [cls for cls, _ in sim.sent] == [p.Resolve]

    sim, agent, job = _leaving_agent_holding("q2", "transfer")
    agent._transferred(job, _failed(_refused(p.ErrorCode.NOT_FOUND)))
    assert agent.jobs == {} and sim.stats.errors == 0
    assert sim.sent == [(p.SetStatus, {"status": "offline"})]


# --------------------------------------------------------------------------
# live: the simulator against a real broker
# --------------------------------------------------------------------------

#: fast enough that a few real seconds hold hundreds of arrivals and whole inquiries
LIVE_TIME_SCALE = 600.0
LIVE_DURATION_S = 5.0
#: Monday 20:00 Shanghai: the evening peak; no demo shift starts or ends before 21:00,
#: which the live run (5 s x 600 = 50 simulated minutes) does not reach
LIVE_START = MONDAY.replace(hour=20)


@pytest.fixture
def demo_broker(start_broker, tmp_path):
    demo = load_config(DEMO_FLOOR)
    config = loopback_config(tmp_path)
    config.shops, config.groups, config.agents = demo.shops, demo.groups, demo.agents
    return start_broker(config=config)


def test_live_run_arrives_grabs_resolves_and_follows_the_roster(demo_broker, roster):
    kinds: Counter = Counter()
    actors: dict[str, set] = {}
    lock = threading.Lock()

    def on_events(events):
        with lock:
            for e in events:
                kinds[e.kind] += 1
                actors.setdefault(e.kind, set()).add(e.actor)

    watcher = demo_broker.client("supervisor", "watcher", follow=True, on_events=on_events,
                                 streams=["inquiry", "agent"])
    assert watcher.wait_live(5)
    sim = Simulation(SimOptions(demo_broker.server.command_endpoint, demo_broker.server.events_endpoint,
                                seed=7, time_scale=LIVE_TIME_SCALE, duration_s=LIVE_DURATION_S,
                                exclude=frozenset({"a001"}), start=LIVE_START, id_prefix="t-"))
    result: dict = {}

    def run():
        try:
            result["stats"] = sim.run()
        except BaseException as exc:  # surfaced by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=run, name="simulation")
    thread.start()
    try:
        agents = demo_broker.core.agents
        wait_until(lambda: sum(a.status == "online" for a in list(agents.values())) >= 5, timeout_s=10,
                   message="simulated agents did not come online")
        expected_on = {a for a in roster.agents_on_shift(LIVE_START)} - {"a001"}
        online = {a.id for a in list(agents.values()) if a.status == "online"}
        assert online <= expected_on, f"off-shift agents online: {online - expected_on}"
    finally:
        thread.join(LIVE_DURATION_S + 15)
    assert not thread.is_alive(), "the simulation did not stop"
    assert "error" not in result, result.get("error")
    stats = result["stats"]

    assert stats.arrivals > 50 and stats.grabs_won > 20 and stats.resolved > 10, stats
    assert stats.errors == 0, stats
    counters = demo_broker.server.service.counters
    assert counters["submitted"] == stats.arrivals
    assert counters["grab.won"] == stats.grabs_won
    assert counters["grab.lost"] == stats.grabs_lost
    wait_until(lambda: kinds["inquiry.resolved"] == stats.resolved, timeout_s=5,
               message="the broker's resolved events do not match the simulator's count")
    with lock:
        workers = actors.get("inquiry.grabbed", set()) | actors.get("inquiry.resolved", set())
    assert workers and workers <= set(roster.agents_on_shift(LIVE_START)) - {"a001"}
    # the run signs its agents off; a001 was never touched
    assert all(a.status == "offline" for a in list(demo_broker.core.agents.values()))
    assert demo_broker.core.agents["a001"].grabs_today == 0


def test_simulate_command_runs_and_prints_its_summary(demo_broker):
    server = demo_broker.server
    proc = subprocess.run(
        [sys.executable, "-m", "grabdesk", "simulate", "--command-endpoint", server.command_endpoint,
         "--events-endpoint", server.events_endpoint, "--time-scale", "600", "--duration-s", "2",
         "--seed", "3", "--exclude", "a001,a002", "--start", "2025-11-10T20:00"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("sim Mon 2025-11-10 20:") and last.endswith("| stopped"), last
    assert "excluding a001, a002" in proc.stderr
    assert server.service.counters["submitted"] > 0


def test_simulate_command_says_when_no_broker_answers(tmp_path, monkeypatch):
    from tools.simulate import runner

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 0.5)
    sim = Simulation(SimOptions("tcp://127.0.0.1:9", "tcp://127.0.0.1:9", duration_s=1))
    with pytest.raises(runner.SimulationError, match="no snapshot from the broker"):
        sim.run()
