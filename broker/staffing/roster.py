"""Rosters: who is rostered to work when, across time zones.

A roster is a list of weekly shifts. Each shift says: this agent works on
these weekdays from ``start`` to ``end`` local time in this IANA time zone,
optionally with a skill set that overrides the agent's usual skills for that
shift. The full file format (CSV and TOML) is documented in
``docs/rosters.md``; in short::

    # CSV: header row required, columns in any order, '#' lines are comments
    agent_id,days,start,end,tz,skills
    a001,mon-fri,09:00,18:00,Asia/Shanghai,
    a031,sun-wed,22:00,06:00,Asia/Shanghai,after_sales;logistics

    # TOML: one [[shift]] table per shift
    [[shift]]
    agent_id = "a040"
    days = ["mon", "tue", "wed"]
    start = "08:00"
    end = "17:00"
    tz = "Europe/Berlin"

Rules, and why:

* **Wall-clock shifts.** ``start``/``end`` are local wall-clock times and the
  weekday is the local weekday, because that is how people are rostered. The
  UTC instants are derived per date with :mod:`zoneinfo`, so a Berlin
  09:00 shift starts at 08:00 UTC in winter and 07:00 UTC in summer with no
  edit to the roster (follow-the-sun teams keep working across DST).
* **Midnight.** ``end <= start`` means the shift ends the next day;
  ``end == start`` is a 24-hour shift. A shift belongs to the day it *starts*:
  ``mon 22:00-06:00`` covers Tuesday 03:00 and not Monday 03:00.
* **DST edges.** A start or end inside the skipped spring hour is read with
  the offset in force before the change (so 02:30 on that night is 03:30 of
  the new time); one inside the repeated autumn hour means its first pass.
  A night shift across a DST change is therefore an hour shorter or longer in
  real time, exactly like the agent's wall clock.
* **All or nothing.** A roster with any bad row is rejected whole, with every
  problem listed (``RosterError.problems``), because a half-loaded roster
  silently drops agents from coverage, which is worse than a loud failure.

Everything here is pure: no clock is read; instants are passed in, and must
be timezone-aware (a naive datetime would be guessed at, and guessing is how
night shifts end up an hour or eight off).
"""
from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "COLUMNS",
    "WEEKDAYS",
    "Roster",
    "RosterError",
    "Shift",
    "load_roster",
    "parse_roster",
    "roster_to_csv",
    "roster_to_text",
]

#: weekday names as used in files; index = ``date.weekday()`` (Monday = 0)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: CSV columns, in the order :func:`roster_to_csv` writes them
COLUMNS: tuple[str, ...] = ("agent_id", "days", "start", "end", "tz", "skills")
_REQUIRED_COLUMNS = ("agent_id", "days", "start", "end", "tz")
_TOML_KEYS = frozenset(COLUMNS)

