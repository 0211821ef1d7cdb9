"""Numbers as both windows print them: durations, limits, service against its limit.

One display everywhere, so a supervisor and an agent reading the same agent
read the same text: a duration is ``m:ss`` under an hour and ``h:mm:ss``
from an hour on, with a minus sign once a deadline has passed. A stretch is
printed against its limit in the same form ("8:00 / 4:00:00"), never against
a bare unit ("8:00 / 4 h" reads as eight hours of four).
"""
from __future__ import annotations

#: what a missing value (no duration, not serving) prints as
MISSING = "–"
#: what "no limit" prints as
UNLIMITED = "∞"


def format_duration(seconds: float | None) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` from an hour; negative (overdue) with a minus sign."""
    if seconds is None:
        return MISSING
    sign = "-" if seconds <= -1 else ""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def format_limit(value: float | int | None) -> str:
    """A quota as set: ``∞`` for none, ``2.5`` not ``2.50``."""
    if value is None:
        return UNLIMITED
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_service(served_s: float | None, limit_hours: float | None) -> str:
    """Continuous service against its limit, both as durations: "0:52 / 4:00:00"."""
    limit = UNLIMITED if limit_hours is None else format_duration(limit_hours * 3600.0)
    return f"{format_duration(served_s)} / {limit}"
