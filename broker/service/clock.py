"""The broker's clock: the wall clock, or a scaled one for demos and rehearsals.

Every floor timer (SLA, hybrid delay, silent grab, tier and fair-share
delays, forced breaks, the quota day, coverage hours, metrics windows) reads
this clock through the arbiter. Transport timing (poll timeouts, heartbeats,
rate limits) stays on the monotonic clock: a socket does not run faster
because the floor does.
"""
from __future__ import annotations

import math
import time
from datetime import datetime

#: the fastest floor a broker will run (an hour per real second); beyond it one
#: loop turn (up to 50 ms) would be minutes of floor time and timers would fire
#: in lumps far coarser than any SLA warning
MAX_TIME_SCALE = 3600.0


class ClockError(ValueError):
    """An impossible clock setting; the message says which and why."""


def check_time_scale(scale: float) -> float:
    """``scale`` if a broker can run at it; otherwise ClockError with one sentence."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) \
            or not 0 < scale <= MAX_TIME_SCALE:
        raise ClockError(f"time_scale must be a number above 0 and at most {MAX_TIME_SCALE:g}, not {scale!r}")
    return float(scale)


class ScaledClock:
    """Floor time starting at ``start`` (epoch seconds) and running ``scale`` times real speed."""

    def __init__(self, start: float, scale: float, mono=time.monotonic):
        self.scale = check_time_scale(scale)
        self.start = float(start)
        self._mono = mono
        self._mono0 = mono()

    def __call__(self) -> float:
        return self.start + (self._mono() - self._mono0) * self.scale


class WallClock:
    """The production clock: epoch seconds from the system, at scale 1."""

    scale = 1.0

    def __call__(self) -> float:
        return time.time()


def broker_clock(time_scale: float = 1.0, start: float | None = None):
    """The wall clock when nothing is asked, else a scaled clock (from now if no start)."""
    if start is None and time_scale == 1.0:
        return WallClock()
    return ScaledClock(time.time() if start is None else start, time_scale)


def parse_start(text: str, tz: str) -> float:
    """An ISO 8601 instant as epoch seconds; a naive one is read in ``tz``."""
    from zoneinfo import ZoneInfo

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"start {text!r} is not an ISO 8601 time such as 2026-11-11T19:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.timestamp()


def time_scale_of(clock) -> float:
    """The scale of any clock callable (1.0 for a plain function such as time.time)."""
    return float(getattr(clock, "scale", 1.0))
