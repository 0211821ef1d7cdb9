"""Demand forecast (broker/staffing/forecast.py): history means, profile fallback, surge.

2024-01-08 00:00 UTC is Monday 08:00 in Asia/Shanghai (UTC+8, no DST).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from broker.staffing.forecast import (
    DemandProfile,
    ProfileError,
    forecast_arrivals,
    load_profile,
    parse_profile,
)

UTC = timezone.utc
DEMO_PROFILE = Path(__file__).resolve().parent.parent / "assets" / "demo" / "profile.toml"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# pre_sales: the rate equals the local hour, so the hour used is visible
PROFILE = DemandProfile(
    tz="Asia/Shanghai",
    arrivals_per_hour={"pre_sales": [float(h) for h in range(24)], "after_sales": [5.0] * 24},
)
START = utc(2024, 1, 8, 0, 0)


def arrivals(at: datetime, skill: str, count: int) -> list[tuple[datetime, str]]:
    return [(at, skill)] * count


# --------------------------------------------------------------------------
# history means
# --------------------------------------------------------------------------

def test_mean_of_the_same_hour_over_days_that_have_data():
    # two days of data, 20:xx Shanghai (12:xx UTC): 3 and 5 arrivals
    history = arrivals(utc(2024, 1, 5, 12, 10), "pre_sales", 3) + arrivals(utc(2024, 1, 6, 12, 20), "pre_sales", 5)
    forecast = forecast_arrivals(history, PROFILE, START)
    assert forecast[(utc(2024, 1, 8, 12), "pre_sales")] == pytest.approx(4.0)  # (3 + 5) / 2 days
    # a quiet hour on days that had traffic is a real zero, not the profile's 21
    assert forecast[(utc(2024, 1, 8, 13), "pre_sales")] == 0.0
    # after_sales has no history at all: the profile's 5 per hour
    assert forecast[(utc(2024, 1, 8, 12), "after_sales")] == 5.0


def test_a_day_with_data_in_another_skill_counts_as_a_zero_day():
    history = (
        arrivals(utc(2024, 1, 5, 12, 10), "pre_sales", 3)
        + arrivals(utc(2024, 1, 6, 12, 20), "pre_sales", 5)
        + arrivals(utc(2024, 1, 7, 3, 0), "logistics", 2)  # Sunday 11:00 Shanghai
    )
    forecast = forecast_arrivals(history, PROFILE, START)
    assert forecast[(utc(2024, 1, 8, 12), "pre_sales")] == pytest.approx(8 / 3)
    # a skill the profile does not know is forecast from its history
    assert forecast[(utc(2024, 1, 8, 3), "logistics")] == pytest.approx(2 / 3)
    assert forecast[(utc(2024, 1, 8, 4), "logistics")] == 0.0


def test_mapping_of_counts_and_epoch_seconds_equal_the_list_form():
    as_list = arrivals(utc(2024, 1, 5, 12, 10), "pre_sales", 3) + arrivals(utc(2024, 1, 6, 12, 20), "pre_sales", 5)
    as_mapping = {
        (utc(2024, 1, 5, 12, 59), "pre_sales"): 3,  # anywhere inside the hour
        (utc(2024, 1, 6, 12, 0).timestamp(), "pre_sales"): 5,
    }
    assert forecast_arrivals(as_mapping, PROFILE, START) == forecast_arrivals(as_list, PROFILE, START)


def test_full_week_mean():
    # 1..7 arrivals at 21:30 Shanghai on each of the seven days before START
    history = []
    for day in range(7):
        history += arrivals(utc(2024, 1, 1, 13, 30) + timedelta(days=day), "pre_sales", day + 1)
    forecast = forecast_arrivals(history, PROFILE, START)
    assert forecast[(utc(2024, 1, 8, 13), "pre_sales")] == pytest.approx(28 / 7)
    # lookback_days=2 keeps only the last two days (6 and 7 arrivals)
    short = forecast_arrivals(history, PROFILE, START, lookback_days=2)
    assert short[(utc(2024, 1, 8, 13), "pre_sales")] == pytest.approx(6.5)


def test_history_outside_the_lookback_window_is_ignored():
    before_window = arrivals(utc(2023, 12, 20, 12), "pre_sales", 50)
    at_or_after_start = arrivals(START, "pre_sales", 50) + arrivals(utc(2024, 1, 8, 12), "pre_sales", 50)
    forecast = forecast_arrivals(before_window + at_or_after_start, PROFILE, START)
    # no usable history -> profile (local hour 20 -> 20 per hour)
    assert forecast[(utc(2024, 1, 8, 12), "pre_sales")] == 20.0


def test_same_local_hour_across_a_dst_change():
    # Berlin profile; the week before the spring change (CET), 6 arrivals at
    # 20:xx local = 19:xx UTC each day. On Sun 31 Mar (CEST) 20:00 local is
    # 18:00 UTC: the forecast follows the local hour, not the UTC hour.
    profile = DemandProfile(tz="Europe/Berlin", arrivals_per_hour={"pre_sales": [0.5] * 24})
    history = []
    for day in range(25, 31):
        history += arrivals(utc(2024, 3, day, 19, 15), "pre_sales", 6)
    forecast = forecast_arrivals(history, profile, utc(2024, 3, 31, 12))
    assert forecast[(utc(2024, 3, 31, 18), "pre_sales")] == pytest.approx(6.0)
    assert forecast[(utc(2024, 3, 31, 19), "pre_sales")] == 0.0


# --------------------------------------------------------------------------
# profile fallback and surge
# --------------------------------------------------------------------------

def test_no_history_uses_the_profile_by_local_hour():
    forecast = forecast_arrivals([], PROFILE, START, hours=24)
    assert len(forecast) == 24 * 2
    for offset in range(24):
        hour = START + timedelta(hours=offset)
        local_hour = (offset + 8) % 24
        assert forecast[(hour, "pre_sales")] == float(local_hour)
        assert forecast[(hour, "after_sales")] == 5.0


def test_surge_factor_multiplies_history_and_profile_alike():
    history = arrivals(utc(2024, 1, 5, 12, 10), "pre_sales", 3) + arrivals(utc(2024, 1, 6, 12, 20), "pre_sales", 5)
    normal = forecast_arrivals(history, PROFILE, START)
    surged = forecast_arrivals(history, PROFILE, START, surge_factor=3.0)
    assert surged.keys() == normal.keys()
    for key, value in normal.items():
        assert surged[key] == pytest.approx(3.0 * value)
    assert surged[(utc(2024, 1, 8, 12), "pre_sales")] == pytest.approx(12.0)
    assert surged[(utc(2024, 1, 8, 12), "after_sales")] == pytest.approx(15.0)


def test_keys_are_whole_utc_hours_from_the_floored_start():
    forecast = forecast_arrivals([], PROFILE, utc(2024, 1, 8, 0, 34, 12), hours=3)
    hours = sorted({hour for hour, _ in forecast})
    assert hours == [utc(2024, 1, 8, 0), utc(2024, 1, 8, 1), utc(2024, 1, 8, 2)]
    assert all(hour.tzinfo is not None and hour.utcoffset() == timedelta(0) for hour in hours)
    assert forecast_arrivals([], PROFILE, START, hours=0) == {}


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"start_utc": datetime(2024, 1, 8)}, "timezone-aware"),
        ({"surge_factor": -1.0}, "surge_factor must be a number >= 0"),
        ({"hours": -1}, "hours must be a whole number >= 0"),
        ({"lookback_days": 0}, "lookback_days must be a whole number >= 1"),
        ({"history": [(datetime(2024, 1, 5, 12), "pre_sales")]}, "must be timezone-aware"),
        ({"history": [("yesterday", "pre_sales")]}, "aware datetime or epoch seconds"),
        ({"history": [utc(2024, 1, 5, 12)]}, r"\(instant, skill\) pairs"),
        ({"history": {(utc(2024, 1, 5, 12), "pre_sales"): -2}}, "must be a number >= 0"),
    ],
)
def test_bad_input_is_refused(kwargs, fragment):
    args = {"history": [], "profile": PROFILE, "start_utc": START} | kwargs
    with pytest.raises(ValueError, match=fragment):
        forecast_arrivals(**args)


# --------------------------------------------------------------------------
# the profile file
# --------------------------------------------------------------------------

PROFILE_TOML = """\
tz = "Asia/Shanghai"
[arrivals_per_hour]
pre_sales = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]
after_sales = [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
[aht_s]
pre_sales = 240
[concurrency]
pre_sales = 3
"""


def test_load_profile(tmp_path):
    path = tmp_path / "profile.toml"
    path.write_text(PROFILE_TOML, encoding="utf-8")
    profile = load_profile(path)
    assert profile == DemandProfile(
        tz="Asia/Shanghai",
        arrivals_per_hour={"pre_sales": [float(h) for h in range(24)], "after_sales": [5.0] * 24},
        aht_s={"pre_sales": 240.0},
        concurrency={"pre_sales": 3},
    )
    assert profile.skills == {"pre_sales", "after_sales"}
    assert profile.rate_per_hour("pre_sales", utc(2024, 1, 8, 12)) == 20.0
    assert profile.rate_per_hour("unknown", utc(2024, 1, 8, 12)) == 0.0
    with pytest.raises(TypeError):
        profile.arrivals_per_hour["pre_sales"] = (0.0,) * 24  # read-only


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[arrivals_per_hour]\npre_sales = [1]\n', "'tz' is missing"),
        ('tz = "Asia/Shanghai"\n[arrivals_per_hour]\npre_sales = [1, 2]\n', "must have 24 values"),
        ('tz = "Asia/Shanghai"\n[arrivals_per_hour]\n', "[arrivals_per_hour] is missing or empty"),
        ('tz = "Asia/Shanghai"\nrates = 3\n[arrivals_per_hour]\na = [1]\n', "unknown key(s) rates"),
        ('tz = "Mars/Base"\n[arrivals_per_hour]\na = [' + ", ".join(["1"] * 24) + "]\n", "unknown time zone"),
        ('tz = "UTC"\n[arrivals_per_hour]\na = [' + ", ".join(["1"] * 23) + ", -1]\n", "a[23] must be a number >= 0"),
        ('tz = "UTC"\n[arrivals_per_hour]\na = [' + ", ".join(["1"] * 24) + "]\n[aht_s]\na = 0\n", "aht_s.a must be"),
        ('tz = "UTC"\n[arrivals_per_hour]\na = [' + ", ".join(["1"] * 24) + "]\n[concurrency]\na = 1.5\n", "concurrency.a must be"),
        ('tz = "UTC"\n[arrivals_per_hour\n', "TOML syntax error"),
    ],
)
def test_bad_profiles_are_refused_with_the_source_name(text, fragment):
    with pytest.raises(ProfileError) as excinfo:
        parse_profile(text, "p.toml")
    assert str(excinfo.value).startswith("p.toml: ")
    assert fragment in str(excinfo.value)


def test_missing_profile_file(tmp_path):
    with pytest.raises(ProfileError, match="cannot read the file"):
        load_profile(tmp_path / "nope.toml")


def test_demo_profile_has_quiet_nights_and_busy_evenings():
    profile = load_profile(DEMO_PROFILE)
    assert profile.tz == "Asia/Shanghai"
    assert profile.skills == {"pre_sales", "after_sales", "logistics", "complaint"}
    assert set(profile.aht_s) == profile.skills
    for skill, rates in profile.arrivals_per_hour.items():
        evening = sum(rates[20:24]) / 4
        night = sum(rates[1:6]) / 5
        assert evening > 2 * night, skill
    total = [sum(rates[h] for rates in profile.arrivals_per_hour.values()) for h in range(24)]
    assert max(range(24), key=total.__getitem__) in range(20, 24)  # the peak is in the evening
