"""Rosters (broker/staffing/roster.py): file formats, errors, midnight, DST, round trips.

Calendar facts used: 2024-01-01 is a Monday. Asia/Shanghai is UTC+8 all
year. Europe/Berlin is UTC+1 in winter and UTC+2 from 2024-03-31 02:00 local
(clocks jump to 03:00) to 2024-10-27 03:00 local (clocks go back to 02:00).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.staffing.roster import (
    COLUMNS,
    Roster,
    RosterError,
    Shift,
    load_roster,
    parse_roster,
    roster_to_csv,
    roster_to_text,
)

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


GOOD_CSV = """\
# demo roster: Shanghai day and night, Berlin follow-the-sun
Agent_ID, days ,start,end,tz,skills

a001,mon-fri,09:00,18:00,Asia/Shanghai,
a002,"mon, wed ,fri",9:30,18:30,Asia/Shanghai,pre_sales;complaint
# night shift, Sunday to Wednesday nights
a003,sun-wed,22:00,06:00,Asia/Shanghai,after_sales
a004,daily,08:00,16:00,Europe/Berlin,
"""

GOOD_TOML = """\
# the same roster as GOOD_CSV
[[shift]]
agent_id = "a001"
days = "mon-fri"
start = "09:00"
end = "18:00"
tz = "Asia/Shanghai"

[[shift]]
agent_id = "a002"
days = ["mon", "wed", "fri"]
start = 09:30:00          # a TOML local time works too
end = "18:30"
tz = "Asia/Shanghai"
skills = ["pre_sales", "complaint"]

[[shift]]
agent_id = "a003"
days = "sun-wed"
start = "22:00"
end = "06:00"
tz = "Asia/Shanghai"
skills = "after_sales"

