"""Unit tests of the arbiter core: pure calls, a FakeClock, no sockets, no sleeps.

Each test drives one rule of issue 2 through ``broker.arbiter.core.Arbiter`` and
checks both the decision and the events the transition emitted (the drained
``Changes``), since every client learns about the floor only from events.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from broker.arbiter import rules
from broker.arbiter.core import CLEAR_OVERRIDE, Arbiter, CoreConfig, Refusal
from broker.wire.mirror import Mirror
from broker.wire.protocol import (
    Alert, AgentLoad, AgentRecord, AgentSpec, ErrorCode, InquiryRecord, Event, FairShare, GroupRecord, NewInquiry, Quotas, ShopRecord,
    SlaPolicy, TierRule,
)

from helpers import FakeClock

_event = msgspec.msgpack.Decoder(Event)


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_core(clock, shops=("s1",), **config) -> Arbiter:
    core = Arbiter(CoreConfig(**config), clock=clock)
    for shop in shops:
        core.define_shop(shop if isinstance(shop, ShopRecord) else ShopRecord(id=shop))
    core.drain()
    return core


def add_agent(core: Arbiter, agent_id: str, skills=None, languages=("zh",), online=True,
              quality=95.0, **kw):
    core.define_agent(AgentSpec(id=agent_id, skills=dict(skills or {"pre_sales": 3}),
                                languages=list(languages), quality=quality, **kw))
    if online:
        core.set_status(agent_id, "online", "test")
    return core.agents[agent_id]


def submit(core: Arbiter, inquiry_id: str, shop="s1", skill="pre_sales", **kw):
    return core.submit(NewInquiry(id=inquiry_id, shop=shop, skill=skill, **kw), "intake")


def events(core: Arbiter) -> list[Event]:
    """Drain and decode what happened since the last drain."""
    return [_event.decode(e.raw) for e in core.drain().events]


def kinds(core: Arbiter) -> list[str]:
    return [e.kind for e in events(core)]


def refusal(fn, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args, **kwargs)
    return info.value


def grab_until_taken(core, clock, agent_id, n, prefix="w"):
    """Have ``agent_id`` grab and resolve ``n`` fresh inquiries (grabs today += n)."""
    for i in range(n):
        submit(core, f"{prefix}{i}")
        assert core.grab(agent_id, f"{prefix}{i}", f"g-{prefix}{i}").outcome == "won"
        core.resolve(agent_id, f"{prefix}{i}", None)


# --------------------------------------------------------------------------- lifecycle

def test_queued_grabbed_responded_resolved(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1")
    core.drain()

    submit(core, "q1", customer="c1", priority=2)
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.queued"]
    assert evs[0].record.state == "queued" and evs[0].record.arrived_at == clock.now
    assert core.inquiries["q1"].state == "queued" and core.inquiries["q1"].owner is None

    clock.advance(7)
    facts = core.grab("a1", "q1", "g1")
    assert (facts.outcome, facts.winner, facts.won_at, facts.code) == ("won", "a1", clock.now, None)
    changes = core.drain()
    # one event for the decision, then the agent's load (once per drain, however many
    # decisions changed it), carrying only what changed
    assert [e.kind for e in changes.events] == ["inquiry.grabbed", "agent.load"]
    load = _event.decode(changes.events[1].raw).record
    assert load == AgentLoad(id="a1", held=1, grabs_today=1, day=agent.day, idle_since=agent.idle_since)
    inq = core.inquiries["q1"]
    assert (inq.state, inq.owner, inq.taken_by, inq.taken_at) == ("held", "a1", "grab", clock.now)
    assert agent.held == 1 and agent.grabs_today == 1
    # the attempt is recorded for the store, with its time-to-grab
    [grab] = changes.grabs
    assert (grab.inquiry, grab.grab_id, grab.agent, grab.at, grab.latency_s, grab.outcome, grab.code) == \
        ("q1", "g1", "a1", clock.now, 7.0, "won", "")

    clock.advance(30)
    core.respond("a1", "q1")
    assert kinds(core) == ["inquiry.responded"]
    assert inq.first_response_at == clock.now
    clock.advance(5)
    core.respond("a1", "q1")  # a second reply is not a new first response
    assert kinds(core) == [] and inq.first_response_at == clock.now - 5

    clock.advance(60)
    core.resolve("a1", "q1", 5)
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.resolved", "agent.load"]
    assert evs[0].removed and evs[0].record.state == "resolved"
    assert evs[0].record.owner == "a1" and evs[0].record.satisfaction == 5
    assert evs[0].record.closed_at == clock.now
    assert "q1" not in core.inquiries
    assert agent.held == 0 and agent.idle_since == clock.now
    core.check_invariants()


def test_resolve_without_reply_counts_as_the_first_response(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    clock.advance(20)
    record = core.resolve("a1", "q1", None)
    assert record.first_response_at == clock.now and record.state == "resolved"


def test_release_requeues_and_keeps_the_customers_arrival_time(clock):
    core = make_core(clock)
    a1 = add_agent(core, "a1")
    add_agent(core, "a2")
    submit(core, "q1")
    arrived = clock.now
    clock.advance(10)
    core.grab("a1", "q1", "g1")
    core.drain()
    clock.advance(50)
    core.release("a1", "q1")
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.released", "agent.load"]
    assert evs[0].actor == "a1"
    inq = core.inquiries["q1"]
    assert (inq.state, inq.owner, inq.taken_at) == ("queued", None, None)
    assert inq.arrived_at == arrived and inq.queued_at == clock.now
    assert a1.held == 0
    # the former owner no longer acts on it; anyone eligible may take it
    assert refusal(core.respond, "a1", "q1").code == ErrorCode.FORBIDDEN
    assert core.grab("a2", "q1", "g2").outcome == "won"
    # the SLA clock kept running from the customer's arrival, not from the release
    clock.now = arrived + 600
    core.tick()
    assert "first_response.breach" in core.inquiries["q1"].sla
    core.check_invariants()


def test_transfer_moves_ownership_and_both_agents_counts(clock):
    core = make_core(clock)
    a1 = add_agent(core, "a1")
    a2 = add_agent(core, "a2")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.drain()
    core.transfer("a1", "q1", "a2")
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.transferred", "agent.load", "agent.load"]
    assert {e.record.id for e in evs[1:]} == {"a1", "a2"}
    inq = core.inquiries["q1"]
    assert (inq.owner, inq.taken_by, a1.held, a2.held) == ("a2", "transfer", 0, 1)
    # a transfer does not use the receiver's daily quota
    assert a2.grabs_today == 0
    core.check_invariants()


def test_transfer_refusals_name_the_rule(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    add_agent(core, "en_only", languages=("en",))
    add_agent(core, "off", online=False)
    full = add_agent(core, "full", quotas=Quotas(concurrent_cap=1))
    add_agent(core, "a9")
    submit(core, "q0")
    core.grab("full", "q0", "gf")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.drain()

    r = refusal(core.transfer, "a1", "q1", "en_only")
    assert r.code == ErrorCode.NOT_ELIGIBLE and r.detail["rule"] == "language"
    assert refusal(core.transfer, "a1", "q1", "off").code == ErrorCode.NOT_ELIGIBLE
    assert full.held == 1
    assert refusal(core.transfer, "a1", "q1", "full").code == ErrorCode.QUOTA_CONCURRENT
    assert refusal(core.transfer, "a1", "q1", "nobody").code == ErrorCode.NOT_FOUND
    assert refusal(core.transfer, "a9", "q1", "a9").code == ErrorCode.FORBIDDEN
    assert refusal(core.transfer, "a1", "q1", "a1").code == ErrorCode.INVALID_STATE
    # refused: nothing changed and nothing was published
    assert core.inquiries["q1"].owner == "a1" and kinds(core) == []


def test_supervisor_reassigns_to_an_agent_and_back_to_the_pool(clock):
    core = make_core(clock)
    a1 = add_agent(core, "a1")
    a2 = add_agent(core, "a2")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.drain()

    clock.advance(3)
    core.reassign("q1", "a2", "boss", "a1 is overloaded")
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.reassigned", "agent.load", "agent.load"]
    assert (evs[0].actor, evs[0].reason) == ("boss", "a1 is overloaded")
    inq = core.inquiries["q1"]
    assert (inq.owner, inq.taken_by, inq.taken_at, a1.held, a2.held) == ("a2", "reassign", clock.now, 0, 1)

    core.reassign("q1", None, "boss", "back to the pool")
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.reassigned", "agent.load"]
    assert (inq.state, inq.owner, a2.held) == ("queued", None, 0)
    r = refusal(core.reassign, "q1", None, "boss", "")
    assert r.code == ErrorCode.INVALID_STATE

    # a queued inquiry can be pushed straight to an agent
    core.reassign("q1", "a1", "boss", "")
    assert (inq.owner, inq.state, a1.held) == ("a1", "held", 1)
    assert refusal(core.reassign, "nope", "a1", "boss", "").code == ErrorCode.NOT_FOUND
    core.check_invariants()


def test_silent_owner_loses_the_inquiry_after_silent_reclaim_s(clock):
    sla = SlaPolicy(silent_reclaim_s=90.0)
    core = make_core(clock, shops=[ShopRecord(id="s1", sla=sla)])
    agent = add_agent(core, "a1")
    submit(core, "q1")
    arrived = clock.now
    clock.advance(5)
    core.grab("a1", "q1", "g1")
    core.drain()

    clock.advance(sla.silent_reclaim_s - 0.5)
    core.tick()
    assert core.inquiries["q1"].owner == "a1"
    assert "inquiry.reclaimed" not in kinds(core)

    clock.advance(0.5)
    core.tick()
    evs = events(core)
    assert [e.kind for e in evs if e.kind.startswith(("inquiry.", "alert."))] == \
        ["inquiry.reclaimed", "alert.silent_grab"]
    alert = next(e.record for e in evs if e.kind == "alert.silent_grab")
    assert isinstance(alert, Alert) and (alert.inquiry, alert.agent) == ("q1", "a1")
    inq = core.inquiries["q1"]
    assert (inq.state, inq.owner, inq.arrived_at) == ("queued", None, arrived)
    assert agent.held == 0 and agent.reclaims_today == 1
    core.check_invariants()


def test_responding_in_time_keeps_the_inquiry(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    clock.advance(10)
    core.respond("a1", "q1")
    clock.advance(core.config.default_sla.silent_reclaim_s * 3)
    core.tick()
    assert core.inquiries["q1"].owner == "a1"
    assert "inquiry.reclaimed" not in kinds(core)


def test_abandon_closes_queued_and_held_inquiries(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1")
    submit(core, "q1")
    submit(core, "q2")
    core.grab("a1", "q2", "g2")
    core.drain()

    core.abandon("q1", "gateway")
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.abandoned"]
    assert evs[0].removed and evs[0].record.state == "abandoned" and evs[0].actor == "gateway"

    core.abandon("q2", "gateway")
    assert kinds(core) == ["inquiry.abandoned", "agent.load"]
    assert agent.held == 0 and core.inquiries == {}
    assert refusal(core.abandon, "q2").code == ErrorCode.INVALID_STATE
    assert refusal(core.abandon, "never").code == ErrorCode.NOT_FOUND
    # a late grab of the held-then-abandoned inquiry learns who had it
    late = core.grab("a1", "q2", "g-late")
    assert (late.outcome, late.code, late.winner) == ("lost", ErrorCode.ALREADY_TAKEN, "a1")
    core.check_invariants()


def test_duplicate_and_unknown_shop_submissions_are_refused(clock):
    core = make_core(clock)
    submit(core, "q1")
    assert refusal(submit, core, "q1").code == ErrorCode.BAD_REQUEST
    assert refusal(submit, core, "q2", shop="nowhere").code == ErrorCode.NOT_FOUND
    core.abandon("q1")
    # a closed id stays taken: a gateway retry cannot resurrect it
    assert refusal(submit, core, "q1").code == ErrorCode.BAD_REQUEST


def test_events_are_numbered_consecutively_and_carry_the_record_as_it_was(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    core.drain()
    start = core.seq
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.release("a1", "q1")
    changes = core.drain()
    seqs = [e.seq for e in changes.events]
    assert seqs == list(range(start + 1, start + 1 + len(seqs)))
    assert changes.seq == core.seq == seqs[-1]
    assert changes.stream_last["inquiry"] == max(e.seq for e in changes.events if e.stream == "inquiry")
    grabbed = next(_event.decode(e.raw) for e in changes.events if e.kind == "inquiry.grabbed")
    assert grabbed.record.owner == "a1"  # even though it has been released since


# --------------------------------------------------------------------------- grab refusals

@pytest.mark.parametrize("rule, spec, inquiry", [
    ("skill", dict(skills={"after_sales": 3}), {}),
    ("language", dict(languages=("en",)), {}),
    ("channel", dict(channels=["phone"]), dict(channel="chat")),
    ("shop", dict(shops=["s2"]), {}),
])
def test_grab_refused_not_eligible_names_the_rule(clock, rule, spec, inquiry):
    core = make_core(clock, shops=("s1", "s2"))
    add_agent(core, "a1", **spec)
    inq = submit(core, "q1", **inquiry)
    assert rules.ineligible_rule(core.agents["a1"], inq) == rule
    facts = core.grab("a1", "q1", "g1")
    assert (facts.outcome, facts.code) == ("refused", ErrorCode.NOT_ELIGIBLE)
    assert facts.reason == rules.explain_rule(rule, "a1", inq)
    assert core.inquiries["q1"].state == "queued"


@pytest.mark.parametrize("status", ["away", "break", "offline"])
def test_grab_refused_unless_online(clock, status):
    core = make_core(clock)
    add_agent(core, "a1")
    core.set_status("a1", status, "a1")
    submit(core, "q1")
    facts = core.grab("a1", "q1", "g1")
    assert (facts.outcome, facts.code) == ("refused", ErrorCode.NOT_ELIGIBLE)
    assert status in facts.reason
    core.set_status("a1", "online", "a1")
    assert core.grab("a1", "q1", "g2").outcome == "won"


def test_unknown_agent_or_inquiry_is_refused_not_found(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    assert core.grab("ghost", "q1", "g").code == ErrorCode.NOT_FOUND
    assert core.grab("a1", "nope", "g").code == ErrorCode.NOT_FOUND
    assert core.inquiries["q1"].state == "queued"


def test_low_tier_sees_new_inquiries_after_its_visibility_delay(clock):
    core = make_core(clock)
    bronze_rule = next(t for t in rules.DEFAULT_TIERS if t.visibility_delay_s > 0)
    low = add_agent(core, "low", quality=bronze_rule.min_score)
    assert low.tier == bronze_rule.name and low.visibility_delay_s == bronze_rule.visibility_delay_s
    submit(core, "q1")
    clock.advance(bronze_rule.visibility_delay_s - 0.1)
    early = core.grab("low", "q1", "g1")
    assert (early.outcome, early.code) == ("refused", ErrorCode.NOT_ELIGIBLE)
    clock.advance(0.1)
    assert core.grab("low", "q1", "g2").outcome == "won"


def test_visibility_delay_counts_from_requeue(clock):
    core = make_core(clock)
    add_agent(core, "top")
    low = add_agent(core, "low", quality=65.0)
    assert low.visibility_delay_s > 0
    submit(core, "q1")
    core.grab("top", "q1", "g1")
    clock.advance(600)
    core.release("top", "q1")
    assert core.grab("low", "q1", "g2").code == ErrorCode.NOT_ELIGIBLE
    clock.advance(low.visibility_delay_s)
    assert core.grab("low", "q1", "g3").outcome == "won"


def test_quota_concurrent(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1", quotas=Quotas(concurrent_cap=2))
    for q in ("q1", "q2", "q3"):
        submit(core, q)
    assert core.grab("a1", "q1", "g1").outcome == "won"
    assert core.grab("a1", "q2", "g2").outcome == "won"
    third = core.grab("a1", "q3", "g3")
    assert (third.outcome, third.code) == ("refused", ErrorCode.QUOTA_CONCURRENT)
    assert agent.held == 2 and core.inquiries["q3"].state == "queued"
    core.resolve("a1", "q1", None)
    assert core.grab("a1", "q3", "g4").outcome == "won"


def test_quota_daily(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1", quotas=Quotas(daily_grabs=3))
    grab_until_taken(core, clock, "a1", 3)
    submit(core, "q")
    facts = core.grab("a1", "q", "g")
    assert (facts.outcome, facts.code) == ("refused", ErrorCode.QUOTA_DAILY)
    assert agent.grabs_today == 3 and agent.held == 0


def test_quota_hours_forced_break_and_its_end(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1", quotas=Quotas(continuous_hours=1.0, break_minutes=20.0))
    submit(core, "held")
    assert core.grab("a1", "held", "g0").outcome == "won"
    core.respond("a1", "held")
    submit(core, "q1")
    core.drain()

    clock.advance(3600 - 1)
    assert core.grab("a1", "q1", "g1").outcome == "won"
    core.release("a1", "q1")
    clock.advance(1)
    # the limit is enforced at once, even before the sweep puts the agent on a break
    assert core.grab("a1", "q1", "g2").code == ErrorCode.QUOTA_HOURS
    core.drain()
    core.tick()
    evs = [e for e in events(core) if e.kind == "agent.status"]
    assert len(evs) == 1 and evs[0].record.status == "break" and evs[0].record.forced_break
    assert agent.status == "break" and agent.forced_break
    assert agent.break_until == clock.now + 20 * 60
    assert core.grab("a1", "q1", "g3").code == ErrorCode.QUOTA_HOURS
    # the agent cannot cut the break short...
    assert refusal(core.set_status, "a1", "online", "a1").code == ErrorCode.QUOTA_HOURS
    # ...but keeps finishing what it holds
    core.resolve("a1", "held", 4)
    assert agent.held == 0

    clock.advance(20 * 60 - 1)
    core.tick()
    assert agent.status == "break"
    clock.advance(1)
    core.drain()
    core.tick()
    assert [e.record.status for e in events(core) if e.kind == "agent.status"] == ["online"]
    assert agent.status == "online" and not agent.forced_break
    assert core.grab("a1", "q1", "g4").outcome == "won"


def test_short_absence_does_not_reset_continuous_service_but_a_rest_does(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1", quotas=Quotas(continuous_hours=1.0, break_minutes=15.0))
    started = agent.service_since
    clock.advance(1800)
    core.set_status("a1", "away", "a1")
    clock.advance(60)
    core.set_status("a1", "online", "a1")
    assert agent.service_since == started
    core.set_status("a1", "away", "a1")
    clock.advance(15 * 60)
    core.set_status("a1", "online", "a1")
    assert agent.service_since == clock.now


# --------------------------------------------------------------------------- idempotency, losers

def test_retried_grab_gets_the_same_verdict_even_after_state_changed(clock):
    core = make_core(clock)
    winner = add_agent(core, "a1")
    add_agent(core, "a2", quotas=Quotas(concurrent_cap=1))
    submit(core, "q1")
    submit(core, "q0")
    core.grab("a2", "q0", "g-full")
    core.drain()

    won = core.grab("a1", "q1", "g1")
    lost = core.grab("a2", "q1", "g2")
    assert won.outcome == "won" and lost.outcome == "lost"
    core.resolve("a1", "q1", None)
    core.resolve("a2", "q0", None)
    core.drain()
    grabs_today = winner.grabs_today

    clock.advance(100)
    assert core.grab("a1", "q1", "g1") == won
    assert core.grab("a2", "q1", "g2") == lost
    # a retry is not a new attempt: no double counting, nothing to persist
    changes = core.drain()
    assert changes.grabs == [] and changes.events == []
    assert winner.grabs_today == grabs_today

    # a refusal is remembered too: raising the quota does not turn the retry into a win
    submit(core, "q2")
    core.set_quotas(Quotas(concurrent_cap=0), "boss", "", agent_id="a1")
    refused = core.grab("a1", "q2", "g3")
    assert refused.code == ErrorCode.QUOTA_CONCURRENT
    core.set_quotas(Quotas(concurrent_cap=5), "boss", "", agent_id="a1")
    assert core.grab("a1", "q2", "g3") == refused
    # a fresh grab id is a fresh decision
    assert core.grab("a1", "q2", "g4").outcome == "won"
    # a grab id names one attempt: re-using it for another inquiry is a client bug, refused
    submit(core, "q3")
    assert refusal(core.grab, "a1", "q3", "g4").code == ErrorCode.BAD_REQUEST
    assert core.inquiries["q3"].state == "queued"


def test_grab_ids_are_per_agent(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    add_agent(core, "a2")
    submit(core, "q1")
    assert core.grab("a1", "q1", "same").outcome == "won"
    other = core.grab("a2", "q1", "same")
    assert (other.outcome, other.winner) == ("lost", "a1")


def test_losers_learn_who_won_and_when(clock):
    core = make_core(clock)
    for a in ("a1", "a2", "a3"):
        add_agent(core, a)
    submit(core, "q1")
    clock.advance(2)
    won = core.grab("a2", "q1", "g")
    clock.advance(0.01)
    for loser in ("a1", "a3"):
        facts = core.grab(loser, "q1", "g")
        assert (facts.outcome, facts.code, facts.winner, facts.won_at) == \
            ("lost", ErrorCode.ALREADY_TAKEN, "a2", won.won_at)
        assert "a2" in facts.reason
    core.resolve("a2", "q1", None)
    late = core.grab("a1", "q1", "g-late")
    assert (late.outcome, late.winner, late.won_at) == ("lost", "a2", won.won_at)
    # the losing attempts are recorded with their outcome
    assert core.agents["a1"].held == 0 and core.agents["a3"].grabs_today == 0


# --------------------------------------------------------------------------- modes

def _assign_floor(clock, mode="assign", **shop):
    core = make_core(clock, shops=[ShopRecord(id="s1", mode=mode, **shop), ShopRecord(id="prep")])
    return core


def test_pure_assign_weighs_load_before_proficiency(clock):
    """The assist (broker/arbiter/assist.py): among free agents the most proficient wins;
    an expert already busy and recently loaded loses to an idle novice."""
    core = _assign_floor(clock)
    add_agent(core, "novice", skills={"pre_sales": 2})
    add_agent(core, "expert_busy", skills={"pre_sales": 5})
    add_agent(core, "expert_less_busy", skills={"pre_sales": 5})
    assert submit(core, "q0").owner in ("expert_busy", "expert_less_busy")  # all idle: proficiency decides
    core.resolve(core.inquiries["q0"].owner, "q0", None)
    # load the experts through a grab-mode shop: 2 and 1 held
    for i, who in enumerate(["expert_busy", "expert_busy", "expert_less_busy"]):
        submit(core, f"p{i}", shop="prep")
        assert core.grab(who, f"p{i}", f"gp{i}").outcome == "won"
    core.drain()

    inq = submit(core, "q1")
    assert [e.kind for e in events(core)] == ["inquiry.queued", "inquiry.assigned", "agent.load"]
    assert (inq.state, inq.owner, inq.taken_by) == ("held", "novice", "assign")
    assert core.agents["novice"].grabs_today == 1  # assignment uses the daily quota
    assert core.recent_load("novice", clock.now) == 1.0
    core.check_invariants()


def test_assign_offers_the_most_urgent_waiting_inquiry_first(clock):
    core = _assign_floor(clock)
    add_agent(core, "a1", online=False, quotas=Quotas(concurrent_cap=1))
    plain = submit(core, "plain")
    clock.advance(10)
    urgent = submit(core, "urgent", priority=2)
    clock.advance(10)
    core.set_status("a1", "online", "a1")
    core.tick()
    assert (urgent.owner, plain.state) == ("a1", "queued")  # priority first, though it came later
    core.resolve("a1", "urgent", None)
    core.tick()
    assert plain.owner == "a1"


def test_pure_assign_breaks_ties_by_longest_idle(clock):
    core = _assign_floor(clock)
    add_agent(core, "late", online=False)
    add_agent(core, "early", online=False)
    core.set_status("early", "online", "early")
    clock.advance(30)
    core.set_status("late", "online", "late")
    assert submit(core, "q1").owner == "early"
    assert submit(core, "q2").owner == "late"  # now the least held


def test_grab_refused_in_assign_mode_and_pending_inquiry_assigned_when_someone_is_free(clock):
    core = _assign_floor(clock)
    add_agent(core, "a1", online=False)
    inq = submit(core, "q1")
    assert inq.state == "queued"  # nobody to assign it to: it waits, it is not lost
    core.set_status("a1", "online", "a1")
    facts = core.grab("a1", "q1", "g1")
    assert (facts.outcome, facts.code) == ("refused", ErrorCode.NOT_ELIGIBLE)
    core.drain()
    core.tick()
    assert (inq.state, inq.owner, inq.taken_by) == ("held", "a1", "assign")
    assert "inquiry.assigned" in kinds(core)


def test_assign_respects_quotas(clock):
    core = _assign_floor(clock)
    add_agent(core, "a1", quotas=Quotas(concurrent_cap=1))
    assert submit(core, "q1").owner == "a1"
    q2 = submit(core, "q2")
    assert q2.state == "queued"
    core.tick()
    assert q2.state == "queued"
    core.resolve("a1", "q1", None)
    core.tick()
    assert q2.owner == "a1"


def test_hybrid_assigns_after_hybrid_after_s(clock):
    core = _assign_floor(clock, mode="hybrid", hybrid_after_s=30.0)
    add_agent(core, "a1", skills={"pre_sales": 2})
    add_agent(core, "a2", skills={"pre_sales": 4})
    inq = submit(core, "q1")
    grabbable = submit(core, "q2")
    assert core.grab("a1", "q2", "g").outcome == "won"  # grabbing works before T
    assert grabbable.owner == "a1"
    clock.advance(29.9)
    core.tick()
    assert inq.state == "queued"
    clock.advance(0.1)
    core.drain()
    core.tick()
    assert (inq.state, inq.owner, inq.taken_by) == ("held", "a2", "assign")
    assert "inquiry.assigned" in kinds(core)


def test_hybrid_delay_shrinks_as_the_pool_grows_and_the_deadline_nears(clock):
    core = _assign_floor(clock, mode="hybrid", hybrid_after_s=40.0)
    add_agent(core, "a1", quotas=Quotas(concurrent_cap=50))
    for i in range(10):
        submit(core, f"w{i}", skill="after_sales")  # another skill's pool: no effect
    alone = submit(core, "alone")
    for i in range(9):
        submit(core, f"p{i}")
    crowded = submit(core, "crowded")  # ten waiting before it: half the delay
    late = submit(core, "late", arrived_at=clock.now - 590.0)  # 10 s left to its first-response SLA
    clock.advance(2.5)  # a quarter of the time left
    core.tick()
    assert late.owner == "a1"
    clock.advance(17.5)
    core.tick()
    assert crowded.owner == "a1" and alone.state == "queued"
    clock.advance(20.0)
    core.tick()
    assert alone.owner == "a1"


def test_hybrid_timer_restarts_when_released(clock):
    core = _assign_floor(clock, mode="hybrid", hybrid_after_s=30.0)
    add_agent(core, "a1")
    add_agent(core, "a2", online=False)
    inq = submit(core, "q1")
    clock.advance(10)
    core.grab("a1", "q1", "g1")
    core.set_status("a1", "away", "a1")  # a1 may not be assigned it back
    core.set_status("a2", "online", "a2")
    clock.advance(10)
    core.release("a1", "q1")
    clock.advance(25)  # 45 s after arrival, 25 s after the release
    core.tick()
    assert inq.state == "queued"
    clock.advance(5)
    core.tick()
    assert inq.owner == "a2"


def test_switching_a_shop_back_to_grab_stops_pending_assignment(clock):
    core = _assign_floor(clock, mode="assign")
    add_agent(core, "a1", online=False)
    inq = submit(core, "q1")  # waits for an agent to assign it to
    core.set_mode("s1", "grab", None, "boss", "back to grabbing")
    core.set_status("a1", "online", "a1")
    clock.advance(1)
    core.tick()
    assert inq.state == "queued", "a pure-grab shop must not auto-assign"
    assert core.grab("a1", "q1", "g1").outcome == "won"


def test_switching_assign_to_hybrid_gives_agents_their_t_seconds_to_grab(clock):
    core = _assign_floor(clock, mode="assign")
    add_agent(core, "a1", online=False)
    inq = submit(core, "q1")  # waits for an agent to assign it to
    core.set_mode("s1", "hybrid", 30.0, "boss", "let them grab first")
    core.set_status("a1", "online", "a1")
    clock.advance(1)
    core.tick()
    assert inq.state == "queued", "assigned before the hybrid delay"
    clock.advance(29)
    core.tick()
    assert inq.owner == "a1" and inq.taken_by == "assign"


def test_set_mode_to_hybrid_arms_the_timer_for_waiting_inquiries(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    inq = submit(core, "q1")
    clock.advance(100)
    core.drain()
    core.set_mode("s1", "hybrid", 30.0, "boss", "evening")
    assert kinds(core) == ["config.shop"]
    core.tick()  # already waited longer than T: assigned on the next tick
    assert inq.owner == "a1"
    with pytest.raises(Refusal):
        core.set_mode("s1", "hybrid", 0.0, "boss", "")
    assert refusal(core.set_mode, "nowhere", "grab", None, "boss", "").code == ErrorCode.NOT_FOUND


# --------------------------------------------------------------------------- tiers, quotas, fairness

def test_tiers_come_from_configuration(clock):
    tiers = [TierRule(name="star", min_score=70.0),
             TierRule(name="learner", min_score=0.0, visibility_delay_s=7.0, cap=1)]
    core = make_core(clock, tiers=tiers, default_quotas=Quotas(concurrent_cap=4, daily_grabs=50,
                                                               continuous_hours=8, break_minutes=30))
    agent = add_agent(core, "a1", quality=40.0)
    assert (agent.tier, agent.effective.concurrent_cap, agent.visibility_delay_s) == ("learner", 1, 7.0)
    submit(core, "q1")
    submit(core, "q2")
    assert core.grab("a1", "q1", "g1").code == ErrorCode.NOT_ELIGIBLE
    clock.advance(7)
    assert core.grab("a1", "q1", "g2").outcome == "won"
    assert core.grab("a1", "q2", "g3").code == ErrorCode.QUOTA_CONCURRENT  # the tier's cap

    core.drain()
    core.set_quality("a1", 85.0, "boss", "good month")
    evs = events(core)
    assert [e.kind for e in evs] == ["agent.quality"] and evs[0].reason == "good month"
    assert (agent.tier, agent.effective.concurrent_cap, agent.visibility_delay_s) == ("star", 4, 0.0)
    assert core.grab("a1", "q2", "g4").outcome == "won"
    assert refusal(core.set_quality, "a1", 101.0, "boss", "").code == ErrorCode.BAD_REQUEST


def test_quota_layers_agent_over_group_over_default(clock):
    core = make_core(clock)
    core.define_group(GroupRecord(id="night", quotas=Quotas(concurrent_cap=3, daily_grabs=40)))
    agent = add_agent(core, "a1", group="night", quotas=Quotas(daily_grabs=10))
    eff = agent.effective
    assert (eff.concurrent_cap, eff.daily_grabs) == (3, 10)
    assert eff.continuous_hours == rules.DEFAULT_QUOTAS.continuous_hours
    core.drain()

    core.set_quotas(Quotas(concurrent_cap=2), "boss", "thin night", group_id="night")
    evs = events(core)
    assert [e.kind for e in evs] == ["config.group", "agent.updated"]
    assert evs[0].reason == "thin night"
    assert agent.effective.concurrent_cap == 2
    # a change names only what it changes
    assert core.groups["night"].quotas.daily_grabs == 40

    core.set_quotas(Quotas(concurrent_cap=4), "boss", "trusted", agent_id="a1")
    assert kinds(core) == ["agent.quotas"]
    assert (agent.effective.concurrent_cap, agent.effective.daily_grabs) == (4, 10)

    assert refusal(core.set_quotas, Quotas(concurrent_cap=-2), "boss", "", agent_id="a1").code \
        == ErrorCode.BAD_REQUEST
    assert refusal(core.set_quotas, Quotas(continuous_hours=30), "boss", "", agent_id="a1").code \
        == ErrorCode.BAD_REQUEST
    # -1 clears an override: the group's value applies again
    core.set_quotas(Quotas(concurrent_cap=CLEAR_OVERRIDE), "boss", "", agent_id="a1")
    assert agent.quotas.concurrent_cap is None and agent.effective.concurrent_cap == 2
    assert refusal(core.set_quotas, Quotas(daily_grabs=1), "boss", "").code == ErrorCode.BAD_REQUEST
    assert refusal(core.set_quotas, Quotas(daily_grabs=1), "boss", "", agent_id="x").code \
        == ErrorCode.NOT_FOUND
    assert refusal(core.set_quotas, Quotas(daily_grabs=1), "boss", "", group_id="x").code \
        == ErrorCode.NOT_FOUND


def test_lowering_the_cap_below_held_blocks_grabs_until_below(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1")
    for q in ("q1", "q2", "q3", "q4"):
        submit(core, q)
    for q in ("q1", "q2", "q3"):
        core.grab("a1", q, f"g{q}")
    core.set_quotas(Quotas(concurrent_cap=1), "boss", "", agent_id="a1")
    assert agent.held == 3  # nobody loses what they hold
    core.resolve("a1", "q1", None)
    assert core.grab("a1", "q4", "x1").code == ErrorCode.QUOTA_CONCURRENT
    core.resolve("a1", "q2", None)
    assert core.grab("a1", "q4", "x2").code == ErrorCode.QUOTA_CONCURRENT
    core.resolve("a1", "q3", None)
    assert core.grab("a1", "q4", "x3").outcome == "won"


def test_fair_share_delays_agents_far_above_their_share(clock):
    rule = FairShare(enabled=True, factor=1.5, delay_s=5.0, min_mean_grabs=3.0)
    core = make_core(clock)
    core.define_group(GroupRecord(id="g", fair_share=rule))
    for a in ("hog", "b", "c", "d"):
        add_agent(core, a, group="g")
    grab_until_taken(core, clock, "hog", 10, prefix="h")
    for a in ("b", "c", "d"):
        grab_until_taken(core, clock, a, 1, prefix=a)
    mean = (10 + 1 + 1 + 1) / 4
    assert mean >= rule.min_mean_grabs and 10 > rule.factor * mean

    clock.advance(1)
    core.drain()
    core.tick()
    hog = core.agents["hog"]
    assert hog.visibility_delay_s == rule.delay_s
    assert core.agents["b"].visibility_delay_s == 0.0
    assert any(e.kind == "agent.updated" and e.record.id == "hog" for e in events(core))

    submit(core, "fresh")
    assert core.grab("hog", "fresh", "gh1").code == ErrorCode.NOT_ELIGIBLE
    clock.advance(rule.delay_s)
    assert core.grab("hog", "fresh", "gh2").outcome == "won"


def test_fair_share_off_means_no_delay(clock):
    core = make_core(clock)
    core.define_group(GroupRecord(id="g"))
    for a in ("hog", "b"):
        add_agent(core, a, group="g")
    grab_until_taken(core, clock, "hog", 10)
    clock.advance(1)
    core.tick()
    assert core.agents["hog"].visibility_delay_s == 0.0


# --------------------------------------------------------------------------- SLA

def test_sla_warns_at_80_percent_then_breaches(clock):
    core = make_core(clock)
    sla = core.shops["s1"].sla
    add_agent(core, "a1")
    submit(core, "q1")
    t0 = clock.now
    core.drain()

    clock.now = t0 + sla.first_response_s * sla.warn_pct / 100 - 0.01
    core.tick()
    assert [e for e in events(core) if e.kind.startswith(("inquiry.sla", "alert."))] == []

    clock.now = t0 + sla.first_response_s * sla.warn_pct / 100
    core.tick()
    evs = events(core)
    assert [e.kind for e in evs if e.kind.startswith(("inquiry.", "alert."))] == \
        ["inquiry.sla", "alert.sla.warn"]
    assert evs[0].reason == "first_response.warn"
    alert = next(e.record for e in evs if e.kind == "alert.sla.warn")
    assert (alert.severity, alert.inquiry, alert.skill) == ("warning", "q1", "pre_sales")

    clock.now = t0 + sla.first_response_s
    core.tick()
    evs = events(core)
    assert [e.kind for e in evs if e.kind.startswith(("inquiry.", "alert."))] == \
        ["inquiry.sla", "alert.sla.breach"]
    assert next(e.record for e in evs if e.kind == "alert.sla.breach").severity == "critical"
    assert core.inquiries["q1"].sla == ("first_response.warn", "first_response.breach")

    core.grab("a1", "q1", "g1")
    core.respond("a1", "q1")
    clock.now = t0 + sla.resolution_s
    core.tick()
    assert core.inquiries["q1"].sla[2:] == ("resolution.warn", "resolution.breach")
    alerts = [e.record for e in events(core) if e.kind.startswith("alert.sla")]
    assert [a.kind for a in alerts] == ["sla.warn", "sla.breach"]
    assert all(a.agent == "a1" for a in alerts)  # the holder is named


def test_sla_met_raises_nothing_and_per_skill_policy_applies(clock):
    fast = SlaPolicy(first_response_s=60.0, resolution_s=120.0)
    core = make_core(clock, shops=[ShopRecord(id="s1", sla_by_skill={"complaint": fast})])
    add_agent(core, "a1", skills={"pre_sales": 3, "complaint": 3})
    submit(core, "normal")
    submit(core, "urgent", skill="complaint")
    core.grab("a1", "normal", "g1")
    core.respond("a1", "normal")
    core.resolve("a1", "normal", None)
    clock.advance(fast.first_response_s)
    core.tick()
    assert core.inquiries["urgent"].sla == ("first_response.warn", "first_response.breach")
    clock.advance(10_000)
    core.tick()
    about_normal = [e.kind for e in events(core) if e.kind.startswith(("inquiry.sla", "alert.sla"))
                    and "normal" in (e.record.id, getattr(e.record, "inquiry", None))]
    assert about_normal == [], "an inquiry resolved in time raised SLA alerts"


def test_a_transfer_does_not_forget_the_customer_was_answered(clock):
    core = make_core(clock)
    sla = core.shops["s1"].sla
    add_agent(core, "a1")
    add_agent(core, "a2")
    submit(core, "q1")
    t0 = clock.now
    core.grab("a1", "q1", "g1")
    clock.advance(60)
    core.respond("a1", "q1")
    answered = clock.now
    clock.advance(10)
    core.transfer("a1", "q1", "a2")
    core.respond("a2", "q1")
    clock.now = t0 + sla.first_response_s
    core.tick()
    inq = core.inquiries["q1"]
    assert inq.first_response_at == answered, "the customer's first response time must survive a transfer"
    assert "first_response.breach" not in inq.sla


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -600.0])
def test_a_bad_sla_value_in_one_shop_cannot_stop_every_timer(clock, bad):
    core = make_core(clock, shops=("s1",))
    add_agent(core, "a1")
    try:
        core.define_shop(ShopRecord(id="broken", sla=SlaPolicy(warn_pct=bad, first_response_s=bad)))
    except Refusal as refused:  # refusing the definition is one fix
        assert refused.code == ErrorCode.BAD_REQUEST
    else:
        submit(core, "odd", shop="broken")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    clock.advance(core.shops["s1"].sla.resolution_s + 1)
    core.tick()
    inq = core.inquiries["q1"]
    assert inq.state == "queued", "the silent owner kept it: the reclaim timer never ran"
    assert "first_response.breach" in inq.sla


@pytest.mark.parametrize("arrived_at", [float("nan"), float("inf"), float("-inf")])
def test_an_intake_arrival_time_cannot_stop_the_timers(clock, arrived_at):
    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    try:
        submit(core, "odd", arrived_at=arrived_at)
    except Refusal as refused:  # refusing it is one fix
        assert refused.code == ErrorCode.BAD_REQUEST
    submit(core, "q2")
    clock.advance(core.shops["s1"].sla.resolution_s + 1)
    core.tick()
    assert core.inquiries["q1"].state == "queued", "the silent owner kept it: the reclaim timer never ran"
    assert "resolution.breach" in core.inquiries["q2"].sla


def test_agent_quotas_from_a_definition_are_validated(clock):
    core = make_core(clock)
    try:
        add_agent(core, "a1", quotas=Quotas(continuous_hours=0.01, break_minutes=1e300))
    except Refusal as refused:  # refusing the definition is one fix
        assert refused.code == ErrorCode.BAD_REQUEST
        return
    submit(core, "q1")
    clock.advance(3600)
    core.tick()
    facts = core.grab("a1", "q1", "g1")  # must be a verdict, not an exception
    assert facts.code == ErrorCode.QUOTA_HOURS


def test_a_new_owner_who_stays_silent_still_loses_it(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    a2 = add_agent(core, "a2")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.respond("a1", "q1")
    answered = core.inquiries["q1"].first_response_at
    clock.advance(30)
    core.transfer("a1", "q1", "a2")
    clock.advance(core.shops["s1"].sla.silent_reclaim_s)
    core.tick()
    inq = core.inquiries["q1"]
    assert (inq.state, inq.owner, a2.reclaims_today) == ("queued", None, 1)
    assert inq.first_response_at == answered
    # the same day goes on: a2's next grab does not wipe today's counts
    submit(core, "q2")
    assert core.grab("a2", "q2", "g2").outcome == "won"
    assert (a2.reclaims_today, a2.grabs_today) == (1, 1)


# --------------------------------------------------------------------------- agents' clocks

def _next_midnight(now: float, tz: str) -> float:
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(tz)).timestamp()


@pytest.mark.parametrize("tz, other", [("Asia/Shanghai", "UTC"), ("America/Los_Angeles", "Asia/Shanghai")])
def test_grabs_today_rolls_over_at_midnight_in_the_configured_tz(clock, tz, other):
    core = make_core(clock, day_tz=tz)
    # continuous service may not end the day first: midnight can be almost 24 h away
    agent = add_agent(core, "a1", quotas=Quotas(daily_grabs=1, continuous_hours=24))
    grab_until_taken(core, clock, "a1", 1)
    submit(core, "q")
    assert core.grab("a1", "q", "g0").code == ErrorCode.QUOTA_DAILY

    midnight = _next_midnight(clock.now, tz)
    other_midnight = _next_midnight(clock.now, other)
    if other_midnight < midnight:  # another zone's midnight is not ours
        clock.now = other_midnight + 1
        assert core.grab("a1", "q", "g1").code == ErrorCode.QUOTA_DAILY
    clock.now = midnight - 0.001
    assert core.grab("a1", "q", "g2").code == ErrorCode.QUOTA_DAILY
    clock.now = midnight
    core.drain()
    core.tick()
    assert agent.grabs_today == 0
    assert any(e.kind == "agent.load" and e.record.grabs_today == 0 for e in events(core))
    assert core.grab("a1", "q", "g3").outcome == "won"
    assert agent.grabs_today == 1


def test_midnight_reset_of_quota_use_is_always_published(clock):
    """The first tick after midnight may scan agents for a hybrid assignment before the
    sweep rolls their day; whatever resets grabs_today must tell the clients."""
    core = make_core(clock, shops=[ShopRecord(id="s1", mode="hybrid", hybrid_after_s=10.0)])
    mirror = Mirror()
    mirror._upsert(msgspec.msgpack.decode(msgspec.msgpack.encode(core.shops["s1"]), type=ShopRecord))
    long_day = Quotas(continuous_hours=24)
    add_agent(core, "a1", skills={"pre_sales": 2}, quotas=long_day)
    add_agent(core, "a2", skills={"pre_sales": 5}, quotas=long_day)
    grab_until_taken(core, clock, "a1", 2)
    midnight = _next_midnight(clock.now, "Asia/Shanghai")
    clock.now = midnight - 5
    core.tick()
    submit(core, "late")
    mirror.apply(events(core))
    assert mirror.agents["a1"].grabs_today == 2

    clock.now = midnight + 5.1  # the hybrid timer and the new day in the same tick
    core.tick()
    mirror.apply(events(core))
    assert core.inquiries["late"].owner == "a2"
    assert core.agents["a1"].grabs_today == 0
    assert mirror.agents["a1"].grabs_today == 0, "a1's quota use was reset without an event"


def test_silent_agent_goes_offline_and_its_inquiries_return_after_the_grace(clock):
    core = make_core(clock, agent_timeout_s=15.0, offline_grace_s=120.0)
    agent = add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.respond("a1", "q1")
    core.seen("a1")
    core.drain()

    clock.advance(15.5)
    core.tick()
    assert agent.status == "offline"
    evs = events(core)
    assert [e.kind for e in evs if e.kind == "agent.status"] == ["agent.status"]
    assert core.inquiries["q1"].owner == "a1"  # kept during the grace

    clock.advance(119)  # 134.5 s after the agent was last heard from
    core.tick()
    assert core.inquiries["q1"].owner == "a1"
    clock.advance(1)
    core.tick()
    assert core.inquiries["q1"].state == "queued" and agent.held == 0
    assert "inquiry.released" in kinds(core)
    core.check_invariants()


def test_agent_set_offline_by_a_supervisor_does_not_keep_inquiries_forever(clock):
    core = make_core(clock, agent_timeout_s=15.0, offline_grace_s=120.0)
    agent = add_agent(core, "a1")
    submit(core, "q1")
    core.reassign("q1", "a1", "boss", "")  # the agent never connected itself
    core.set_status("a1", "offline", "boss", "shift over")
    clock.advance(15.0 + 120.0 + 2)
    core.tick()
    clock.advance(2)
    core.tick()
    assert core.inquiries["q1"].state == "queued" and agent.held == 0


def test_status_changes_are_events_and_no_op_changes_are_not(clock):
    core = make_core(clock)
    add_agent(core, "a1", online=False)
    core.drain()
    for status in ("online", "away", "break", "offline"):
        core.set_status("a1", status, "boss", f"to {status}")
        evs = events(core)
        assert [(e.kind, e.record.status, e.actor) for e in evs] == [("agent.status", status, "boss")]
    core.set_status("a1", "offline", "boss")
    assert kinds(core) == []
    assert refusal(core.set_status, "ghost", "online", "boss").code == ErrorCode.NOT_FOUND


def test_definitions_and_audit_are_events(clock):
    core = make_core(clock)
    core.define_shop(ShopRecord(id="s2"), "root")
    core.define_group(GroupRecord(id="g1"), "root")
    add_agent(core, "a1", online=False)
    core.audit("boss", "supervisor", "reassign", "q1", "because", True)
    evs = events(core)
    assert [e.kind for e in evs] == ["config.shop", "config.group", "agent.defined", "audit.entry"]
    entry = evs[-1].record
    assert (entry.actor, entry.role, entry.kind, entry.subject, entry.reason, entry.ok, entry.seq) == \
        ("boss", "supervisor", "reassign", "q1", "because", True, evs[-1].seq)


def test_redefining_an_agent_keeps_its_live_state(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    core.define_agent(AgentSpec(id="a1", skills={"after_sales": 4}), "root")
    agent = core.agents["a1"]
    assert (agent.status, agent.held, agent.grabs_today) == ("online", 1, 1)
    submit(core, "q2", skill="after_sales")
    assert core.grab("a1", "q2", "g2").outcome == "won"
    core.check_invariants()


def test_load_rebuilds_timers_and_assignment(clock):
    """A restarted core (state from the store) keeps running SLA and reclaim timers."""
    core = make_core(clock, shops=[ShopRecord(id="s1"), ShopRecord(id="auto", mode="assign")])
    add_agent(core, "a1")
    submit(core, "q1")
    core.grab("a1", "q1", "g1")
    submit(core, "q2")
    core.set_status("a1", "away", "a1")
    submit(core, "q3", shop="auto")
    assert core.inquiries["q3"].state == "queued"

    fresh = Arbiter(CoreConfig(), clock=clock)
    copy = msgspec.msgpack.decode(msgspec.msgpack.encode(core.snapshot_records()),
                                  type=list[ShopRecord | GroupRecord | AgentRecord | InquiryRecord])
    shops = [r for r in copy if isinstance(r, ShopRecord)]
    agents = [r for r in copy if isinstance(r, AgentRecord)]
    inqs = [r for r in copy if isinstance(r, InquiryRecord)]
    fresh.load(shops, [], agents, inqs, core.seq, dict(core.stream_last))
    fresh.check_invariants()
    assert fresh.drain().events == []

    fresh.set_status("a1", "online", "a1")
    clock.advance(fresh.shops["s1"].sla.silent_reclaim_s)
    fresh.tick()
    assert fresh.inquiries["q1"].state == "queued"  # reclaimed: the timer survived the restart
    assert fresh.inquiries["q3"].owner == "a1"  # the pending assignment survived too
    clock.advance(fresh.shops["s1"].sla.first_response_s)
    fresh.tick()
    assert "first_response.breach" in fresh.inquiries["q2"].sla
    assert fresh.seq > core.seq


def test_mirror_fed_by_events_equals_the_core(clock):
    """Events carry whole records: replaying them rebuilds exactly the core's state."""
    core = make_core(clock, shops=[ShopRecord(id="s1"), ShopRecord(id="h", mode="hybrid", hybrid_after_s=5)])
    mirror = Mirror()
    for shop in core.shops.values():
        mirror._upsert(msgspec.msgpack.decode(msgspec.msgpack.encode(shop), type=ShopRecord))
    for a in ("a1", "a2", "a3"):
        add_agent(core, a)
    for i in range(6):
        submit(core, f"q{i}", shop="h" if i % 2 else "s1")
    core.grab("a1", "q0", "g0")
    core.grab("a2", "q0", "g1")
    core.transfer("a1", "q0", "a3")
    core.grab("a1", "q2", "g2")
    core.release("a1", "q2")
    clock.advance(6)
    core.tick()
    core.reassign("q4", "a2", "boss", "")
    core.abandon("q1")
    clock.advance(core.shops["s1"].sla.silent_reclaim_s)
    core.tick()
    mirror.apply(events(core))
    assert mirror.inquiries == core.inquiries
    assert mirror.agents == core.agents


