"""Qt table models over the agent desk's row lists.

The plain ``RowList`` reports each insert, removal and change; these models
turn them into ``beginInsertRows``/``endInsertRows`` and row-scoped
``dataChanged``, so selection and scrolling survive live updates. Only a
snapshot resets a model. Time columns (wait, countdowns) change every second
without any event; ``tick()`` refreshes just those columns.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor

from broker.wire import protocol as p
from supervisor.agentwin.state import (
    SLA_BREACH, SLA_OK, SLA_WARN, AgentDeskState, Countdown, RowList, format_duration,
)

#: SLA level -> (background, foreground)
SLA_COLOURS = {
    SLA_OK: ("#e6f4ea", "#137333"),
    SLA_WARN: ("#fef7e0", "#b06000"),
    SLA_BREACH: ("#fce8e6", "#c5221f"),
}
#: role under which every model returns the row's inquiry id
INQUIRY_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class _RowAdapter:
    """RowList listener -> QAbstractItemModel notifications."""

    def __init__(self, model: "_InquiryModel"):
        self.model = model

    def begin_insert(self, row: int) -> None:
        self.model.beginInsertRows(QModelIndex(), row, row)

    def end_insert(self) -> None:
        self.model.endInsertRows()

    def begin_remove(self, row: int) -> None:
        self.model.beginRemoveRows(QModelIndex(), row, row)

    def end_remove(self) -> None:
        self.model.endRemoveRows()

    def changed(self, row: int) -> None:
        m = self.model
        m.dataChanged.emit(m.index(row, 0), m.index(row, m.columnCount() - 1))

    def begin_reset(self) -> None:
        self.model.beginResetModel()

    def end_reset(self) -> None:
        self.model.endResetModel()


class _InquiryModel(QAbstractTableModel):
    #: columns whose text depends on time alone (refreshed by tick())
    TIME_COLUMNS: tuple[int, ...] = ()

    def __init__(self, desk: AgentDeskState, rows: RowList, parent: QObject | None = None):
        super().__init__(parent)
        self.desk = desk
        self.rows = rows
        rows.listener = _RowAdapter(self)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def inquiry_at(self, row: int) -> p.InquiryRecord | None:
        return self.rows.rows[row] if 0 <= row < len(self.rows) else None

    def tick(self) -> None:
        if not len(self.rows) or not self.TIME_COLUMNS:
            return
        last = len(self.rows) - 1
        self.dataChanged.emit(self.index(0, min(self.TIME_COLUMNS)),
                              self.index(last, max(self.TIME_COLUMNS)))

    @staticmethod
    def _colour(countdown: Countdown, role: int):
        back, fore = SLA_COLOURS[countdown.level]
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(back))
        return QBrush(QColor(fore))

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        inq = self.inquiry_at(index.row())
        if inq is None:
            return None
        col = index.column()
        if role == INQUIRY_ID_ROLE:
            return inq.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(inq)
        return self._cell(inq, col, role)

    def _cell(self, inq: p.InquiryRecord, col: int, role: int):
        """One cell's ``role`` of a row that exists (the id and tooltip roles are answered already)."""
        raise NotImplementedError

    def _tooltip(self, inq: p.InquiryRecord) -> str:
        shop = self.desk.mirror.shops.get(inq.shop)
        lines = [self.tr("Inquiry %1").replace("%1", inq.id),
                 self.tr("Shop: %1").replace("%1", (shop.name or shop.id) if shop else inq.shop)]
        if inq.customer:
            lines.append(self.tr("Customer: %1").replace("%1", inq.customer))
        return "\n".join(lines)


class PoolModel(_InquiryModel):
    """The inquiries I may take, oldest first."""

    SKILL, CHANNEL, LANGUAGE, PRIORITY, WAIT, SLA = range(6)
    TIME_COLUMNS = (WAIT, SLA)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 6

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (self.tr("Skill"), self.tr("Channel"), self.tr("Lang"), self.tr("Prio"),
                self.tr("Waiting"), self.tr("SLA"))[section]

    def _cell(self, inq: p.InquiryRecord, col: int, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.SKILL:
                return inq.skill
            if col == self.CHANNEL:
                return inq.channel
            if col == self.LANGUAGE:
                return inq.language
            if col == self.PRIORITY:
                return str(inq.priority)
            if col == self.WAIT:
                return format_duration(self.desk.wait_s(inq))
            if col == self.SLA:
                countdown = self.desk.pool_sla(inq)
                return format_duration(countdown.remaining_s or 0.0)
        if col == self.SLA and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            return self._colour(self.desk.pool_sla(inq), role)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.PRIORITY, self.WAIT, self.SLA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class MineModel(_InquiryModel):
    """What I hold, with SLA countdowns for first response and resolution."""

    INQUIRY, SKILL, FIRST_RESPONSE, RESOLUTION = range(4)
    TIME_COLUMNS = (FIRST_RESPONSE, RESOLUTION)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (self.tr("Inquiry"), self.tr("Skill"), self.tr("1st reply"), self.tr("Resolve"))[section]

    def _cell(self, inq: p.InquiryRecord, col: int, role: int):
        if col in (self.FIRST_RESPONSE, self.RESOLUTION):
            first, resolution = self.desk.countdowns(inq)
            countdown = first if col == self.FIRST_RESPONSE else resolution
            if role == Qt.ItemDataRole.DisplayRole:
                if countdown.remaining_s is None:
                    return self.tr("✓ replied")
                return format_duration(countdown.remaining_s)
            if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
                return self._colour(countdown, role)
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.INQUIRY:
                return inq.customer or inq.id
            if col == self.SKILL:
                return inq.skill
        return None
