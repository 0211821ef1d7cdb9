"""A real broker on loopback: races, late joiners, re-syncs, liveness, restarts.

Every test runs the production ``BrokerServer`` (durable store, ZeroMQ loop)
through the ``start_broker``/``broker`` fixtures and talks to it with the
shared ``BrokerClient``, the way the console and the agent window do.
"""
from __future__ import annotations

import random
import sqlite3
import threading

import msgspec
import pytest
import zmq

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.mirror import Mirror

from helpers import agent_spec, loopback_config, stable, wait_until

UNLIMITED = p.Quotas(concurrent_cap=1000, daily_grabs=10_000)


def _floor_state(core) -> dict:
    """The broker's live state as plain data (agents' last_seen moves without events)."""
    return stable(lambda: _read_floor(core))


def _mirror_state(mirror: Mirror) -> dict:
    return stable(lambda: _read_mirror(mirror))


def _read_floor(core) -> dict:
    return {
        "shops": msgspec.to_builtins(core.shops),
        "groups": msgspec.to_builtins(core.groups),
        "agents": {k: {**msgspec.to_builtins(a), "last_seen": 0} for k, a in core.agents.items()},
        "inquiries": msgspec.to_builtins(core.inquiries),
    }


def _read_mirror(mirror: Mirror) -> dict:
    return {
        "shops": msgspec.to_builtins(mirror.shops),
        "groups": msgspec.to_builtins(mirror.groups),
        "agents": {k: {**msgspec.to_builtins(a), "last_seen": 0} for k, a in mirror.agents.items()},
        "inquiries": msgspec.to_builtins(mirror.inquiries),
    }


# --------------------------------------------------------------------------- races

