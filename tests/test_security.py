"""Issue 7 over real sockets: CurveZMQ with enrolled keys, key management, safe
binding, and the per-client limits.

Every Curve broker here is the production ``BrokerApp`` (pyzmq's ZAP
authenticator, the enrolment file) on loopback, with certificates generated
into ``tmp_path`` the way ``grabdesk keys`` writes them.
"""
from __future__ import annotations

import logging
import os
import stat
import threading
import time

import pytest
import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

from broker.wire import protocol as p
from broker.service.app import BrokerApp, StartupError, check_binding
from broker.wire.client import BrokerClient, BrokerRefused, CurveKeys
from broker.service.keys import ENROLLED_FILE, RELOAD_EVERY_S, revoke
from tools.bench.curve_setup import make_keys
from grabdesk.cli import main as grabdesk_main

from helpers import BrokerHandle, agent_spec, loopback_config, wait_until

pytestmark = pytest.mark.skipif(not zmq.has("curve"), reason="libzmq without CurveZMQ")


# --------------------------------------------------------------------------- helpers

def keys_of(t: tuple[bytes, bytes, bytes]) -> CurveKeys:
    return CurveKeys(server_public=t[0], public=t[1], secret=t[2])


class CurveFloor:
    """A Curve broker (BrokerApp on a thread), its keys folder, and clients that clean up."""

    def __init__(self, tmp_path, agents: int = 3, **fields):
        self.keys_dir = tmp_path / "keys"
        self.setup = make_keys(self.keys_dir, agents, extra={"boss": ("supervisor", "boss")})
        config = loopback_config(tmp_path, curve=True, keys_dir=str(self.keys_dir), **fields)
        app = BrokerApp(config)
        thread = threading.Thread(target=app.server.run, name="curve-broker", daemon=True)
        thread.start()
        assert app.server.ready.wait(10) and not app.server.stopped.is_set(), "broker did not start"
        self.handle = BrokerHandle(app.server, thread)
        self.server = app.server
        self.admin = self.client("admin", "bench", self.setup["admin"])

    def client(self, role: str, who: str, key: tuple, **kwargs) -> BrokerClient:
        kwargs.setdefault("follow", False)
        return self.handle.client(role, who, curve=keys_of(key), **kwargs)

    def agent(self, who: str, **kwargs) -> BrokerClient:
        return self.client("agent", who, self.setup["agent"][who], **kwargs)

    def define(self, *agents: str) -> None:
        self.admin.call(p.DefineShop, shop=p.ShopRecord(id="s1"))
        self.admin.call(p.DefineAgents, agents=[agent_spec(a) for a in agents])
        for a in agents:
            self.admin.call(p.SetStatus, status="online", agent=a)

    def submit(self, *ids: str) -> None:
        intake = self.client("intake", "bench-intake", self.setup["intake"])
        reply = intake.call(p.Submit, inquiries=[p.NewInquiry(id=i, shop="s1", skill="pre_sales") for i in ids])
        assert reply.accepted == len(ids)

    def audit(self, **query) -> list[p.AuditEntry]:
        return self.admin.call(p.QueryAudit, limit=500, **query).entries

    def stop(self) -> None:
        self.handle.stop()


@pytest.fixture
def curve_floor(tmp_path):
    floors: list[CurveFloor] = []

    def make(**kwargs) -> CurveFloor:
        floor = CurveFloor(tmp_path, **kwargs)
        floors.append(floor)
        return floor

    yield make
    for floor in floors:
        if floor.handle.thread.is_alive():
            floor.stop()


def fresh_key(server_public: bytes) -> CurveKeys:
    public, secret = zmq.curve_keypair()
    return CurveKeys(server_public=server_public, public=public, secret=secret)


# --------------------------------------------------------------------------- Curve: who may connect

def test_enrolled_agent_connects_follows_and_grabs(curve_floor):
    floor = curve_floor()
    floor.define("a0000")
    floor.submit("q1")
    from broker.wire.mirror import Mirror

    mirror = Mirror()
    agent = floor.agent("a0000", follow=True, on_reset=mirror.reset, on_events=mirror.apply)
    assert agent.wait_live(10), agent.status  # the event socket is a Curve server too
    assert "q1" in mirror.inquiries
    verdict = agent.call(p.Grab, grab_id="g1", inquiry="q1")
    assert verdict.outcome == "won" and verdict.winner == "a0000"
    wait_until(lambda: mirror.inquiries["q1"].owner == "a0000", message="the win never reached the mirror")
    assert floor.server.service.counters["connections_refused"] == 0


