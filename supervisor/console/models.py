"""Qt item models over the console state.

The tables derive from ``supervisor.common.rowmodel.RowModel``, which replays
the state's row operations on each refresh tick (``flush``).

Values shown are the broker's (the mirror's records). A quota edit does not
change them: ``setData`` asks for the change (``quota_edit_requested``), the
cell shows the request in italics until the broker's answer arrives, and a
refusal leaves the broker's value where it was.
"""
from __future__ import annotations

import json
import time

from PySide6.QtCore import (QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QObject,
                            Qt, Signal)
from PySide6.QtGui import QBrush, QColor, QFont

from broker.wire import protocol as p
from supervisor.common.broker_text import broker_text
from supervisor.common.formats import format_duration, format_limit, format_service
from supervisor.common.rowmodel import STALE_FG, KeyRole, RowModel
from supervisor.common.records import continuous_service_s
from supervisor.console.state import (ConsoleState, at_cap, fraction,
                                      on_break, sla_rank_now)
from supervisor.console.text import fmt_clock, words

#: drag-and-drop payload: a JSON list of inquiry ids
INQUIRY_MIME = "application/x-grabdesk-inquiry"

# Roles as plain ints: data() runs for every painted cell and role, so comparisons stay cheap.
# KeyRole (the record's id) is the row model's own: UserRole + 1.
FractionRole = int(Qt.ItemDataRole.UserRole) + 2  #: use against a limit, for the bar delegate
PendingRole = int(Qt.ItemDataRole.UserRole) + 3   #: a quota change awaits the broker's answer

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FONT = int(Qt.ItemDataRole.FontRole)

_ENABLED = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
_AGENT_FLAGS = _ENABLED | Qt.ItemFlag.ItemIsDropEnabled
_AGENT_EDIT_FLAGS = _AGENT_FLAGS | Qt.ItemFlag.ItemIsEditable
_INQUIRY_FLAGS = _ENABLED | Qt.ItemFlag.ItemIsDragEnabled

OFFLINE_FG = QBrush(QColor("#80868b"))
AT_CAP_BG = QBrush(QColor("#fde2c0"))
BREAK_BG = QBrush(QColor("#d7e6fb"))
WARN_BG = QBrush(QColor("#fff1c2"))
BREACH_BG = QBrush(QColor("#f8c9c5"))
INFO_BG = QBrush(QColor("#e8f0fe"))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_ITALIC = QFont()
_ITALIC.setItalic(True)

#: editable agent columns -> the quota they edit
QUOTA_OF_COLUMN = {"load": "concurrent_cap", "grabs": "daily_grabs", "service": "continuous_hours"}


# ---------------------------------------------------------------------- agents

