"""The robot first line on the console: how much it contains, and how the robots are.

Figures come from the broker's floor metrics (``robot_*`` fields: contained
and escalated over the hour and today, per skill, the containment rate);
each robot's state (connected, answering, last error) from its RobotRecord.
Nothing is worked out here but layout: ``refresh`` on each metrics update.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, \
    QWidget

from supervisor.console.state import ConsoleState


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{100.0 * rate:.0f}%"


class RobotPanel(QWidget):
    """Containment figures per hour and skill, and one line per robot."""

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("robotPanel")
        self.state = state
        self.summary = QLabel()
        self.summary.setObjectName("robotSummary")
        self.summary.setWordWrap(True)
        self.robots = QLabel()
        self.robots.setObjectName("robotStates")
        self.robots.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("robotBySkill")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.robots)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels([self.tr("Skill"), self.tr("Contained"), self.tr("Escalated"),
                                              self.tr("Containment")])
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def refresh(self) -> None:
        metrics = self.state.mirror.metrics
        if metrics is None:
            self.summary.setText(self.tr("No floor metrics from the broker yet"))
        else:
            self.summary.setText(
                self.tr("With the robot now: %1. Last hour: %2 contained, %3 escalated (containment %4). "
                        "Today: %5 contained, %6 escalated (containment %7).")
                .replace("%1", str(metrics.robot_holding)).replace("%2", str(metrics.robot_contained_hour))
                .replace("%3", str(metrics.robot_escalated_hour))
                .replace("%4", percent(metrics.robot_containment_hour))
                .replace("%5", str(metrics.robot_contained_today))
                .replace("%6", str(metrics.robot_escalated_today))
                .replace("%7", percent(metrics.robot_containment_today)))
        self.robots.setText("\n".join(self.robot_line(r) for r in sorted(self.state.mirror.robots.values(),
                                                                         key=lambda r: r.id))
                            or self.tr("No robot has connected to this broker"))
        rows = sorted((metrics.robot_by_skill if metrics is not None else {}).items())
        self.table.setRowCount(len(rows))
        for r, (skill, (contained, escalated)) in enumerate(rows):
            total = contained + escalated
            cells = [skill, str(contained), str(escalated), percent(contained / total if total else None)]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def robot_line(self, robot) -> str:
        if not robot.connected:
            state = self.tr("disconnected")
        elif robot.answering:
            state = self.tr("answering")
        else:
            state = self.tr("connected, not answering")
        line = self.tr("%1: %2, %3 decided, %4 errors").replace("%1", robot.id).replace("%2", state) \
            .replace("%3", str(robot.decided)).replace("%4", str(robot.errors))
        if robot.last_error:
            when = time.strftime("%H:%M:%S", time.localtime(robot.last_error_at)) if robot.last_error_at else ""
            line += self.tr(" (last error %1: %2)").replace("%1", when).replace("%2", robot.last_error)
        return line