_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_INDEX: dict[str, int] = {name: i for i, name in enumerate(WEEKDAYS)} | {
    name: i for i, name in enumerate(_FULL_DAY_NAMES)
}
_DAY_GROUPS: dict[str, frozenset[int]] = {
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
# lists inside one CSV cell: ';' or '|' or spaces (or ',' when the cell is quoted)
_LIST_SEPARATORS = re.compile(r"[,;|\s]+")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_SKILL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_TOML_SHIFT_HEADER = re.compile(r"^\s*\[\[\s*shift\s*\]\]\s*(#.*)?$")
_TOML_ERROR_LINE = re.compile(r"at line (\d+)")


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

class RosterError(ValueError):
    """A roster that cannot be used; ``problems`` lists every reason.

    Each problem is ``(line_number, reason)``; the line is 1-based in the
    source text, or 0 when no line applies (e.g. an unreadable file).
    """

    def __init__(self, problems: Iterable[tuple[int, str]], source_name: str = "<roster>") -> None:
        self.problems: list[tuple[int, str]] = sorted(problems, key=lambda p: p[0])
        self.source_name = source_name
        count = len(self.problems)
        lines = [f"{source_name}: roster rejected, {count} problem{'s' if count != 1 else ''}:"]
        for line, reason in self.problems:
            lines.append(f"  line {line}: {reason}" if line else f"  {reason}")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------
# field parsers: each returns the value or raises ValueError(reason)
# --------------------------------------------------------------------------

def _parse_days(value: object) -> frozenset[int]:
    """``mon,wed``, ``mon-fri``, ``fri-mon`` (wraps), ``daily``, ``weekdays`` ... -> weekday set."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise ValueError("days must be day names")
        tokens = [t for v in value for t in _LIST_SEPARATORS.split(v.strip().lower()) if t]
    elif isinstance(value, str):
        tokens = [t for t in _LIST_SEPARATORS.split(value.strip().lower()) if t]
    else:
        raise ValueError(f"days must be text like 'mon-fri', got {value!r}")
    if not tokens:
        raise ValueError("days is empty (use e.g. 'mon-fri', 'sat,sun' or 'daily')")
    days: set[int] = set()
    for token in tokens:
        if token in _DAY_GROUPS:
            days |= _DAY_GROUPS[token]
            continue
        first, dash, last = token.partition("-")
        if dash:
            if first not in _DAY_INDEX or last not in _DAY_INDEX:
                raise ValueError(f"bad day range {token!r} (use e.g. 'mon-fri' or 'sat-mon')")
            i, j = _DAY_INDEX[first], _DAY_INDEX[last]
            # a range wraps over the week end: 'fri-mon' = fri, sat, sun, mon
            days.update((i + k) % 7 for k in range((j - i) % 7 + 1))
            continue
        if token not in _DAY_INDEX:
            raise ValueError(f"unknown day {token!r} (use mon..sun, a range like mon-fri, or daily)")
        days.add(_DAY_INDEX[token])
    return frozenset(days)


def _parse_clock(value: object, what: str) -> time:
    """``HH:MM`` text, or a TOML local time with zero seconds -> ``time``."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"{what} must be a local time without an offset; the zone goes in tz")
        if value.second or value.microsecond:
            raise ValueError(f"{what} must be whole minutes (HH:MM), got {value.isoformat()}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a time HH:MM, got {value!r}")
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"{what} must be a time HH:MM, got {value.strip()!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        raise ValueError(
            f"{what} 24:00 is not a time of day; write 00:00 (an end at or before the start means the next day)"
        )
    if hour > 23 or minute > 59:
        raise ValueError(f"{what} {value.strip()!r} is not a valid time of day")
    return time(hour, minute)


def _parse_tz(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("tz is missing (use an IANA time zone such as Asia/Shanghai)")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai or Europe/Berlin)"
        ) from None
    return name


def _parse_agent_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("agent_id is missing")
    agent_id = value.strip()
    if not _AGENT_ID.match(agent_id):
        raise ValueError(
            f"agent_id {agent_id!r} is not valid (letters, digits, '_', '.', '@', '-'; at most 64)"
        )
    return agent_id


def _parse_skills(value: object) -> frozenset[str] | None:
    """Empty/absent -> None (use the agent's usual skills); else the override set."""
    if value is None:
        return None
    if isinstance(value, str):
        tokens = [t for t in _LIST_SEPARATORS.split(value.strip()) if t]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        tokens = [v.strip() for v in value if v.strip()]
    else:
        raise ValueError(f"skills must be a list of skill names, got {value!r}")
    if not tokens:
        return None
    bad = [t for t in tokens if not _SKILL.match(t)]
    if bad:
        raise ValueError(f"skill name {bad[0]!r} is not valid (letters, digits, '_', '.', '-')")
    return frozenset(tokens)


