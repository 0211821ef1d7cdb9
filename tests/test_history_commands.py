"""Commands for the windows' history views, on a real broker and SQLite store: transfer to another
skill's pool, a customer's earlier inquiries, an agent's recent grabs, acknowledging an alert."""
from __future__ import annotations

import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused

from helpers import agent_spec, wait_until


@pytest.fixture
def floor(broker):
    broker.define(groups=["g1"], agents=[agent_spec("pre", group="g1", skills=("pre_sales",)),
                                         agent_spec("post", group="g1", skills=("after_sales",)),
                                         agent_spec("both", group="g1", skills=("pre_sales", "after_sales"))])
    broker.online("pre", "post", "both")
    return broker


def test_transfer_to_another_pool_keeps_the_arrival_and_carries_the_note(floor):
    floor.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales", customer="c1"))
    pre = floor.client("agent", "pre")
    assert pre.call(p.Grab, grab_id="g1", inquiry="q1").outcome == "won"
    arrived = floor.core.inquiries["q1"].arrived_at
    pre.call(p.TransferToPool, inquiry="q1", skill="after_sales", note="wants a refund for order 88")
    inq = floor.core.inquiries["q1"]
    assert (inq.state, inq.skill, inq.owner) == ("queued", "after_sales", None)
    assert inq.arrived_at == arrived, "the customer's wait goes on"
    assert inq.note == "wants a refund for order 88"
    # the after-sales pool is where it now waits: its agent may take it, pre-sales may not
    assert floor.client("agent", "pre").call(p.Grab, grab_id="g2", inquiry="q1").outcome == "refused"
    assert floor.client("agent", "post").call(p.Grab, grab_id="g3", inquiry="q1").outcome == "won"
    floor.core.check_invariants()


def test_transfer_to_the_same_pool_or_of_someone_elses_inquiry_is_refused(floor):
    floor.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    pre = floor.client("agent", "pre")
    pre.call(p.Grab, grab_id="g1", inquiry="q1")
    with pytest.raises(BrokerRefused) as same:
        pre.call(p.TransferToPool, inquiry="q1", skill="pre_sales")
    assert same.value.code == p.ErrorCode.INVALID_STATE and same.value.key == "inquiry.same_skill"
    with pytest.raises(BrokerRefused) as not_mine:
        floor.client("agent", "both").call(p.TransferToPool, inquiry="q1", skill="after_sales")
    assert not_mine.value.code == p.ErrorCode.FORBIDDEN


def test_customer_history_lists_earlier_inquiries_with_outcome_and_who_served(floor):
    floor.submit(p.NewInquiry(id="old", shop="s1", skill="pre_sales", customer="c9"),
                 p.NewInquiry(id="other", shop="s1", skill="pre_sales", customer="c1"))
    both = floor.client("agent", "both")
    both.call(p.Grab, grab_id="g1", inquiry="old")
    both.call(p.Resolve, inquiry="old", satisfaction=4)
    floor.submit(p.NewInquiry(id="new", shop="s1", skill="after_sales", customer="c9"))
    reply = both.call(p.QueryCustomer, customer="c9")
    assert isinstance(reply, p.CustomerHistory)
    rows = {row.id: row for row in reply.inquiries}
    assert set(rows) == {"old", "new"}
    assert (rows["old"].state, rows["old"].owner, rows["old"].satisfaction) == ("resolved", "both", 4)
    assert rows["new"].state == "queued"
    assert reply.inquiries[0].arrived_at >= reply.inquiries[-1].arrived_at, "newest first"
    assert both.call(p.QueryCustomer, customer="nobody").inquiries == []


def test_agent_grabs_show_wins_losses_and_refusals_newest_first(floor):
    floor.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"),
                 p.NewInquiry(id="q2", shop="s1", skill="after_sales"))
    floor.client("agent", "pre").call(p.Grab, grab_id="g1", inquiry="q1")
    both = floor.client("agent", "both")
    both.call(p.Grab, grab_id="g2", inquiry="q1")  # lost to pre
    floor.client("agent", "pre").call(p.Grab, grab_id="g3", inquiry="q2")  # refused: lacks after_sales
    boss = floor.client("supervisor", "boss")
    attempts = boss.call(p.QueryAgentGrabs, agent="pre").attempts
    assert [(a.inquiry, a.outcome) for a in attempts] == [("q2", "refused"), ("q1", "won")]
    assert attempts[0].code == p.ErrorCode.NOT_ELIGIBLE
    lost = boss.call(p.QueryAgentGrabs, agent="both").attempts
    assert [(a.inquiry, a.outcome, a.winner) for a in lost] == [("q1", "lost", "pre")]
    with pytest.raises(BrokerRefused) as unknown:
        boss.call(p.QueryAgentGrabs, agent="ghost")
    assert unknown.value.code == p.ErrorCode.NOT_FOUND


def test_acknowledging_an_alert_is_published_and_audited(floor):
    boss, mirror = floor.follow("boss")
    floor.core.raise_alert("uneven_grabbing", "warning", "uneven_grabbing",
                           {"group": "g1", "gini": "0.70", "threshold": "0.50"}, group="g1")
    wait_until(lambda: mirror.alerts, 5, message="the alert never reached the supervisor")
    alert = mirror.alerts[-1]
    acked = boss.call(p.AcknowledgeAlert, alert=alert.id, reason="calling the team lead").record
    assert (acked.acked_by, acked.ack_note) == ("boss", "calling the team lead")
    assert acked.acked_at is not None
    wait_until(lambda: mirror.alerts[-1].acked_by == "boss", 5, message="the acknowledgement was not published")
    again = floor.client("supervisor", "boss2").call(p.AcknowledgeAlert, alert=alert.id).record
    assert again.acked_by == "boss", "the first acknowledgement stands"
    entries = boss.call(p.QueryAudit, kind_prefix="ack_alert").entries
    assert sorted((e.actor, e.subject, e.ok) for e in entries) == [("boss", alert.id, True),
                                                                   ("boss2", alert.id, True)]
    with pytest.raises(BrokerRefused) as unknown:
        boss.call(p.AcknowledgeAlert, alert="no-such-alert")
    assert unknown.value.code == p.ErrorCode.NOT_FOUND
    with pytest.raises(BrokerRefused) as agent:
        floor.client("agent", "pre").call(p.AcknowledgeAlert, alert=alert.id)
    assert agent.value.code == p.ErrorCode.FORBIDDEN


def test_a_history_limit_out_of_range_is_clamped_not_refused(floor):
    floor.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales", customer="c1"))
    boss = floor.client("supervisor", "boss")
    assert len(boss.call(p.QueryCustomer, customer="c1", limit=0).inquiries) == 1
    assert boss.call(p.QueryAgentGrabs, agent="pre", limit=10_000).attempts == []