def test_a_sliced_tick_spreads_a_burst_over_calls_and_ends_where_a_whole_one_does(clock):
    """The broker's loop ticks in slices, so a second's sweep of many agents or a burst of
    due timers never holds it; sliced or whole, the floor ends in the same state."""
    from broker.arbiter.core import SLICE_AGENTS, SLICE_TIMERS

    def floor():
        c = FakeClock(clock.now)
        core = make_core(c, agent_timeout_s=15.0)
        for i in range(3 * SLICE_AGENTS):
            add_agent(core, f"a{i}")
            core.seen(f"a{i}")
        for i in range(3 * SLICE_TIMERS):
            submit(core, f"q{i}")
        core.drain()
        c.advance(3600)  # every agent silent, every SLA timer due
        return core

    whole, sliced = floor(), floor()
    whole.tick()
    whole_kinds = sorted(e.kind for e in events(whole))
    sliced.tick(sliced=True)
    first = events(sliced)
    assert 0 < sum(e.kind == "agent.status" for e in first) <= SLICE_AGENTS
    assert sum(e.kind == "inquiry.sla" for e in first) <= SLICE_TIMERS
    assert sliced.next_timer_due() <= sliced.clock(), "work left must be asked for at once"
    calls = 1
    while sliced.next_timer_due() is not None and sliced.next_timer_due() <= sliced.clock():
        sliced.tick(sliced=True)
        first += events(sliced)
        calls += 1
    assert calls > 3
    assert sorted(e.kind for e in first) == whole_kinds
    assert all(a.status == "offline" for a in sliced.agents.values())
    sliced.check_invariants()


