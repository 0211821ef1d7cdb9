"""Queue-depth and longest-wait history per skill in fixed-size ring buffers.

Plain numpy, no Qt. One sample a second for ``capacity`` samples (four hours
by default: the chart shows 30 minutes and zooms out to hours). Each buffer is
twice the capacity and every sample is written twice, at ``i`` and
``i + capacity``, so the last ``n`` samples are always one contiguous slice:
no copying, no ``np.roll`` on the refresh path. A sample taken while the link
is not live is NaN, which the chart draws as a gap: stale data is never drawn
as if it were measured.
"""
from __future__ import annotations

import math

import numpy as np

#: history samples, chart redraws and clock-driven columns this often; here, as the capacity counts in it
SAMPLE_INTERVAL_S = 1.0
#: four hours at one sample a second
DEFAULT_CAPACITY = 4 * 3600


class _Ring:
    """One series: a doubled buffer of float64."""

    __slots__ = ("buf",)

    def __init__(self, capacity: int):
        self.buf = np.full(2 * capacity, np.nan)


class QueueHistory:
    """Per-skill series of queue depth and longest wait (seconds), sampled together."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self._times = _Ring(capacity)
        #: 1.0 for a sample taken while live, NaN for a gap
        self._live = _Ring(capacity)
        self._depth: dict[str, _Ring] = {}
        self._wait: dict[str, _Ring] = {}
        #: samples taken so far (the next one goes to ``total % capacity``)
        self.total = 0
        #: bumped on every sample; views redraw only when it moved
        self.version = 0

    @property
    def skills(self) -> list[str]:
        """Skills in the order they first appeared (curves keep their colour)."""
        return list(self._depth)

    def __len__(self) -> int:
        return min(self.total, self.capacity)

    def clear(self) -> None:
        """Forget every series (another broker's floor); the version keeps counting up."""
        version = self.version
        self.__init__(self.capacity)
        self.version = version + 1

    def append(self, at: float, depth: dict[str, int] | None,
               wait_s: dict[str, float] | None = None) -> None:
        """One sample; ``depth=None`` records a gap (data not live)."""
        for skill in (depth or {}):
            if skill not in self._depth:
                self._depth[skill] = _Ring(self.capacity)
                self._wait[skill] = _Ring(self.capacity)
        cap = self.capacity
        i = self.total % cap
        self._times.buf[i] = self._times.buf[i + cap] = at
        self._live.buf[i] = self._live.buf[i + cap] = math.nan if depth is None else 1.0
        for skill, ring in self._depth.items():
            if depth is None:
                value = math.nan
            else:
                value = float(depth.get(skill, 0))
            ring.buf[i] = ring.buf[i + cap] = value
        for skill, ring in self._wait.items():
            if depth is None:
                value = math.nan
            else:
                value = float((wait_s or {}).get(skill, 0.0))
            ring.buf[i] = ring.buf[i + cap] = value
        self.total += 1
        self.version += 1

    def prepend(self, samples) -> None:
        """Samples from before this console was sampling (the broker's record of the evening so
        far: (at, depth, wait_s) tuples, oldest first) go before what was sampled here."""
        times, live = self.times().copy(), self.live().copy()
        own = {skill: (self.depth(skill).copy(), self.wait(skill).copy()) for skill in self.skills}
        first = times[0] if len(times) else math.inf
        earlier = [s for s in samples if s[0] < first][-(self.capacity - len(times)):] \
            if len(times) < self.capacity else []
        if not earlier:
            return
        # every skill from the first sample on: a skill with no queue then had none (0), not a gap
        skills = list(dict.fromkeys([*own, *(skill for _at, depth, _w in earlier for skill in depth)]))
        self.clear()
        for at, depth, wait_s in earlier:
            self.append(at, {skill: depth.get(skill, 0) for skill in skills}, wait_s)
        for i, at in enumerate(times):
            if math.isnan(live[i]):
                self.append(float(at), None)
            else:
                self.append(float(at), {s: d[i] for s, (d, _w) in own.items()},
                            {s: w[i] for s, (_d, w) in own.items()})

    def _window(self, ring: _Ring) -> np.ndarray:
        n = len(self)
        if n == 0:
            return ring.buf[:0]
        last = (self.total - 1) % self.capacity + self.capacity
        return ring.buf[last - n + 1:last + 1]

    def times(self) -> np.ndarray:
        """Sample times, oldest first (a view: copy before keeping it)."""
        return self._window(self._times)

    def live(self) -> np.ndarray:
        """1.0 where the sample was taken live, NaN in a gap (multiply to blank gaps)."""
        return self._window(self._live)

    def depth(self, skill: str) -> np.ndarray:
        return self._window(self._depth[skill])

    def wait(self, skill: str) -> np.ndarray:
        return self._window(self._wait[skill])

    def latest_depth(self, skill: str) -> float:
        series = self.depth(skill)
        return float(series[-1]) if len(series) else math.nan
