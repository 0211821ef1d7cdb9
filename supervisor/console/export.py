"""Exports: tables to CSV (what the model holds, not only the visible rows), charts to PNG."""
from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QWidget


def model_to_csv(model: QAbstractItemModel, path: str | Path) -> int:
    """Write every row's displayed text under the column titles; returns rows written.

    UTF-8 with a byte-order mark, so spreadsheet programs read Chinese right.
    """
    columns = model.columnCount()
    rows = model.rowCount()
    display = Qt.ItemDataRole.DisplayRole
    vertical = [model.headerData(r, Qt.Orientation.Vertical, display) for r in range(min(rows, 1))]
    with_row_titles = bool(vertical and vertical[0] not in (None, "", 1))
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        header = [model.headerData(c, Qt.Orientation.Horizontal, display) or "" for c in range(columns)]
        writer.writerow(([""] if with_row_titles else []) + [str(h) for h in header])
        for r in range(rows):
            cells = [model.index(r, c).data(display) for c in range(columns)]
            line = ["" if v is None else str(v) for v in cells]
            if with_row_titles:
                line.insert(0, str(model.headerData(r, Qt.Orientation.Vertical, display) or ""))
            writer.writerow(line)
    return rows


def widget_to_png(widget: QWidget, path: str | Path) -> bool:
    """Render a widget (a chart, the heat map) as it looks now."""
    return widget.grab().save(str(path), "PNG")
