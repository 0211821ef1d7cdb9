"""What a lab run measured, per policy and per hour of the trace.

All percentages are of **arrivals** in the trace (not of the inquiries
served), so a policy cannot look good by letting customers leave:

* ``first_response_10min_pct``: arrivals whose first answer came within the
  first-response SLA (10 min by default) of arriving;
* ``resolved_20min_pct``: arrivals resolved within the resolution SLA (20 min);
* ``abandoned_pct``: arrivals who left before anybody answered them;
* ``p50_first_response_s``, ``p90_first_response_s``: time to the first
  answer over the arrivals that got one;
* ``utilisation_pct``: the time people spent holding the inquiries they
  resolved, over their time on duty times the slots they are comfortable
  with (their comfort load within the broker's cap);
* ``gini``: fairness of the load among the people who were there at the
  same time. For each skill group and each hour of the trace, each agent on
  duty in that hour (at least ``GINI_MIN_DUTY_S`` of it) gets the inquiries
  they took in it (grabbed or were assigned: the work the broker handed out)
  per hour on duty; the Gini index of those rates (0: all equal; 1: one took
  everything; the broker's own ``rules.gini``) is that group-hour's; the
  group-hours' indices are averaged weighted by the inquiries each handed
  out. Comparing within an hour keeps the roster out of it: an agent who
  works only the two surge hours is not "unfair" to one who works the night;
* ``assisted_pct``: of the inquiries somebody took, the share the broker
  assigned (smart assist) rather than an agent grabbed;
* per hour of arrival: arrivals, the first-response share within the SLA and
  its p90, and the mean number of inquiries waiting in the pool.
"""
from __future__ import annotations

import math

from broker.arbiter.rules import gini
from tools.lab.engine import Outcome

HOUR_S = 3600.0
#: an agent on duty less of an hour than this is left out of that hour's Gini (a shift's edge)
GINI_MIN_DUTY_S = 900.0
#: the keys of a policy's figures, in table order
KEYS = ("arrivals", "first_response_10min_pct", "resolved_20min_pct", "abandoned_pct", "p50_first_response_s",
        "p90_first_response_s", "utilisation_pct", "gini", "assisted_pct")


def quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(outcome: Outcome) -> dict:
    """The policy's figures (KEYS, plus grabs and ``hourly``) from one run."""
    frt_limit = outcome.sla.first_response_s
    res_limit = outcome.sla.resolution_s
    rows = list(outcome.inquiries.values())
    n = len(rows)
    answered = sorted(first - arrived for arrived, first, _closed, _state, _how in rows if first is not None)
    within = sum(1 for v in answered if v <= frt_limit)
    resolved = sum(1 for arrived, _first, closed, state, _how in rows
                   if state == "resolved" and closed is not None and closed - arrived <= res_limit)
    abandoned = sum(1 for row in rows if row[3] == "abandoned")
    taken = [row[4] for row in rows if row[4] and row[4] != "robot"]
    contained = sum(1 for row in rows if row[4] == "robot" and row[3] == "resolved")
    assisted = sum(1 for how in taken if how == "assign")

    busy_s = capacity_s = 0.0
    by_group_hour: dict[tuple[str, int], list[tuple[float, int]]] = {}
    for agent_id, (group, online_s, slots, _done, hold_s) in outcome.agents.items():
        busy_s += hold_s
        capacity_s += online_s * max(1, slots)
        for hour, (duty_s, done) in outcome.agent_hours.get(agent_id, {}).items():
            if duty_s >= GINI_MIN_DUTY_S:
                by_group_hour.setdefault((group or "-", hour), []).append((done / (duty_s / HOUR_S), done))
    weighted = total = 0.0
    for members in by_group_hour.values():
        done = sum(d for _, d in members)
        if done and len(members) > 1:
            weighted += gini([rate for rate, _ in members]) * done
            total += done
    pct = (lambda k: round(100.0 * k / n, 2)) if n else (lambda k: 0.0)
    out = {
        "arrivals": n,
        "first_response_10min_pct": pct(within),
        "resolved_20min_pct": pct(resolved),
        "abandoned_pct": pct(abandoned),
        "p50_first_response_s": _round(quantile(answered, 0.5)),
        "p90_first_response_s": _round(quantile(answered, 0.9)),
        "utilisation_pct": round(100.0 * busy_s / capacity_s, 2) if capacity_s else 0.0,
        "gini": round(weighted / total, 4) if total else 0.0,
        "assisted_pct": round(100.0 * assisted / len(taken), 2) if taken else 0.0,
        "grabs_won": outcome.grabs.get("won", 0),
        "grabs_lost": outcome.grabs.get("lost", 0),
        "grabs_refused": outcome.grabs.get("refused", 0),
        "sim_wall_s": round(outcome.wall_s, 2),
        # the robot first line: arrivals it resolved without a person, and those it handed over
        "robot_contained_pct": pct(contained) if outcome.robot else None,
        "robot_escalated_pct": pct(outcome.robot.get("escalated", 0)) if outcome.robot else None,
        "hourly": hourly(outcome),
    }
    return out


def hourly(outcome: Outcome) -> list[dict]:
    """Per hour of the trace: arrivals, first responses within the SLA, their p90, the mean queue."""
    hours = max(1, math.ceil((outcome.trace_end - outcome.trace_start) / HOUR_S))
    arrivals = [0] * hours
    within = [0] * hours
    waits: list[list[float]] = [[] for _ in range(hours)]
    for arrived, first, _closed, _state, _how in outcome.inquiries.values():
        h = min(hours - 1, max(0, int((arrived - outcome.trace_start) // HOUR_S)))
        arrivals[h] += 1
        if first is not None:
            waits[h].append(first - arrived)
            within[h] += first - arrived <= outcome.sla.first_response_s
    queue_sum = [0.0] * hours
    queue_n = [0] * hours
    for at, queued in outcome.queue_samples:
        h = int((at - outcome.trace_start) // HOUR_S)
        if 0 <= h < hours:
            queue_sum[h] += queued
            queue_n[h] += 1
    return [{"hour": h, "arrivals": arrivals[h],
             "first_response_10min_pct": round(100.0 * within[h] / arrivals[h], 2) if arrivals[h] else None,
             "p90_first_response_s": _round(quantile(sorted(waits[h]), 0.9)),
             "queue_mean": round(queue_sum[h] / queue_n[h], 2) if queue_n[h] else 0.0}
            for h in range(hours)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