class AgentModel(RowModel):
    """Per-agent load: status, held / cap, grabs today / daily quota, service time, tier."""

    COLUMNS = ["agent", "name", "group", "status", "tier", "load", "grabs", "service", "sla", "skills"]
    #: (agent id, quota field, requested value)
    quota_edit_requested = Signal(str, str, object)

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        self.state = state
        self._editable = frozenset(self.COLUMNS.index(c) for c in QUOTA_OF_COLUMN)
        super().__init__(state.agents, list(self.COLUMNS), parent)

    def titles(self) -> list[str]:
        return [self.tr("Agent"), self.tr("Name"), self.tr("Group"), self.tr("Status"), self.tr("Tier"),
                self.tr("Held / cap"), self.tr("Grabs today / quota"), self.tr("Service / limit"),
                self.tr("SLA met"), self.tr("Skills")]

    ROLES = RowModel.ROLES | {_EDIT, _FONT, FractionRole, PendingRole}

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if not self.stale and index.column() in self._editable:
            return _AGENT_EDIT_FLAGS
        return _AGENT_FLAGS

    def cell(self, a: p.AgentRecord, column: str, role: int):
        eff = a.effective
        if role == _DISPLAY:
            if column == "agent":
                return a.id
            if column == "name":
                return a.name
            if column == "group":
                group = self.state.mirror.groups.get(a.group)
                return group.name if group is not None and group.name else a.group
            if column == "status":
                text = words().status(a.status)
                if a.forced_break and a.break_until:
                    text += " " + self.tr("until %1").replace(
                        "%1", time.strftime("%H:%M", time.localtime(a.break_until)))
                return text
            if column == "tier":
                return broker_text().word(a.tier)
            if column == "load":
                return self._with_pending(a.id, "concurrent_cap", f"{a.held} / {format_limit(eff.concurrent_cap)}")
            if column == "grabs":
                return self._with_pending(a.id, "daily_grabs", f"{a.grabs_today} / {format_limit(eff.daily_grabs)}")
            if column == "service":
                text = format_service(continuous_service_s(a, self.state.clock()), eff.continuous_hours)
                return self._with_pending(a.id, "continuous_hours", text)
            if column == "sla":
                met = self.state.sla_met(a.id)
                return f"{100 * met[0] / met[1]:.0f} % ({met[0]}/{met[1]})" if met else "–"
            if column == "skills":
                return ", ".join(f"{s} {lvl}" for s, lvl in sorted(a.skills.items()))
            return None
        if role == _EDIT:
            quota = QUOTA_OF_COLUMN.get(column)
            return None if quota is None else getattr(eff, quota)
        if role == FractionRole:
            if column == "load":
                return fraction(a.held, eff.concurrent_cap)
            if column == "grabs":
                return fraction(a.grabs_today, eff.daily_grabs)
            if column == "service":
                served = continuous_service_s(a, self.state.clock())
                return None if served is None or not eff.continuous_hours \
                    else fraction(served, eff.continuous_hours * 3600.0)
            return None
        if role == PendingRole:
            quota = QUOTA_OF_COLUMN.get(column)
            return quota is not None and (a.id, quota) in self.state.pending
        if role == _BACKGROUND:
            if on_break(a):
                return BREAK_BG
            if at_cap(a):
                return AT_CAP_BG
            return None
        if role == _FOREGROUND:
            return OFFLINE_FG if a.status == "offline" else None
        if role == _FONT:
            quota = QUOTA_OF_COLUMN.get(column)
            return _ITALIC if quota is not None and (a.id, quota) in self.state.pending else None
        if role == _ALIGN:
            return _CENTER if column in ("load", "grabs", "service", "sla") else None
        if role == _TOOLTIP:
            return self._tooltip(a, column)
        return None

    def _with_pending(self, agent_id: str, quota: str, text: str) -> str:
        pending = self.state.pending.get((agent_id, quota))
        return text if pending is None else f"{text} → {format_limit(pending)}…"

    def _tooltip(self, a: p.AgentRecord, column: str) -> str | None:
        eff = a.effective
        if column == "status" and on_break(a):
            if a.forced_break and a.break_until:
                return self.tr("Forced break after %1 h of continuous service, until %2").replace(
                    "%1", format_limit(eff.continuous_hours)).replace("%2", fmt_clock(a.break_until))
            return self.tr("On a break")
        if column == "load":
            tip = self.tr("Holds %1 inquiries; concurrent cap %2. Double-click or F2 to change the cap.")
            return tip.replace("%1", str(a.held)).replace("%2", format_limit(eff.concurrent_cap))
        if column == "grabs":
            tip = self.tr("%1 grabs today; daily quota %2. Double-click or F2 to change the quota.")
            return tip.replace("%1", str(a.grabs_today)).replace("%2", format_limit(eff.daily_grabs))
        if column == "service":
            tip = self.tr("Continuous service; a break of %1 min is forced after %2 h. "
                          "Double-click or F2 to change the limit.")
            return tip.replace("%1", format_limit(eff.break_minutes)).replace("%2", format_limit(eff.continuous_hours))
        if column == "sla":
            return self.tr("Share of the inquiries this agent resolved, while this console watched, "
                           "without an SLA breach")
        return None

    def setData(self, index: QModelIndex, value, role=_EDIT) -> bool:
        """Ask the broker for the change; the cell keeps showing the broker's value."""
        if role != _EDIT or not index.isValid() or self.stale:
            return False
        quota = QUOTA_OF_COLUMN.get(self.columns[index.column()])
        agent_id = self.key_at(index.row())
        if quota is None or agent_id is None:
            return False
        self.quota_edit_requested.emit(agent_id, quota, value)
        return True


