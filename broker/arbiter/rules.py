"""Pure rules shared by the broker's core and every client.

Clients use ``ineligible_rule`` only to *display* the pool an agent may
take; the broker applies the same function when it decides, so what an agent
sees and what the broker accepts cannot drift apart.
"""
from __future__ import annotations

from typing import Iterable, Protocol, Sequence

import broker.wire.reasons as reasons
from broker.wire.protocol import QUOTA_FIELDS, Quotas, TierRule


class _AgentLike(Protocol):
    skills: dict[str, int]
    languages: list[str]
    channels: list[str]
    shops: list[str]


class _InquiryLike(Protocol):
    shop: str
    skill: str
    language: str
    channel: str


#: broker-wide fallbacks when neither agent nor group sets a quota
DEFAULT_QUOTAS = Quotas(concurrent_cap=5, daily_grabs=300, continuous_hours=4.0, break_minutes=15.0)

DEFAULT_TIERS: tuple[TierRule, ...] = (
    TierRule(name="gold", min_score=90.0),
    TierRule(name="silver", min_score=75.0),
    TierRule(name="bronze", min_score=60.0, visibility_delay_s=2.0),
    TierRule(name="probation", min_score=0.0, visibility_delay_s=5.0, cap=2),
)


def ineligible_rule(agent: _AgentLike, inquiry: _InquiryLike) -> str | None:
    """The first permission rule that keeps ``agent`` from ``inquiry``, or None.

    Rules are named by the attribute that failed: "shop", "skill",
    "language", "channel". An empty ``channels``/``shops`` list means all.
    """
    if agent.shops and inquiry.shop not in agent.shops:
        return "shop"
    if inquiry.skill not in agent.skills:
        return "skill"
    if inquiry.language not in agent.languages:
        return "language"
    if agent.channels and inquiry.channel not in agent.channels:
        return "channel"
    return None


def rule_params(agent_id: str, inquiry: _InquiryLike) -> dict[str, str]:
    """The parameters of a rule's sentence (``rule.<name>`` in broker/wire/reasons.py)."""
    return {"agent": agent_id, "shop": inquiry.shop, "skill": inquiry.skill,
            "language": inquiry.language, "channel": inquiry.channel}


def explain_rule(rule: str, agent_id: str, inquiry: _InquiryLike) -> str:
    return reasons.sentence(f"rule.{rule}", rule_params(agent_id, inquiry))


def at_cap(agent) -> bool:
    """Whether an agent holds as many inquiries as its effective concurrent cap allows."""
    cap = agent.effective.concurrent_cap
    return cap is not None and agent.held >= cap


def resolve_quotas(*layers: Quotas) -> Quotas:
    """Merge quota layers, first non-None wins (agent, group, default)."""
    out = Quotas()
    for name in QUOTA_FIELDS:
        for layer in layers:
            value = getattr(layer, name)
            if value is not None:
                setattr(out, name, value)
                break
    return out


def tier_for(quality: float, tiers: Sequence[TierRule]) -> TierRule:
    """The highest tier whose floor the score reaches (tiers in any order)."""
    best: TierRule | None = None
    for tier in tiers:
        if quality >= tier.min_score and (best is None or tier.min_score > best.min_score):
            best = tier
    if best is None:  # a configuration without a floor tier: lowest one applies
        best = min(tiers, key=lambda t: t.min_score)
    return best


def gini(values: Iterable[float]) -> float:
    """Gini index of non-negative values: 0 all equal, toward 1 one takes all."""
    xs = sorted(v for v in values if v >= 0)
    n = len(xs)
    total = sum(xs)
    if n < 2 or total <= 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n
