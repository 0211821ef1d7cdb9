"""Demand forecast: expected arrivals per hour and skill for the next hours.

Method (deliberately simple, so a supervisor can check it by hand):

1. **History first.** For a target hour ``H`` and a skill, look at the
   recorded arrivals of that skill in the ``lookback_days`` x 24 hours just
   before ``start_utc`` and take the mean count of the hours that have the
   same *local* hour-of-day as ``H`` (local = the profile's time zone, because
   customers keep local habits: Shanghai evenings are busy whatever UTC says,
   and across a DST change the peak stays at 21:00 local).
2. **Only days that have data.** A sample hour counts only if its local date
   has at least one recorded arrival of *any* skill. So a system that has
   been recording for two days divides by two, not by seven, while a quiet
   hour on a day that did have traffic still counts as a real zero. (The
   approximation: a day on which recording started at 15:00 counts its
   earlier hours as zeros.)
3. **Profile fallback.** A skill with no recorded arrivals at all in the
   lookback window, or an hour with no sample on a day with data, uses the
   configured :class:`DemandProfile`: per skill, arrivals per hour for each
   of the 24 local hours.
4. **Surge.** Everything is multiplied by ``surge_factor`` (Double 11 and
   618 bring several times the usual load; the supervisor says how many).

History recorded at or after ``start_utc`` is ignored: a forecast never
peeks at what it forecasts. Pure: the start instant is passed in.

The profile file (TOML, documented in ``docs/rosters.md``)::

    tz = "Asia/Shanghai"
    [arrivals_per_hour]          # 24 numbers per skill, local hours 0..23
    pre_sales = [3, 2, 1, ...]
    [aht_s]                      # optional: average handle time per skill
    pre_sales = 240
    [concurrency]                # optional: inquiries an agent holds at once
    pre_sales = 3
"""
from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DemandProfile",
    "ProfileError",
    "floor_to_hour",
    "forecast_arrivals",
    "load_profile",
    "parse_profile",
]

HOURS_PER_DAY = 24
_PROFILE_KEYS = frozenset({"tz", "arrivals_per_hour", "aht_s", "concurrency"})

#: one recorded arrival's instant: an aware datetime or epoch seconds
Instant = datetime | int | float
#: recorded arrivals: ``{(instant, skill): count}`` or an iterable of ``(instant, skill)``
History = Mapping[tuple[Instant, str], float] | Iterable[tuple[Instant, str]]


class ProfileError(ValueError):
    """A demand profile that cannot be used; the message says what and where."""


def _to_utc(instant: Instant, what: str = "instant") -> datetime:
    if isinstance(instant, datetime):
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{what} must be timezone-aware, got naive {instant.isoformat()}")
        return instant.astimezone(timezone.utc)
    if isinstance(instant, (int, float)) and not isinstance(instant, bool) and math.isfinite(instant):
        return datetime.fromtimestamp(instant, timezone.utc)
    raise ValueError(f"{what} must be an aware datetime or epoch seconds, got {instant!r}")


def floor_to_hour(at_utc: datetime) -> datetime:
    """The UTC start of the hour containing ``at_utc`` (which must be aware)."""
    return _to_utc(at_utc, "at_utc").replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemandProfile:
    """Typical demand when there is no history: per skill, 24 local hourly rates.

    ``arrivals_per_hour[skill][h]`` is the expected arrivals per hour during
    local hour ``h`` (0 = 00:00-01:00) in ``tz``. ``aht_s`` and
    ``concurrency`` are optional per-skill planning inputs carried alongside
    so a demo or a broker config can take them from one file.
    """

    tz: str
    arrivals_per_hour: Mapping[str, tuple[float, ...]]
    aht_s: Mapping[str, float] = field(default_factory=dict)
    concurrency: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.tz!r} (use an IANA name such as Asia/Shanghai)") from None
        rates: dict[str, tuple[float, ...]] = {}
        for skill, values in self.arrivals_per_hour.items():
            values = tuple(values)
            if len(values) != HOURS_PER_DAY:
                raise ValueError(f"arrivals_per_hour.{skill} must have 24 values (local hours 0..23), got {len(values)}")
            for hour, value in enumerate(values):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                    raise ValueError(f"arrivals_per_hour.{skill}[{hour}] must be a number >= 0, got {value!r}")
            rates[skill] = tuple(float(v) for v in values)
        for skill, value in self.aht_s.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"aht_s.{skill} must be a number of seconds > 0, got {value!r}")
        for skill, value in self.concurrency.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"concurrency.{skill} must be a whole number >= 1, got {value!r}")
        # read-only views keep the frozen dataclass honestly immutable
        object.__setattr__(self, "arrivals_per_hour", MappingProxyType(rates))
        object.__setattr__(self, "aht_s", MappingProxyType({k: float(v) for k, v in self.aht_s.items()}))
        object.__setattr__(self, "concurrency", MappingProxyType(dict(self.concurrency)))

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(self.arrivals_per_hour)

    def rate_per_hour(self, skill: str, hour_start_utc: datetime) -> float:
        """Profile arrivals per hour of ``skill`` in the hour starting at ``hour_start_utc``; 0 if unknown."""
        rates = self.arrivals_per_hour.get(skill)
        if rates is None:
            return 0.0
        local_hour = _to_utc(hour_start_utc, "hour_start_utc").astimezone(ZoneInfo(self.tz)).hour
        return rates[local_hour]


