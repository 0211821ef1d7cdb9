"""The live queue chart: pending depth and longest wait per skill (pyqtgraph).

Drawn the way pyqtgraph's own scrolling examples do it: curves are created
once per skill and fed with ``setData`` from fixed-size ring buffers; the
window's single refresh timer calls ``refresh``, which redraws only when a
new sample exists (once a second); ``setClipToView`` and peak downsampling
keep a four-hour history cheap. The y axes scale themselves to what is
visible, so a Double-11 peak stays readable. SLA thresholds are drawn on the
wait plot. Beside the plots, a small table keeps the current depth, the
longest wait and which inquiry it is readable at all times.
"""
from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter,
                               QTableView, QVBoxLayout, QWidget)

from supervisor.common.rowmodel import KeyRole
from supervisor.console.models import QueueNowModel
from supervisor.common.formats import format_duration
from supervisor.console.text import fmt_clock
from supervisor.console.state import ConsoleState

#: curve colours, assigned to skills in the order they first appear
PALETTE = ("#1a73e8", "#e8710a", "#188038", "#d93025", "#9334e6", "#12b5cb", "#f538a0", "#795548",
           "#5f6368", "#b06000")
#: the time windows the range box offers (seconds); the second is the default
WINDOWS_S = (600, 1800, 3600, 2 * 3600, 4 * 3600)
DEFAULT_WINDOW = 1
STALE_OPACITY = 0.45
#: wide enough for skill, depth, wait and the inquiry id
NOW_TABLE_MIN_PX = 340
WARN_COLOUR = "#f9ab00"
#: how much lighter a stacked band is than its line (percent, QColor.lighter)
FILL_LIGHTER = 165
#: the y axes reach this far above the highest visible value when they rescale...
Y_HEADROOM = 1.15
#: the wait axis reaches this far above the breach line, so its label (drawn above the line) stays in view
BREACH_LABEL_HEADROOM = 1.4
#: ...which they do when the data outgrows them or falls below this share of them
Y_SHRINK = 0.6
#: the time axis runs this share of the window ahead of "now", and moves in such steps
X_LEAD = 0.04
BREACH_COLOUR = "#d93025"


def _label_opts(colour: str, above: bool) -> dict:
    """An SLA line's label on a white ground beside its line, away from the other line: the
    breach label above the breach line, the warning label below the (lower) warning line, so
    no dashes run through either text (CJK glyphs are taller than the Latin ones)."""
    anchor = (0, 1) if above else (0, 0)
    return {"position": 0.02, "color": colour, "anchors": [anchor, anchor], "fill": pg.mkBrush(255, 255, 255, 220)}