def _check_instant(at_utc: datetime) -> datetime:
    if not isinstance(at_utc, datetime) or at_utc.tzinfo is None or at_utc.utcoffset() is None:
        raise ValueError("at_utc must be a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
    return at_utc


# --------------------------------------------------------------------------
# the data
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Shift:
    """One weekly shift of one agent, in the agent's local wall-clock time.

    ``days`` are the local weekdays the shift *starts* on (0 = Monday).
    ``skills`` overrides the agent's usual skills during this shift; None
    means "the usual ones". ``line`` is where it came from (for messages) and
    takes no part in equality.
    """

    agent_id: str
    days: frozenset[int]
    start: time
    end: time
    tz: str
    skills: frozenset[str] | None = None
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        # Shifts built in code get the same checks as parsed ones, so a
        # Roster never holds something the file format would reject.
        _parse_agent_id(self.agent_id)
        if not self.days or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.days):
            raise ValueError(f"days must be a non-empty set of weekdays 0..6, got {self.days!r}")
        for name in ("start", "end"):
            _parse_clock(getattr(self, name), name)
        _parse_tz(self.tz)
        object.__setattr__(self, "days", frozenset(self.days))
        if isinstance(self.skills, str):
            raise ValueError("skills must be a set of skill names, not one string")
        if self.skills is not None:
            object.__setattr__(self, "skills", _parse_skills(sorted(self.skills)))

    @property
    def crosses_midnight(self) -> bool:
        """True when the shift ends on the next local day (``end <= start``)."""
        return self.end <= self.start

    def interval_utc(self, start_date: date) -> tuple[datetime, datetime]:
        """UTC ``[start, end)`` of this shift when it starts on local ``start_date``.

        Does not check that ``start_date`` is one of the shift's days.
        """
        zone = ZoneInfo(self.tz)
        end_date = start_date + timedelta(days=1) if self.crosses_midnight else start_date
        start_local = datetime.combine(start_date, self.start, tzinfo=zone)
        end_local = datetime.combine(end_date, self.end, tzinfo=zone)
        # Convert explicitly: comparing two aware datetimes that share a
        # tzinfo compares wall clocks, which is wrong across a DST change.
        return start_local.astimezone(timezone.utc), end_local.astimezone(timezone.utc)

    def covers(self, at_utc: datetime) -> bool:
        """Is this shift running at the instant ``at_utc``?"""
        at_utc = _check_instant(at_utc).astimezone(timezone.utc)
        local_date = at_utc.astimezone(ZoneInfo(self.tz)).date()
        # The shift running now started today or, if it crosses midnight,
        # yesterday (local dates). A shift is at most 24 h of wall clock.
        for back in (0, 1) if self.crosses_midnight else (0,):
            start_date = local_date - timedelta(days=back)
            if start_date.weekday() not in self.days:
                continue
            start_utc, end_utc = self.interval_utc(start_date)
            if start_utc <= at_utc < end_utc:
                return True
        return False


