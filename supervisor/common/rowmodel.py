"""The Qt table model over a ``rows.TableState``: both windows' tables derive from it.

``RowModel`` mirrors a ``TableState``: ``flush`` replays the state's row
operations (``beginInsertRows``/``beginRemoveRows``, coalesced into ranges),
a layout change when the order changed, and one ``dataChanged`` per run of
changed rows. A model reset happens only when a snapshot replaced
everything, so selection and scrolling survive live updates. Views never
sort through a proxy: clicking a header asks the state to sort once
(``sort``). The console flushes on its refresh tick; the agent window right
after each change, since a verdict's row is what the agent waits to see.

Subclasses name their columns and answer ``cell(record, column, role)``.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor

from supervisor.common.rows import Insert, Remove, Reset, Sync, TableState, diff_rows

#: the role under which every row model returns the row's key (agent id, inquiry id...)
KeyRole = int(Qt.ItemDataRole.UserRole) + 1

# Roles as plain ints: data() runs for every painted cell and role, so comparisons stay cheap.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)

#: rows while the link is not live: nothing shown then is the broker's current word
STALE_FG = QBrush(QColor("#9aa0a6"))

#: changed rows this close together are reported as one range (see RowModel._rows_changed)
MERGE_GAP_ROWS = 4


class RowModel(QAbstractTableModel):
    """A table over a ``TableState``; call ``flush`` after the state changed."""

    #: the roles ``cell`` answers; views ask for more (decoration, check state, size
    #: hint...) for every painted cell, and those are turned away before any lookup
    ROLES = frozenset({_DISPLAY, _TOOLTIP, _BACKGROUND, _FOREGROUND, _ALIGN, KeyRole})

    def __init__(self, table: TableState, columns: list[str], parent: QObject | None = None):
        super().__init__(parent)
        self.table = table
        self.columns = columns
        table.take()  # what happened before this model existed is in its first rows
        self._rows: list = list(table.rows)
        self.stale = False
        self._titles: list[str] = []
        self.retranslate()

    # --- to override
    def titles(self) -> list[str]:
        return list(self.columns)

    def cell(self, record, column: str, role: int) -> Any:
        return None

    # --- Qt model interface
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role=_DISPLAY):
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY \
                and 0 <= section < len(self._titles):
            return self._titles[section]
        return None

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        if role not in self.ROLES or not index.isValid():
            return None
        row = index.row()
        if row >= len(self._rows):
            return None
        key = self._rows[row]
        if role == KeyRole:
            return key
        record = self.table.records.get(key)
        if record is None:
            return None
        if role == _FOREGROUND and self.stale:
            return STALE_FG
        return self.cell(record, self.columns[index.column()], role)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """One sort on request (a header click); hot columns re-sort at most every few seconds."""
        name = self.columns[column] if 0 <= column < len(self.columns) else None
        if name not in self.table.sort_keys:
            return
        self.table.sort(name, order == Qt.SortOrder.DescendingOrder, time.monotonic())
        self.flush()

    # --- helpers
    def key_at(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def record_at(self, row: int):
        key = self.key_at(row)
        return None if key is None else self.table.records.get(key)

    def row_of(self, key) -> int | None:
        return self.table.position(key)

    def column_of(self, name: str) -> int:
        return self.columns.index(name)

    def retranslate(self) -> None:
        self._titles = self.titles()
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        self._all_changed()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self._all_changed()

    def refresh_columns(self, names: list[str]) -> None:
        """Columns whose text depends on the time (waits, service): one signal each."""
        if not self._rows:
            return
        last = len(self._rows) - 1
        for name in names:
            col = self.columns.index(name)
            self.dataChanged.emit(self.index(0, col), self.index(last, col), [_DISPLAY])

    def _all_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1))

    # --- replaying the state's changes
    def flush(self) -> int:
        """Apply what changed in the state since the last flush; returns rows touched."""
        ops, dirty = self.table.take()
        touched = 0
        synced = False
        run_kind: type | None = None
        run_start = 0
        run_keys: list = []

        def close_run():
            nonlocal run_kind, run_keys
            if run_kind is Insert:
                self.beginInsertRows(QModelIndex(), run_start, run_start + len(run_keys) - 1)
                self._rows[run_start:run_start] = run_keys
                self.endInsertRows()
            elif run_kind is Remove:
                self.beginRemoveRows(QModelIndex(), run_start, run_start + len(run_keys) - 1)
                del self._rows[run_start:run_start + len(run_keys)]
                self.endRemoveRows()
            run_kind, run_keys = None, []

        for op in ops:
            if isinstance(op, Reset):
                close_run()
                self.beginResetModel()
                self._rows = list(self.table.rows)
                self.endResetModel()
                return len(self._rows)
            if isinstance(op, Sync):
                close_run()
                self._sync()
                synced = True
                continue
            row, key = op.row, op.key
            if isinstance(op, Insert):
                if run_kind is Insert and row == run_start + len(run_keys):
                    run_keys.append(key)
                    continue
                close_run()
                run_kind, run_start, run_keys = Insert, row, [key]
            else:
                if run_kind is Remove and row == run_start:
                    run_keys.append(key)
                    continue
                if run_kind is Remove and row == run_start - 1:
                    run_start = row
                    run_keys.insert(0, key)
                    continue
                close_run()
                run_kind, run_start, run_keys = Remove, row, [key]
            touched += 1
        close_run()
        if synced:
            self._all_changed()
            return len(self._rows)
        if dirty:
            rows = sorted(r for r in (self.table.position(k) for k in dirty) if r is not None)
            self._rows_changed(rows)
            touched += len(rows)
        return touched

    def _rows_changed(self, rows: list[int]) -> None:
        """Row-scoped dataChanged for sorted rows.

        Views repaint only the visible part of a changed range, so ranges stay
        tight (a range spanning the screen would repaint every visible row);
        only runs closer than MERGE_GAP_ROWS are merged, to save signals.
        """
        if not rows:
            return
        runs: list[list[int]] = [[rows[0], rows[0]]]
        for r in rows[1:]:
            if r - runs[-1][1] <= MERGE_GAP_ROWS:
                runs[-1][1] = r
            else:
                runs.append([r, r])
        last_col = len(self.columns) - 1
        for first, last in runs:
            self.dataChanged.emit(self.createIndex(first, 0), self.createIndex(last, last_col))

    def _sync(self) -> None:
        removals, order, insertions = diff_rows(self._rows, self.table.rows)
        for first, last in removals:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first:last + 1]
            self.endRemoveRows()
        if order is not None:
            self.layoutAboutToBeChanged.emit()
            old = self._rows
            new_pos = {k: i for i, k in enumerate(order)}
            persistent = self.persistentIndexList()
            self._rows = list(order)
            moved = [self.index(new_pos[old[ix.row()]], ix.column()) if ix.isValid() else ix
                     for ix in persistent]
            self.changePersistentIndexList(persistent, moved)
            self.layoutChanged.emit()
        for row, keys in insertions:
            self.beginInsertRows(QModelIndex(), row, row + len(keys) - 1)
            self._rows[row:row] = keys
            self.endInsertRows()