class QueueChart(QWidget):
    """Queue depth and longest wait over time, per skill, stacked or overlaid."""

    #: an inquiry id the user asked to see (double-click in the "now" table)
    inquiry_activated = Signal(str)

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.window_s = WINDOWS_S[DEFAULT_WINDOW]
        self.stacked = False
        self.stale = False
        self._drawn_version = -1
        #: right edge of the time axis; "now" stays left of it (see _follow)
        self._x_right = 0.0
        self._thresholds: tuple[float, float] | None = None
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}

        self.mode_box = QComboBox()
        self.range_box = QComboBox()
        self.summary = QLabel()
        self.summary.setObjectName("floorSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        # wraps rather than widening the whole window to one line of figures
        self.summary.setWordWrap(True)
        self.stale_label = QLabel()
        self.stale_label.setStyleSheet("color: #c5221f; font-weight: bold;")
        self.stale_label.hide()
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.range_box.currentIndexChanged.connect(self._range_changed)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("queueChart")
        self.depth_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.wait_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.wait_plot.setXLink(self.depth_plot)
        for plot in (self.depth_plot, self.wait_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            # no grid: its lines are redrawn with the axes on every range change and
            # tripled the paint time of the chart (measured); the ticks suffice
            plot.setMouseEnabled(x=False, y=False)  # the range box zooms; the view follows "now"
            plot.hideButtons()
            # y is scaled in refresh() to what the window shows, from 0 up
            plot.enableAutoRange(axis="y", enable=False)
            plot.getAxis("left").setWidth(48)
        self.legend = self.depth_plot.addLegend(offset=(8, 4), colCount=4)
        self.warn_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen(WARN_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                                         label="", labelOpts=_label_opts(WARN_COLOUR, above=False))
        self.breach_line = pg.InfiniteLine(angle=0, movable=False,
                                           pen=pg.mkPen(BREACH_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                                           label="", labelOpts=_label_opts(BREACH_COLOUR, above=True))
        self.wait_plot.addItem(self.warn_line, ignoreBounds=False)
        self.wait_plot.addItem(self.breach_line, ignoreBounds=False)

        self.now_model = QueueNowModel(state, self)
        self.now_table = QTableView()
        self.now_table.setObjectName("queueNowTable")
        self.now_table.setModel(self.now_model)
        self.now_table.verticalHeader().hide()
        self.now_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.now_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.now_table.setWordWrap(False)
        self.now_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.now_table.horizontalHeader().setStretchLastSection(True)
        self.now_table.doubleClicked.connect(self._now_activated)

        controls = QHBoxLayout()
        controls.addWidget(self.summary, 1)
        controls.addWidget(self.stale_label)
        controls.addWidget(self.mode_box)
        controls.addWidget(self.range_box)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.now_table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.now_table.setMinimumWidth(NOW_TABLE_MIN_PX)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        self.retranslateUi()

    # ------------------------------------------------------------------ text

    def retranslateUi(self) -> None:
        mode, window = self.mode_box.currentIndex(), self.range_box.currentIndex()
        for box in (self.mode_box, self.range_box):
            box.blockSignals(True)
            box.clear()
        self.mode_box.addItems([self.tr("Overlaid"), self.tr("Stacked")])
        self.range_box.addItems([self.tr("Last 10 min"), self.tr("Last 30 min"), self.tr("Last hour"),
                                 self.tr("Last 2 hours"), self.tr("Last 4 hours")])
        self.mode_box.setCurrentIndex(max(0, mode))
        self.range_box.setCurrentIndex(window if window >= 0 else DEFAULT_WINDOW)
        for box in (self.mode_box, self.range_box):
            box.blockSignals(False)
        self.mode_box.setToolTip(self.tr("Stack the skills' queues or draw them over each other"))
        self.range_box.setToolTip(self.tr("How much history to show"))
        self.depth_plot.setLabel("left", self.tr("Queued"))
        self.wait_plot.setLabel("left", self.tr("Longest wait (min)"))
        self.stale_label.setText(self.tr("Not live: the chart shows gaps and may be stale"))
        self.now_model.retranslate()
        self._thresholds = None  # re-label the SLA lines
        self.refresh(self.state.clock(), self.stale, force=True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    # ------------------------------------------------------------------ drawing

    def set_stale(self, stale: bool) -> None:
        if stale == self.stale:
            return
        self.stale = stale
        self.stale_label.setVisible(stale)
        for plot in (self.depth_plot, self.wait_plot):
            plot.setOpacity(STALE_OPACITY if stale else 1.0)

    def refresh(self, now: float, stale: bool, force: bool = False) -> bool:
        """Redraw if a sample arrived since the last time; returns whether it drew."""
        self.set_stale(stale)
        history = self.state.history
        if history.version == self._drawn_version and not force:
            return False
        self._drawn_version = history.version
        self.now_model.refresh(now, stale)
        self._update_summary(now)
        self._update_thresholds()
        for skill in history.skills:
            if skill not in self._curves:
                self._add_curves(skill)
        for skill, curves in self._curves.items():
            if skill not in history.skills:  # history was cleared (another broker)
                for curve in curves:
                    curve.setData([], [])
        times = history.times().copy()
        live = history.live()
        shown = times >= now - self.window_s
        below = np.zeros(len(times))
        top_depth = top_wait = 0.0
        for skill in history.skills:
            depth_curve, wait_curve = self._curves[skill]
            depth = history.depth(skill)
            if self.stacked:
                below = below + np.nan_to_num(depth)
                drawn = below * live
            else:
                drawn = depth.copy()
            waits = history.wait(skill) / 60.0
            depth_curve.setData(times, drawn)
            wait_curve.setData(times, waits)
            top_depth = max(top_depth, _visible_max(drawn, shown))
            top_wait = max(top_wait, _visible_max(waits, shown))
        self._follow(now, force)
        breach_min = (self._thresholds or (0.0, 0.0))[1] / 60.0
        # from zero to a little above the highest visible value: a peak rescales the axis
        self._scale(self.depth_plot, max(5.0, top_depth * Y_HEADROOM), force)
        self._scale(self.wait_plot, max(top_wait * Y_HEADROOM, breach_min * BREACH_LABEL_HEADROOM) or 1.0, force)
        return True

    # A range change costs pyqtgraph two repaints of the plots (one for the axes, one
    # for the curves it re-clips), a new sample only one; so the ranges move in steps.

    def _follow(self, now: float, force: bool = False) -> None:
        """Keep "now" in view: move the x range by a step when the data reaches its edge."""
        lead = self.window_s * X_LEAD
        if force or now > self._x_right or now + lead < self._x_right - lead:
            self._x_right = now + lead
            self.depth_plot.setXRange(self._x_right - self.window_s, self._x_right, padding=0)

    def _scale(self, plot, top: float, force: bool = False) -> None:
        """Rescale y when the data outgrows the axis, or shrinks well below it."""
        current = plot.viewRange()[1][1]
        if force or top > current or top < current * Y_SHRINK:
            plot.setYRange(0, top, padding=0)

    def _add_curves(self, skill: str) -> None:
        colour = QColor(PALETTE[len(self._curves) % len(PALETTE)])
        # a cosmetic 1-px pen: wider pens go through Qt's path stroker, 3x slower to paint
        pen = pg.mkPen(colour, width=1)
        depth_curve = self.depth_plot.plot(pen=pen, name=skill, connect="finite")
        wait_curve = self.wait_plot.plot(pen=pen, connect="finite")
        # later skills are drawn below earlier ones so stacked areas stay visible
        depth_curve.setZValue(-len(self._curves))
        self._curves[skill] = (depth_curve, wait_curve)
        self._style_curve(skill)

    def _style_curve(self, skill: str) -> None:
        depth_curve = self._curves[skill][0]
        if self.stacked:
            # opaque fills: each band shows its own skill's colour, not a blend of those below
            depth_curve.setFillLevel(0)
            depth_curve.setBrush(fill_colour(depth_curve.opts["pen"].color()))
        else:
            depth_curve.setFillLevel(None)
            depth_curve.setBrush(None)

    def _update_thresholds(self) -> None:
        thresholds = self.state.sla_thresholds_s()
        if thresholds == self._thresholds:
            return
        self._thresholds = thresholds
        warn_s, breach_s = thresholds
        self.warn_line.setValue(warn_s / 60.0)
        self.breach_line.setValue(breach_s / 60.0)
        self.warn_line.label.setFormat(self.tr("SLA warning %1").replace("%1", format_duration(warn_s)))
        self.breach_line.label.setFormat(self.tr("SLA first response %1").replace("%1", format_duration(breach_s)))

    def _update_summary(self, now: float) -> None:
        s = self.state.summary(now)
        scale = self.state.time_scale()
        floor = self.tr("Floor time <b>%1</b>").replace("%1", fmt_clock(now))
        parts = [
            floor if scale == 1.0 else f"{floor} (×{scale:g})",
            self.tr("Queued <b>%1</b>").replace("%1", str(s.queued)),
            self.tr("Held <b>%1</b>").replace("%1", str(s.held)),
            self.tr("Online <b>%1</b>").replace("%1", str(s.agents_online)),
            self.tr("At cap <b>%1</b>").replace("%1", str(s.agents_at_cap)),
        ]
        if s.longest is not None:
            skill, inquiry_id, wait_s = s.longest
            parts.append(self.tr("Longest wait <b>%1</b> (%2, %3)").replace("%1", format_duration(wait_s))
                         .replace("%2", inquiry_id).replace("%3", skill))
        m = s.metrics
        if m is not None:
            attained = m.sla_attainment.get("first_response.today")
            if attained is not None:
                parts.append(self.tr("First response SLA today <b>%1 %</b>").replace("%1", f"{100 * attained:.0f}"))
            if m.gini_by_group:
                group, gini = max(m.gini_by_group.items(), key=lambda kv: kv[1])
                text = self.tr("Max Gini <b>%1</b>").replace("%1", f"{gini:.2f}")
                parts.append(f"{text} ({group})" if group else text)
            parts.append(self.tr("Resolved today <b>%1</b>").replace("%1", str(m.resolved_today)))
            parts.append(self.tr("Abandoned today <b>%1</b>").replace("%1", str(m.abandoned_today)))
        self.summary.setText(" · ".join(parts))

    # ------------------------------------------------------------------ controls

    def _mode_changed(self, index: int) -> None:
        self.stacked = index == 1
        for skill in self._curves:
            self._style_curve(skill)
        self.refresh(self.state.clock(), self.stale, force=True)

    def set_window(self, seconds: int) -> None:
        """Show the last ``seconds`` (one of WINDOWS_S)."""
        self.range_box.setCurrentIndex(WINDOWS_S.index(seconds))

    def _range_changed(self, index: int) -> None:
        if 0 <= index < len(WINDOWS_S):
            self.window_s = WINDOWS_S[index]
            self.refresh(self.state.clock(), self.stale, force=True)

    def _now_activated(self, index) -> None:
        inquiry_id = self.now_model.index(index.row(), 0).data(KeyRole)
        if inquiry_id:
            self.inquiry_activated.emit(inquiry_id)


def fill_colour(line: QColor) -> QColor:
    """The band colour of a stacked skill: its line colour, lightened."""
    return QColor(line).lighter(FILL_LIGHTER)


def _visible_max(values: np.ndarray, shown: np.ndarray) -> float:
    visible = values[shown]
    if not len(visible) or np.isnan(visible).all():
        return 0.0
    return float(np.nanmax(visible))