@dataclass(frozen=True)
class Roster:
    """An immutable set of shifts. ``source_name`` is for messages only."""

    shifts: tuple[Shift, ...] = ()
    source_name: str = field(default="<roster>", compare=False)
    _by_agent: Mapping[str, tuple[Shift, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shifts = tuple(self.shifts)
        object.__setattr__(self, "shifts", shifts)
        by_agent: dict[str, list[Shift]] = {}
        for shift in shifts:
            by_agent.setdefault(shift.agent_id, []).append(shift)
        object.__setattr__(self, "_by_agent", {a: tuple(s) for a, s in by_agent.items()})

    @property
    def agents(self) -> frozenset[str]:
        """Every agent that has at least one shift."""
        return frozenset(self._by_agent)

    def shifts_of(self, agent_id: str) -> tuple[Shift, ...]:
        return self._by_agent.get(agent_id, ())

    def on_shift(self, agent_id: str, at_utc: datetime) -> bool:
        """Is ``agent_id`` rostered at the instant ``at_utc``?"""
        _check_instant(at_utc)
        return any(shift.covers(at_utc) for shift in self.shifts_of(agent_id))

    def active_shifts(self, at_utc: datetime) -> tuple[Shift, ...]:
        """The shifts running at ``at_utc``, in roster order."""
        _check_instant(at_utc)
        return tuple(shift for shift in self.shifts if shift.covers(at_utc))

    def agents_on_shift(self, at_utc: datetime) -> set[str]:
        """Ids of every agent rostered at the instant ``at_utc``."""
        return {shift.agent_id for shift in self.active_shifts(at_utc)}

    def skills_on_shift(self, at_utc: datetime, agent_skills: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
        """Agent id -> skills they work with, for every agent rostered at ``at_utc``.

        A running shift's ``skills`` override wins; otherwise the agent's
        entry in ``agent_skills`` (none if the agent is unknown there).
        """
        overrides: dict[str, set[str]] = {}
        plain: set[str] = set()
        for shift in self.active_shifts(at_utc):
            if shift.skills is None:
                plain.add(shift.agent_id)
            else:
                overrides.setdefault(shift.agent_id, set()).update(shift.skills)
        result = {agent: frozenset(skills) for agent, skills in overrides.items()}
        for agent in plain - overrides.keys():
            result[agent] = frozenset(agent_skills.get(agent, ()))
        return result


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------

def _shift_from_fields(fields: Mapping[str, object], line: int) -> tuple[Shift | None, list[str]]:
    """Build one Shift from raw fields, collecting every problem instead of stopping at the first."""
    reasons: list[str] = []
    values: dict[str, object] = {}
    for key, parse in (
        ("agent_id", _parse_agent_id),
        ("days", _parse_days),
        ("start", lambda v: _parse_clock(v, "start")),
        ("end", lambda v: _parse_clock(v, "end")),
        ("tz", _parse_tz),
        ("skills", _parse_skills),
    ):
        raw = fields.get(key)
        if key != "skills" and (raw is None or (isinstance(raw, str) and not raw.strip())):
            reasons.append(f"{key} is missing")
            continue
        try:
            values[key] = parse(raw)
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        return None, reasons
    return Shift(line=line, **values), []  # type: ignore[arg-type]


def _parse_csv(text: str) -> tuple[list[Shift], list[tuple[int, str]]]:
    # Blank out comment lines instead of dropping them so csv's line counter
    # still matches the file the person is looking at.
    kept = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(io.StringIO("\n".join(kept)))
    shifts: list[Shift] = []
    problems: list[tuple[int, str]] = []
    header: list[str] | None = None
    header_line = 0
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header_line = line
                header = [cell.strip().lower() for cell in row]
                unknown = [c for c in header if c not in COLUMNS]
                missing = [c for c in _REQUIRED_COLUMNS if c not in header]
                duplicated = sorted({c for c in header if header.count(c) > 1})
                if unknown:
                    problems.append((line, f"unknown column(s) {', '.join(map(repr, unknown))}; "
                                           f"the columns are {', '.join(COLUMNS)}"))
                if missing:
                    problems.append((line, f"header lacks column(s) {', '.join(missing)}; "
                                           f"the first row must name the columns: {', '.join(COLUMNS)}"))
                if duplicated:
                    problems.append((line, f"column(s) named twice: {', '.join(duplicated)}"))
                if problems:
                    return [], problems  # rows cannot be read without a sound header
                continue
            if len(row) > len(header):
                problems.append((line, f"{len(row)} fields but the header (line {header_line}) has "
                                       f"{len(header)}; quote a cell that contains commas"))
                continue
            fields = dict(zip(header, row))
            shift, reasons = _shift_from_fields(fields, line)
            problems.extend((line, reason) for reason in reasons)
            if shift is not None:
                shifts.append(shift)
    except csv.Error as exc:
        problems.append((reader.line_num, f"CSV syntax error: {exc}"))
    if header is None and not problems:
        problems.append((0, f"no header row; the first row must name the columns: {', '.join(COLUMNS)}"))
    return shifts, problems


def _parse_toml(text: str) -> tuple[list[Shift], list[tuple[int, str]]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_ERROR_LINE.search(str(exc))
        return [], [(int(match.group(1)) if match else 0, f"TOML syntax error: {exc}")]
    problems: list[tuple[int, str]] = []
    for key in data:
        if key != "shift":
            problems.append((0, f"unknown top-level key {key!r}; a roster holds only [[shift]] tables"))
    entries = data.get("shift", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return [], problems + [(0, "'shift' must be an array of tables, written as [[shift]] sections")]
    # tomllib gives no positions; the n-th [[shift]] header is the n-th entry
    # in the usual layout, so point at it when the counts agree.
    header_lines = [n for n, line in enumerate(text.splitlines(), start=1) if _TOML_SHIFT_HEADER.match(line)]
    if len(header_lines) != len(entries):
        header_lines = [0] * len(entries)
    shifts: list[Shift] = []
    for index, (entry, line) in enumerate(zip(entries, header_lines), start=1):
        where = f"shift #{index}"
        unknown = sorted(set(entry) - _TOML_KEYS)
        if unknown:
            problems.append((line, f"{where}: unknown key(s) {', '.join(unknown)}; "
                                   f"the keys are {', '.join(COLUMNS)}"))
        shift, reasons = _shift_from_fields(entry, line)
        problems.extend((line, f"{where}: {reason}") for reason in reasons)
        if shift is not None and not unknown:
            shifts.append(shift)
    return shifts, problems


def parse_roster(text: str, fmt: Literal["csv", "toml"], source_name: str = "<roster>") -> Roster:
    """Parse roster text in ``fmt``; all or nothing.

    Raises :class:`RosterError` listing every problem if any row is bad.
    """
    if fmt not in ("csv", "toml"):
        raise RosterError([(0, f"unknown roster format {fmt!r}; use 'csv' or 'toml'")], source_name)
    text = text.removeprefix("\ufeff")  # spreadsheets like to start a CSV with a BOM
    shifts, problems = (_parse_csv if fmt == "csv" else _parse_toml)(text)
    if problems:
        raise RosterError(problems, source_name)
    return Roster(tuple(shifts), source_name)


def load_roster(path: str | Path) -> Roster:
    """Read a roster file; the suffix (``.csv`` or ``.toml``) picks the format."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "toml"):
        raise RosterError([(0, f"unknown roster file type {path.suffix or '(none)'!r}; use .csv or .toml")], str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError([(0, f"cannot read the file: {exc.strerror or exc}")], str(path)) from None
    except UnicodeDecodeError as exc:
        raise RosterError([(0, f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")], str(path)) from None
    return parse_roster(text, fmt, str(path))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

def _format_days(days: frozenset[int]) -> str:
    """Shortest readable spelling: 'daily', 'mon-fri', 'sat-mon', 'mon;wed-fri'."""
    if len(days) == 7:
        return "daily"
    # cut the week at a day off so a run over the week end stays one range
    first_off = next(d for d in range(7) if d not in days)
    order = [(first_off + k) % 7 for k in range(1, 8)]
    runs: list[list[int]] = []
    for day in order:
        if day in days:
            if runs and runs[-1][-1] == (day - 1) % 7:
                runs[-1].append(day)
            else:
                runs.append([day])
    runs.sort(key=lambda run: run[0])
    parts = [WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs]
    return ";".join(parts)


def roster_to_csv(roster: Roster) -> str:
    """Serialise ``roster`` as CSV text that :func:`parse_roster` reads back equal.

    This is the wire form of the admin command that replaces the roster of a
    running broker.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for shift in roster.shifts:
        writer.writerow([
            shift.agent_id,
            _format_days(shift.days),
            shift.start.strftime("%H:%M"),
            shift.end.strftime("%H:%M"),
            shift.tz,
            ";".join(sorted(shift.skills)) if shift.skills else "",
        ])
    return out.getvalue()


def _roster_to_toml(roster: Roster) -> str:
    chunks = []
    for shift in roster.shifts:
        # json.dumps gives a valid TOML basic string for these plain values
        lines = [
            "[[shift]]",
            f"agent_id = {json.dumps(shift.agent_id)}",
            f"days = {json.dumps(_format_days(shift.days))}",
            f"start = {json.dumps(shift.start.strftime('%H:%M'))}",
            f"end = {json.dumps(shift.end.strftime('%H:%M'))}",
            f"tz = {json.dumps(shift.tz)}",
        ]
        if shift.skills:
            lines.append(f"skills = {json.dumps(sorted(shift.skills))}")
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def roster_to_text(roster: Roster, fmt: Literal["csv", "toml"] = "csv") -> str:
    """Serialise ``roster`` in ``fmt`` (CSV by default, the wire format)."""
    if fmt == "csv":
        return roster_to_csv(roster)
    if fmt == "toml":
        return _roster_to_toml(roster)
    raise ValueError(f"unknown roster format {fmt!r}; use 'csv' or 'toml'")
