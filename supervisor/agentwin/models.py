"""Qt table models over the agent desk's row lists.

Both derive from the shared ``RowModel``: the window calls ``flush`` after
each change of the desk, which replays the rows inserted and removed
(``beginInsertRows``/``endInsertRows``, row-scoped ``dataChanged``), so
selection and scrolling survive live updates. Only a snapshot resets a
model. Time columns (wait, countdowns) change every second without any
event; ``tick()`` refreshes just those columns.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor

from broker.wire import protocol as p
from supervisor.agentwin.state import SLA_BREACH, SLA_OK, SLA_WARN, AgentDeskState, Countdown
from supervisor.common.formats import format_duration
from supervisor.common.rowmodel import KeyRole, RowModel
from supervisor.common.rows import TableState

#: SLA level -> (background, foreground)
SLA_COLOURS = {
    SLA_OK: ("#e6f4ea", "#137333"),
    SLA_WARN: ("#fef7e0", "#b06000"),
    SLA_BREACH: ("#fce8e6", "#c5221f"),
}
#: role under which every model returns the row's inquiry id
INQUIRY_ID_ROLE = KeyRole
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class _InquiryModel(RowModel):
    #: the columns, by name; those whose text depends on time alone are TIME_COLUMNS
    COLUMNS: tuple[str, ...] = ()
    TIME_COLUMNS: tuple[str, ...] = ()

    def __init__(self, desk: AgentDeskState, rows: TableState, parent: QObject | None = None):
        self.desk = desk
        super().__init__(rows, list(self.COLUMNS), parent)

    def inquiry_at(self, row: int) -> p.InquiryRecord | None:
        return self.record_at(row)

    def tick(self) -> None:
        """The time columns changed (a second passed): one signal per column."""
        self.refresh_columns(list(self.TIME_COLUMNS))

    @staticmethod
    def _colour(countdown: Countdown, role: int):
        back, fore = SLA_COLOURS[countdown.level]
        return QBrush(QColor(back if role == _BACKGROUND else fore))

    def cell(self, inq: p.InquiryRecord, column: str, role: int):
        if role == _TOOLTIP:
            return self._tooltip(inq)
        return self._cell(inq, column, role)

    def _cell(self, inq: p.InquiryRecord, column: str, role: int):
        """One cell's ``role`` (the tooltip is the row's, answered already)."""
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

    COLUMNS = ("inquiry", "skill", "channel", "language", "priority", "waiting", "sla")
    TIME_COLUMNS = ("waiting", "sla")

    def titles(self) -> list[str]:
        return [self.tr("Inquiry"), self.tr("Skill"), self.tr("Channel"), self.tr("Lang"), self.tr("Prio"),
                self.tr("Waiting"), self.tr("SLA")]

    def _cell(self, inq: p.InquiryRecord, column: str, role: int):
        if role == _DISPLAY:
            if column == "waiting":
                return format_duration(self.desk.wait_s(inq))
            if column == "sla":
                return format_duration(self.desk.pool_sla(inq).remaining_s)
            if column == "priority":
                return str(inq.priority)
            if column == "inquiry":  # the id the console shows, so both name the same item alike
                return inq.id
            return getattr(inq, column)
        if column == "sla" and role in (_BACKGROUND, _FOREGROUND):
            return self._colour(self.desk.pool_sla(inq), role)
        if role == _ALIGN and column in ("priority", "waiting", "sla"):
            return _RIGHT
        return None


class MineModel(_InquiryModel):
    """What I hold, with SLA countdowns for first response and resolution."""

    COLUMNS = ("inquiry", "customer", "skill", "first_response", "resolution")
    TIME_COLUMNS = ("first_response", "resolution")

    def titles(self) -> list[str]:
        return [self.tr("Inquiry"), self.tr("Customer"), self.tr("Skill"), self.tr("1st reply"), self.tr("Resolve")]

    def _cell(self, inq: p.InquiryRecord, column: str, role: int):
        if column in self.TIME_COLUMNS:
            first, resolution = self.desk.countdowns(inq)
            countdown = first if column == "first_response" else resolution
            if role == _DISPLAY:
                if countdown.met:
                    return self.tr("✓ replied")
                return format_duration(countdown.remaining_s)
            if role in (_BACKGROUND, _FOREGROUND):
                return self._colour(countdown, role)
            if role == _ALIGN:
                return _RIGHT
            return None
        if role == _DISPLAY:
            if column == "inquiry":
                return inq.id
            if column == "customer":
                return inq.customer or "–"
            if column == "skill":
                return inq.skill
        return None
