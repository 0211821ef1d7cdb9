"""Every rule that decides a grab, in the order the broker applies them.

"Why was this grab refused?" Read this module from the top. A ``grab``
command meets these rules, the first that fails decides the reply:

 1. authorization (``authorize``; the service, before any handler): a CurveZMQ
    key that is revoked, or enrolled as someone else, gets ``unauthenticated``;
    a role sends only the commands of its row in the role table
    (``broker.wire.protocol``: ``AGENT_COMMANDS`` and the others), and an
    agent must be enrolled, else ``forbidden``;
 2. rate limit (``GrabRateLimit``; the service's grab handler): more than
    ``grab_rate_per_s`` grabs a second from one agent (bursts of twice that)
    get ``rate-limited``;
 3. grab id (``reused_grab_id``; the arbiter): a ``grab_id`` already used for
    another inquiry gets ``bad-request``; the same one again replays its
    verdict unchanged;
 4. the inquiry is open (``verdict_without_inquiry``): a closed one is
    ``lost`` to whoever had it, an unknown one ``not-found``.
    From here on ``judge_grab`` decides, in this order:
 5. the agent is known (``not-found``);
 6. eligibility (``ineligible_rule``): shop, skill, language, channel
    (``not-eligible``);
 7. already taken: ``lost``, naming the winner;
 8. the shop assigns its inquiries (``not-eligible``);
 9. availability (``availability_refusal``): online (a forced break is
    ``quota-hours``, another status ``not-eligible``), the concurrent cap
    (``quota-concurrent``), the daily quota of the quota day
    (``quota-daily``; the day starts at midnight in ``day_tz``, see
    ``quota_day`` and ``grabs_today``), continuous hours (``quota-hours``);
10. visibility (``judge_grab``): an agent sees an inquiry
    ``visibility_delay_s`` after it was queued, its tier's delay plus the
    fair-share delay (``standing``, ``fair_share_delay``).

Otherwise the grab is ``won``. Transfers and reassignment check 5, 6 and 9
without the daily quota (``availability_refusal(count_daily=False)``);
auto-assignment checks 6 and 9.

Every function here is pure: the records, the floor's ``now`` and the
configuration come in, a refusal (or a verdict) goes out; the arbiter
(``core.py``) changes the state. Clients call (never copy) ``ineligible_rule``
and ``visible_at`` to *display* the pool an agent may take, so what an agent
sees and what the broker accepts cannot drift apart; everything else a client
shows about availability and SLA deadlines the broker puts on its records.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, NamedTuple, Protocol, Sequence
from zoneinfo import ZoneInfo

import broker.wire.reasons as reasons
from broker.wire.protocol import (
    AGENT_COMMANDS, COMMON_COMMANDS, INTAKE_COMMANDS, QUOTA_FIELDS, ROBOT_COMMANDS, SUPERVISOR_COMMANDS, AgentRecord, ErrorCode,
    FairShare, GroupRecord, InquiryRecord, Quotas, TierRule,
)


class Refusal(Exception):
    """A command the rules refuse. Raised before any state is changed.

    ``key`` and ``params`` name the sentence (broker/wire/reasons.py) so clients
    can say it in their user's language; ``because`` builds all three at once.
    """

    def __init__(self, code: ErrorCode, reason: str, key: str = "", params: dict | None = None, **detail):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.key = key
        self.params = params or {}
        self.detail = detail

    @classmethod
    def because(cls, code: ErrorCode, key: str, params: dict, **detail) -> Refusal:
        """A refusal whose English reason is the catalog's sentence for ``key``."""
        return cls(code, reasons.sentence(key, params), key, params, **detail)


class VerdictFacts(NamedTuple):
    """A decided grab. Plain values only: the arbiter remembers it as a plain tuple
    of them (``Arbiter._remember_verdict``), which the cyclic GC does not track,
    which matters with VERDICT_MEMORY of them remembered."""

    inquiry: str
    outcome: str  # won / lost / refused
    code: str | None  # an ErrorCode value (ErrorCode is a str enum, so they compare equal)
    reason: str
    winner: str | None
    won_at: float | None
    #: the reason's key and parameters (broker/wire/reasons.py); a tuple of pairs, untracked by the GC
    key: str = ""
    params: tuple = ()