[[shift]]
agent_id = "a004"
days = "daily"
start = "08:00"
end = "16:00"
tz = "Europe/Berlin"
"""

EXPECTED_SHIFTS = (
    Shift("a001", frozenset({0, 1, 2, 3, 4}), time(9), time(18), "Asia/Shanghai"),
    Shift("a002", frozenset({0, 2, 4}), time(9, 30), time(18, 30), "Asia/Shanghai", frozenset({"pre_sales", "complaint"})),
    Shift("a003", frozenset({6, 0, 1, 2}), time(22), time(6), "Asia/Shanghai", frozenset({"after_sales"})),
    Shift("a004", frozenset(range(7)), time(8), time(16), "Europe/Berlin"),
)


# --------------------------------------------------------------------------
# good files
# --------------------------------------------------------------------------

def test_good_csv():
    roster = parse_roster(GOOD_CSV, "csv", "good.csv")
    assert roster.shifts == EXPECTED_SHIFTS
    assert [s.line for s in roster.shifts] == [4, 5, 7, 8]  # comments and blanks keep numbering
    assert roster.agents == {"a001", "a002", "a003", "a004"}
    assert roster.source_name == "good.csv"


def test_good_toml_equals_the_csv():
    roster = parse_roster(GOOD_TOML, "toml", "good.toml")
    assert roster.shifts == EXPECTED_SHIFTS
    assert [s.line for s in roster.shifts] == [2, 9, 17, 25]  # the [[shift]] headers
    assert roster == parse_roster(GOOD_CSV, "csv")


def test_csv_with_byte_order_mark_and_columns_in_another_order():
    text = "\ufefftz,agent_id,start,end,days\nUTC,x1,08:00,12:00,weekdays\n"
    roster = parse_roster(text, "csv")
    assert roster.shifts == (Shift("x1", frozenset(range(5)), time(8), time(12), "UTC"),)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon", {0}),
        ("Monday", {0}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),  # ranges wrap over the week end
        ("sat-sun", {5, 6}),
        ("weekends", {5, 6}),
        ("daily", set(range(7))),
        ("mon;wed | fri", {0, 2, 4}),
        ("mon-tue;thu-fri", {0, 1, 3, 4}),
    ],
)
def test_day_spellings(days, expected):
    roster = parse_roster(f"agent_id,days,start,end,tz\na1,\"{days}\",08:00,12:00,UTC\n", "csv")
    assert roster.shifts[0].days == expected


def test_empty_roster_with_only_a_header_is_valid():
    assert parse_roster("agent_id,days,start,end,tz,skills\n", "csv").shifts == ()
    assert parse_roster("# nobody yet\n", "toml").shifts == ()


def test_load_roster_picks_the_format_by_suffix(tmp_path):
    (tmp_path / "r.csv").write_text(GOOD_CSV, encoding="utf-8")
    (tmp_path / "r.TOML").write_text(GOOD_TOML, encoding="utf-8")
    assert load_roster(tmp_path / "r.csv").shifts == EXPECTED_SHIFTS
    assert load_roster(str(tmp_path / "r.TOML")).shifts == EXPECTED_SHIFTS
    assert load_roster(tmp_path / "r.csv").source_name.endswith("r.csv")


# --------------------------------------------------------------------------
# bad files: every problem, with its line, and no roster at all
# --------------------------------------------------------------------------

BAD_CSV = """\
agent_id,days,start,end,tz,skills
a001,mon-fri,09:00,18:00,Asia/Shanghai,
# a comment line still counts as a line
a002,mnd,09:00,18:00,Asia/Shanghai,
a003,mon,25:00,24:00,Asia/Shangai,
,mon,08:00,,UTC,
a005,mon,08:00,12:00,UTC,pre sales!,oops
a006,mon-fri,09:00,18:00,Europe/Berlin,
"""


def test_bad_csv_lists_every_problem_with_its_line():
    with pytest.raises(RosterError) as excinfo:
        parse_roster(BAD_CSV, "csv", "bad.csv")
    error = excinfo.value
    lines = [line for line, _ in error.problems]
    assert lines == [4, 5, 5, 5, 6, 6, 7]
    reasons = [reason for _, reason in error.problems]
    assert "unknown day 'mnd'" in reasons[0]
    assert "start '25:00' is not a valid time of day" in reasons[1]
    assert "end 24:00 is not a time of day; write 00:00" in reasons[2]
    assert "unknown time zone 'Asia/Shangai'" in reasons[3]
    assert reasons[4] == "agent_id is missing"
    assert reasons[5] == "end is missing"
    assert "7 fields but the header (line 1) has 6" in reasons[6]
    # the message names the file and lists them all
    message = str(error)
    assert message.startswith("bad.csv: roster rejected, 7 problems:")
    assert "line 4: unknown day 'mnd'" in message
    assert "line 7: 7 fields" in message


def test_one_bad_row_rejects_the_whole_file(tmp_path):
    # all-or-nothing: the good rows around the bad one are not loaded either
    path = tmp_path / "roster.csv"
    path.write_text("agent_id,days,start,end,tz\na1,mon,08:00,12:00,UTC\na2,mon,8am,12:00,UTC\na3,tue,08:00,12:00,UTC\n")
    with pytest.raises(RosterError) as excinfo:
        load_roster(path)
    assert excinfo.value.problems == [(3, "start must be a time HH:MM, got '8am'")]
    assert str(path) in str(excinfo.value)


def test_bad_skill_name_in_csv():
    with pytest.raises(RosterError) as excinfo:
        parse_roster("agent_id,days,start,end,tz,skills\na1,mon,08:00,12:00,UTC,pre_sales;bad/skill\n", "csv")
    assert excinfo.value.problems == [(2, "skill name 'bad/skill' is not valid (letters, digits, '_', '.', '-')")]


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("agent_id,days,start,end", "header lacks column(s) tz"),
        ("agent,days,start,end,tz", "unknown column(s) 'agent'"),
        ("agent_id,days,start,end,tz,tz", "column(s) named twice: tz"),
    ],
)
def test_bad_csv_header_is_reported_on_its_line(header, fragment):
    with pytest.raises(RosterError) as excinfo:
        parse_roster(f"# roster\n{header}\na1,mon,08:00,12:00,UTC\n", "csv")
    assert any(line == 2 and fragment in reason for line, reason in excinfo.value.problems)


def test_csv_without_header_is_rejected():
    with pytest.raises(RosterError, match="no header row"):
        parse_roster("# only a comment\n\n", "csv")


BAD_TOML = """\
[[shift]]
agent_id = "a1"
days = "mon-fri"
start = "09:00"
end = "18:00"
tz = "Asia/Shanghai"

