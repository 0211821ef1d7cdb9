"""The same broker record reads the same in the console and in the agent window."""
from __future__ import annotations

from broker.wire import protocol as p
from broker.wire.mirror import Mirror
from supervisor.agentwin.panels import MePanel
from supervisor.agentwin.state import me_view
from supervisor.console.models import AgentModel
from supervisor.console.state import ConsoleState

NOW = 1_795_000_000.0


def test_service_time_and_its_limit_read_the_same_in_both_windows(qtbot):
    for served_s, text in ((52, "0:52 / 4:00:00"), (8 * 60, "8:00 / 4:00:00"), (3725, "1:02:05 / 4:00:00")):
        agent = p.AgentRecord(id="a1", status="online", service_since=NOW - served_s,
                              effective=p.Quotas(concurrent_cap=5, continuous_hours=4.0))
        mirror = Mirror()
        mirror.reset([agent], p.SnapshotEnd(re="x", epoch="e", seq=1, streams={}, now=NOW, records=1))
        console = AgentModel(ConsoleState(mirror, clock=lambda: NOW))
        assert console.index(0, console.column_of("service")).data() == text
        panel = MePanel()
        qtbot.addWidget(panel)
        panel.render(me_view(agent, NOW), "a1", 0.0)
        assert panel.service_label.text() == f"Service {text}"
