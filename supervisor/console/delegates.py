"""Cell painting and editing for the agent table: a bar of use against a limit.

The bar sits under the text (``held / cap``) so the number stays readable;
its colour turns amber near the limit and red at it. Editing a quota cell
opens a spin box on the broker's current value; the ranges are wide on
purpose, since the broker, not the console, decides which values are valid.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from supervisor.console.models import QUOTA_OF_COLUMN, FractionRole

BAR_HEIGHT_PX = 5
TRACK = QColor("#e8eaed")
OK = QColor("#34a853")
NEAR = QColor("#f9ab00")
FULL = QColor("#d93025")
#: a bar turns amber from this share of the limit on
NEAR_LIMIT = 0.8
#: editor ranges: generous, the broker enforces its own limits
EDITOR_MAX = {"concurrent_cap": 100_000, "daily_grabs": 10_000_000, "continuous_hours": 168.0}


class LimitBarDelegate(QStyledItemDelegate):
    """Paints ``FractionRole`` as a bar under the text; edits the quota behind the column."""

    def __init__(self, column: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.quota = QUOTA_OF_COLUMN.get(column)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        share = index.data(FractionRole)
        if share is None:
            return
        r = option.rect
        track = QRect(r.left() + 4, r.bottom() - BAR_HEIGHT_PX - 1, max(0, r.width() - 8), BAR_HEIGHT_PX)
        painter.save()
        painter.fillRect(track, TRACK)
        filled = QRect(track)
        filled.setWidth(int(track.width() * max(0.0, min(1.0, share))))
        painter.fillRect(filled, FULL if share >= 1.0 else NEAR if share >= NEAR_LIMIT else OK)
        painter.restore()

    def createEditor(self, parent: QWidget, option, index: QModelIndex) -> QWidget | None:
        if self.quota is None:
            return None
        if self.quota == "continuous_hours":
            editor = QDoubleSpinBox(parent)
            editor.setDecimals(2)
            editor.setSingleStep(0.25)
            editor.setRange(0.0, EDITOR_MAX[self.quota])
            editor.setSuffix(" h")
        else:
            editor = QSpinBox(parent)
            editor.setRange(0, EDITOR_MAX[self.quota])
        editor.setFrame(False)
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if value is not None:
            editor.setValue(value)

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        editor.interpretText()
        model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)
