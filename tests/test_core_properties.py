"""Stateful property test of the arbiter: random floors never break its promises.

Hypothesis drives one ``Arbiter`` through random interleavings of arrivals,
grabs (fresh and retried), first responses, resolves, releases, transfers,
reassignments, abandons, quota/status/quality/mode changes, heartbeats and
clock jumps (past SLA deadlines, silent reclaim, forced breaks, midnight).
After every step:

* ``check_invariants()`` holds (one owner per open inquiry, held counts match);
* every submitted inquiry is open or was closed by a resolve/abandon we made;
* a mirror fed only by the emitted events equals the core (no silent change);

The robot first line takes part: a shop with the robot on sends inquiries to a
connected robot (state ``robot``), robots answer, escalate, act on inquiries
they do not hold (refused), fall silent (their leases run out) and the
customer writes again; every inquiry leaving the robot keeps its arrival time.

and at the step itself: a won grab leaves the inquiry owned by the winner
with held <= cap and grabs today <= the daily quota; a retried grab id gets
exactly its first verdict; a loser is told the current owner.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from broker.arbiter import assist
from broker.arbiter.core import Arbiter, CoreConfig, Refusal
from broker.wire.mirror import Mirror
from broker.wire.protocol import (
    AgentSpec, ErrorCode, Event, FairShare, GroupRecord, NewInquiry, Quotas, ShopRecord, SlaPolicy,
    TierRule,
)

from helpers import FakeClock

_event = msgspec.msgpack.Decoder(Event)

TZ = "Asia/Shanghai"
SHOPS = ("grab", "hybrid", "assign")
#: a grab shop with the robot first line on
ROBOT_SHOP = "robot"
ROBOTS = ("r1", "r2")
SKILLS = ("pre_sales", "after_sales", "complaint")
LANGS = ("zh", "en")
CHANNELS = ("chat", "phone")
AGENTS = ("a0", "a1", "a2", "a3", "a4", "a5")
STATUSES = ("online", "away", "break", "offline")
#: seconds a clock jump may take: sub-second, visibility delays, hybrid T, silent
#: reclaim, SLA warn/breach, offline grace, a forced break, continuous service
JUMPS = (0.5, 2.0, 6.0, 21.0, 61.0, 125.0, 250.0, 500.0, 700.0, 1300.0, 3700.0)


def _agent_specs() -> list[AgentSpec]:
    return [
        AgentSpec(id="a0", group="g1", skills={"pre_sales": 5, "after_sales": 2}, quality=95),
        AgentSpec(id="a1", group="g1", skills={"pre_sales": 3}, languages=["zh", "en"], quality=80),
        AgentSpec(id="a2", group="g1", skills={"pre_sales": 4, "complaint": 5}, quality=65),
        AgentSpec(id="a3", group="g2", skills={"after_sales": 4, "complaint": 2}, languages=["en"],
                  quality=40, quotas=Quotas(concurrent_cap=3)),
        AgentSpec(id="a4", group="g2", skills={s: 3 for s in SKILLS}, languages=list(LANGS),
                  channels=["chat"], quality=90, quotas=Quotas(daily_grabs=4)),
        AgentSpec(id="a5", group="g2", skills={"pre_sales": 2, "after_sales": 5}, shops=["grab", "hybrid"],
                  quality=70, quotas=Quotas(continuous_hours=0.5, break_minutes=5)),
    ]


class ArbiterMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = FakeClock()
        config = CoreConfig(
            default_quotas=Quotas(concurrent_cap=2, daily_grabs=10, continuous_hours=1.0, break_minutes=10.0),
            tiers=[TierRule(name="top", min_score=85), TierRule(name="mid", min_score=60, visibility_delay_s=2),
                   TierRule(name="low", min_score=0, visibility_delay_s=5, cap=1)],
            agent_timeout_s=30.0, offline_grace_s=60.0, day_tz=TZ, robot_timeout_s=5.0, robot_await_s=60.0)
        self.core = Arbiter(config, clock=self.clock)
        self.mirror = Mirror()
        sla = SlaPolicy(first_response_s=300, resolution_s=600, silent_reclaim_s=120)
        for shop, mode in zip(SHOPS, ("grab", "hybrid", "assign")):
            self.core.define_shop(ShopRecord(id=shop, mode=mode, hybrid_after_s=20.0, sla=sla), "root")
        self.core.define_shop(ShopRecord(id=ROBOT_SHOP, robot=True, sla=sla), "root")
        self.core.define_group(GroupRecord(id="g1", fair_share=FairShare(enabled=True, factor=1.2, delay_s=3,
                                                                        min_mean_grabs=1)), "root")
        self.core.define_group(GroupRecord(id="g2", quotas=Quotas(concurrent_cap=3)), "root")
        for spec in _agent_specs():
            self.core.define_agent(spec, "root")
            self.core.set_status(spec.id, "online", "root")
        self.submitted: list[str] = []
        self.closed: set[str] = set()
        #: (agent, grab_id) -> (inquiry, first verdict)
        self.verdicts: dict[tuple[str, str], tuple[str, object]] = {}
        self.grab_keys: list[tuple[str, str]] = []
        self.next_id = 0
        #: inquiries a robot answered at some point (the only ones that may close on their own)
        self.robot_answered: set[str] = set()
        self._sync_mirror()

    # ------------------------------------------------------------------ helpers

    def _sync_mirror(self) -> None:
        changes = self.core.drain()
        seqs = [e.seq for e in changes.events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "event seqs must increase"
        self.mirror.apply(_event.decode(e.raw) for e in changes.events)

    def _open(self, index: int):
        ids = sorted(self.core.inquiries)
        return self.core.inquiries[ids[index % len(ids)]] if ids else None

    def _held(self, index: int):
        held = sorted(i for i, inq in self.core.inquiries.items() if inq.owner is not None)
        return self.core.inquiries[held[index % len(held)]] if held else None

    def _quota_snapshot(self):
        return {a.id: (a.held, a.grabs_today, a.day) for a in self.core.agents.values()}

    def _check_gains(self, before) -> None:
        """Whatever raised an agent's load went through the quota checks."""
        for agent in self.core.agents.values():
            held, grabs, day = before[agent.id]
            eff = agent.effective
            if agent.held > held and eff.concurrent_cap is not None:
                assert agent.held <= eff.concurrent_cap, f"{agent.id} holds {agent.held} > cap"
            if (agent.grabs_today > grabs or agent.day != day) and agent.grabs_today and \
                    eff.daily_grabs is not None:
                assert agent.grabs_today <= eff.daily_grabs, f"{agent.id} took {agent.grabs_today} today"

    # ------------------------------------------------------------------ intake

    @rule(shop=st.sampled_from(SHOPS + (ROBOT_SHOP,)), skill=st.sampled_from(SKILLS + ("",)),
          lang=st.sampled_from(LANGS), channel=st.sampled_from(CHANNELS),
          waited=st.sampled_from((None, 0.0, 250.0)), message=st.sampled_from(("", "我的订单到哪了")))
    def submit(self, shop, skill, lang, channel, waited, message):
        before = self._quota_snapshot()
        inquiry_id = f"q{self.next_id}"
        self.next_id += 1
        arrived = None if waited is None else self.clock.now - waited
        inq = self.core.submit(NewInquiry(id=inquiry_id, shop=shop, skill=skill, language=lang,
                                          channel=channel, arrived_at=arrived, message=message), "gateway")
        live = any(r.connected for r in self.core.robots.values())
        assert (inq.state == "robot") == (shop == ROBOT_SHOP and bool(message) and live)
        self.submitted.append(inquiry_id)
        self._check_gains(before)  # assign mode may push it to someone at once

    @precondition(lambda self: self.submitted)
    @rule(index=st.integers(0, 10_000))
    def abandon(self, index):
        inquiry_id = self.submitted[index % len(self.submitted)]
        try:
            self.core.abandon(inquiry_id, "gateway")
        except Refusal as refusal:
            assert inquiry_id in self.closed and refusal.code == ErrorCode.INVALID_STATE
        else:
            assert inquiry_id not in self.closed
            self.closed.add(inquiry_id)

    # ------------------------------------------------------------------ grabbing

    @precondition(lambda self: self.submitted)
    @rule(agent_id=st.sampled_from(AGENTS), index=st.integers(0, 10_000))
    def grab(self, agent_id, index):
        inquiry_id = self.submitted[index % len(self.submitted)]
        inq = self.core.inquiries.get(inquiry_id)
        was_queued = inq is not None and inq.state == "queued"
        owner_before = inq.owner if inq is not None else None
        agent = self.core.agents[agent_id]
        before = self._quota_snapshot()
        grab_id = f"g{len(self.grab_keys)}"
        facts = self.core.grab(agent_id, inquiry_id, grab_id)
        self.verdicts[(agent_id, grab_id)] = (inquiry_id, facts)
        self.grab_keys.append((agent_id, grab_id))
        if facts.outcome == "won":
            assert was_queued, "only a queued inquiry can be won"
            now = self.core.inquiries[inquiry_id]
            assert (now.state, now.owner, now.taken_by) == ("held", agent_id, "grab")
            assert facts.winner == agent_id and facts.won_at == self.clock.now
            assert agent.held == before[agent_id][0] + 1
            assert agent.held <= agent.effective.concurrent_cap
            assert agent.grabs_today <= agent.effective.daily_grabs
        else:
            assert self.core.agents[agent_id].held == before[agent_id][0]
            if inq is not None:
                assert inq.owner == owner_before, "a failed grab changed the owner"
            if facts.outcome == "lost":
                assert facts.code == ErrorCode.ALREADY_TAKEN and facts.winner is not None
                if inq is not None:
                    assert facts.winner == inq.owner
            else:
                assert facts.code is not None and facts.winner is None
        self._check_gains(before)

    @precondition(lambda self: self.grab_keys)
    @rule(index=st.integers(0, 10_000))
    def retry_grab(self, index):
        agent_id, grab_id = self.grab_keys[index % len(self.grab_keys)]
        inquiry_id, first = self.verdicts[(agent_id, grab_id)]
        before = self._quota_snapshot()
        owners = {i: inq.owner for i, inq in self.core.inquiries.items()}
        again = self.core.grab(agent_id, inquiry_id, grab_id)
        assert again == first, "a retried grab must get its first verdict"
        assert {i: inq.owner for i, inq in self.core.inquiries.items()} == owners
        assert self._quota_snapshot() == before

    @precondition(lambda self: self.grab_keys and len(self.submitted) > 1)
    @rule(index=st.integers(0, 10_000), other=st.integers(1, 10_000))
    def reuse_grab_id_elsewhere(self, index, other):
        agent_id, grab_id = self.grab_keys[index % len(self.grab_keys)]
        inquiry_id, _first = self.verdicts[(agent_id, grab_id)]
        others = [i for i in self.submitted if i != inquiry_id]
        target = others[other % len(others)]
        owners = {i: inq.owner for i, inq in self.core.inquiries.items()}
        try:
            self.core.grab(agent_id, target, grab_id)
        except Refusal as refusal:
            assert refusal.code == ErrorCode.BAD_REQUEST
        else:
            raise AssertionError("a grab id was accepted for a second inquiry")
        assert {i: inq.owner for i, inq in self.core.inquiries.items()} == owners

    # ------------------------------------------------------------------ owners' actions

    @precondition(lambda self: any(i.owner for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000))
    def respond(self, index):
        inq = self._held(index)
        self.core.respond(inq.owner, inq.id)
        assert inq.first_response_at is not None

    @precondition(lambda self: any(i.owner for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000), satisfaction=st.sampled_from((None, 1, 5)))
    def resolve(self, index, satisfaction):
        inq = self._held(index)
        owner = self.core.agents[inq.owner]
        held = owner.held
        self.core.resolve(owner.id, inq.id, satisfaction)
        self.closed.add(inq.id)
        assert owner.held == held - 1 and inq.id not in self.core.inquiries

    @precondition(lambda self: any(i.owner for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000), agent_id=st.sampled_from(AGENTS),
          action=st.sampled_from(("respond", "resolve", "release")))
    def non_owner_is_refused(self, index, agent_id, action):
        inq = self._held(index)
        if agent_id == inq.owner:
            return
        owner = inq.owner
        try:
            if action == "resolve":
                self.core.resolve(agent_id, inq.id, None)
            else:
                getattr(self.core, action)(agent_id, inq.id)
        except Refusal as refusal:
            assert refusal.code == ErrorCode.FORBIDDEN
        else:
            raise AssertionError(f"{agent_id} could {action} an inquiry held by {owner}")
        assert inq.owner == owner

    @precondition(lambda self: any(i.owner for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000))
    def release(self, index):
        inq = self._held(index)
        arrived = inq.arrived_at
        self.core.release(inq.owner, inq.id)
        assert (inq.state, inq.owner, inq.arrived_at) == ("queued", None, arrived)

    @precondition(lambda self: any(i.owner for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000), to_agent=st.sampled_from(AGENTS))
    def transfer(self, index, to_agent):
        inq = self._held(index)
        before = self._quota_snapshot()
        owner = inq.owner
        try:
            self.core.transfer(owner, inq.id, to_agent)
        except Refusal:
            assert inq.owner == owner
        else:
            assert inq.owner == to_agent
        self._check_gains(before)

    # ------------------------------------------------------------------ supervisor

    @precondition(lambda self: self.core.inquiries)
    @rule(index=st.integers(0, 10_000), to_agent=st.sampled_from((None,) + AGENTS))
    def reassign(self, index, to_agent):
        inq = self._open(index)
        before = self._quota_snapshot()
        owner = inq.owner
        try:
            self.core.reassign(inq.id, to_agent, "boss", "property test")
        except Refusal:
            assert inq.owner == owner
        else:
            assert inq.owner == to_agent
            assert inq.state == ("queued" if to_agent is None else "held")
        self._check_gains(before)

    @rule(agent_id=st.sampled_from(AGENTS + ("g1", "g2")),
          cap=st.sampled_from((None, 0, 1, 2, 4)), daily=st.sampled_from((None, 0, 2, 5, 30)),
          hours=st.sampled_from((None, 0.25, 1.0, 8.0)), brk=st.sampled_from((None, 1, 10)))
    def set_quotas(self, agent_id, cap, daily, hours, brk):
        quotas = Quotas(concurrent_cap=cap, daily_grabs=daily, continuous_hours=hours, break_minutes=brk)
        if agent_id.startswith("g"):
            self.core.set_quotas(quotas, "boss", "property test", group_id=agent_id)
        else:
            self.core.set_quotas(quotas, "boss", "property test", agent_id=agent_id)

    @rule(agent_id=st.sampled_from(AGENTS), status=st.sampled_from(STATUSES))
    def set_status(self, agent_id, status):
        agent = self.core.agents[agent_id]
        try:
            self.core.set_status(agent_id, status, "boss")
        except Refusal as refusal:
            assert refusal.code == ErrorCode.QUOTA_HOURS and status == "online" and agent.forced_break
        else:
            assert agent.status == status

    @rule(agent_id=st.sampled_from(AGENTS), quality=st.sampled_from((10.0, 65.0, 80.0, 99.0)))
    def set_quality(self, agent_id, quality):
        self.core.set_quality(agent_id, quality, "boss", "")

    @rule(shop=st.sampled_from(SHOPS), mode=st.sampled_from(("grab", "hybrid", "assign")))
    def set_mode(self, shop, mode):
        self.core.set_mode(shop, mode, None, "boss", "")

    @rule(agent_id=st.sampled_from(AGENTS))
    def heartbeat(self, agent_id):
        self.core.seen(agent_id)

    # ------------------------------------------------------------------ the robot first line

    def _with_robot(self, index: int):
        ids = sorted(i for i, inq in self.core.inquiries.items() if inq.state == "robot")
        return self.core.inquiries[ids[index % len(ids)]] if ids else None

    @rule(robot_id=st.sampled_from(ROBOTS))
    def robot_heartbeat(self, robot_id):
        self.core.robot_seen(robot_id)
        assert self.core.robots[robot_id].connected

    @precondition(lambda self: any(i.state == "robot" for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000), robot_id=st.sampled_from(ROBOTS), skill=st.sampled_from(("",) + SKILLS))
    def robot_answer(self, index, robot_id, skill):
        inq = self._with_robot(index)
        holder, awaiting = inq.robot, inq.robot_answered_at is not None
        try:
            self.core.robot_answer(robot_id, inq.id, "您的订单已发货", skill)
        except Refusal as refusal:
            assert (robot_id != holder and refusal.code == ErrorCode.FORBIDDEN) or \
                (awaiting and refusal.code == ErrorCode.INVALID_STATE)
        else:
            assert robot_id == holder and not awaiting
            assert inq.state == "robot" and inq.first_response_at is not None
            self.robot_answered.add(inq.id)

    @precondition(lambda self: any(i.state == "robot" for i in self.core.inquiries.values()))
    @rule(index=st.integers(0, 10_000), robot_id=st.sampled_from(ROBOTS), skill=st.sampled_from(SKILLS),
          bump=st.sampled_from((0, 2)))
    def robot_escalate(self, index, robot_id, skill, bump):
        inq = self._with_robot(index)
        holder, arrived, priority = inq.robot, inq.arrived_at, inq.priority
        try:
            self.core.robot_escalate(robot_id, inq.id, skill, "complaint", bump)
        except Refusal as refusal:
            assert robot_id != holder and refusal.code == ErrorCode.FORBIDDEN
            assert inq.state == "robot" and inq.robot == holder
        else:
            assert (inq.state, inq.skill, inq.arrived_at, inq.priority, inq.robot) == \
                ("queued", skill, arrived, priority + bump, "")

    @precondition(lambda self: self.core.inquiries)
    @rule(index=st.integers(0, 10_000))
    def customer_writes(self, index):
        inq = self._open(index)
        state, arrived = inq.state, inq.arrived_at
        self.core.customer_message(inq.id, "还是没收到", "gateway")
        assert inq.arrived_at == arrived
        assert inq.state == state or (state == "robot" and inq.state == "queued")
        assert self.core.transcript(inq.id).lines[-1].text == "还是没收到"

    # ------------------------------------------------------------------ time

    def _tick_checked(self) -> None:
        before = self._quota_snapshot()
        queued = {i: inq.queued_at for i, inq in self.core.inquiries.items() if inq.state == "queued"}
        self.core.tick()
        self._check_gains(before)
        # an inquiry the robot answered is resolved when its customer stays silent
        self.closed |= {i for i in self.robot_answered if i not in self.core.inquiries}
        for inquiry_id, queued_at in queued.items():
            inq = self.core.inquiries.get(inquiry_id)
            if inq is None or inq.state != "held":
                continue
            # only timers move a queued inquiry during a tick: auto-assignment
            assert inq.taken_by == "assign", f"{inquiry_id} taken by {inq.taken_by} in a tick"
            shop = self.core.shops[inq.shop]
            assert shop.mode in ("assign", "hybrid"), f"{inquiry_id} auto-assigned in a {shop.mode} shop"
            if shop.mode == "hybrid":
                # never before the shortest delay the assist may set: the pool can shrink it
                # to its floor, the first-response deadline further (broker/arbiter/assist.py)
                config = self.core.config.assist
                shortest = assist.hybrid_delay_s(shop.hybrid_after_s, inq.first_response_due - queued_at,
                                                 10 ** 9, config)
                assert self.clock.now - queued_at >= shortest - 1e-9

    @rule(seconds=st.sampled_from(JUMPS))
    def advance(self, seconds):
        self.clock.advance(seconds)
        self._tick_checked()

    @rule()
    def jump_past_midnight(self):
        local = datetime.fromtimestamp(self.clock.now, ZoneInfo(TZ))
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(TZ))
        self.clock.now = midnight.timestamp() + 0.5
        self._tick_checked()
        day = self.core.today(self.clock.now)
        stale = [a.id for a in self.core.agents.values() if a.day not in ("", day)]
        assert not stale, f"{stale} still count yesterday's grabs after the sweep"


    # ------------------------------------------------------------------ after every step

    @invariant()
    def core_is_consistent(self):
        self.core.check_invariants()

    @invariant()
    def nothing_is_lost(self):
        # an inquiry the robot answered closes on its own when the customer stays silent
        closed_by_robot = {i for i, facts in self.core.closed_inquiries().items()
                           if facts.state == "resolved" and facts.owner is None}
        assert closed_by_robot <= self.robot_answered
        expected_open = set(self.submitted) - self.closed - closed_by_robot
        assert set(self.core.inquiries) == expected_open

    @invariant()
    def events_describe_every_change(self):
        self._sync_mirror()
        assert self.mirror.inquiries == self.core.inquiries
        assert {r.id: r.connected for r in self.mirror.robots.values()} == \
            {r.id: r.connected for r in self.core.robots.values()}
        for agent_id, agent in self.core.agents.items():
            seen = self.mirror.agents[agent_id]
            # last_seen moves with every heartbeat and is not worth an event; ``day`` alone
            # may be stamped quietly, but the quota use the agent is shown may not change
            assert msgspec.structs.replace(seen, last_seen=agent.last_seen, day=agent.day) == agent, \
                f"{agent_id} changed without an event"


TestArbiterProperties = ArbiterMachine.TestCase
TestArbiterProperties.settings = settings(max_examples=150, stateful_step_count=50, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
