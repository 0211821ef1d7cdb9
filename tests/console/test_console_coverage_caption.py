"""Coverage says when its cells were computed, so a cell that moves is not a mystery."""
from __future__ import annotations

import time

from broker.wire import protocol as p
from supervisor.common.link import BrokerLink, LinkSettings
from supervisor.console.settings import ConsoleSettings
from supervisor.console.window import MainWindow

from console_helpers import NOW, agent, snapshot


def test_the_caption_names_when_required_was_computed(qtbot, isolated_settings):
    link = BrokerLink(LinkSettings("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), "supervisor", "boss")
    computed_at = NOW - 600
    coverage = p.CoverageRecord(at=NOW, cells=[p.CoverageCellRecord(NOW, "pre_sales", 3, 2, 1)],
                                now=[p.NowCoverage("pre_sales", 3, 2, 0)], cells_at=computed_at)
    snapshot(link.mirror, agent("a1"), coverage)
    window = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(window)
    window.state.reset()
    window.coverage.refresh(False)
    caption = window.coverage.title.text()
    assert f"Required as computed at {time.strftime('%H:%M', time.localtime(computed_at))}." in caption
    assert "last 7 days" in window.coverage.title.toolTip()
    window.close()