def test_many_agents_race_for_the_same_inquiries(broker):
    agents = [f"a{i:02d}" for i in range(20)]
    inquiries = [f"q{i:02d}" for i in range(50)]
    broker.define(agents=[agent_spec(a, quotas=UNLIMITED) for a in agents])
    broker.online(*agents)
    clients = {a: broker.client("agent", a) for a in agents}
    for c in clients.values():
        c.call(p.Hello)
    reply = broker.submit(*[p.NewInquiry(id=q, shop="s1", skill="pre_sales") for q in inquiries])
    assert reply.accepted == len(inquiries)

    start = threading.Barrier(len(agents))
    verdicts: dict[str, list[p.Verdict]] = {}

    def race(agent_id: str) -> None:
        order = inquiries[:]
        random.Random(agent_id).shuffle(order)
        start.wait()
        futures = [clients[agent_id].request(p.Grab, grab_id=f"{agent_id}-{q}", inquiry=q) for q in order]
        verdicts[agent_id] = [f.result(20) for f in futures]

    threads = [threading.Thread(target=race, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(verdicts) == len(agents), "some racers never got all their verdicts"

    by_inquiry: dict[str, list[tuple[str, p.Verdict]]] = {}
    for agent_id, vs in verdicts.items():
        for v in vs:
            by_inquiry.setdefault(v.inquiry, []).append((agent_id, v))
    assert set(by_inquiry) == set(inquiries)
    winners = {}
    for inquiry, results in by_inquiry.items():
        assert len(results) == len(agents)
        won = [(a, v) for a, v in results if v.outcome == "won"]
        assert len(won) == 1, f"{inquiry} has {len(won)} winners"
        winner, verdict = won[0]
        assert verdict.winner == winner
        winners[inquiry] = winner
        for agent_id, v in results:
            if agent_id != winner:
                assert (v.outcome, v.code, v.winner, v.won_at) == \
                    ("lost", p.ErrorCode.ALREADY_TAKEN, winner, verdict.won_at), (inquiry, agent_id, v)

    # the broker's state agrees with what the racers were told
    sup = broker.client("supervisor", "boss")
    mirror = Mirror()
    follower = broker.client("supervisor", "watch", follow=True, on_reset=mirror.reset, on_events=mirror.apply)
    assert follower.wait_live(10)
    wait_until(lambda: {i: inq.owner for i, inq in mirror.inquiries.items()} == winners,
               message="the snapshot disagrees with the verdicts")
    held = {a: 0 for a in agents}
    for w in winners.values():
        held[w] += 1
    assert {a: mirror.agents[a].held for a in agents} == held
    history = sup.call(p.QueryGrabs, inquiry=inquiries[0])
    assert history.winner == winners[inquiries[0]] and len(history.attempts) == len(agents)


def test_retried_grab_over_the_wire_gets_the_same_verdict(broker):
    broker.define(agents=[agent_spec("a1"), agent_spec("a2")])
    broker.online("a1", "a2")
    a1, a2 = broker.client("agent", "a1"), broker.client("agent", "a2")
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    first = a1.call(p.Grab, grab_id="same", inquiry="q1")
    lost = a2.call(p.Grab, grab_id="other", inquiry="q1")
    a1.call(p.Resolve, inquiry="q1")
    again = a1.call(p.Grab, grab_id="same", inquiry="q1")
    assert (again.outcome, again.winner, again.won_at) == (first.outcome, first.winner, first.won_at) == \
        ("won", "a1", first.won_at)
    assert a2.call(p.Grab, grab_id="other", inquiry="q1").outcome == lost.outcome == "lost"


# --------------------------------------------------------------------------- late joiners and re-sync

def test_late_joiner_gets_a_snapshot_equal_to_the_brokers_state(broker):
    agents = [f"a{i}" for i in range(5)]
    broker.define(shops=("s2",), agents=[agent_spec(a, skills=("pre_sales", "after_sales")) for a in agents],
                  groups=("g1",))
    broker.online(*agents)
    clients = {a: broker.client("agent", a) for a in agents}
    broker.submit(*[p.NewInquiry(id=f"q{i}", shop="s1" if i % 2 else "s2",
                                 skill="pre_sales" if i % 3 else "after_sales") for i in range(30)])
    for i in range(0, 30, 2):
        clients[agents[i % 5]].call(p.Grab, grab_id=f"g{i}", inquiry=f"q{i}")
    clients["a0"].call(p.Resolve, inquiry="q0")
    clients["a2"].call(p.Release, inquiry="q2")
    broker.admin.call(p.Abandon, inquiry="q1")

    mirror = Mirror()
    resets: list[int] = []

    def on_reset(records, end):
        mirror.reset(records, end)
        resets.append(end.seq)

    late = broker.client("supervisor", "late", follow=True, on_reset=on_reset, on_events=mirror.apply)
    assert late.wait_live(10)
    assert len(resets) == 1
    wait_until(lambda: _mirror_state(mirror) == _floor_state(broker.core),
               message="the late joiner's view differs from the broker's state")
    assert "q0" not in mirror.inquiries and "q1" not in mirror.inquiries
    assert mirror.inquiries["q2"].state == "queued"

    # and it keeps following from there
    clients["a3"].call(p.Grab, grab_id="late-1", inquiry="q3")
    wait_until(lambda: mirror.inquiries["q3"].owner == "a3")
    wait_until(lambda: _mirror_state(mirror) == _floor_state(broker.core))
    assert late.status.gaps == 0


def test_joining_in_the_middle_of_traffic_converges(broker):
    """The Clone pattern's hard case: events keep coming while the snapshot is taken."""
    agents = [f"a{i}" for i in range(4)]
    broker.define(agents=[agent_spec(a, quotas=UNLIMITED) for a in agents])
    broker.online(*agents)
    clients = {a: broker.client("agent", a) for a in agents}
    intake = broker.client("intake", "gw")
    stop = threading.Event()
    errors: list[BaseException] = []

    def traffic() -> None:
        i = 0
        try:
            while not stop.is_set():
                intake.call(p.Submit, inquiries=[p.NewInquiry(id=f"t{i}-{k}", shop="s1", skill="pre_sales")
                                                 for k in range(3)])
                for k, a in enumerate(agents[:3]):
                    clients[a].request(p.Grab, grab_id=f"{a}-{i}", inquiry=f"t{i}-{k}")
                if i % 4 == 0 and i:
                    clients["a0"].request(p.Resolve, inquiry=f"t{i - 4}-0")
                i += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        wait_until(lambda: len(broker.core.inquiries) > 100, timeout_s=10)
        mirrors = []
        joiners = []
        for n in range(3):  # several joiners, each at a different moment of the traffic
            mirror = Mirror()
            joiners.append(broker.client("supervisor", f"late{n}", follow=True, on_reset=mirror.reset,
                                         on_events=mirror.apply))
            mirrors.append(mirror)
            wait_until(lambda: joiners[-1].status.state == "live", timeout_s=10)
            # and traffic goes on after each join
            seen_now = broker.core.seq
            wait_until(lambda: broker.core.seq > seen_now + 60, timeout_s=10)
    finally:
        stop.set()
        worker.join(20)
    assert not errors, errors
    for joiner, mirror in zip(joiners, mirrors):
        wait_until(lambda: _mirror_state(mirror) == _floor_state(broker.core), timeout_s=10,
                   message=f"{joiner.name} did not converge")
        assert joiner.status.gaps == 0


def test_a_client_following_some_streams_only(broker):
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    mirror = Mirror()
    only = broker.client("supervisor", "pool-view", follow=True, streams=["inquiry"],
                         on_reset=mirror.reset, on_events=mirror.apply)
    assert only.wait_live(10)
    a1 = broker.client("agent", "a1")
    for i in range(20):
        broker.submit(p.NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales"))
        if i % 2:
            a1.call(p.Grab, grab_id=f"g{i}", inquiry=f"q{i}")
    wait_until(lambda: stable(lambda: msgspec.to_builtins(mirror.inquiries)) == _floor_state(broker.core)["inquiries"])
    assert mirror.agents == {} and mirror.shops == {}
    assert only.status.gaps == 0  # the other streams' events are not a gap


class _SmallBufferSocket(zmq.Socket):
    """A subscriber with little buffer of its own (a constrained or foreign client):
    when it stops reading, the broker's PUB high-water mark is reached and frames drop."""

    def setsockopt(self, option, value):
        if self.type == zmq.SUB and option == zmq.RCVHWM:
            super().setsockopt(zmq.RCVBUF, 4096)
            value = 10
        return super().setsockopt(option, value)


class _SmallBufferContext(zmq.Context):
    _socket_class = _SmallBufferSocket


def test_a_subscriber_that_misses_events_resyncs(start_broker):
    TOTAL = 30_000
    PER_SUBMIT = 50
    handle = start_broker(pub_hwm=50, publish_interval_ms=0)
    handle.define()
    gate = threading.Event()
    mirror = Mirror()
    blocked = threading.Event()

    def on_events(events):
        blocked.set()
        gate.wait(30)
        mirror.apply(events)

    ctx = _SmallBufferContext()
    slow = BrokerClient(handle.server.command_endpoint, handle.server.events_endpoint, "supervisor", "slow",
                        follow=True, on_reset=mirror.reset, on_events=on_events, context=ctx,
                        liveness_s=60.0)
    try:
        slow.start()
        assert slow.wait_live(10)
        # tens of thousands of events while the subscriber is not reading: ~10 MB, far
        # beyond what the PUB queue (50 frames) and the kernel's socket buffers hold
        window = []
        for i in range(TOTAL // PER_SUBMIT):
            window.append(handle.admin.request(p.Submit, inquiries=[
                p.NewInquiry(id=f"q{i}-{j}", shop="s1", skill="pre_sales", customer="c" * 120)
                for j in range(PER_SUBMIT)]))
            if len(window) >= 8:
                assert window.pop(0).result(10).accepted == PER_SUBMIT
        for f in window:
            assert f.result(10).accepted == PER_SUBMIT
        assert blocked.is_set()
        gate.set()
        wait_until(lambda: slow.status.resyncs >= 1 and slow.status.state == "live"
                   and len(mirror.inquiries) == TOTAL, timeout_s=30,
                   message=f"no re-sync: {slow.status}")
        assert slow.status.gaps >= 1
        wait_until(lambda: _mirror_state(mirror) == _floor_state(handle.core), timeout_s=10)
    finally:
        gate.set()
        slow.stop()
        ctx.term()


# --------------------------------------------------------------------------- liveness

def test_silent_agent_goes_offline_and_its_inquiry_returns_after_the_grace(start_broker):
    handle = start_broker(agent_timeout_s=0.5, offline_grace_s=1.5)
    handle.define(agents=[agent_spec("a1"), agent_spec("a2")])
    handle.online("a1", "a2")
    seen: list[p.Event] = []
    watcher = handle.client("supervisor", "boss", follow=True, on_events=seen.extend)
    assert watcher.wait_live(10)
    a1 = handle.client("agent", "a1", heartbeat_s=0.1)
    handle.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    assert a1.call(p.Grab, grab_id="g1", inquiry="q1").outcome == "won"
    core = handle.core

    # heartbeats keep it online well past the timeout
    t0 = core.agents["a1"].last_seen
    wait_until(lambda: core.agents["a1"].last_seen > t0 + 1.5, timeout_s=5)
    assert core.agents["a1"].status == "online"

    a1.stop()
    wait_until(lambda: core.agents["a1"].status == "offline", timeout_s=5,
               message="a silent agent was not marked offline")
    assert core.inquiries["q1"].owner == "a1", "the grace period was skipped"
    wait_until(lambda: core.inquiries["q1"].state == "queued", timeout_s=5,
               message="the offline agent's inquiry did not return to the pool")
    assert core.inquiries["q1"].owner is None and core.agents["a1"].held == 0
    a2 = handle.client("agent", "a2", heartbeat_s=0.1)
    assert a2.call(p.Grab, grab_id="g2", inquiry="q1").outcome == "won"
    # supervisors were told both steps, by the broker itself (no actor)
    wait_until(lambda: any(e.kind == "inquiry.released" and e.record.id == "q1" for e in seen))
    offline = [e for e in seen if e.kind == "agent.status" and e.record.id == "a1"
               and e.record.status == "offline"]
    released = [e for e in seen if e.kind == "inquiry.released" and e.record.id == "q1"]
    assert offline and released and offline[0].seq < released[0].seq
    assert offline[0].actor == released[0].actor == ""


# --------------------------------------------------------------------------- bad input on the wire

def _raw_dealer(handle) -> zmq.Socket:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(handle.server.command_endpoint)
    return sock


@pytest.mark.parametrize("frames", [
    [b"\xc1"],
    [msgspec.msgpack.encode({"v": 1, "id": "m1", "role": "admin", "who": "ab", "type": "hello"})
     .replace(b"\xa2ab", b"\xa2\xc3\x28")],
    [msgspec.msgpack.encode({"v": 1, "id": "m1", "role": "admin", "who": "x", "type": "hello"}), b"extra"],
    [msgspec.msgpack.encode({"v": 9, "id": "m1", "role": "admin", "who": "x", "type": "hello"})],
], ids=["garbage", "bad-utf8", "two-frames", "version"])
def test_bad_frames_get_an_error_and_the_broker_keeps_serving(broker, frames):
    sock = _raw_dealer(broker)
    try:
        sock.send_multipart(frames)
        answered = sock.poll(5000)
        assert broker.thread.is_alive(), "one bad frame stopped the broker"
        assert answered, "a bad frame got no reply"
        reply = p.decode_reply(sock.recv())
        assert isinstance(reply, p.Error)
        assert reply.code in (p.ErrorCode.BAD_REQUEST, p.ErrorCode.UNSUPPORTED_VERSION)
    finally:
        sock.close()
    # everyone else is still served
    assert isinstance(broker.admin.call(p.Hello), p.Welcome)
    assert broker.server.service.counters["bad_requests"] >= 1


def test_oversized_command_is_refused_too_large(start_broker):
    handle = start_broker(max_command_bytes=4096)
    handle.define()
    sock = _raw_dealer(handle)
    try:
        big = p.Submit(v=1, id="big", role="intake", who="gw", inquiries=[
            p.NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales", customer="x" * 200) for i in range(40)])
        sock.send(p.encode(big))
        reply = p.decode_reply(sock.recv())
        assert (reply.code, reply.re) == (p.ErrorCode.TOO_LARGE, "")
    finally:
        sock.close()
    assert handle.core.inquiries == {}
    assert isinstance(handle.admin.call(p.Hello), p.Welcome)


# --------------------------------------------------------------------------- orderly stop

def test_orderly_stop_persists_everything(start_broker, tmp_path):
    config = loopback_config(tmp_path)
    first = start_broker(config=config)
    first.define(shops=("s1", p.ShopRecord(id="s2", mode="hybrid", hybrid_after_s=60)), groups=("g1",),
                 agents=[agent_spec(a, group="g1") for a in ("a1", "a2", "a3")])
    first.online("a1", "a2", "a3")
    clients = {a: first.client("agent", a) for a in ("a1", "a2", "a3")}
    first.submit(*[p.NewInquiry(id=f"q{i}", shop="s1" if i % 2 else "s2", skill="pre_sales") for i in range(20)])
    verdicts = {}
    for i in range(12):
        agent = ("a1", "a2", "a3")[i % 3]
        verdicts[(agent, f"g{i}")] = clients[agent].call(p.Grab, grab_id=f"g{i}", inquiry=f"q{i}")
    clients["a1"].call(p.FirstResponse, inquiry="q0")
    clients["a1"].call(p.Resolve, inquiry="q0", satisfaction=5)
    clients["a2"].call(p.Release, inquiry="q1")
    sup = first.client("supervisor", "boss")
    sup.call(p.SetQuotas, agent="a3", quotas=p.Quotas(concurrent_cap=8), reason="training")
    sup.call(p.Reassign, inquiry="q4", to_agent="a3", reason="VIP")
    first.admin.call(p.Abandon, inquiry="q19")
    # the last acknowledged commands, then a stop request right away (what SIGTERM does)
    last = [clients["a2"].request(p.Grab, grab_id=f"late{i}", inquiry=f"q{i}") for i in range(13, 18)]
    late_verdicts = {f"late{i}": f.result(10) for i, f in zip(range(13, 18), last)}
    first.stop()
    before = _floor_state(first.core)
    seq_before = first.core.seq

    second = start_broker(config=config)
    after = _floor_state(second.core)
    assert after == before
    assert second.core.seq >= seq_before
    a1 = second.client("agent", "a1")
    again = a1.call(p.Grab, grab_id="g0", inquiry="q0")
    assert (again.outcome, again.winner) == ("won", "a1")
    late = second.client("agent", "a3").call(p.Grab, grab_id="after", inquiry="q0")
    assert (late.outcome, late.winner) == ("lost", "a1")
    for grab_id, verdict in late_verdicts.items():
        retried = second.client("agent", "a2").call(p.Grab, grab_id=grab_id, inquiry=verdict.inquiry)
        assert (retried.outcome, retried.winner) == (verdict.outcome, verdict.winner)
    entries = second.client("supervisor", "auditor").call(p.QueryAudit, actor="boss").entries
    assert {(e.kind, e.reason) for e in entries} >= {("set_quotas", "training"), ("reassign", "VIP")}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the stop is the point
def test_a_decision_the_store_cannot_commit_is_never_announced(broker):
    """A verdict is a promise only once it is on disk: when the commit fails,
    nobody hears of the batch and the broker stops instead of serving from
    state the disk does not have."""
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    _, mirror = broker.follow("watch")
    wait_until(lambda: "q1" in mirror.inquiries, message="the follower never saw q1")
    agent = broker.client("agent", "a1")

    def disk_full(changes):
        raise sqlite3.OperationalError("database or disk is full")

    broker.server.store.write = disk_full
    pending = agent.request(p.Grab, grab_id="g1", inquiry="q1")
    broker.thread.join(10)
    assert not broker.thread.is_alive(), "the broker kept serving after a failed commit"
    answered = pending.done() and pending.exception() is None and isinstance(pending.result(), p.Verdict)
    assert not answered, "a verdict left before its commit"
    assert mirror.inquiries["q1"].state == "queued", "an uncommitted grab was published"


def test_a_roster_sent_by_a_supervisor_survives_a_restart(start_broker, tmp_path):
    config = loopback_config(tmp_path)
    first = start_broker(config=config)
    first.define(agents=[agent_spec("a1")])
    csv = "agent_id,days,start,end,tz,skills\na1,mon-sun,22:00,06:00,Asia/Shanghai,\n"
    reply = first.client("supervisor", "boss").call(p.ReplaceRoster, fmt="csv", text=csv, reason="night cover")
    assert "1 shifts for 1 agents" in reply.text
    first.stop()

    second = start_broker(config=config)
    roster = second.server.floor.roster
    assert roster is not None and [s.agent_id for s in roster.shifts] == ["a1"]


def test_an_idle_agent_client_heartbeats_within_the_timeout_its_welcome_names(start_broker):
    """docs/protocol.md 12.2: the welcome says agent_timeout_s, and the reference client
    heartbeats often enough for it even when its own period is far longer."""
    broker = start_broker(agent_timeout_s=0.6)
    broker.define(agents=[agent_spec("a1")])
    agent = broker.client("agent", "a1", heartbeat_s=30.0)
    assert agent.call(p.Hello, client="test").agent_timeout_s == 0.6
    agent.call(p.SetStatus, status="online")
    _client, mirror = broker.follow("boss")
    started = broker.server.clock()
    # nothing happens by itself here: what is checked is that a1 is still online
    # after several of its timeouts of doing nothing but heartbeats
    wait_until(lambda: broker.server.clock() > started + 5 * 0.6, 10)
    assert mirror.agents["a1"].status == "online"
    assert broker.core.agents["a1"].status == "online"


def test_a_new_roster_reaches_followers_as_coverage_of_the_rostered_skills(broker):
    """The coverage worker computes from a snapshot the loop hands it; the result is published."""
    broker.define(agents=[agent_spec("a1", skills=("pre_sales", "after_sales"))])
    _client, mirror = broker.follow("boss")
    csv = "agent_id,days,start,end,tz,skills\na1,mon-sun,00:00,23:59,Asia/Shanghai,\n"
    broker.client("supervisor", "boss").call(p.ReplaceRoster, fmt="csv", text=csv, reason="all day")
    wait_until(lambda: mirror.coverage is not None and mirror.coverage.cells, 10,
               message="no coverage published after a roster was accepted")
    assert {cell.skill for cell in mirror.coverage.cells} == {"pre_sales", "after_sales"}
    assert max(cell.rostered for cell in mirror.coverage.cells) == 1
    assert mirror.coverage.cells_at is not None and mirror.coverage.cells_at <= mirror.coverage.at, \
        "the record says when its cells were computed"


def test_reconnecting_says_how_long_it_waited_including_at_the_ceiling(monkeypatch):
    """The status a window shows while the broker is away names the back-off it just
    waited: doubling from the start, then holding at the ceiling."""
    import broker.wire.client as client_module
    from tools.bench.harness import free_port

    monkeypatch.setattr(client_module, "BACKOFF_START_S", 0.02)
    monkeypatch.setattr(client_module, "BACKOFF_MAX_S", 0.04)
    details: list[str] = []
    three = threading.Event()

    def on_status(status) -> None:
        if status.state == "connecting" and status.detail.startswith("retrying"):
            details.append(status.detail)
            if len(details) >= 3:
                three.set()

    # nothing listens on these ports: every session ends at the liveness limit
    client = BrokerClient(f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}", "agent", "a1",
                          on_status=on_status, liveness_s=0.05, heartbeat_s=0.02).start()
    try:
        assert three.wait(10), f"only {details} within 10 s"
    finally:
        client.stop()
    assert details[:3] == ["retrying after 0.02 s", "retrying after 0.04 s", "retrying after 0.04 s"]
