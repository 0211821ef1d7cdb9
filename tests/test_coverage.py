"""Coverage (broker/staffing/coverage.py): rostered vs required per UTC hour and skill.

Calendar facts: 2024-01-01 and 2024-01-15 are Mondays. Asia/Shanghai is
UTC+8 all year; Europe/Berlin is UTC+1 in January and UTC+2 in July.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from broker.staffing.coverage import CoverageCell, NowCell, coverage, coverage_now
from broker.staffing.forecast import forecast_arrivals, load_profile
from broker.staffing.roster import load_roster, parse_roster

UTC = timezone.utc
DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def roster_of(*rows: str):
    return parse_roster("agent_id,days,start,end,tz,skills\n" + "\n".join(rows) + "\n", "csv")


def rostered_by_hour(cells: list[CoverageCell], skill: str) -> list[int]:
    return [c.rostered for c in cells if c.skill == skill]


def no_demand_coverage(roster, agent_skills, start, hours=24):
    return coverage(roster, agent_skills, {}, {}, 80, 20, {}, start, hours)


# --------------------------------------------------------------------------
# rostered: which UTC hours a shift covers
# --------------------------------------------------------------------------

def test_shanghai_night_shift_covers_utc_14_to_22():
    # Mon 22:00-06:00 Shanghai = Mon 14:00 - Mon 22:00 UTC
    roster = roster_of("n1,mon,22:00,06:00,Asia/Shanghai,")
    cells = no_demand_coverage(roster, {"n1": {"after_sales"}}, utc(2024, 1, 1))
    assert rostered_by_hour(cells, "after_sales") == [1 if 14 <= h < 22 else 0 for h in range(24)]
    # and nothing on Tuesday's UTC day: the shift belongs to Monday only
    cells = no_demand_coverage(roster, {"n1": {"after_sales"}}, utc(2024, 1, 2))
    assert rostered_by_hour(cells, "after_sales") == [0] * 24


def test_half_hour_starts_and_ends_count_when_on_for_the_second_half():
    # 09:30-17:30 UTC: on at 09:30 (the 09:00 hour's middle), off at 17:30
    roster = roster_of("h1,mon,09:30,17:30,UTC,")
    cells = no_demand_coverage(roster, {"h1": {"logistics"}}, utc(2024, 1, 1))
    assert rostered_by_hour(cells, "logistics") == [1 if 9 <= h < 17 else 0 for h in range(24)]


TWO_TEAMS = roster_of(
    # Shanghai day team 08:00-20:00 local = 00:00-12:00 UTC
    "sh1,daily,08:00,20:00,Asia/Shanghai,",
    "sh2,daily,08:00,20:00,Asia/Shanghai,",
    # Berlin team 13:00-01:00 local = 12:00-24:00 UTC in winter (11:00-23:00 in summer)
    "be1,daily,13:00,01:00,Europe/Berlin,",
)
TWO_TEAM_SKILLS = {"sh1": {"pre_sales"}, "sh2": {"pre_sales", "complaint"}, "be1": {"pre_sales", "complaint"}}


def test_two_teams_in_two_zones_cover_a_winter_day():
    cells = no_demand_coverage(TWO_TEAMS, TWO_TEAM_SKILLS, utc(2024, 1, 15))
    assert rostered_by_hour(cells, "pre_sales") == [2] * 12 + [1] * 12
    assert rostered_by_hour(cells, "complaint") == [1] * 24  # sh2 then be1: never uncovered
    assert [c.hour_start_utc for c in cells if c.skill == "complaint"] == [
        utc(2024, 1, 15) + timedelta(hours=h) for h in range(24)
    ]


def test_in_summer_the_berlin_shift_moves_and_leaves_23_utc_open():
    cells = no_demand_coverage(TWO_TEAMS, TWO_TEAM_SKILLS, utc(2024, 7, 15))
    complaint = rostered_by_hour(cells, "complaint")
    assert complaint[11] == 2  # Berlin starts at 11:00 UTC, overlapping Shanghai
    assert complaint[23] == 0  # and leaves at 23:00 UTC: an hour nobody covers
    assert complaint[:11] == [1] * 11 and complaint[12:23] == [1] * 11


# --------------------------------------------------------------------------
# required and gap: hand-computed Erlang C
# --------------------------------------------------------------------------

def test_gap_against_hand_computed_erlang():
    # 10 pre_sales agents on shift 08:00-10:00 UTC.
    roster = parse_roster(
        "agent_id,days,start,end,tz\n" + "".join(f"p{i:02d},mon,08:00,10:00,UTC\n" for i in range(10)), "csv"
    )
    skills = {f"p{i:02d}": {"pre_sales"} for i in range(10)}
    forecast = {
        # 200/h x 180 s = 10 Erlangs; 80 % in 20 s needs 14 agents
        # (Call Centre Helper worked example; SL(13) = 79.6 %, SL(14) = 88.8 %)
        (utc(2024, 1, 1, 8), "pre_sales"): 200.0,
        # same traffic with 3 chats per agent: 14 slots -> ceil(14 / 3) = 5
        (utc(2024, 1, 1, 9), "complaint"): 200.0,
        # 20/h x 180 s = 1 Erlang: 2 servers give SL = 1 - (1/3) e^(-1/9) = 70.2 %,
        # 3 give 1 - 0.0909 e^(-2/9) = 92.7 % -> 3 agents
        (utc(2024, 1, 1, 9), "pre_sales"): 20.0,
    }
    cells = coverage(
        roster, skills, forecast,
        aht_s_by_skill={"pre_sales": 180, "complaint": 180},
        target_pct=80, within_s=20,
        concurrency_by_skill={"complaint": 3},
        start_utc=utc(2024, 1, 1, 8), hours=2,
    )
    by_key = {(c.hour_start_utc, c.skill): c for c in cells}
    assert by_key[(utc(2024, 1, 1, 8), "pre_sales")] == CoverageCell(utc(2024, 1, 1, 8), "pre_sales", 10, 14, -4, 200.0)
    assert by_key[(utc(2024, 1, 1, 8), "pre_sales")].short
    assert by_key[(utc(2024, 1, 1, 8), "complaint")] == CoverageCell(utc(2024, 1, 1, 8), "complaint", 0, 0, 0, 0.0)
    assert by_key[(utc(2024, 1, 1, 9), "complaint")] == CoverageCell(utc(2024, 1, 1, 9), "complaint", 0, 5, -5, 200.0)
    assert by_key[(utc(2024, 1, 1, 9), "pre_sales")] == CoverageCell(utc(2024, 1, 1, 9), "pre_sales", 10, 3, 7, 20.0)
    assert not by_key[(utc(2024, 1, 1, 9), "pre_sales")].short
    # ordered by hour, then skill
    assert [(c.hour_start_utc.hour, c.skill) for c in cells] == [
        (8, "complaint"), (8, "pre_sales"), (9, "complaint"), (9, "pre_sales"),
    ]


def test_a_multi_skilled_agent_counts_for_every_skill_and_overrides_win():
    roster = roster_of(
        "m1,mon,08:00,09:00,UTC,",
        "m2,mon,08:00,09:00,UTC,logistics",  # this shift: logistics only
    )
    agent_skills = {"m1": {"pre_sales", "after_sales"}, "m2": {"pre_sales", "after_sales"}}
    cells = no_demand_coverage(roster, agent_skills, utc(2024, 1, 1, 8), hours=1)
    assert {c.skill: c.rostered for c in cells} == {"after_sales": 1, "logistics": 1, "pre_sales": 1}


def test_forecast_without_an_aht_is_an_error():
    with pytest.raises(ValueError, match="skill 'logistics' has forecast arrivals but no average handle time"):
        coverage(roster_of(), {}, {(utc(2024, 1, 1), "logistics"): 5.0}, {}, 80, 20, {}, utc(2024, 1, 1), 1)


def test_start_is_floored_to_the_hour_and_must_be_aware():
    cells = no_demand_coverage(roster_of("x1,mon,08:00,09:00,UTC,"), {"x1": {"a"}}, utc(2024, 1, 1, 8, 45), hours=1)
    assert cells == [CoverageCell(utc(2024, 1, 1, 8), "a", 1, 0, 1)]
    with pytest.raises(ValueError, match="timezone-aware"):
        no_demand_coverage(roster_of(), {}, datetime(2024, 1, 1))


# --------------------------------------------------------------------------
# right now
# --------------------------------------------------------------------------

def test_coverage_now_counts_rostered_online_and_at_cap():
    roster = roster_of(
        "r1,mon,08:00,16:00,UTC,",
        "r2,mon,08:00,16:00,UTC,complaint",  # override for this shift
        "r3,tue,08:00,16:00,UTC,",  # not rostered on Monday
    )
    agent_skills = {"r1": {"pre_sales", "after_sales"}, "r2": {"pre_sales"}, "r3": {"pre_sales"}, "r4": {"logistics"}}
    now = coverage_now(
        roster, agent_skills,
        online={"r1", "r2", "r3"},  # r3 stayed online off-roster; r4 is offline
        at_cap={"r1", "r4"},  # r4 is offline, so its cap does not count
        at_utc=utc(2024, 1, 1, 10),
    )
    assert now == {
        "after_sales": NowCell(rostered=1, online=1, at_cap=1),
        "complaint": NowCell(rostered=1, online=1, at_cap=0),
        "logistics": NowCell(rostered=0, online=0, at_cap=0),
        "pre_sales": NowCell(rostered=1, online=2, at_cap=1),
    }
    assert now["pre_sales"].available == 1


# --------------------------------------------------------------------------
# the demo assets
# --------------------------------------------------------------------------

def test_demo_roster_covers_every_hour_of_a_winter_and_a_summer_week():
    roster = load_roster(DEMO / "roster.csv")
    assert roster.agents == {f"a{i:03d}" for i in range(1, 41)}
    assert {s.tz for s in roster.shifts} == {"Asia/Shanghai", "Europe/Berlin"}
    for monday in (utc(2024, 1, 15), utc(2024, 7, 15)):
        for hour in range(24 * 7):
            at = monday + timedelta(hours=hour, minutes=30)
            assert roster.agents_on_shift(at), f"nobody rostered at {at.isoformat()}"


def test_demo_weekday_coverage_meets_the_evening_peak():
    roster = load_roster(DEMO / "roster.csv")
    profile = load_profile(DEMO / "profile.toml")
    skills = sorted(profile.skills)
    # every agent has two skills, round robin, so each skill has 20 agents
    agent_skills = {f"a{i:03d}": {skills[i % 4], skills[(i + 1) % 4]} for i in range(1, 41)}
    start = utc(2024, 1, 15)  # Monday 08:00 Shanghai
    forecast = forecast_arrivals([], profile, start)
    cells = coverage(roster, agent_skills, forecast, profile.aht_s, 80, 20, profile.concurrency, start)
    assert len(cells) == 24 * 4
    # 21:00 Shanghai (13:00 UTC) is the peak: required is highest, and covered
    peak = [c for c in cells if c.hour_start_utc == utc(2024, 1, 15, 13)]
    night = [c for c in cells if c.hour_start_utc == utc(2024, 1, 15, 20)]  # 04:00 Shanghai
    assert sum(c.required for c in peak) > sum(c.required for c in night)
    assert all(c.gap >= 0 for c in peak)
