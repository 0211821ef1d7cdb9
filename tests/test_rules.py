"""The grab rules as pure functions, in the order ``broker/arbiter/rules.py`` lists them.

The arbiter's and the service's tests drive the same rules through commands;
these pin the order: when several rules fail, the first in the list decides.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from broker.arbiter import rules
from broker.arbiter.rules import ClosedFacts
from broker.wire.protocol import AgentRecord, ErrorCode, FairShare, InquiryRecord, Quotas

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_780_000_000.0
TODAY = rules.quota_day(NOW, TZ)[0]


def agent(**kw) -> AgentRecord:
    fields = dict(id="a1", skills={"pre_sales": 3}, languages=["zh"], status="online", day=TODAY,
                  effective=Quotas(concurrent_cap=2, daily_grabs=10, continuous_hours=4.0, break_minutes=15.0))
    fields.update(kw)
    return AgentRecord(**fields)


def inquiry(**kw) -> InquiryRecord:
    fields = dict(id="q1", shop="s1", skill="pre_sales", language="zh", channel="chat",
                  arrived_at=NOW - 10, queued_at=NOW - 10)
    fields.update(kw)
    return InquiryRecord(**fields)


def judge(a, inq=None, mode="grab"):
    return rules.judge_grab("a1", a, inq or inquiry(), NOW, shop_mode=mode, today=TODAY, tz=TZ)


def test_an_available_eligible_agent_wins_and_the_verdict_names_it():
    verdict = judge(agent())
    assert (verdict.outcome, verdict.winner, verdict.won_at) == ("won", "a1", NOW)


def test_the_first_failing_rule_decides():
    # unknown, ineligible, taken, assign mode, offline, at cap, quota: each case also fails every later rule
    worst = dict(status="away", held=2, grabs_today=10)
    assert judge(None).code == ErrorCode.NOT_FOUND
    assert judge(agent(skills={}, **worst), inquiry(state="held", owner="a2"), "assign").code \
        == ErrorCode.NOT_ELIGIBLE
    taken = judge(agent(**worst), inquiry(state="held", owner="a2", taken_at=NOW - 1), "assign")
    assert (taken.outcome, taken.code, taken.winner) == ("lost", ErrorCode.ALREADY_TAKEN, "a2")
    assert "assigns" in judge(agent(**worst), mode="assign").reason
    assert "not online" in judge(agent(**worst)).reason
    assert judge(agent(held=2, grabs_today=10, service_since=NOW - 5 * 3600)).code == ErrorCode.QUOTA_CONCURRENT
    assert judge(agent(grabs_today=10, service_since=NOW - 5 * 3600)).code == ErrorCode.QUOTA_DAILY
    assert judge(agent(service_since=NOW - 5 * 3600, visibility_delay_s=60)).code == ErrorCode.QUOTA_HOURS
    late = judge(agent(visibility_delay_s=60))
    assert late.code == ErrorCode.NOT_ELIGIBLE and "visible in 50.0 s" in late.reason


def test_a_forced_break_is_refused_as_an_hours_quota_until_it_ends():
    resting = agent(status="break", forced_break=True, break_until=NOW + 600)
    assert judge(resting).code == ErrorCode.QUOTA_HOURS
    assert rules.forced_break_refusal(resting, NOW, TZ).code == ErrorCode.QUOTA_HOURS
    assert rules.forced_break_refusal(resting, NOW + 600, TZ) is None


def test_the_daily_quota_counts_only_the_current_quota_day():
    yesterday = agent(grabs_today=10, day="2000-01-01")
    assert rules.grabs_today(yesterday, TODAY) == 0
    assert judge(yesterday).outcome == "won"
    day, ends = rules.quota_day(NOW, TZ)
    assert rules.quota_day(ends - 0.001, TZ)[0] == day != rules.quota_day(ends, TZ)[0]


def test_transfers_skip_the_daily_quota_but_not_the_cap():
    spent = agent(grabs_today=10)
    assert rules.availability_refusal(spent, NOW, TODAY, TZ, count_daily=False) is None
    assert rules.availability_refusal(agent(held=2), NOW, TODAY, TZ, count_daily=False).code \
        == ErrorCode.QUOTA_CONCURRENT


def test_a_closed_inquiry_is_lost_to_its_owner_and_an_unknown_one_is_not_found():
    lost = rules.verdict_without_inquiry("q1", ClosedFacts("resolved", "a2", NOW - 50))
    assert (lost.outcome, lost.winner, lost.won_at) == ("lost", "a2", NOW - 50)
    assert rules.verdict_without_inquiry("q1", ClosedFacts("abandoned", None, None)).code == ErrorCode.NOT_FOUND
    assert rules.verdict_without_inquiry("q1", None).code == ErrorCode.NOT_FOUND


def test_a_grab_id_names_one_attempt():
    assert rules.reused_grab_id("q1", "q1", "g1") is None
    assert rules.reused_grab_id("q1", "q2", "g1").code == ErrorCode.BAD_REQUEST


@pytest.mark.parametrize("kind, role, authenticated, enrolled, target, code", [
    ("grab", "agent", ("revoked", "a1"), True, None, ErrorCode.UNAUTHENTICATED),
    ("grab", "agent", ("agent", "a2"), True, None, ErrorCode.UNAUTHENTICATED),
    ("set_quotas", "agent", None, True, None, ErrorCode.FORBIDDEN),
    ("grab", "agent", None, False, None, ErrorCode.FORBIDDEN),
    ("set_status", "agent", None, True, "a2", ErrorCode.FORBIDDEN),
    ("grab", "agent", ("agent", "a1"), True, None, None),
    ("set_status", "supervisor", None, False, "a2", None),
    ("define_shop", "admin", None, False, None, None),
    ("submit", "supervisor", None, False, None, ErrorCode.FORBIDDEN),
])
def test_authorization(kind, role, authenticated, enrolled, target, code):
    refusal = rules.authorize(kind, role, "a1", authenticated=authenticated, enrolled_agent=enrolled,
                              status_target=target)
    assert (refusal.code if refusal else None) == code


def test_the_rate_limit_allows_a_burst_then_the_sustained_rate():
    now = [0.0]
    limit = rules.GrabRateLimit(rate_per_s=2.0, burst=4.0, clock=lambda: now[0])
    assert [limit.check("a1") is None for _ in range(5)] == [True] * 4 + [False]
    assert limit.check("a1").code == ErrorCode.RATE_LIMITED
    assert limit.check("a2") is None  # per agent
    now[0] = 0.5
    assert limit.check("a1") is None


def test_fair_share_delays_only_agents_far_above_a_meaningful_mean():
    rule = FairShare(enabled=True, factor=1.5, delay_s=5.0, min_mean_grabs=3.0)
    assert rules.fair_share_delay(rule, grabs_today=10, group_mean_grabs=4.0) == 5.0
    assert rules.fair_share_delay(rule, grabs_today=5, group_mean_grabs=4.0) == 0.0
    assert rules.fair_share_delay(rule, grabs_today=10, group_mean_grabs=2.0) == 0.0
    assert rules.fair_share_delay(FairShare(), grabs_today=10, group_mean_grabs=4.0) == 0.0
