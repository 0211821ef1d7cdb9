"""The robot first line on a real broker: the robot service as a client, a robot
process killed with kill -9, hostile messages, a robot acting out of turn, and
transcripts that survive a restart. Real broker, real SQLite, real sockets."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from robot.decide import Robot
from robot.service import RobotService

from helpers import agent_spec, stable, wait_until

ROOT = Path(__file__).resolve().parents[2]
#: a knowledge-base shop, with the robot on
SHOP = p.ShopRecord(id="tmall-flagship", robot=True)
#: an order of assets/robot/orders.csv and its customer
ORDER, CUSTOMER = "383131075115634477", "cust-488344"


@pytest.fixture(scope="module")
def robot() -> Robot:
    return Robot.from_directory()


@pytest.fixture
def floor(start_broker):
    broker = start_broker(robot_timeout_s=2.0, robot_await_s=600.0)
    broker.define(shops=(SHOP,), agents=[agent_spec("a1", skills=("pre_sales", "after_sales", "logistics",
                                                                    "complaint"))])
    return broker


def serve(broker, robot, who="r1") -> RobotService:
    service = RobotService(robot, broker.server.command_endpoint, broker.server.events_endpoint, who,
                           report_every_s=0.2).start()
    wait_until(lambda: who in broker.core.robots and broker.core.robots[who].connected, 10,
               message=f"robot {who} never connected")
    return service


def raw_command(broker, cmd: p.Command, old: bytes, new: bytes) -> list:
    """Send ``cmd`` encoded with ``old`` bytes replaced by ``new``; return the replies."""
    import zmq

    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    try:
        sock.connect(broker.server.command_endpoint)
        sock.send(p.encode(cmd).replace(old, new))
        assert sock.poll(10_000), "no reply to a malformed frame"
        return [p.decode_reply(sock.recv())]
    finally:
        sock.close(linger=0)


def inquiry(inquiry_id: str, message: str, **fields) -> p.NewInquiry:
    return p.NewInquiry(id=inquiry_id, shop=SHOP.id, message=message, **fields)


def test_the_robot_answers_simple_questions_and_escalates_the_rest_with_its_context(floor, robot):
    service = serve(floor, robot)
    try:
        _client, mirror = floor.follow("boss")
        arrived = time.time() - 30.0
        floor.submit(inquiry("q-order", f"我的订单{ORDER}到哪了", customer=CUSTOMER),
                     inquiry("q-angry", "你们太过分了，我要投诉，给差评！", arrived_at=arrived))
        wait_until(lambda: (i := mirror.inquiries.get("q-angry")) is not None and i.state == "queued", 10,
                   message="the complaint never reached the pool")
        angry = mirror.inquiries["q-angry"]
        assert (angry.skill, angry.escalation, angry.arrived_at) == ("complaint", "complaint", arrived)
        assert angry.priority > 0
        wait_until(lambda: (i := mirror.inquiries.get("q-order")) is not None and i.robot_answered_at, 10,
                   message="the order question was never answered")
        answered = mirror.inquiries["q-order"]
        assert answered.state == "robot" and answered.first_response_at is not None
        reply = floor.admin.call(p.QueryTranscript, inquiry="q-order")
        assert [line.who for line in reply.transcript.lines] == ["customer", "robot"]
        assert ORDER in reply.transcript.lines[0].text
        # the customer says it did not help: back to the robot, which hands it over
        floor.admin.call(p.CustomerMessage, inquiry="q-order", text="没用，还是没收到，转人工")
        wait_until(lambda: mirror.inquiries["q-order"].state == "queued", 10,
                   message="the unhappy customer never reached a person")
        assert mirror.inquiries["q-order"].escalation in ("human-request", "not-helped", "complaint")
        wait_until(lambda: floor.core.robots["r1"].decided >= 3, 10, message="the robot never reported")
        assert service.snapshot().errors == 0
    finally:
        service.stop()


def test_a_robot_killed_with_kill_9_strands_nothing(floor):
    """SIGSTOP first, so the inquiries reach the robot and stay with it; then kill -9."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "grabdesk", "robot", "serve", "--who", "r-doomed",
                             "--command-endpoint", floor.server.command_endpoint,
                             "--events-endpoint", floor.server.events_endpoint],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: "r-doomed" in floor.core.robots and floor.core.robots["r-doomed"].connected, 60,
                   0.05, "the robot process never connected")
        _client, mirror = floor.follow("boss")
        proc.send_signal(signal.SIGSTOP)
        now = time.time()
        arrivals = {f"k{n}": now - 60.0 - n for n in range(8)}
        floor.submit(*(inquiry(i, "怎么退货？", arrived_at=at) for i, at in arrivals.items()))
        held = stable(lambda: {i for i, inq in floor.core.inquiries.items() if inq.state == "robot"})
        assert held == set(arrivals), "the stopped robot's lease was still live: it must hold them"
        proc.kill()
        proc.wait(10)
        wait_until(lambda: all((i := mirror.inquiries.get(k)) is not None and i.state == "queued"
                               for k in arrivals), 15, 0.05, "inquiries stranded with a dead robot")
        for inquiry_id, arrived in arrivals.items():
            inq = mirror.inquiries[inquiry_id]
            assert inq.arrived_at == arrived and inq.escalation == "robot-timeout"
            assert inq.first_response_due == arrived + 600.0  # the SLA clock counts from arrival
        wait_until(lambda: not floor.core.robots["r-doomed"].connected, 10, 0.05,
                   "the dead robot still counts as connected")
        floor.submit(inquiry("k-after", "怎么退货？"))  # no robot left: straight to people
        assert floor.core.inquiries["k-after"].state == "queued"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_hostile_and_malformed_messages_escalate_or_are_refused_and_the_robot_goes_on(floor, robot):
    service = serve(floor, robot)
    try:
        _client, mirror = floor.follow("boss")
        hostile = {
            "h-huge": "退货" * 100_000,
            "h-binary": "\x00\x01\x02\ufffd\ufffd\x7f" * 20,
            "h-mixed": "Где мой заказ 我的订单 where مرحبا",
            "h-script": "<script>alert(1)</script>'; DROP TABLE inquiries; --",
            "h-unknown-order": "我的订单999999999999999999到哪了",
        }
        floor.submit(*(inquiry(i, text, customer=CUSTOMER) for i, text in hostile.items()))
        floor.submit(inquiry("h-empty", ""))  # nothing to read: straight to people
        assert floor.core.inquiries["h-empty"].state == "queued"

        def decided(i):
            inq = mirror.inquiries.get(i)
            return inq is not None and (inq.state == "queued" or inq.robot_answered_at is not None)

        wait_until(lambda: all(decided(i) for i in hostile), 15, message="a hostile message was never decided")
        for inquiry_id in ("h-huge", "h-binary", "h-unknown-order"):
            assert mirror.inquiries[inquiry_id].state == "queued", inquiry_id
        assert mirror.inquiries["h-unknown-order"].escalation == "order-not-found"
        huge = floor.admin.call(p.QueryTranscript, inquiry="h-huge").transcript
        assert len(huge.lines[0].text) <= 4_000 and huge.lines[0].text.endswith("[…]")
        with pytest.raises(BrokerRefused) as empty:
            floor.admin.call(p.CustomerMessage, inquiry="h-empty", text="  ")
        assert empty.value.code == p.ErrorCode.BAD_REQUEST
        # a message that is not even valid UTF-8 gets a clear error, and the broker goes on
        [reply] = raw_command(floor, p.CustomerMessage(v=p.PROTOCOL_VERSION, id="bad-utf8", role="intake",
                                                       who="gw", inquiry="h-empty", text="XXXX"),
                              b"XXXX", b"\xff\xfe\xfd\xfc")
        assert isinstance(reply, p.Error) and reply.code == p.ErrorCode.BAD_REQUEST and reply.re == ""
        assert floor.admin.call(p.Heartbeat)
        assert service.client.status.state == "live"
    finally:
        service.stop()
    assert service.snapshot().errors == 0


