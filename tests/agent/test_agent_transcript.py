"""An inquiry the robot escalated reaches the agent window with what the customer wrote,
the robot's reason and the skill it inferred, and its SLA timer counting from arrival."""
from __future__ import annotations

import time

import pytest

from broker.wire import protocol as p

from helpers import agent_spec
from agent_helpers import DEADLINE_MS

pytestmark = pytest.mark.usefixtures("isolated_settings")

WAITED_S = 120.0


def test_an_escalated_inquiry_carries_transcript_reason_and_skill_to_the_agent(broker, open_window, qtbot):
    broker.define(shops=(p.ShopRecord(id="s1", robot=True),), agents=[agent_spec("a1", skills=("complaint",))])
    broker.online("a1")
    robot = broker.client("robot", "r1")
    robot.call(p.Heartbeat)  # a robot is connected: new inquiries of s1 go to it first
    window = open_window(broker, "a1")
    arrived = time.time() - WAITED_S
    broker.submit(p.NewInquiry(id="q1", shop="s1", message="快递三天没动了，我要投诉！", arrived_at=arrived))
    assert broker.core.inquiries["q1"].state == "robot"
    qtbot.wait(50)
    assert "q1" not in window.desk.pool, "an inquiry with the robot is not the agents' yet"
    robot.call(p.RobotEscalate, inquiry="q1", skill="complaint", reason="complaint", priority_bump=2,
               note="非常抱歉，已为您转接投诉专员")
    qtbot.waitUntil(lambda: "q1" in window.desk.pool, timeout=DEADLINE_MS)
    inq = window.desk.mirror.inquiries["q1"]
    assert (inq.skill, inq.escalation, inq.arrived_at) == ("complaint", "complaint", arrived)
    # the SLA timer counts from arrival: two of the ten minutes are gone already
    remaining = window.desk.pool_sla(inq).remaining_s
    assert 600.0 - WAITED_S - 30.0 < remaining <= 600.0 - WAITED_S
    assert window.desk.wait_s(inq) >= WAITED_S
    window.grab_inquiry("q1")
    qtbot.waitUntil(lambda: "q1" in window.desk.mine and window.desk.grab is None, timeout=DEADLINE_MS)
    window.mine_panel.select("q1")
    panel = window.transcript_panel
    qtbot.waitUntil(lambda: "投诉专员" in panel.text.toPlainText(), timeout=DEADLINE_MS)
    lines = panel.text.toPlainText().splitlines()
    assert "Customer: 快递三天没动了，我要投诉！" in lines[0] and "Robot: 非常抱歉" in lines[1]
    assert panel.escalation.isVisible()
    assert "complaint" in panel.escalation.text() and "Handed over by the robot" in panel.escalation.text()


def test_an_inquiry_without_a_transcript_says_so(broker, open_window, qtbot):
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    window = open_window(broker, "a1")
    broker.submit(p.NewInquiry(id="q2", shop="s1", skill="pre_sales"))
    qtbot.waitUntil(lambda: "q2" in window.desk.pool, timeout=DEADLINE_MS)
    window.grab_inquiry("q2")
    qtbot.waitUntil(lambda: "q2" in window.desk.mine, timeout=DEADLINE_MS)
    window.mine_panel.select("q2")
    qtbot.waitUntil(lambda: "nothing the broker kept" in window.transcript_panel.text.toPlainText(),
                    timeout=DEADLINE_MS)
    assert not window.transcript_panel.escalation.isVisible()