def test_unenrolled_key_gets_nothing_and_the_refusal_is_audited(curve_floor):
    floor = curve_floor()
    floor.define("a0000")
    stranger_key = fresh_key(floor.setup["server_public"])
    stranger = floor.handle.client("agent", "a0000", curve=stranger_key, follow=True)
    wait_until(lambda: "refused" in stranger.status.detail, 10,
               message=f"the client never said it was refused: {stranger.status}")
    assert "not enrolled" in stranger.status.detail
    with pytest.raises((TimeoutError, ConnectionError)):
        stranger.call(p.Hello, timeout_s=1.0)
    assert stranger.status.state != "live"  # no snapshot, no events either

    key_prefix = stranger_key.public.decode()[:8]
    wait_until(lambda: any(e.kind == "connect" and not e.ok and e.subject.startswith(key_prefix)
                           for e in floor.audit(only_refusals=True)), 10,
               message="the refused connection is not in the audit journal")
    entry = next(e for e in floor.audit(only_refusals=True) if e.kind == "connect")
    assert "not enrolled" in entry.reason
    assert stranger_key.secret.decode() not in repr(floor.audit())


def test_revoked_key_is_refused_on_its_next_command_and_its_next_connection(curve_floor):
    floor = curve_floor()
    floor.define("a0000", "a0001")
    floor.submit("q1", "q2")
    agent = floor.agent("a0001")
    assert agent.call(p.Grab, grab_id="g1", inquiry="q1").outcome == "won"

    revoke(floor.keys_dir, who="a0001")
    t_revoked = time.monotonic()
    refusal: list[BrokerRefused] = []

    def refused_now() -> bool:
        try:
            # within RELOAD_EVERY_S the old enrolment may still answer: ask about nothing real
            agent.call(p.Grab, grab_id=f"g-{time.monotonic_ns()}", inquiry="nope", timeout_s=2.0)
        except BrokerRefused as exc:
            refusal.append(exc)
            return True
        return False

    wait_until(refused_now, 5, interval_s=0.05, message="the revoked key's commands are still served")
    assert time.monotonic() - t_revoked < RELOAD_EVERY_S + 1.5
    assert refusal[0].code == p.ErrorCode.UNAUTHENTICATED and "revoked" in refusal[0].reason
    with pytest.raises(BrokerRefused, match="revoked"):
        agent.call(p.Grab, grab_id="g-after", inquiry="q2")
    assert floor.server.core.inquiries["q2"].state == "queued"
    wait_until(lambda: any(e.actor == "a0001" and not e.ok and "revoked" in e.reason
                           for e in floor.audit(only_refusals=True)), 5,
               message="the revoked key's refused command is not audited")

    again = floor.agent("a0001")  # a reconnection with the same key
    wait_until(lambda: "refused" in again.status.detail, 10, message=f"reconnection not refused: {again.status}")
    with pytest.raises((TimeoutError, ConnectionError)):
        again.call(p.Hello, timeout_s=1.0)
    # the others are untouched
    assert floor.agent("a0000").call(p.Grab, grab_id="g2", inquiry="q2").outcome == "won"


def test_agent_key_claiming_another_identity_is_refused_and_audited(curve_floor):
    floor = curve_floor()
    floor.define("a0000", "a0001")
    floor.submit("q1")
    mallory = floor.agent("a0000")
    claims = [
        p.Grab(v=1, id="m1", role="agent", who="a0001", grab_id="m1", inquiry="q1"),
        p.SetQuotas(v=1, id="m2", role="supervisor", who="boss", agent="a0001",
                    quotas=p.Quotas(concurrent_cap=0), reason="mallory"),
        p.Reassign(v=1, id="m3", role="supervisor", who="boss", inquiry="q1", to_agent="a0000"),
        p.Shutdown(v=1, id="m4", role="admin", who="bench", reason="mallory"),
    ]
    for cmd in claims:
        with pytest.raises(BrokerRefused) as refused:
            mallory.request(cmd).result(5)
        assert refused.value.code == p.ErrorCode.UNAUTHENTICATED
        assert "enrolled as agent a0000" in refused.value.reason
    assert floor.server.core.inquiries["q1"].state == "queued"
    assert floor.server.core.agents["a0001"].quotas.concurrent_cap is None
    assert floor.handle.thread.is_alive()

    def audited() -> set[str]:
        return {e.kind for e in floor.audit(only_refusals=True)
                if not e.ok and "enrolled as agent a0000" in e.reason}

    wait_until(lambda: audited() >= {"grab", "set_quotas", "reassign", "shutdown"}, 5,
               message=f"impersonation not audited: {audited()}")
    # the real supervisor's key may do what mallory may not, and that is audited too
    boss = floor.client("supervisor", "boss", floor.setup["extra"]["boss"])
    boss.call(p.SetQuotas, agent="a0001", quotas=p.Quotas(concurrent_cap=2), reason="evening")
    wait_until(lambda: any(e.actor == "boss" and e.ok and e.kind == "set_quotas" for e in floor.audit()), 5)


