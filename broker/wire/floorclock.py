"""The floor's time as a client sees it: the broker's clock, followed.

The broker's clock is the floor's time (the wall clock in production, a
scaled clock in the demo, a virtual one in the lab). The broker says what
time it is and how fast its clock runs in ``welcome``, ``snapshot_end`` and
every heartbeat; a :class:`FloorClock` remembers the last such reading and
runs on from it at the broker's rate on this machine's monotonic clock. So a
wait, a countdown or a header clock computed with ``now()`` is the broker's,
even when the broker runs at 60 times real speed or on another machine whose
wall clock differs.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class FloorClock:
    """The broker's time, extrapolated from its last reading. Thread-safe.

    Before the first reading it is this machine's wall clock at scale 1.
    """

    def __init__(self, mono: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
        self._mono = mono
        self._lock = threading.Lock()
        # (broker time, our monotonic time when we heard it, broker seconds per real second)
        self._anchor = (wall(), mono(), 1.0)
        self.synced = False

    def sync(self, broker_at: float, time_scale: float = 1.0) -> None:
        """The broker said ``broker_at`` just now, and runs ``time_scale`` times real speed."""
        if not broker_at > 0 or not time_scale > 0:
            return  # an old broker that sends nothing, or a garbled reading: keep what we had
        with self._lock:
            self._anchor = (broker_at, self._mono(), float(time_scale))
            self.synced = True

    def catch_up(self, broker_at: float) -> None:
        """An event stamped ``broker_at`` arrived: the floor is at least that late now.

        Latency makes a reading a little old; at 60x a millisecond is 60 ms of
        floor time, and an inquiry queued at an event's time must already count
        as queued.
        """
        with self._lock:
            at, mono_at, scale = self._anchor
            if broker_at > at + (self._mono() - mono_at) * scale:
                self._anchor = (broker_at, self._mono(), scale)

    @property
    def time_scale(self) -> float:
        """Floor seconds per real second (1.0 on the wall clock)."""
        return self._anchor[2]

    def now(self) -> float:
        """The floor's time now, in epoch seconds."""
        at, mono_at, scale = self._anchor
        return at + (self._mono() - mono_at) * scale

    __call__ = now

    def real_s(self, floor_s: float) -> float:
        """How many real seconds a floor duration takes."""
        return floor_s / self._anchor[2]
