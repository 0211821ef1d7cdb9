"""The broker's basic promise over real sockets: one winner, losers told who."""
from broker.wire import protocol as p

from helpers import agent_spec, wait_until


def test_race_on_loopback_has_one_winner_and_losers_learn_who(broker):
    agents = [f"a{i}" for i in range(8)]
    broker.define(agents=[agent_spec(a) for a in agents])
    broker.online(*agents)
    clients = [broker.client("agent", a) for a in agents]
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    futures = [c.request(p.Grab, grab_id="g1", inquiry="q1") for c in clients]
    verdicts = [f.result(5) for f in futures]
    winners = [v for v in verdicts if v.outcome == "won"]
    assert len(winners) == 1
    winner = winners[0].winner
    for v in verdicts:
        if v.outcome != "won":
            assert v.outcome == "lost" and v.code == p.ErrorCode.ALREADY_TAKEN and v.winner == winner


def test_late_joiner_sees_snapshot_then_follows(broker):
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    sup, mirror = broker.follow("boss")
    wait_until(lambda: "q1" in mirror.inquiries)
    broker.submit(p.NewInquiry(id="q2", shop="s1", skill="pre_sales"))
    broker.client("agent", "a1").call(p.Grab, grab_id="g", inquiry="q1")
    # inquiry and agent changes travel on separate streams (separate frames): wait for both
    wait_until(lambda: "q2" in mirror.inquiries and mirror.inquiries["q1"].owner == "a1"
               and mirror.agents["a1"].held == 1)
    assert sup.status.gaps == 0