# --------------------------------------------------------------------------- grabdesk keys

def test_keys_cli_round_trip_private_files_and_no_secret_printed(tmp_path, capsys):
    old_umask = os.umask(0o022)  # a permissive umask must not leak into the key files
    try:
        keys = tmp_path / "keys"

        def keys_cli(*args) -> tuple[int, str]:
            code = grabdesk_main(["keys", "--dir", str(keys), *args])
            out = capsys.readouterr()
            return code, out.out + out.err

        code, out = keys_cli("init")
        assert code == 0 and "broker.key" in out
        code, out = keys_cli("init")
        assert code == 2 and "already exists" in out  # never silently replaced
        code, out = keys_cli("new", "alice")
        assert code == 0
        alice_pub, alice_sec = keys / "clients" / "alice.key", keys / "clients" / "alice.key_secret"
        code, out = keys_cli("enrol", str(alice_pub), "--role", "agent", "--who", "a0042")
        assert code == 0 and "enrolled agent a0042" in out
        code, out = keys_cli("enrol", str(alice_pub), "--role", "supervisor", "--who", "alice")
        assert code == 2 and "already enrolled" in out  # one key, one identity
        code, listing = keys_cli("list")
        assert code == 0 and "a0042" in listing and "agent" in listing

        for directory in (keys, keys / "clients"):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        for secret_file in (keys / "broker.key_secret", alice_sec, keys / ENROLLED_FILE):
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600, secret_file
        _, broker_secret = zmq.auth.load_certificate(str(keys / "broker.key_secret"))
        _, alice_secret = zmq.auth.load_certificate(str(alice_sec))
        everything = out + listing

        code, out = keys_cli("revoke", "--who", "a0042")
        assert code == 0 and "revoked agent a0042" in out
        code, listing = keys_cli("list")
        assert code == 0 and "a0042" not in listing and "nobody is enrolled" in listing
        code, out = keys_cli("revoke", "--who", "a0042")
        assert code == 2 and "nothing enrolled" in out
        everything += out + listing
        for secret in (broker_secret, alice_secret):
            assert secret.decode() not in everything
    finally:
        os.umask(old_umask)


# --------------------------------------------------------------------------- safe binding

@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5570", "tcp://*:5570", "tcp://192.0.2.7:5570"])
def test_binding_beyond_loopback_without_curve_is_refused_unless_insecure_is_explicit(tmp_path, endpoint, caplog):
    config = loopback_config(tmp_path, command_endpoint=endpoint)
    with pytest.raises(StartupError) as refused:
        check_binding(config)
    message = str(refused.value)
    assert "without CurveZMQ" in message and "--allow-insecure-bind" in message and "--curve" in message

    config.broker.allow_insecure_bind = True
    with caplog.at_level("WARNING"):
        check_binding(config)
    assert "INSECURE" in caplog.text

    curve_config = loopback_config(tmp_path, command_endpoint=endpoint, curve=True, keys_dir=str(tmp_path))
    check_binding(curve_config)  # with Curve any address is fine


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:5570", "tcp://localhost:5570", "tcp://[::1]:5570",
                                      "ipc:///tmp/grabdesk.sock", "inproc://x"])
def test_loopback_binding_needs_no_keys(tmp_path, endpoint):
    check_binding(loopback_config(tmp_path, command_endpoint=endpoint))


def test_broker_command_line_refuses_an_open_bind_with_a_clear_message(tmp_path, capsys):
    root = logging.getLogger()
    level = root.level  # the broker command sets the root level for a service's logs
    try:
        code = grabdesk_main(["broker", "--db", str(tmp_path / "b.db"), "--command-endpoint", "tcp://0.0.0.0:0",
                              "--events-endpoint", "tcp://127.0.0.1:0"])
    finally:
        root.setLevel(level)
    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to listen on tcp://0.0.0.0:0 without CurveZMQ" in err and "--allow-insecure-bind" in err


def test_curve_without_a_broker_key_pair_says_how_to_make_one(tmp_path):
    config = loopback_config(tmp_path, curve=True, keys_dir=str(tmp_path / "nokeys"))
    with pytest.raises(StartupError, match="grabdesk keys init"):
        BrokerApp(config)


# --------------------------------------------------------------------------- limits

def _raw(endpoint: str, ctx: zmq.Context) -> zmq.Socket:
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    return s


def _replies(sock: zmq.Socket, n: int, timeout_s: float = 10.0) -> list:
    out = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < deadline:
        if sock.poll(50):
            out.append(p.decode_reply(sock.recv()))
    return out