# ---------------------------------------------------------------------- inquiries

class InquiryModel(RowModel):
    """Open inquiries (queued and held), longest wait first; a drag source for reassignment."""

    COLUMNS = ["inquiry", "state", "skill", "shop", "language", "channel", "priority", "waiting",
               "owner", "sla"]

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        self.state = state
        super().__init__(state.inquiries, list(self.COLUMNS), parent)

    def titles(self) -> list[str]:
        return [self.tr("Inquiry"), self.tr("State"), self.tr("Skill"), self.tr("Shop"),
                self.tr("Language"), self.tr("Channel"), self.tr("Priority"), self.tr("Waiting"),
                self.tr("Owner"), self.tr("SLA")]

    def flags(self, index: QModelIndex):
        return _INQUIRY_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def cell(self, i: p.InquiryRecord, column: str, role: int):
        if role == _DISPLAY:
            if column == "inquiry":
                return i.id
            if column == "state":
                return words().state(i.state)
            if column == "waiting":
                return format_duration(max(0.0, self.state.clock() - i.arrived_at))
            if column == "owner":
                return i.owner or ""
            if column == "sla":
                return ", ".join(words().sla_flag(f) for f in i.sla)
            if column == "priority":
                return i.priority
            return getattr(i, column)
        if role == _BACKGROUND:
            if column in ("waiting", "sla"):
                rank = sla_rank_now(i, self.state.clock())
                return BREACH_BG if rank == 2 else WARN_BG if rank == 1 else None
            return None
        if role == _ALIGN:
            return _RIGHT if column in ("waiting", "priority") else None
        if role == _TOOLTIP and column == "inquiry":
            return self.tr("Drag onto an agent to reassign; double-click for the reassign dialog")
        return None

    def supportedDragActions(self):
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [INQUIRY_MIME]

    def mimeData(self, indexes) -> QMimeData:
        seen: dict[str, None] = {}
        for ix in sorted(indexes, key=lambda ix: ix.row()):
            key = self.key_at(ix.row())
            if key is not None:
                seen[key] = None
        mime = QMimeData()
        mime.setData(INQUIRY_MIME, QByteArray(json.dumps(list(seen)).encode()))
        mime.setText("\n".join(seen))
        return mime


