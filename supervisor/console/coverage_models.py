"""Qt models of the broker's coverage record: the 24-hour heat map and "now".

Both share one column per skill (sorted), so the "now" block sits directly
above the hourly heat map in the same columns. A coverage record is itself a
full snapshot of coverage: a new shape (other hours or skills) resets the
models; the same shape only changes data.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor

from broker.wire import protocol as p
from supervisor.common.rowmodel import STALE_FG
from supervisor.console.models import WARN_BG
from supervisor.console.state import ConsoleState

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
HOURS_AHEAD = 24


def gap_brush(gap: int, required: int) -> QBrush:
    """Red, deeper the larger the shortage; pale yellow at exactly enough; green above."""
    if gap < 0:
        share = min(1.0, -gap / max(1, required))
        lightness = int(225 - 110 * share)
        return QBrush(QColor.fromHsl(3, 200, lightness))
    if gap == 0:
        return QBrush(QColor("#fff4cc"))
    return QBrush(QColor("#d5efd9"))


def coverage_skills(coverage: p.CoverageRecord | None) -> list[str]:
    if coverage is None:
        return []
    return sorted({c.skill for c in coverage.cells} | {n.skill for n in coverage.now})


class _SkillColumns(QAbstractTableModel):
    """A column per skill of the latest coverage; subclasses say what the rows are."""

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.skills: list[str] = []
        self._seen: p.CoverageRecord | None = None

    def row_title(self, row: int) -> str | None:
        raise NotImplementedError

    def _all_changed(self) -> None:
        rows = self.rowCount()
        if rows and self.skills:
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, len(self.skills) - 1))

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.skills)

    def headerData(self, section, orientation, role=_DISPLAY):
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.skills):
            return self.skills[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < self.rowCount():
            return self.row_title(section)
        return None


class CoverageModel(_SkillColumns):
    """Heat map source: a row per hour (next 24), a column per skill; the cell is the gap."""

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        super().__init__(state, parent)
        self.hours: list[float] = []
        self._cells: dict[tuple[float, str], p.CoverageCellRecord] = {}
        self.stale = False

    def refresh(self, stale: bool = False) -> None:
        coverage = self.state.mirror.coverage
        stale_changed = stale != self.stale
        self.stale = stale
        if coverage is self._seen:
            if stale_changed:
                self._all_changed()
            return
        self._seen = coverage
        cells = {(c.hour_start, c.skill): c for c in coverage.cells} if coverage else {}
        skills = coverage_skills(coverage)
        hours = sorted({hour for hour, _ in cells})[:HOURS_AHEAD]
        if skills != self.skills or hours != self.hours:
            self.beginResetModel()
            self.skills, self.hours, self._cells = skills, hours, cells
            self.endResetModel()
        else:
            self._cells = cells
            self._all_changed()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.hours)

    def row_title(self, row: int) -> str:
        return time.strftime("%H:00", time.localtime(self.hours[row]))

    def cell_at(self, row: int, column: int) -> p.CoverageCellRecord | None:
        if 0 <= row < len(self.hours) and 0 <= column < len(self.skills):
            return self._cells.get((self.hours[row], self.skills[column]))
        return None

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        if not index.isValid():
            return None
        cell = self.cell_at(index.row(), index.column())
        if cell is None:
            return None
        if role == _DISPLAY:
            return f"{cell.gap:+d}" if cell.gap else "0"
        if role == _BACKGROUND:
            return gap_brush(cell.gap, cell.required)
        if role == _FOREGROUND and self.stale:
            return STALE_FG
        if role == _ALIGN:
            return _CENTER
        if role == _TOOLTIP:
            start = time.strftime("%a %H:%M", time.localtime(cell.hour_start))
            tip = self.tr("%1, %2: rostered %3, required %4, gap %5")
            return (tip.replace("%1", cell.skill).replace("%2", start).replace("%3", str(cell.rostered))
                    .replace("%4", str(cell.required)).replace("%5", f"{cell.gap:+d}"))
        return None


class NowCoverageModel(_SkillColumns):
    """Coverage right now: rows rostered / online / at cap, a column per skill."""

    ROWS = ("rostered", "online", "at_cap")

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        super().__init__(state, parent)
        self._now: dict[str, p.NowCoverage] = {}
        self._titles = self.titles()

    def titles(self) -> list[str]:
        return [self.tr("Rostered now"), self.tr("Online"), self.tr("At cap")]

    def retranslate(self) -> None:
        self._titles = self.titles()
        self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, len(self.ROWS) - 1)

    def refresh(self) -> None:
        coverage = self.state.mirror.coverage
        if coverage is self._seen:
            return
        self._seen = coverage
        skills = coverage_skills(coverage)
        now = {n.skill: n for n in coverage.now} if coverage else {}
        if skills != self.skills:
            self.beginResetModel()
            self.skills, self._now = skills, now
            self.endResetModel()
        else:
            self._now = now
            self._all_changed()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or not self.skills else len(self.ROWS)

    def row_title(self, row: int) -> str:
        return self._titles[row]

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        if not index.isValid() or index.column() >= len(self.skills):
            return None
        now = self._now.get(self.skills[index.column()])
        if now is None:
            return None
        what = self.ROWS[index.row()]
        if role == _DISPLAY:
            return getattr(now, what)
        if role == _BACKGROUND and what == "online" and now.online < now.rostered:
            return WARN_BG
        if role == _ALIGN:
            return _CENTER
        return None
