"""Night-shift coverage: a heat map of the next 24 hours by skill, and "now".

The heat map is a table of coloured cells (skills down, hours across): the
cell shows the gap (rostered minus required), red deepening with the
shortage, so short hours stand out at a glance; hovering gives rostered,
required and gap. "Now" lists per skill who is rostered, online and at cap.
Until the broker publishes coverage the panel says so instead of drawing an
empty grid.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSplitter, QStackedWidget,
                               QTableView, QVBoxLayout, QWidget)

from supervisor.console.models import CoverageModel, NowCoverageModel
from supervisor.console.state import ConsoleState

HOUR_COLUMN_PX = 34


class CoverageView(QWidget):
    """Coverage heat map and the "now" table; ``refresh`` on each coverage update."""

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.heat_model = CoverageModel(state, self)
        self.now_model = NowCoverageModel(state, self)

        self.heat = QTableView()
        self.heat.setObjectName("coverageHeatMap")
        self.heat.setModel(self.heat_model)
        self.heat.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.heat.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.heat.setShowGrid(True)
        self.heat.setMouseTracking(True)  # tooltips with the numbers on hover
        header = self.heat.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(HOUR_COLUMN_PX)
        self.heat.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.heat.verticalHeader().setDefaultSectionSize(24)

        self.now = QTableView()
        self.now.setObjectName("coverageNow")
        self.now.setModel(self.now_model)
        self.now.verticalHeader().hide()
        self.now.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.now.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.now)
        split.addWidget(self.heat)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 4)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(split)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self.title.setText(self.tr("Coverage for the next 24 hours: each cell is rostered minus required "
                                   "agents (red: short). Hover for the numbers."))
        self.placeholder.setText(self.tr("The broker has not published coverage yet (it needs a roster)."))
        self.now_model.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def refresh(self, stale: bool) -> None:
        self.heat_model.refresh(stale)
        self.now_model.refresh()
        self.stack.setCurrentIndex(1 if self.state.mirror.coverage is not None else 0)
