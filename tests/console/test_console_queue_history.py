"""A console opened mid-evening draws the evening so far: the broker keeps the queue's recent past."""
from __future__ import annotations

import math

from broker.wire import protocol as p
from supervisor.console.history import QueueHistory

from helpers import agent_spec, wait_until
from console_helpers import DEADLINE_MS, floor, submit


def test_earlier_samples_go_before_the_consoles_own():
    history = QueueHistory(capacity=10)
    history.append(100.0, {"pre_sales": 5}, {"pre_sales": 30.0})
    history.append(101.0, None)
    history.prepend([(90.0, {"pre_sales": 2}, {"pre_sales": 10.0}), (95.0, {"after_sales": 1}, {}),
                     (100.0, {"pre_sales": 9}, {})])  # the last is not earlier: dropped
    assert list(history.times()) == [90.0, 95.0, 100.0, 101.0]
    assert list(history.depth("pre_sales")[:3]) == [2.0, 0.0, 5.0]
    assert math.isnan(history.depth("pre_sales")[3]), "a gap stays a gap"
    assert history.wait("pre_sales")[2] == 30.0


def test_a_console_opened_later_starts_with_the_queues_past(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    submit(broker, "q1", "q2", "q3")
    admin = broker.admin
    wait_until(lambda: len(admin.call(p.QueryQueueHistory).samples) >= 2, 10,
               message="the broker kept no queue samples")
    before = admin.call(p.QueryQueueHistory).samples
    assert before[-1].depth == {"pre_sales": 3}
    window = open_console(broker)
    history = window.state.history
    qtbot.waitUntil(lambda: len(history) >= len(before), timeout=DEADLINE_MS)
    times = list(history.times())
    assert times[0] <= before[0].at and times == sorted(times)
    assert history.depth("pre_sales")[0] == before[0].depth.get("pre_sales", 0)