def test_a_robot_answering_an_inquiry_it_does_not_hold_gets_a_clear_error(floor):
    floor.admin  # noqa: B018 (connect the admin first)
    rogue = floor.client("robot", "rogue")
    rogue.call(p.Heartbeat)  # connects it: new inquiries may go to it or to r-other
    other = floor.client("robot", "r-other")
    other.call(p.Heartbeat)
    floor.submit(inquiry("x1", "发票怎么开"))
    holder = floor.core.inquiries["x1"].robot
    stranger = other if holder == "rogue" else rogue
    with pytest.raises(BrokerRefused) as refused:
        stranger.call(p.RobotAnswer, inquiry="x1", text="hello")
    assert refused.value.code == p.ErrorCode.FORBIDDEN and refused.value.key == "robot.not_held"
    with pytest.raises(BrokerRefused) as unknown:
        stranger.call(p.RobotEscalate, inquiry="nope", skill="complaint", reason="complaint")
    assert unknown.value.code == p.ErrorCode.NOT_FOUND
    agent = floor.client("agent", "a1")
    with pytest.raises(BrokerRefused) as not_a_robot:
        agent.call(p.RobotAnswer, inquiry="x1", text="hello")
    assert not_a_robot.value.code == p.ErrorCode.FORBIDDEN
    assert floor.core.inquiries["x1"].state == "robot"


def test_transcripts_survive_a_restart_and_stay_readable_after_closing(start_broker, tmp_path):
    broker = start_broker(robot_timeout_s=60.0)
    broker.define(shops=(SHOP,), agents=[agent_spec("a1")])
    robot_client = broker.client("robot", "r1")
    robot_client.call(p.Heartbeat)
    broker.submit(inquiry("t1", "怎么开发票"), inquiry("t2", "怎么退货"))
    robot_client.call(p.RobotAnswer, inquiry="t2", text="请在订单页申请退货")
    broker.stop()
    again = start_broker(robot_timeout_s=60.0)
    assert again.core.inquiries["t1"].state == "robot" and again.core.inquiries["t2"].robot_answered_at
    lines = again.admin.call(p.QueryTranscript, inquiry="t2").transcript.lines
    assert [(line.who, line.text) for line in lines] == [("customer", "怎么退货"), ("robot", "请在订单页申请退货")]
    again.admin.call(p.Abandon, inquiry="t2")
    closed = again.admin.call(p.QueryTranscript, inquiry="t2").transcript
    assert closed.lines[-1].text == "请在订单页申请退货"
    with pytest.raises(BrokerRefused) as none:
        again.admin.call(p.QueryTranscript, inquiry="never")
    assert none.value.code == p.ErrorCode.NOT_FOUND
