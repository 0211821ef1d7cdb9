"""Smart assist (智能分配辅助): which waiting inquiry first, to whom, and how long the hybrid waits.

Pure functions and one settings class; the arbiter (``core.py``) calls them
when it auto-assigns (a shop in ``assign`` mode, or a ``hybrid`` shop's
inquiry left ungrabbed), and the lab (``grabdesk lab``) measured the
defaults (docs/lab.md, "The assist's defaults"):

* **most urgent first**: waiting inquiries are offered in order of priority,
  then the time left to their first-response deadline (an inquiry that came
  back to the pool, or one the robot escalated with its original arrival
  time, is nearer its deadline than a fresh one), then arrival;
* **the hybrid delay shrinks** as the deadline nears (never more than
  ``sla_share`` of the time left) and as the pool grows (``pool_scale``
  inquiries already waiting in the skill halve it), down to ``min_share`` of
  the shop's ``hybrid_after_s``;
* **the agent** with the lowest score: load relative to its concurrent cap,
  plus its recent load relative to its group's (the same recent load
  fair-share damping reads), less a bonus for proficiency in the skill and
  for quality; ties go to the longest idle;
* **recent load** is each agent's takes (grabs and assignments) decayed with
  a half-life of ``recent_half_life_s``: the load of the last hour or so, so
  fairness compares people on duty at the same time, not a morning shift's
  total with an evening shift's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: the concurrent cap assumed for an agent without one, to weigh its load
UNCAPPED_SLOTS = 5


@dataclass
class AssistConfig:
    """How the assist chooses; the defaults are what the lab found best (docs/lab.md)."""

    #: "urgent": priority, then time left to the first-response deadline; "fifo": arrival order
    order: str = "urgent"
    #: shrink the hybrid delay as the deadline nears and the pool grows
    shrink: bool = True
    #: the hybrid delay never exceeds this share of the time left to the first-response deadline
    sla_share: float = 0.25
    #: this many inquiries already waiting in the skill halve the hybrid delay
    pool_scale: float = 5.0
    #: the pool never shrinks the hybrid delay below this share of hybrid_after_s
    min_share: float = 0.2
    #: half-life of the recent load that fair share and the agent choice weigh (floor seconds)
    recent_half_life_s: float = 1800.0
    #: weights of the agent score (lower wins)
    load_weight: float = 1.0
    fairness_weight: float = 1.0
    proficiency_weight: float = 0.3
    quality_weight: float = 0.2


def decayed(value: float, since_s: float, half_life_s: float) -> float:
    """``value`` as it stands ``since_s`` seconds later, halving every ``half_life_s``."""
    if since_s <= 0:
        return value
    return value * math.pow(0.5, since_s / half_life_s)


def urgency(priority: int, first_response_due: float | None, arrived_at: float, config: AssistConfig) -> tuple:
    """Sort key of a waiting inquiry: the smallest is offered first."""
    if config.order == "fifo":
        return (arrived_at,)
    due = first_response_due if first_response_due is not None else arrived_at
    return (-priority, due, arrived_at)


def hybrid_delay_s(hybrid_after_s: float, time_left_s: float, others_waiting: int, config: AssistConfig) -> float:
    """How long a hybrid shop lets agents grab an inquiry before assigning it.

    ``time_left_s`` is to its first-response deadline, ``others_waiting`` the
    inquiries of its skill already in the pool.
    """
    if not config.shrink:
        return hybrid_after_s
    by_pool = hybrid_after_s * max(config.min_share, config.pool_scale / (config.pool_scale + max(0, others_waiting)))
    return max(0.0, min(by_pool, config.sla_share * time_left_s))


def agent_score(held: int, cap: int | None, recent_load: float, group_mean_load: float, proficiency: int,
                quality: float, config: AssistConfig) -> float:
    """How suitable an agent is for an inquiry it may take; lower is better."""
    slots = cap if cap else UNCAPPED_SLOTS
    return (config.load_weight * held / slots
            + config.fairness_weight * recent_load / (group_mean_load + 1.0)
            - config.proficiency_weight * (proficiency - 3) / 2.0
            - config.quality_weight * (quality - 75.0) / 25.0)