def parse_profile(text: str, source_name: str = "<profile>") -> DemandProfile:
    """Parse a profile from TOML text; raises :class:`ProfileError`."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source_name}: TOML syntax error: {exc}") from None
    unknown = sorted(set(data) - _PROFILE_KEYS)
    if unknown:
        raise ProfileError(f"{source_name}: unknown key(s) {', '.join(unknown)}; "
                           f"a profile has {', '.join(sorted(_PROFILE_KEYS))}")
    if "tz" not in data:
        raise ProfileError(f"{source_name}: 'tz' is missing (the zone the 24 hours are local to, e.g. Asia/Shanghai)")
    tables = {}
    for key in ("arrivals_per_hour", "aht_s", "concurrency"):
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise ProfileError(f"{source_name}: '{key}' must be a table ([{key}])")
        tables[key] = table
    if not tables["arrivals_per_hour"]:
        raise ProfileError(f"{source_name}: [arrivals_per_hour] is missing or empty")
    for skill, values in tables["arrivals_per_hour"].items():
        if not isinstance(values, list):
            raise ProfileError(f"{source_name}: arrivals_per_hour.{skill} must be a list of 24 numbers")
    try:
        return DemandProfile(
            tz=data["tz"],
            arrivals_per_hour=tables["arrivals_per_hour"],
            aht_s=tables["aht_s"],
            concurrency=tables["concurrency"],
        )
    except ValueError as exc:
        raise ProfileError(f"{source_name}: {exc}") from None


def load_profile(path: str | Path) -> DemandProfile:
    """Read a demand profile TOML file; raises :class:`ProfileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: the file is not UTF-8 text") from None
    return parse_profile(text, str(path))


# --------------------------------------------------------------------------
# forecast
# --------------------------------------------------------------------------

def _hourly_counts(history: History) -> dict[tuple[datetime, str], float]:
    """Recorded arrivals bucketed by (UTC hour start, skill)."""
    counts: dict[tuple[datetime, str], float] = defaultdict(float)
    if isinstance(history, Mapping):
        items: Iterable[tuple[tuple[Instant, str], float]] = history.items()
    else:
        items = ((entry, 1.0) for entry in history)
    for key, count in items:
        try:
            instant, skill = key
        except (TypeError, ValueError):
            raise ValueError(f"history entries must be (instant, skill) pairs, got {key!r}") from None
        if isinstance(count, bool) or not isinstance(count, (int, float)) or not math.isfinite(count) or count < 0:
            raise ValueError(f"history count for {key!r} must be a number >= 0, got {count!r}")
        counts[(floor_to_hour(_to_utc(instant, "history instant")), str(skill))] += float(count)
    return counts


def forecast_arrivals(
    history: History,
    profile: DemandProfile,
    start_utc: datetime,
    hours: int = 24,
    surge_factor: float = 1.0,
    lookback_days: int = 7,
) -> dict[tuple[datetime, str], float]:
    """Expected arrivals per hour for each ``(hour_start_utc, skill)`` from ``start_utc`` on.

    ``start_utc`` (aware) is floored to its hour; ``hours`` consecutive hours
    are forecast. Skills are those of the profile plus any with history in
    the lookback window. See the module docstring for the method.
    """
    start = floor_to_hour(start_utc)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError(f"hours must be a whole number >= 0, got {hours!r}")
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or lookback_days < 1:
        raise ValueError(f"lookback_days must be a whole number >= 1, got {lookback_days!r}")
    if (isinstance(surge_factor, bool) or not isinstance(surge_factor, (int, float))
            or not math.isfinite(surge_factor) or surge_factor < 0):
        raise ValueError(f"surge_factor must be a number >= 0, got {surge_factor!r}")

    zone = ZoneInfo(profile.tz)
    window_start = start - timedelta(days=lookback_days)
    window_hours = [window_start + timedelta(hours=h) for h in range(lookback_days * HOURS_PER_DAY)]

    counts = {key: n for key, n in _hourly_counts(history).items() if window_start <= key[0] < start}
    days_with_data: set[date] = {hour.astimezone(zone).date() for (hour, _skill), n in counts.items() if n > 0}
    skills_with_history = {skill for (_hour, skill), n in counts.items() if n > 0}

    # local hour-of-day -> the window's sample hours that fall on a day with data
    samples_by_local_hour: dict[int, list[datetime]] = defaultdict(list)
    for hour in window_hours:
        local = hour.astimezone(zone)
        if local.date() in days_with_data:
            samples_by_local_hour[local.hour].append(hour)

    skills = sorted(profile.skills | skills_with_history)
    forecast: dict[tuple[datetime, str], float] = {}
    for offset in range(hours):
        hour_start = start + timedelta(hours=offset)
        samples = samples_by_local_hour.get(hour_start.astimezone(zone).hour, [])
        for skill in skills:
            if skill in skills_with_history and samples:
                expected = sum(counts.get((s, skill), 0.0) for s in samples) / len(samples)
            else:
                expected = profile.rate_per_hour(skill, hour_start)
            forecast[(hour_start, skill)] = expected * surge_factor
    return forecast