def _facts(inquiry: str, outcome: str, code: ErrorCode, key: str, params: dict,
           winner: str | None = None, won_at: float | None = None) -> VerdictFacts:
    return VerdictFacts(inquiry, outcome, code.value, reasons.sentence(key, params), winner, won_at,
                        key, tuple(params.items()))


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


# ---------------------------------------------------------------------- 1. authorization

def authorize(kind: str, role: str, who: str, *, authenticated: tuple[str, str] | None,
              enrolled_agent: bool, status_target: str | None = None) -> Refusal | None:
    """Whether ``who``, claiming ``role``, may send a command of type ``kind``.

    ``authenticated`` is the (role, who) the transport bound to the sender's
    key, None without authentication; ``enrolled_agent`` whether ``who`` is a
    defined agent; ``status_target`` the agent a ``set_status`` names.
    """
    if authenticated is not None:
        key_role, key_who = authenticated
        if key_role == "revoked":
            return Refusal.because(ErrorCode.UNAUTHENTICATED, "auth.revoked", {})
        if (key_role, key_who) != (role, who):
            return Refusal.because(ErrorCode.UNAUTHENTICATED, "auth.key_mismatch",
                                   {"key_role": key_role, "key_who": key_who, "role": role, "who": who})
    if not may_send(role, kind):
        return Refusal.because(ErrorCode.FORBIDDEN, "auth.role", {"role": role, "command": kind})
    if role == "agent" and not enrolled_agent:
        return Refusal.because(ErrorCode.FORBIDDEN, "auth.not_enrolled", {"agent": who})
    if kind == "set_status" and status_target not in (None, who) and role not in ("supervisor", "admin"):
        return Refusal.because(ErrorCode.FORBIDDEN, "auth.own_status", {})
    return None


def may_send(role: str, kind: str) -> bool:
    """The role table: admin sends everything, every role the common commands."""
    return (role == "admin" or kind in COMMON_COMMANDS
            or (role == "supervisor" and kind in SUPERVISOR_COMMANDS)
            or (role == "agent" and kind in AGENT_COMMANDS)
            or (role == "intake" and kind in INTAKE_COMMANDS)
            or (role == "robot" and kind in ROBOT_COMMANDS))


# ---------------------------------------------------------------------- 2. rate limit

