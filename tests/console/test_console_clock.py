"""The console shows the broker's time: on a scaled floor clock, not its own."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

from supervisor.common.link import BrokerLink
from supervisor.console.settings import ConsoleSettings
from supervisor.console.text import fmt_clock
from supervisor.console.window import MainWindow

from console_helpers import DEADLINE_MS

#: six hours from now, so the floor's time of day can never be mistaken for the wall clock's
START = (datetime.now(timezone.utc) + timedelta(hours=6)).isoformat()


def test_the_header_and_waits_follow_the_brokers_scaled_clock(start_broker, qtbot, isolated_settings):
    broker = start_broker(time_scale=60.0, start=START)
    broker.define()
    settings = ConsoleSettings(command_endpoint=broker.server.command_endpoint,
                               events_endpoint=broker.server.events_endpoint, who="boss")
    link = BrokerLink(settings.link_settings(), "supervisor", "boss", name="test-console")
    window = MainWindow(link, settings, restore_layout=False)
    qtbot.addWidget(window)
    try:
        link.start()
        window.show()
        qtbot.waitUntil(lambda: link.live and not window.stale, timeout=DEADLINE_MS)
        # the floor runs from START at 60x: far from this machine's wall clock
        assert abs(window.state.clock() - broker.server.clock()) < 30
        assert abs(window.state.clock() - time.time()) > 3600
        window.refresh()
        qtbot.waitUntil(lambda: "(×60)" in window.chart.summary.text(), timeout=DEADLINE_MS)
        shown = re.search(r"<b>(\d\d:\d\d:\d\d)</b> \(×60\)", window.chart.summary.text())
        assert shown, window.chart.summary.text()
        # what the header says is the broker's time (within the few floor minutes the test took)
        assert shown.group(1) in {fmt_clock(broker.server.clock() - s) for s in range(0, 600)}
        assert shown.group(1) not in {fmt_clock(time.time() - s) for s in range(0, 600)}
    finally:
        window.close()
        link.stop()
