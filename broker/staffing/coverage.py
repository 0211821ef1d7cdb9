"""Coverage: agents rostered versus agents required, per hour and skill.

This is the supervisor's "who is on tonight and where are we short" view.

* **Required** for an hour and skill is the Erlang C answer
  (:func:`broker.staffing.erlang.required_agents`) for that hour's forecast arrivals,
  the skill's average handle time and chat concurrency, and the floor's
  service-level target (e.g. 80 % within 20 s).
* **Rostered** is the number of agents whose shift is running at the
  *middle* of the hour (so a 09:30 start counts for 09:00-10:00 and a 17:30
  end does not count for 17:00-18:00: an agent counts for an hour when
  rostered for at least its second half).
* An agent counts for **every skill they have** (the shift's skill override
  if it has one, else ``agent_skills``). That is optimistic for multi-skilled
  agents, who can only be in one queue at a time; per-skill gaps are an upper
  bound on cover, and a skill short in the table is certainly short.
* **gap = rostered - required**: negative means short by that many agents.

Pure and synchronous: instants are passed in, nothing reads a clock.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from broker.staffing.erlang import required_agents
from broker.staffing.forecast import floor_to_hour
from broker.staffing.roster import Roster

__all__ = ["CoverageCell", "NowCell", "coverage", "coverage_now"]

_HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True)
class CoverageCell:
    """One hour x skill of the coverage table."""

    hour_start_utc: datetime
    skill: str
    rostered: int
    required: int
    gap: int  # rostered - required; negative = short
    arrivals_per_hour: float = 0.0  # the forecast behind ``required``

    @property
    def short(self) -> bool:
        return self.gap < 0


@dataclass(frozen=True)
class NowCell:
    """Right-now cover for one skill.

    ``online`` counts agents logged in with the skill, rostered or not (an
    agent who stayed late still serves); ``at_cap`` counts those of them who
    hold as many inquiries as their quota allows and so cannot grab more.
    """

    rostered: int
    online: int
    at_cap: int

    @property
    def available(self) -> int:
        """Online agents who can still take an inquiry."""
        return self.online - self.at_cap


def _skills_of(agent_skills: Mapping[str, Iterable[str]], agent: str) -> frozenset[str]:
    return frozenset(agent_skills.get(agent, ()))


def coverage(
    roster: Roster,
    agent_skills: Mapping[str, Iterable[str]],
    forecast: Mapping[tuple[datetime, str], float],
    aht_s_by_skill: Mapping[str, float],
    target_pct: float,
    within_s: float,
    concurrency_by_skill: Mapping[str, int],
    start_utc: datetime,
    hours: int = 24,
) -> list[CoverageCell]:
    """Rostered versus required agents for each hour from ``start_utc`` and each skill.

    ``forecast`` maps ``(hour_start_utc, skill)`` to expected arrivals per
    hour (see :func:`broker.staffing.forecast.forecast_arrivals`); a missing entry
    means no arrivals. Skills reported: those in the forecast, in
    ``aht_s_by_skill`` and those any agent has, sorted, so the table has the
    same rows every hour. A skill with forecast arrivals needs an AHT in
    ``aht_s_by_skill`` (ValueError otherwise); concurrency defaults to 1.

    Returns cells ordered by hour, then skill.
    """
    start = floor_to_hour(start_utc)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError(f"hours must be a whole number >= 0, got {hours!r}")

    skills: set[str] = {skill for (_hour, skill) in forecast} | set(aht_s_by_skill)
    for agent_set in agent_skills.values():
        skills.update(agent_set)
    for shift in roster.shifts:
        skills.update(shift.skills or ())

    cells: list[CoverageCell] = []
    for offset in range(hours):
        hour_start = start + timedelta(hours=offset)
        working = roster.skills_on_shift(hour_start + _HALF_HOUR, agent_skills)
        rostered_by_skill: dict[str, int] = {}
        for agent_skill_set in working.values():
            for skill in agent_skill_set:
                rostered_by_skill[skill] = rostered_by_skill.get(skill, 0) + 1
        for skill in sorted(skills):
            arrivals_per_hour = float(forecast.get((hour_start, skill), 0.0))
            if arrivals_per_hour > 0:
                if skill not in aht_s_by_skill:
                    raise ValueError(
                        f"skill {skill!r} has forecast arrivals but no average handle time in aht_s_by_skill"
                    )
                required = required_agents(
                    arrivals_per_hour,
                    aht_s_by_skill[skill],
                    target_pct,
                    within_s,
                    concurrency=concurrency_by_skill.get(skill, 1),
                ).agents
            else:
                required = 0
            rostered = rostered_by_skill.get(skill, 0)
            cells.append(CoverageCell(
                hour_start_utc=hour_start,
                skill=skill,
                rostered=rostered,
                required=required,
                gap=rostered - required,
                arrivals_per_hour=arrivals_per_hour,
            ))
    return cells


def coverage_now(
    roster: Roster,
    agent_skills: Mapping[str, Iterable[str]],
    online: set[str],
    at_cap: set[str],
    at_utc: datetime,
) -> dict[str, NowCell]:
    """Per skill: agents rostered now, agents online, and online agents at their cap.

    Skills reported: every skill of ``agent_skills`` and of running shifts'
    overrides, so an empty skill shows as zeros rather than vanishing. An
    online agent's skills are their running shift's override if any, else
    ``agent_skills``. ``at_cap`` entries that are not online are ignored:
    they are not serving, whatever their load says.
    """
    on_shift = roster.skills_on_shift(at_utc, agent_skills)

    skills: set[str] = set()
    for agent_set in agent_skills.values():
        skills.update(agent_set)
    for agent_set in on_shift.values():
        skills.update(agent_set)

    rostered = {skill: 0 for skill in skills}
    online_count = {skill: 0 for skill in skills}
    at_cap_count = {skill: 0 for skill in skills}
    for skill_set in on_shift.values():
        for skill in skill_set:
            rostered[skill] += 1
    for agent in online:
        agent_set = on_shift.get(agent)
        if agent_set is None:
            agent_set = _skills_of(agent_skills, agent)
        for skill in agent_set:
            online_count[skill] += 1
            if agent in at_cap:
                at_cap_count[skill] += 1
    return {
        skill: NowCell(rostered=rostered[skill], online=online_count[skill], at_cap=at_cap_count[skill])
        for skill in sorted(skills)
    }
