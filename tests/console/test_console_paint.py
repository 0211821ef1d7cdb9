"""Every chart and painted view is actually painted at least once.

PySide6 6.12.0 on CPython 3.11 crashes within seconds of pyqtgraph updates
(README, Performance: traps); only painting catches that kind of binding bug, so these
tests render each view to an image after data is set and look at the pixels.
"""
from __future__ import annotations

import time

import numpy as np

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from broker.wire import protocol as p
from broker.wire.client import ConnectionStatus
from supervisor.console.chart import PALETTE, QueueChart, fill_colour
from supervisor.console.coverage_view import CoverageView
from supervisor.console.history import QueueHistory
from supervisor.console.settings import ConsoleSettings
from supervisor.console.state import ConsoleState
from supervisor.console.window import MainWindow
from supervisor.common.link import BrokerLink, LinkSettings
from supervisor.common.widgets import ConnectionBadge

from console_helpers import agent, event, inquiry, snapshot

from broker.wire.mirror import Mirror


def count_near(image: QImage, colour: str, tolerance: int = 40) -> int:
    """Pixels whose colour is within ``tolerance`` (sum of channel differences) of ``colour``."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    bgr = raw[:, :w * 4].reshape(h, w, 4)[:, :, :3].astype(int)
    target = QColor(colour)
    distance = np.abs(bgr - np.array([target.blue(), target.green(), target.red()])).sum(axis=2)
    return int((distance < tolerance).sum())


def busy_state() -> ConsoleState:
    now = time.time()
    mirror = Mirror()
    snapshot(mirror, agent("a1", held=5, service_since=now - 3 * 3600),
             agent("a2", status="break", forced_break=True, break_until=now + 600),
             *(inquiry(f"q{i}", skill=("pre_sales", "logistics", "complaint")[i % 3], arrived_at=now - 30 * i)
               for i in range(30)))
    state = ConsoleState(mirror)
    for k in range(900):  # 15 minutes of history, with a gap in the middle
        live = not 400 <= k < 420
        t = now - 900 + k
        state.sample(t, live) if not live else state.history.append(
            t, {"pre_sales": 20 + k % 40, "logistics": 10 + (k // 30) % 15, "complaint": 3},
            {"pre_sales": 60.0 + k, "logistics": 30.0, "complaint": 700.0})
    hour = 3600.0 * (int(now) // 3600)
    mirror.apply([event(p.CoverageRecord(at=now, cells=[
        p.CoverageCellRecord(hour + h * 3600, s, rostered=4, required=4 + (h % 4) - 1, gap=1 - (h % 4))
        for h in range(24) for s in ("pre_sales", "logistics", "complaint")],
        now=[p.NowCoverage("pre_sales", 5, 4, 1)]))])
    return state


def test_queue_chart_paints_overlaid_and_stacked(qtbot):
    state = busy_state()
    chart = QueueChart(state)
    qtbot.addWidget(chart)
    chart.resize(1000, 500)
    chart.show()
    assert chart.refresh(time.time(), stale=False, force=True)
    image = chart.view.grab().toImage()
    assert not image.isNull()
    assert count_near(image, PALETTE[0]) > 50, "the first skill's curve is drawn"
    assert count_near(image, "#d93025") > 20, "the SLA breach line is drawn"
    chart.mode_box.setCurrentIndex(1)  # stacked: filled areas
    stacked = chart.view.grab().toImage()
    band = fill_colour(QColor(PALETTE[0])).name()
    assert count_near(stacked, band) > 10 * max(1, count_near(image, band)), "bands are filled"
    chart.set_window(4 * 3600)
    assert chart.window_s == 4 * 3600
    chart.set_stale(True)
    assert chart.stale_label.isVisible(), "a chart that is not live says so"
    assert not chart.view.grab().toImage().isNull()
    assert chart.now_model.rowCount() == 3


def test_coverage_heat_map_paints_short_hours_red(qtbot):
    state = busy_state()
    view = CoverageView(state)
    qtbot.addWidget(view)
    view.resize(1100, 300)
    view.show()
    view.refresh(stale=False)
    assert view.stack.currentIndex() == 1
    image = view.grab().toImage()
    assert count_near(image, "#f8c9c5", tolerance=90) > 20 or count_near(image, "#e57373", tolerance=120) > 20


def test_whole_window_paints_with_data_and_while_stale(qtbot, isolated_settings):
    link = BrokerLink(LinkSettings("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), "supervisor", "boss")
    window = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(window)
    state = busy_state()
    link.mirror.agents.update(state.mirror.agents)
    link.mirror.inquiries.update(state.mirror.inquiries)
    link.mirror.coverage = state.mirror.coverage
    window.state.reset()
    window.state.history = state.history
    window.chart.state.history = state.history
    window.show()
    window.refresh()
    window.chart.refresh(time.time(), stale=True, force=True)
    image = window.grab().toImage()
    assert not image.isNull() and image.width() > 800
    assert window.agents.model.rowCount() == 2 and window.inquiries.model.rowCount() == 30
    assert window.stale, "a link that never connected is not live"
    window.close()


def test_connection_badge_restyles_only_when_its_state_changes(qtbot, monkeypatch):
    badge = ConnectionBadge()
    qtbot.addWidget(badge)
    connecting = badge.styleSheet()
    styled = []
    real = badge.setStyleSheet
    monkeypatch.setattr(badge, "setStyleSheet", lambda s: (styled.append(s), real(s)))
    badge._render()  # the one-second tick
    assert styled == []
    badge.set_status(ConnectionStatus("live", time.time()))
    assert len(styled) == 1 and badge.styleSheet() != connecting


def test_the_sla_labels_are_in_view_and_no_line_runs_through_them(qtbot):
    state = busy_state()
    now = time.time()
    state.history = QueueHistory()
    for k in range(300):  # a calm floor: every wait well under the SLA lines
        state.history.append(now - 300 + k, {"pre_sales": 3}, {"pre_sales": 120.0})
    chart = QueueChart(state)
    qtbot.addWidget(chart)
    chart.resize(1000, 420)
    chart.show()
    chart.refresh(time.time(), stale=False, force=True)
    QApplication.processEvents()
    box = chart.wait_plot.getViewBox()
    view = box.sceneBoundingRect()
    line_ys = [box.mapViewToScene(QPointF(0, line.value())).y() for line in (chart.warn_line, chart.breach_line)]
    for line in (chart.warn_line, chart.breach_line):
        label = line.label.sceneBoundingRect()
        assert view.contains(label), f"{line.label.format} is cut by the plot's edge"
        assert not any(label.top() + 1 < y < label.bottom() - 1 for y in line_ys), \
            f"a dashed line runs through {line.label.format}"
