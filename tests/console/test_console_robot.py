"""The console's robot first line panel: contained and escalated per hour and skill, the
containment rate and each robot's state, from the broker's metrics and robot records.
Also: coverage and staffing count only the demand that reached people."""
from __future__ import annotations

import time

from broker.staffing import reports
from broker.wire import protocol as p

from helpers import agent_spec, wait_until
from console_helpers import DEADLINE_MS


def test_the_console_shows_containment_and_the_robots_state(start_broker, open_console, qtbot):
    broker = start_broker(robot_await_s=0.5)
    broker.define(shops=(p.ShopRecord(id="s1", robot=True),), agents=[agent_spec("a1")])
    robot = broker.client("robot", "r1")
    robot.call(p.Heartbeat)
    window = open_console(broker)
    broker.submit(p.NewInquiry(id="easy", shop="s1", message="怎么开发票"),
                  p.NewInquiry(id="hard", shop="s1", message="我要投诉"))
    robot.call(p.RobotAnswer, inquiry="easy", text="在订单页申请发票即可", skill="after_sales")
    robot.call(p.RobotEscalate, inquiry="hard", skill="complaint", reason="complaint", priority_bump=2)
    robot.call(p.RobotReport, decided=2, errors=1, last_error="inquiry x: the broker refused")
    wait_until(lambda: "easy" not in broker.core.inquiries, 10, message="the answered inquiry never resolved")
    panel = window.robot
    qtbot.waitUntil(lambda: "containment 50%" in panel.summary.text(), timeout=DEADLINE_MS)
    metrics = window.state.mirror.metrics
    assert (metrics.robot_contained_today, metrics.robot_escalated_today) == (1, 1)
    assert metrics.robot_by_skill == {"after_sales": (1, 0), "complaint": (0, 1)}
    cells = {panel.table.item(r, 0).text(): [panel.table.item(r, c).text() for c in (1, 2, 3)]
             for r in range(panel.table.rowCount())}
    assert cells == {"after_sales": ["1", "0", "100%"], "complaint": ["0", "1", "0%"]}
    assert "r1: answering, 2 decided, 1 errors" in panel.robots.text()
    assert "the broker refused" in panel.robots.text()
    # staffing forecasts from the arrivals that reached people: the escalated one, not the contained
    arrivals = reports.hourly_arrivals(broker.server.store, time.time() - 3600)
    assert sum(arrivals.values()) == 1 and [skill for (_h, skill) in arrivals] == ["complaint"]