class GrabRateLimit:
    """Per-agent token bucket: ``rate_per_s`` grabs sustained, bursts of ``burst``.

    The one stateful rule: it keeps each sender's tokens. ``clock`` is a
    monotonic clock (the service passes ``time.monotonic``): the limit is
    about real seconds, not the floor's (possibly scaled) time.
    """

    def __init__(self, rate_per_s: float, burst: float, clock: Callable[[], float]):
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        #: key -> [tokens, last refill time]
        self._buckets: dict[str, list[float]] = {}

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when none is left."""
        now = self.clock()
        state = self._buckets.get(key)
        if state is None:
            state = self._buckets[key] = [self.burst, now]
        tokens = state[0] + (now - state[1]) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        state[1] = now
        if tokens < 1.0:
            state[0] = tokens
            return False
        state[0] = tokens - 1.0
        return True

    def check(self, who: str) -> Refusal | None:
        """The rate-limited refusal when ``who`` grabs faster than the limit."""
        if self.allow(who):
            return None
        return Refusal.because(ErrorCode.RATE_LIMITED, "grab.rate", {"rate": reasons.number(self.rate), "agent": who},
                               limit=self.rate)


# ---------------------------------------------------------------------- 3. grab id, 4. inquiry open

def reused_grab_id(previous_inquiry: str, inquiry_id: str, grab_id: str) -> Refusal | None:
    """A grab id names one attempt: reusing it for another inquiry is a client bug."""
    if previous_inquiry == inquiry_id:
        return None
    return Refusal.because(ErrorCode.BAD_REQUEST, "grab.id_reused", {"grab_id": grab_id, "inquiry": previous_inquiry},
                           field="grab_id")


class ClosedFacts(NamedTuple):
    """What the arbiter remembers of a closed inquiry, to tell late grabbers who won."""

    state: str
    owner: str | None
    taken_at: float | None


def verdict_without_inquiry(inquiry_id: str, closed: ClosedFacts | None) -> VerdictFacts:
    """The verdict on a grab of an inquiry that is not open."""
    if closed is not None and closed.owner is not None:
        return _facts(inquiry_id, "lost", ErrorCode.ALREADY_TAKEN, "grab.taken_closed",
                      {"winner": closed.owner, "state": closed.state}, closed.owner, closed.taken_at)
    return _facts(inquiry_id, "refused", ErrorCode.NOT_FOUND, "inquiry.not_open", {"inquiry": inquiry_id})


# ---------------------------------------------------------------------- 5.-10. the verdict

def judge_grab(agent_id: str, agent: AgentRecord | None, inq: InquiryRecord, now: float, *,
               shop_mode: str, today: str, tz: ZoneInfo) -> VerdictFacts:
    """The verdict on ``agent_id`` grabbing the open inquiry ``inq`` at ``now``.

    ``agent`` is None for an unknown agent; ``shop_mode`` is the inquiry's
    shop's mode; ``today`` the current quota day (``quota_day``).
    """
    def refused(code: ErrorCode, key: str, params: dict) -> VerdictFacts:
        return _facts(inq.id, "refused", code, key, params)

    if agent is None:
        return refused(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": agent_id})
    rule = ineligible_rule(agent, inq)
    if rule is not None:
        return refused(ErrorCode.NOT_ELIGIBLE, f"rule.{rule}", rule_params(agent_id, inq))
    if inq.state == "robot":  # not in the pool yet: nobody has won it
        return refused(ErrorCode.INVALID_STATE, "grab.with_robot", {"inquiry": inq.id})
    if inq.state != "queued":
        return _facts(inq.id, "lost", ErrorCode.ALREADY_TAKEN, "grab.taken", {"winner": inq.owner},
                      inq.owner, inq.taken_at)
    if shop_mode == "assign":
        return refused(ErrorCode.NOT_ELIGIBLE, "grab.assign_mode", {"shop": inq.shop})
    unavailable = availability_refusal(agent, now, today, tz)
    if unavailable is not None:
        return refused(unavailable.code, unavailable.key, unavailable.params)
    visible = visible_at(agent, inq)
    if now < visible:
        return refused(ErrorCode.NOT_ELIGIBLE, "grab.not_visible",
                       {"tier": agent.tier, "delay_s": reasons.number(agent.visibility_delay_s),
                        "in_s": f"{visible - now:.1f}"})
    return VerdictFacts(inq.id, "won", None, "", agent_id, now)


def visible_at(agent: AgentRecord, inq: InquiryRecord) -> float:
    """When ``agent`` may grab ``inq``: ``visibility_delay_s`` after it was (re-)queued.
    The agent window calls this to know when an inquiry enters its pool."""
    return inq.queued_at + agent.visibility_delay_s


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
    """The sentence a refusal by ``ineligible_rule``'s ``rule`` carries."""
    return reasons.sentence(f"rule.{rule}", rule_params(agent_id, inquiry))


def availability_refusal(agent: AgentRecord, now: float, today: str, tz: ZoneInfo,
                         count_daily: bool = True) -> Refusal | None:
    """Status and quota checks shared by grabs, transfers and assignment, in order:
    online, concurrent cap, daily quota (unless ``count_daily`` is False), continuous hours."""
    if agent.status != "online":
        if agent.forced_break and agent.break_until:
            return Refusal.because(ErrorCode.QUOTA_HOURS, "status.forced_break",
                                   {"hours": reasons.number(agent.effective.continuous_hours or 0.0),
                                    "until": clock_text(agent.break_until, tz)})
        return Refusal.because(ErrorCode.NOT_ELIGIBLE, "status.not_online", {"agent": agent.id, "status": agent.status})
    eff = agent.effective
    if at_cap(agent):
        return Refusal.because(ErrorCode.QUOTA_CONCURRENT, "quota.concurrent",
                               {"held": agent.held, "cap": eff.concurrent_cap})
    if count_daily:
        taken = grabs_today(agent, today)
        if eff.daily_grabs is not None and taken >= eff.daily_grabs:
            return Refusal.because(ErrorCode.QUOTA_DAILY, "quota.daily", {"taken": taken, "quota": eff.daily_grabs})
    if service_exceeded(agent, now):
        return Refusal.because(ErrorCode.QUOTA_HOURS, "quota.hours", {"hours": reasons.number(eff.continuous_hours or 0.0)})
    return None


