"""The console's panels: agents, inquiries, alerts and audit, each with its filters.

A panel owns its model and view and turns filter input into state filters
(debounced, so typing does not re-filter 20,000 rows per key). Commands go
out through signals the main window connects to ``ConsoleActions``.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from supervisor.console.delegates import LimitBarDelegate
from supervisor.console.models import AgentModel, AlertModel, AuditModel, InquiryModel
from supervisor.console.text import words
from supervisor.console.state import AuditFilter, ConsoleState, agent_matcher, inquiry_matcher
from supervisor.console.tables import AgentTableView, InquiryTableView, log_table

#: typing pauses this long before a filter is applied
FILTER_DEBOUNCE_MS = 150
#: starting column widths (px); users resize, the window remembers the layout
AGENT_WIDTHS = {"agent": 70, "name": 80, "group": 110, "status": 90, "tier": 70, "load": 110,
                "grabs": 140, "service": 120, "sla": 100}
INQUIRY_WIDTHS = {"inquiry": 170, "state": 70, "skill": 100, "shop": 120, "language": 70,
                  "channel": 70, "priority": 60, "waiting": 80, "owner": 80}


def _debounced(parent: QWidget, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(FILTER_DEBOUNCE_MS)
    timer.timeout.connect(slot)
    return timer


def _widths(view: QTableView, columns: list[str], widths: dict[str, int]) -> None:
    for name, px in widths.items():
        if name in columns:
            view.setColumnWidth(columns.index(name), px)


class AgentPanel(QWidget):
    """Per-agent load with a filter box; quota cells edit in place."""

    #: open the quota dialog for this agent ("" for none chosen)
    quota_dialog_requested = Signal(str)

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.model = AgentModel(state, self)
        self.view = AgentTableView(self._hint)
        self.view.setModel(self.model)
        for column in ("load", "grabs", "service"):
            self.view.setItemDelegateForColumn(self.model.column_of(column), LimitBarDelegate(column, self.view))
        header = self.view.horizontalHeader()
        # who can take work first: online, on a break, away, offline
        header.setSortIndicator(self.model.column_of("status"), Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        _widths(self.view, self.model.columns, AGENT_WIDTHS)
        self.view.doubleClicked.connect(self._double_clicked)
        self.filter = QLineEdit()
        self.filter.setObjectName("agentFilter")
        self.filter.setClearButtonEnabled(True)
        self._apply_later = _debounced(self, self.apply_filter)
        self.filter.textChanged.connect(self._apply_later.start)
        self.count = QLabel()
        self.quota_button = QPushButton()
        self.quota_button.clicked.connect(lambda: self.quota_dialog_requested.emit(self.current_agent() or ""))
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.quota_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self.filter.setPlaceholderText(self.tr("Filter agents: id, name, group, status, tier, skill…"))
        self.quota_button.setText(self.tr("Quotas…"))
        self.quota_button.setToolTip(self.tr("Change the quotas of an agent or a whole group"))
        self.model.retranslate()
        self.update_count()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def apply_filter(self) -> None:
        self.state.agents.set_filter(agent_matcher(self.filter.text()))
        self.model.flush()
        self.update_count()

    def update_count(self) -> None:
        self.count.setText(self.tr("%1 of %2 agents").replace("%1", str(len(self.state.agents)))
                           .replace("%2", str(len(self.state.mirror.agents))))

    def current_agent(self) -> str | None:
        index = self.view.currentIndex()
        return self.model.key_at(index.row()) if index.isValid() else None

    def show_agent(self, agent_id: str) -> bool:
        """Select and scroll to an agent, clearing the filter if it hides it."""
        if agent_id not in self.state.agents and agent_id in self.state.mirror.agents:
            self.filter.clear()
            self.apply_filter()
        row = self.model.row_of(agent_id)
        if row is None:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def _double_clicked(self, index: QModelIndex) -> None:
        if not self.model.flags(index) & Qt.ItemFlag.ItemIsEditable:
            self.quota_dialog_requested.emit(self.model.key_at(index.row()) or "")

    def _hint(self, inquiry_ids: list[str], agent_id: str) -> str | None:
        agent = self.state.mirror.agents.get(agent_id)
        if agent is None:
            return None
        reasons = [words().hint(*hint) for hint in self.state.refusal_hints(agent, inquiry_ids)]
        if not reasons:
            return None
        return self.tr("Likely refused: %1").replace("%1", "; ".join(reasons))


class InquiryPanel(QWidget):
    """Open inquiries (queued and held), filterable; drag rows onto an agent to reassign."""

    #: open the reassign dialog for these inquiries
    reassign_requested = Signal(list)

    STATES = ("all", "queued", "held")

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.model = InquiryModel(state, self)
        self.view = InquiryTableView()
        self.view.setModel(self.model)
        self.view.horizontalHeader().setSortIndicator(self.model.column_of("waiting"), Qt.SortOrder.DescendingOrder)
        self.view.setSortingEnabled(True)
        _widths(self.view, self.model.columns, INQUIRY_WIDTHS)
        self.view.doubleClicked.connect(lambda _index: self._reassign())
        self.state_box = QComboBox()
        self.state_box.setObjectName("inquiryStateFilter")
        self.state_box.currentIndexChanged.connect(self.apply_filter)
        self.filter = QLineEdit()
        self.filter.setObjectName("inquiryFilter")
        self.filter.setClearButtonEnabled(True)
        self._apply_later = _debounced(self, self.apply_filter)
        self.filter.textChanged.connect(self._apply_later.start)
        self.count = QLabel()
        self.reassign_button = QPushButton()
        self.reassign_button.clicked.connect(self._reassign)
        bar = QHBoxLayout()
        bar.addWidget(self.state_box)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.reassign_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        index = self.state_box.currentIndex()
        self.state_box.blockSignals(True)
        self.state_box.clear()
        self.state_box.addItems([self.tr("All open"), words().state("queued"), words().state("held")])
        self.state_box.setCurrentIndex(max(0, index))
        self.state_box.blockSignals(False)
        self.filter.setPlaceholderText(self.tr("Filter inquiries: id, skill, shop, owner, language…"))
        self.reassign_button.setText(self.tr("Reassign…"))
        self.reassign_button.setToolTip(self.tr("Move the selected inquiry to another agent or back to the "
                                                "pool (or drag it onto an agent)"))
        self.model.retranslate()
        self.update_count()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def apply_filter(self) -> None:
        which = self.STATES[max(0, self.state_box.currentIndex())]
        self.state.inquiries.set_filter(inquiry_matcher(which, self.filter.text()))
        self.model.flush()
        self.update_count()

    def update_count(self) -> None:
        self.count.setText(self.tr("%1 of %2 open").replace("%1", str(len(self.state.inquiries)))
                           .replace("%2", str(len(self.state.mirror.inquiries))))

    def show_inquiry(self, inquiry_id: str) -> bool:
        if inquiry_id not in self.state.inquiries and inquiry_id in self.state.mirror.inquiries:
            self.filter.clear()
            self.state_box.setCurrentIndex(0)
            self.apply_filter()
        row = self.model.row_of(inquiry_id)
        if row is None:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def _reassign(self) -> None:
        ids = self.view.selected_ids()
        if ids:
            self.reassign_requested.emit(ids)


class AlertPanel(QWidget):
    """Alerts, newest first; double-click shows the inquiry or agent it is about."""

    #: ("inquiry" | "agent", id)
    link_activated = Signal(str, str)

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.model = AlertModel(state, self)
        self.view = log_table(self.model, "alertTable",
                              {"time": 64, "severity": 64, "kind": 124, "link": 116, "acked": 72})
        # the sentence names what it is about; the link stays for double-click and the CSV export
        self.view.setColumnHidden(self.model.column_of("link"), True)
        self.view.doubleClicked.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view)

    def retranslateUi(self) -> None:
        self.model.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def activate_row(self, row: int) -> None:
        alert = self.model.record_at(row)
        if alert is None:
            return
        if alert.inquiry:
            self.link_activated.emit("inquiry", alert.inquiry)
        elif alert.agent:
            self.link_activated.emit("agent", alert.agent)

    def _activated(self, index: QModelIndex) -> None:
        self.activate_row(index.row())


class AuditPanel(QWidget):
    """Recent supervisor actions and refusals, filterable."""

    #: ask the broker for past entries again
    refresh_requested = Signal()

    KINDS = ("", "set_quotas", "reassign", "set_status", "set_mode", "set_quality", "replace_roster",
             "define_")

    def __init__(self, state: ConsoleState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.model = AuditModel(state, self)
        self.view = log_table(self.model, "auditTable",
                              {"time": 120, "actor": 80, "role": 80, "kind": 110, "subject": 90, "result": 70})
        self.actor = QLineEdit()
        self.actor.setObjectName("auditActor")
        self.kind = QComboBox()
        self.kind.setObjectName("auditKind")
        self.kind.setEditable(True)
        self.kind.addItems(self.KINDS)
        self.refusals = QCheckBox()
        self.refusals.setObjectName("auditRefusals")
        self.text = QLineEdit()
        self.text.setObjectName("auditText")
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh_requested)
        self._apply_later = _debounced(self, self.apply_filter)
        for edit in (self.actor, self.text):
            edit.setClearButtonEnabled(True)
            edit.textChanged.connect(self._apply_later.start)
        self.kind.currentTextChanged.connect(self._apply_later.start)
        self.refusals.toggled.connect(self.apply_filter)
        bar = QHBoxLayout()
        bar.addWidget(self.actor)
        bar.addWidget(self.kind)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.refusals)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self.actor.setPlaceholderText(self.tr("Who"))
        self.kind.lineEdit().setPlaceholderText(self.tr("Action (prefix)"))
        self.text.setPlaceholderText(self.tr("Subject or reason contains…"))
        self.refusals.setText(self.tr("Refusals only"))
        self.refresh_button.setText(self.tr("Reload"))
        self.refresh_button.setToolTip(self.tr("Ask the broker for the latest 1,000 entries"))
        self.model.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def apply_filter(self) -> None:
        self.state.set_audit_filter(AuditFilter(actor=self.actor.text(), kind_prefix=self.kind.currentText(),
                                                only_refusals=self.refusals.isChecked(),
                                                text=self.text.text()))
        self.model.flush()