def inquiry_ids(mime: QMimeData) -> list[str]:
    """The inquiry ids a drag carries (empty if it carries none)."""
    if not mime.hasFormat(INQUIRY_MIME):
        return []
    try:
        ids = json.loads(bytes(mime.data(INQUIRY_MIME)).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


# ---------------------------------------------------------------------- alerts and audit

class AlertModel(RowModel):
    """Alerts newest first; each links to an inquiry, an agent, a group or a skill."""

    #: the text last: it stretches to the panel's width
    COLUMNS = ["time", "severity", "kind", "link", "acked", "text"]

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        self.state = state
        super().__init__(state.alerts, list(self.COLUMNS), parent)

    def titles(self) -> list[str]:
        return [self.tr("Time"), self.tr("Severity"), self.tr("Alert"), self.tr("Link"),
                self.tr("Acked"), self.tr("What happened")]

    def cell(self, a: p.Alert, column: str, role: int):
        if role == _DISPLAY:
            if column == "time":
                return fmt_clock(a.at)
            if column == "severity":
                return words().severity(a.severity)
            if column == "kind":
                return words().alert_kind(a.kind)
            if column == "text":
                return broker_text().alert(a)
            if column == "link":
                return a.inquiry or a.agent or a.group or a.skill or ""
            if column == "acked":
                return f"✓ {a.acked_by}" if a.acked_by else ""
        if role == _TOOLTIP and column == "acked" and a.acked_by:
            when = fmt_clock(a.acked_at) if a.acked_at else ""
            return f"{a.acked_by} {when}" + (f": {a.ack_note}" if a.ack_note else "")
        if role == _BACKGROUND and column == "severity":
            return BREACH_BG if a.severity == "critical" else WARN_BG if a.severity == "warning" else INFO_BG
        if role == _TOOLTIP:
            hint = self.tr("Double-click to show the inquiry or agent")
            return f"{broker_text().alert(a)}\n{hint}" if column == "text" else hint
        return None


class AuditModel(RowModel):
    """Supervisor and admin actions, and refusals, newest first."""

    COLUMNS = ["time", "actor", "role", "kind", "subject", "result", "reason"]

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        self.state = state
        super().__init__(state.audit, list(self.COLUMNS), parent)

    def titles(self) -> list[str]:
        return [self.tr("Time"), self.tr("Who"), self.tr("Role"), self.tr("Action"), self.tr("Subject"),
                self.tr("Result"), self.tr("Reason")]

    def cell(self, e: p.AuditEntry, column: str, role: int):
        if role == _DISPLAY:
            if column == "time":
                return time.strftime("%m-%d %H:%M:%S", time.localtime(e.at))
            if column == "result":
                return self.tr("done") if e.ok else self.tr("refused")
            return getattr(e, column)
        if role == _BACKGROUND and column == "result" and not e.ok:
            return BREACH_BG
        return None


# ---------------------------------------------------------------------- small tables

class QueueNowModel(QAbstractTableModel):
    """Per skill: queued now, the longest wait and which inquiry it is."""

    COLUMNS = ["skill", "queued", "longest", "inquiry"]

    def __init__(self, state: ConsoleState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self._skills: list[str] = []
        self._waits: dict[str, tuple[str, float]] = {}
        self._now = 0.0
        self.stale = False
        self._titles = self.titles()

    def titles(self) -> list[str]:
        return [self.tr("Skill"), self.tr("Queued"), self.tr("Longest wait"), self.tr("Inquiry")]

    def retranslate(self) -> None:
        self._titles = self.titles()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.COLUMNS) - 1)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._skills)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=_DISPLAY):
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY and 0 <= section < len(self._titles):
            return self._titles[section]
        return None

    def refresh(self, now: float, stale: bool) -> None:
        self.stale = stale
        self._waits = self.state.longest_waits(now)
        self._now = now
        skills = list(self.state.skills)
        if len(skills) > len(self._skills):  # skills are only ever added
            self.beginInsertRows(QModelIndex(), len(self._skills), len(skills) - 1)
            self._skills = skills
            self.endInsertRows()
        if self._skills:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._skills) - 1, len(self.COLUMNS) - 1))

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        if not index.isValid() or index.row() >= len(self._skills):
            return None
        skill = self._skills[index.row()]
        column = self.COLUMNS[index.column()]
        wait = self._waits.get(skill)
        if role == _DISPLAY:
            if column == "skill":
                return skill
            if column == "queued":
                return self.state.queue.depth.get(skill, 0)
            if column == "longest":
                return format_duration(wait[1] if wait else None)
            if column == "inquiry":
                return wait[0] if wait else ""
        if role == KeyRole:
            return wait[0] if wait else None
        if role == _FOREGROUND and self.stale:
            return STALE_FG
        if role == _ALIGN and column in ("queued", "longest"):
            return _RIGHT
        if role == _BACKGROUND and column == "longest" and wait:
            inquiry = self.state.mirror.inquiries.get(wait[0])
            rank = sla_rank_now(inquiry, self._now) if inquiry is not None else 0
            return BREACH_BG if rank == 2 else WARN_BG if rank == 1 else None
        return None