def at_cap(agent) -> bool:
    """Whether an agent holds as many inquiries as its effective concurrent cap allows."""
    cap = agent.effective.concurrent_cap
    return cap is not None and agent.held >= cap


def quota_day(now: float, tz: ZoneInfo) -> tuple[str, float]:
    """The quota day ``now`` falls in (ISO date in ``tz``) and when it ends (epoch seconds)."""
    local = datetime.fromtimestamp(now, tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
    return local.date().isoformat(), midnight.timestamp()


def grabs_today(agent: AgentRecord, today: str) -> int:
    """What counts against the daily quota on ``today``: nothing once the day has
    turned, even before the arbiter rolled the agent's counters over."""
    if agent.day and agent.day != today:
        return 0
    return agent.grabs_today


def service_exceeded(agent: AgentRecord, now: float) -> bool:
    """Whether an online agent has served its continuous hours and a break is due."""
    hours = agent.effective.continuous_hours
    return (hours is not None and agent.service_since is not None
            and now - agent.service_since >= hours * 3600.0)


def forced_break_refusal(agent: AgentRecord, now: float, tz: ZoneInfo) -> Refusal | None:
    """An agent on a forced break may not set itself online before the break ends."""
    if agent.forced_break and agent.break_until and now < agent.break_until:
        return Refusal.because(ErrorCode.QUOTA_HOURS, "status.break_until", {"until": clock_text(agent.break_until, tz)},
                               break_until=agent.break_until)
    return None


def clock_text(ts: float, tz: ZoneInfo) -> str:
    """``ts`` as the floor's wall-clock HH:MM, for refusal sentences."""
    return datetime.fromtimestamp(ts, tz).strftime("%H:%M")


# ---------------------------------------------------------------------- standing: tier, quotas, delay

class Standing(NamedTuple):
    """An agent's tier, effective quotas and visibility delay, derived from its
    quality, its own and its group's quotas and the group's fair share."""

    tier: str
    effective: Quotas
    visibility_delay_s: float


def standing(agent: AgentRecord, group: GroupRecord | None, tiers: Sequence[TierRule],
             default_quotas: Quotas, group_mean_grabs: float, own_grabs: float | None = None) -> Standing:
    """Quotas resolve agent, then group, then broker default; the tier's cap
    lowers the concurrent cap; the tier's delay plus the fair-share delay is
    how long after queueing the agent sees an inquiry. The arbiter compares
    recent loads (``own_grabs`` against its group's mean, see assist.py);
    without ``own_grabs`` the agent's grabs today count."""
    tier = tier_for(agent.quality, tiers)
    effective = resolve_quotas(agent.quotas, group.quotas if group else Quotas(), default_quotas)
    if tier.cap is not None and (effective.concurrent_cap is None or tier.cap < effective.concurrent_cap):
        effective.concurrent_cap = tier.cap
    own = agent.grabs_today if own_grabs is None else own_grabs
    fair = fair_share_delay(group.fair_share, own, group_mean_grabs) if group else 0.0
    return Standing(tier.name, effective, tier.visibility_delay_s + fair)


def fair_share_delay(rule: FairShare, grabs_today: float, group_mean_grabs: float) -> float:
    """Damp 强者恒强: an agent far above its group's mean sees new inquiries later (the arbiter
    passes recent loads, which fade with the assist's half-life)."""
    if not rule.enabled:
        return 0.0
    if group_mean_grabs >= rule.min_mean_grabs and grabs_today > rule.factor * group_mean_grabs:
        return rule.delay_s
    return 0.0


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