[[shift]]
agent_id = "a2"
days = "funday"
start = "09:00"
tz = "Asia/Shanghai"
colour = "blue"

[[shift]]
agent_id = "a3"
days = ["mon"]
start = "09:00"
end = "17:00"
tz = "Mars/Olympus"
"""


def test_bad_toml_lists_every_problem_at_its_shift_header():
    with pytest.raises(RosterError) as excinfo:
        parse_roster(BAD_TOML, "toml", "bad.toml")
    problems = excinfo.value.problems
    assert problems == [
        (8, "shift #2: unknown key(s) colour; the keys are agent_id, days, start, end, tz, skills"),
        (8, "shift #2: unknown day 'funday' (use mon..sun, a range like mon-fri, or daily)"),
        (8, "shift #2: end is missing"),
        (15, "shift #3: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai or Europe/Berlin)"),
    ]


def test_toml_syntax_error_carries_its_line():
    with pytest.raises(RosterError) as excinfo:
        parse_roster('[[shift]]\nagent_id = "a1"\ndays = [mon]\n', "toml")
    [(line, reason)] = excinfo.value.problems
    assert line == 3
    assert reason.startswith("TOML syntax error")


def test_toml_unknown_top_level_key_and_wrong_shape():
    with pytest.raises(RosterError, match="unknown top-level key 'shifts'"):
        parse_roster('[[shifts]]\nagent_id = "a1"\n', "toml")
    with pytest.raises(RosterError, match="array of tables"):
        parse_roster('[shift]\nagent_id = "a1"\n', "toml")


def test_unknown_format_and_unreadable_files(tmp_path):
    with pytest.raises(RosterError, match="unknown roster format 'xml'"):
        parse_roster("", "xml")  # type: ignore[arg-type]
    (tmp_path / "r.txt").write_text(GOOD_CSV)
    with pytest.raises(RosterError, match=r"unknown roster file type '\.txt'"):
        load_roster(tmp_path / "r.txt")
    with pytest.raises(RosterError, match="cannot read the file"):
        load_roster(tmp_path / "missing.csv")
    (tmp_path / "latin1.csv").write_bytes("agent_id,days,start,end,tz\nb\xe9,mon,08:00,09:00,UTC\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        load_roster(tmp_path / "latin1.csv")


def test_roster_error_is_a_value_error():
    assert issubclass(RosterError, ValueError)


# --------------------------------------------------------------------------
# who is on shift: midnight
# --------------------------------------------------------------------------

NIGHT = parse_roster("agent_id,days,start,end,tz\nn1,mon,22:00,06:00,Asia/Shanghai\n", "csv")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(SHANGHAI, 2024, 1, 1, 21, 59), False),  # Mon before the start
        (local(SHANGHAI, 2024, 1, 1, 22, 0), True),  # start is inclusive
        (local(SHANGHAI, 2024, 1, 2, 3, 0), True),  # Tue 03:00 belongs to Monday's shift
        (local(SHANGHAI, 2024, 1, 2, 5, 59), True),
        (local(SHANGHAI, 2024, 1, 2, 6, 0), False),  # end is exclusive
        (local(SHANGHAI, 2024, 1, 1, 3, 0), False),  # Mon 03:00 would be Sunday's shift: none
        (local(SHANGHAI, 2024, 1, 2, 22, 30), False),  # Tue night: not rostered
    ],
)
def test_shift_crossing_midnight_belongs_to_its_start_day(when, expected):
    assert NIGHT.on_shift("n1", when.astimezone(UTC)) is expected
    assert NIGHT.on_shift("n1", when) is expected  # any aware zone is fine
    assert (NIGHT.agents_on_shift(when) == {"n1"}) is expected


def test_sunday_night_shift_runs_into_monday_over_the_week_end():
    roster = parse_roster("agent_id,days,start,end,tz\ns1,sun,23:00,07:00,Asia/Shanghai\n", "csv")
    assert roster.on_shift("s1", local(SHANGHAI, 2024, 1, 8, 2, 0))  # Mon 8 Jan 02:00
    assert not roster.on_shift("s1", local(SHANGHAI, 2024, 1, 7, 2, 0))  # Sun 02:00


def test_start_equal_to_end_is_a_24_hour_shift():
    roster = parse_roster("agent_id,days,start,end,tz\nf1,mon,08:00,08:00,UTC\n", "csv")
    assert roster.on_shift("f1", utc(2024, 1, 1, 8, 0))
    assert roster.on_shift("f1", utc(2024, 1, 2, 7, 59))
    assert not roster.on_shift("f1", utc(2024, 1, 2, 8, 0))
    assert not roster.on_shift("f1", utc(2024, 1, 1, 7, 59))


def test_unknown_agent_is_never_on_shift():
    assert not NIGHT.on_shift("ghost", utc(2024, 1, 1, 15))


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT.on_shift("n1", datetime(2024, 1, 1, 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT.agents_on_shift(datetime(2024, 1, 1, 15))


# --------------------------------------------------------------------------
# who is on shift: time zones and DST (follow the sun)
# --------------------------------------------------------------------------

BERLIN_DAY = parse_roster("agent_id,days,start,end,tz\nb1,mon-fri,09:00,17:00,Europe/Berlin\n", "csv")


def test_berlin_day_shift_moves_in_utc_with_daylight_saving():
    # winter (CET, UTC+1): 09:00-17:00 local = 08:00-16:00 UTC
    assert not BERLIN_DAY.on_shift("b1", utc(2024, 1, 15, 7, 30))
    assert BERLIN_DAY.on_shift("b1", utc(2024, 1, 15, 8, 0))
    assert BERLIN_DAY.on_shift("b1", utc(2024, 1, 15, 15, 30))
    # summer (CEST, UTC+2): 09:00-17:00 local = 07:00-15:00 UTC
    assert BERLIN_DAY.on_shift("b1", utc(2024, 7, 15, 7, 0))
    assert not BERLIN_DAY.on_shift("b1", utc(2024, 7, 15, 15, 30))


def test_night_shift_over_the_spring_change_is_an_hour_shorter():
    # Sat 30 Mar 22:00 CET (21:00 UTC) to Sun 31 Mar 06:00 CEST (04:00 UTC)
    roster = parse_roster("agent_id,days,start,end,tz\nb2,sat,22:00,06:00,Europe/Berlin\n", "csv")
    assert not roster.on_shift("b2", utc(2024, 3, 30, 20, 59))
    assert roster.on_shift("b2", utc(2024, 3, 30, 21, 0))
    assert roster.on_shift("b2", utc(2024, 3, 31, 3, 59))  # 05:59 CEST
    assert not roster.on_shift("b2", utc(2024, 3, 31, 4, 0))  # 06:00 CEST: a fixed +1 would say yes
    start, end = roster.shifts[0].interval_utc(datetime(2024, 3, 30).date())
    assert end - start == timedelta(hours=7)


def test_night_shift_over_the_autumn_change_is_an_hour_longer():
    # Sat 26 Oct 22:00 CEST (20:00 UTC) to Sun 27 Oct 06:00 CET (05:00 UTC)
    roster = parse_roster("agent_id,days,start,end,tz\nb3,sat,22:00,06:00,Europe/Berlin\n", "csv")
    assert not roster.on_shift("b3", utc(2024, 10, 26, 19, 59))
    assert roster.on_shift("b3", utc(2024, 10, 26, 20, 0))
    assert roster.on_shift("b3", utc(2024, 10, 27, 4, 30))  # 05:30 CET
    assert not roster.on_shift("b3", utc(2024, 10, 27, 5, 0))
    start, end = roster.shifts[0].interval_utc(datetime(2024, 10, 26).date())
    assert end - start == timedelta(hours=9)


def test_two_zones_at_one_instant():
    roster = parse_roster(GOOD_CSV, "csv")
    # Mon 15 Jan 2024 09:00 UTC = 17:00 Shanghai = 10:00 Berlin
    assert roster.agents_on_shift(utc(2024, 1, 15, 9, 0)) == {"a001", "a002", "a004"}
    # Mon 15 Jan 2024 16:00 UTC = Tue 00:00 Shanghai = 17:00 Berlin: only the night
    assert roster.agents_on_shift(utc(2024, 1, 15, 16, 0)) == {"a003"}


def test_skills_on_shift_applies_overrides():
    roster = parse_roster(GOOD_CSV, "csv")
    usual = {"a001": {"logistics"}, "a002": {"logistics"}, "a004": {"after_sales", "complaint"}}
    got = roster.skills_on_shift(utc(2024, 1, 15, 9, 0), usual)
    assert got == {
        "a001": frozenset({"logistics"}),
        "a002": frozenset({"pre_sales", "complaint"}),  # the shift overrides
        "a004": frozenset({"after_sales", "complaint"}),
    }


def test_shift_built_in_code_is_checked_like_a_parsed_one():
    with pytest.raises(ValueError, match="unknown time zone"):
        Shift("a1", frozenset({0}), time(8), time(9), "Nowhere/Land")
    with pytest.raises(ValueError, match="days must be a non-empty set"):
        Shift("a1", frozenset(), time(8), time(9), "UTC")
    with pytest.raises(ValueError, match="whole minutes"):
        Shift("a1", frozenset({0}), time(8, 0, 30), time(9), "UTC")


# --------------------------------------------------------------------------
# writing: the CSV (and TOML) read back equal
# --------------------------------------------------------------------------

def test_roster_to_csv_is_readable_and_compact():
    text = roster_to_csv(parse_roster(GOOD_CSV, "csv"))
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1:] == [
        "a001,mon-fri,09:00,18:00,Asia/Shanghai,",
        "a002,mon;wed;fri,09:30,18:30,Asia/Shanghai,complaint;pre_sales",
        "a003,sun-wed,22:00,06:00,Asia/Shanghai,after_sales",
        "a004,daily,08:00,16:00,Europe/Berlin,",
    ]


shifts_strategy = st.builds(
    Shift,
    agent_id=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    end=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    tz=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
    skills=st.none() | st.frozensets(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), min_size=1, max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(shifts_strategy, max_size=8), st.sampled_from(["csv", "toml"]))
def test_round_trip_through_text(shifts, fmt):
    roster = Roster(tuple(shifts))
    assert parse_roster(roster_to_text(roster, fmt), fmt) == roster


@settings(max_examples=150, deadline=None)
@given(shifts_strategy, st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 1, 1)))
def test_shift_covers_matches_its_own_intervals(shift, naive):
    """Cross-check covers() against an independent scan of the surrounding days' intervals."""
    at = naive.replace(tzinfo=UTC)
    day = at.astimezone(ZoneInfo(shift.tz)).date()
    expected = False
    for back in range(-1, 3):
        start_date = day - timedelta(days=back)
        if start_date.weekday() in shift.days:
            start, end = shift.interval_utc(start_date)
            expected = expected or start <= at < end
    assert shift.covers(at) is expected


def test_roster_to_text_rejects_unknown_format():
    with pytest.raises(ValueError, match="unknown roster format"):
        roster_to_text(Roster(), "yaml")  # type: ignore[arg-type]