def test_the_longest_waiter_is_exact_after_grabs_requeues_and_a_reload(clock):
    core = make_core(clock)
    add_agent(core, "a1")
    for i in range(5):
        submit(core, f"q{i}")
        clock.advance(1)
    assert core.longest_waiting("pre_sales").id == "q0"
    core.grab("a1", "q0", "g0")
    core.grab("a1", "q1", "g1")
    assert core.longest_waiting("pre_sales").id == "q2"
    core.release("a1", "q0")  # back in the pool with its first arrival: it waited longest
    assert core.longest_waiting("pre_sales").id == "q0"
    core.abandon("q0")
    assert core.longest_waiting("pre_sales").id == "q2"
    core.check_invariants()


def test_an_agents_load_is_published_once_per_drain_however_many_decisions_changed_it(clock):
    core = make_core(clock)
    agent = add_agent(core, "a1")
    for i in range(3):
        submit(core, f"q{i}")
    core.drain()
    for i in range(3):
        assert core.grab("a1", f"q{i}", f"g{i}").outcome == "won"
    core.resolve("a1", "q0", None)
    assert core.has_changes()
    evs = events(core)
    assert [e.kind for e in evs] == ["inquiry.grabbed"] * 3 + ["inquiry.resolved", "agent.load"]
    assert (evs[-1].record.held, evs[-1].record.grabs_today) == (2, 3) == (agent.held, agent.grabs_today)
    assert not core.has_changes() and events(core) == []


def test_a_mirror_sets_an_agents_load_on_the_record_it_holds(clock):
    from broker.wire.mirror import Mirror

    core = make_core(clock)
    add_agent(core, "a1")
    submit(core, "q1")
    mirror = Mirror()
    mirror.apply(events(core))
    before = mirror.agents["a1"]
    core.grab("a1", "q1", "g1")
    mirror.apply(events(core))
    after = mirror.agents["a1"]
    assert after == core.agents["a1"] and after.held == 1 and after.grabs_today == 1
    assert before.held == 0, "the record a view may still hold is left as it was"
    assert after.skills == before.skills and after.status == "online"