def _cmd(cls, who: str, msg_id: str, role: str = "agent", **fields) -> bytes:
    return p.encode(cls(v=p.PROTOCOL_VERSION, id=msg_id, role=role, who=who, **fields))


@pytest.fixture
def zctx():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def test_too_many_pending_requests_are_refused_with_a_code(start_broker, zctx):
    broker = start_broker(max_pending_per_client=2)
    sock = _raw(broker.server.command_endpoint, zctx)

    def burst() -> bool:
        ids = [f"h{time.monotonic_ns()}-{i}" for i in range(200)]
        for msg_id in ids:
            sock.send(_cmd(p.Heartbeat, "nobody", msg_id, role="intake"))
        replies = _replies(sock, len(ids))
        assert len(replies) == len(ids), "every request gets an answer, refused or not"
        refused = [r for r in replies if isinstance(r, p.Error) and r.code == p.ErrorCode.TOO_MANY_PENDING]
        assert len(refused) + sum(isinstance(r, p.Ok) for r in replies) == len(ids)
        if refused:
            assert "limit 2" in refused[0].reason
        return bool(refused)

    wait_until(burst, 10, message="200 pipelined requests never exceeded a pending limit of 2")
    # a client that waits for its answers is served normally again
    sock.send(_cmd(p.Heartbeat, "nobody", "after", role="intake"))
    assert isinstance(_replies(sock, 1)[0], p.Ok)


def test_grab_flood_is_rate_limited_per_agent(start_broker, zctx):
    broker = start_broker(grab_rate_per_s=5.0)
    broker.define(agents=[agent_spec("a1"), agent_spec("a2")])
    broker.online("a1", "a2")
    sock = _raw(broker.server.command_endpoint, zctx)
    for i in range(40):
        sock.send(_cmd(p.Grab, "a1", f"g{i}", grab_id=f"g{i}", inquiry="nope"))
    replies = _replies(sock, 40)
    limited = [r for r in replies if isinstance(r, p.Error) and r.code == p.ErrorCode.RATE_LIMITED]
    decided = [r for r in replies if isinstance(r, p.Verdict)]
    assert len(replies) == 40
    assert limited and limited[0].detail.get("limit") == 5.0
    assert 10 <= len(decided) <= 14  # a burst of twice the rate, and what refilled meanwhile
    # another agent's budget is its own
    other = broker.client("agent", "a2")
    assert other.call(p.Grab, grab_id="x", inquiry="nope").outcome == "refused"
    # and a1's refills over time

    def a1_served() -> bool:
        sock.send(_cmd(p.Grab, "a1", f"late{time.monotonic_ns()}", grab_id=f"late{time.monotonic_ns()}",
                       inquiry="nope"))
        return isinstance(_replies(sock, 1)[0], p.Verdict)

    wait_until(a1_served, 5, interval_s=0.1, message="the rate limit never refilled")


def test_oversized_frames_get_too_large_and_frames_beyond_the_cap_drop_only_that_connection(start_broker, zctx):
    limit = 4096
    broker = start_broker(max_command_bytes=limit)
    endpoint = broker.server.command_endpoint
    bystander = broker.client("intake", "gateway")
    sock = _raw(endpoint, zctx)
    sock.send(b"\x80" + b"x" * (2 * limit))  # over the limit, under the 4x cap
    reply = _replies(sock, 1)[0]
    assert isinstance(reply, p.Error) and reply.code == p.ErrorCode.TOO_LARGE
    assert reply.detail["limit"] == limit and reply.detail["size"] == 2 * limit + 1

    huge = zctx.socket(zmq.DEALER)
    huge.setsockopt(zmq.LINGER, 0)
    monitor = huge.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
    huge.connect(endpoint)
    huge.send(b"x" * (4 * limit + 4096 + 1))
    events = []
    deadline = time.monotonic() + 10
    while zmq.EVENT_DISCONNECTED not in events and time.monotonic() < deadline:
        if monitor.poll(50):
            events.append(recv_monitor_message(monitor)["event"])
    assert zmq.EVENT_DISCONNECTED in events, "the broker kept a connection that sent a frame beyond the cap"
    assert not huge.poll(100)  # and never answered it
    huge.disable_monitor()
    monitor.close(0)

    # the broker keeps serving: the bystander, the polite raw socket, and the offender once it reconnects
    assert isinstance(bystander.call(p.Hello), p.Welcome)
    sock.send(_cmd(p.Hello, "gateway", "h1", role="intake"))
    assert isinstance(_replies(sock, 1)[0], p.Welcome)
    huge.send(_cmd(p.Hello, "gateway", "h2", role="intake"))
    assert isinstance(_replies(huge, 1)[0], p.Welcome)
    huge.close(0)
    assert broker.server.service.counters["refused.too-large"] == 1
