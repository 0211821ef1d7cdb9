"""The robot first line's figures for the floor metrics: contained and escalated, per skill.

Fed by the arbiter's observers on the broker's loop: an inquiry the robot
resolved without a person is *contained*; one it (or the broker, on its
time-out) handed to people is *escalated*. O(1) per observer call; a metrics
tick costs what left the hour since the last one.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

from broker.wire import protocol as p

HOUR_S = 3600.0


def contained(inq: p.InquiryRecord) -> bool:
    """Closed by the robot: resolved, nobody owned it (docs/protocol.md 6.22a)."""
    return inq.state == "resolved" and inq.owner is None and inq.taken_by == "robot"


class RobotStats:
    def __init__(self, today: Callable[[float], str]):
        #: fn(now) -> the quota day's name: "today" resets with the floor's day
        self._today = today
        self.day = ""
        #: (at, skill, contained?) over the last hour
        self.hour: deque[tuple[float, str, bool]] = deque()
        #: skill -> [contained, escalated] over the last hour
        self._by_skill: dict[str, list[int]] = {}
        self.contained_today = 0
        self.escalated_today = 0

    def _add(self, now: float, skill: str, was_contained: bool) -> None:
        day = self._today(now)
        if day != self.day:
            self.day = day
            self.contained_today = self.escalated_today = 0
        if was_contained:
            self.contained_today += 1
        else:
            self.escalated_today += 1
        self.hour.append((now, skill, was_contained))
        self._by_skill.setdefault(skill, [0, 0])[0 if was_contained else 1] += 1

    def closed(self, inq: p.InquiryRecord, now: float) -> None:
        if contained(inq):
            self._add(now, inq.skill, True)

    def escalated(self, inq: p.InquiryRecord, now: float) -> None:
        self._add(now, inq.skill, False)

    def figures(self, now: float, holding: int) -> dict:
        """The FloorMetrics fields of the robot first line as of ``now``."""
        while self.hour and self.hour[0][0] < now - HOUR_S:
            _at, skill, was_contained = self.hour.popleft()
            counts = self._by_skill[skill]
            counts[0 if was_contained else 1] -= 1
            if counts == [0, 0]:
                del self._by_skill[skill]
        if self._today(now) != self.day:
            self.contained_today = self.escalated_today = 0
        by_skill = {skill: (c, e) for skill, (c, e) in self._by_skill.items()}
        contained_hour = sum(c for c, _e in by_skill.values())
        escalated_hour = sum(e for _c, e in by_skill.values())
        return {"robot_holding": holding,
                "robot_contained_hour": contained_hour, "robot_escalated_hour": escalated_hour,
                "robot_contained_today": self.contained_today, "robot_escalated_today": self.escalated_today,
                "robot_by_skill": by_skill,
                "robot_containment_hour": share(contained_hour, escalated_hour),
                "robot_containment_today": share(self.contained_today, self.escalated_today)}


def share(contained_n: int, escalated_n: int) -> float | None:
    """The containment rate: answered without a person, of all the robot let go."""
    total = contained_n + escalated_n
    return round(contained_n / total, 4) if total else None
