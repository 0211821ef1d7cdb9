"""Night-shift coverage: a heat map of the next 24 hours by skill, and "now".

One column per skill. On top, "now": rostered, online and at cap. Below, a
row per coming hour whose cell is the gap (rostered minus required), red
deepening with the shortage, so short hours stand out at a glance; hovering
gives rostered, required and gap. Until the broker publishes coverage the
panel says so instead of drawing an empty grid.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QStackedWidget, QTableView,
                               QVBoxLayout, QWidget)

from supervisor.console.coverage_models import CoverageModel, NowCoverageModel
from supervisor.console.state import ConsoleState

ROW_PX = 20
SKILL_COLUMN_PX = 78
ROW_HEADER_PX = 96


def _compact(view: QTableView) -> None:
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.setMouseTracking(True)  # tooltips with the numbers on hover
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.horizontalHeader().setDefaultSectionSize(SKILL_COLUMN_PX)
    vertical = view.verticalHeader()
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(ROW_PX)
    vertical.setFixedWidth(ROW_HEADER_PX)


class CoverageView(QWidget):
    """Coverage "now" and the 24-hour heat map; ``refresh`` on each coverage update."""

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.heat_model = CoverageModel(state, self)
        self.now_model = NowCoverageModel(state, self)

        self.now = QTableView()
        self.now.setObjectName("coverageNow")
        self.now.setModel(self.now_model)
        _compact(self.now)
        self.now.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.now.setFixedHeight(ROW_PX * (len(NowCoverageModel.ROWS) + 1) + 6)

        self.heat = QTableView()
        self.heat.setObjectName("coverageHeatMap")
        self.heat.setModel(self.heat_model)
        _compact(self.heat)

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("color: #5f6368;")
        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        tables = QWidget()
        inner = QVBoxLayout(tables)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(self.now)
        inner.addWidget(self.heat, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(tables)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.title)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self._caption()
        self.placeholder.setText(self.tr("The broker has not published coverage yet (it needs a roster)."))
        self.now_model.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def _caption(self) -> None:
        """The cells move when recomputed, not on their own: the caption says when and from what."""
        text = self.tr("Each hour: rostered minus required agents (red: short). Hover a cell for the numbers.")
        coverage = self.state.mirror.coverage
        if coverage is not None and coverage.cells_at is not None:
            text += " " + self.tr("Required as computed at %1.").replace(
                "%1", time.strftime("%H:%M", time.localtime(coverage.cells_at)))
        self.title.setText(text)
        self.title.setToolTip(self.tr("Required agents are recomputed every minute, and when the roster or quotas "
                                      "change, from the forecast and the handling times measured over the last "
                                      "7 days: the cells move as those do."))

    def refresh(self, stale: bool) -> None:
        self._caption()
        self.heat_model.refresh(stale)
        self.now_model.refresh()
        self.stack.setCurrentIndex(1 if self.state.mirror.coverage is not None else 0)
