"""Figures computed from the store's materialized state.

Shared by the live broker (``query_stats``, coverage forecasts) and the
offline ``grabdesk report`` command, so both compute per-agent statistics and
quantiles one way. SLA attainment is not shared: the live floor metrics count
what closed, per shop's own policy; ``hourly_summary`` groups by arrival hour
against the one policy the report is given.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timezone

from broker.wire import protocol as p


def quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolated quantile of an already sorted, non-empty list."""
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def hourly_arrivals(store, since: float) -> dict[tuple[datetime, str], float]:
    """Arrivals per (UTC hour start, skill) since ``since``, counted by SQLite: the demand on
    people, so not those the robot first line holds or resolved alone (resolved, no owner)."""
    rows = store.query_state(
        "SELECT CAST(arrived_at / 3600 AS INTEGER) AS hour, skill, COUNT(*) FROM inquiries "
        "WHERE arrived_at >= ? AND state != 'robot' AND NOT (state = 'resolved' AND owner IS NULL) "
        "GROUP BY hour, skill", (since,))
    return {(datetime.fromtimestamp(hour * 3600, timezone.utc), skill): float(n) for hour, skill, n in rows}


def measured_aht(store, since: float, min_samples: int = 30) -> dict[str, float]:
    """Mean handling time (taken to resolved) per skill, where there are enough samples."""
    rows = store.query_state(
        "SELECT skill, AVG(closed_at - taken_at), COUNT(*) FROM inquiries WHERE state = 'resolved' "
        "AND closed_at >= ? AND taken_at IS NOT NULL GROUP BY skill", (since,))
    return {skill: float(avg) for skill, avg, n in rows if n >= min_samples and avg and avg > 0}


def agent_skill_stats(store, since: float, until: float) -> list[p.AgentSkillStats]:
    """Who is good at what: per agent and skill over [since, until)."""
    rows = store.query_state(
        "SELECT owner, skill, arrived_at, first_response_at, closed_at, satisfaction FROM inquiries "
        "WHERE state = 'resolved' AND owner IS NOT NULL AND closed_at >= ? AND closed_at < ?",
        (since, until))
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for owner, skill, arrived, first, closed, sat in rows:
        groups[(owner, skill)].append((arrived, first, closed, sat))
    out = []
    for (owner, skill), items in sorted(groups.items()):
        frt = sorted(first - arrived for arrived, first, _c, _s in items if first is not None)
        res = sorted(closed - arrived for arrived, _f, closed, _s in items)
        sats = [s for *_rest, s in items if s is not None]
        out.append(p.AgentSkillStats(
            agent=owner, skill=skill, resolved=len(items),
            first_response_p50_s=round(quantile(frt, 0.5), 1) if frt else None,
            resolution_p50_s=round(quantile(res, 0.5), 1) if res else None,
            satisfaction_avg=round(sum(sats) / len(sats), 2) if sats else None,
            satisfaction_n=len(sats)))
    return out


def hourly_summary(store, since: float, until: float, sla_first_response_s: float,
                   sla_resolution_s: float) -> list[dict]:
    """Per UTC hour and skill: arrivals, resolved, abandoned, SLA attainment, medians."""
    rows = store.query_state(
        "SELECT skill, state, arrived_at, taken_at, first_response_at, closed_at FROM inquiries "
        "WHERE arrived_at >= ? AND arrived_at < ?", (since, until))
    buckets: dict[tuple[int, str], list[tuple]] = defaultdict(list)
    for skill, state, arrived, taken, first, closed in rows:
        buckets[(int(arrived // 3600), skill)].append((state, arrived, taken, first, closed))
    out = []
    for (hour, skill), items in sorted(buckets.items()):
        resolved = [i for i in items if i[0] == "resolved"]
        grab_s = sorted(i[2] - i[1] for i in items if i[2] is not None)
        frt = sorted(i[3] - i[1] for i in items if i[3] is not None)
        res = sorted(i[4] - i[1] for i in resolved)
        out.append({
            "hour_start_utc": datetime.fromtimestamp(hour * 3600, timezone.utc).isoformat(),
            "skill": skill,
            "arrivals": len(items),
            "resolved": len(resolved),
            "abandoned": sum(1 for i in items if i[0] == "abandoned"),
            "open": sum(1 for i in items if i[0] in ("queued", "held")),
            "time_to_grab_p50_s": _r(quantile(grab_s, 0.5)) if grab_s else "",
            "time_to_grab_p90_s": _r(quantile(grab_s, 0.9)) if grab_s else "",
            "first_response_p50_s": _r(quantile(frt, 0.5)) if frt else "",
            "first_response_p90_s": _r(quantile(frt, 0.9)) if frt else "",
            "resolution_p50_s": _r(quantile(res, 0.5)) if res else "",
            "resolution_p90_s": _r(quantile(res, 0.9)) if res else "",
            "first_response_sla_pct": _r(100.0 * sum(1 for v in frt if v <= sla_first_response_s) / len(frt))
            if frt else "",
            "resolution_sla_pct": _r(100.0 * sum(1 for v in res if v <= sla_resolution_s) / len(res))
            if res else "",
        })
    return out


def _r(value: float) -> float:
    return round(value, 1)
