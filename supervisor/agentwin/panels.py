"""The agent window's parts: who I am, the verdict banner, the pool, my inquiries.

Each panel builds its widgets, says its words (``retranslate``) and shows what
the desk holds; none sends anything. What the agent asks for leaves through
the panels' signals, which the window connects to ``DeskActions``.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QMenu,
    QPushButton, QTableView, QToolButton, QVBoxLayout, QWidget,
)

from broker.wire import protocol as p
from supervisor.agentwin.models import INQUIRY_ID_ROLE, MineModel, PoolModel
from supervisor.agentwin.state import AgentDeskState, MeView, VerdictView
from supervisor.common.broker_text import broker_text
from supervisor.common.formats import format_limit, format_service

#: statuses an agent may choose; "offline" is shown (the broker's word) but not offered
STATUSES = ("online", "away", "break")
SHOWN_STATUSES = (*STATUSES, "offline")

#: banner look per outcome: (background, foreground)
BANNER_LOOK = {
    "won": ("#e6f4ea", "#137333"),
    "lost": ("#fef7e0", "#8a4b00"),
    "refused": ("#fce8e6", "#a50e0e"),
    "failed": ("#fce8e6", "#a50e0e"),
    "pending": ("#e8f0fe", "#174ea6"),
    "idle": ("#f1f3f4", "#3c4043"),
}


def _table(view: QTableView, model) -> QTableView:
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


def _selected_id(view: QTableView) -> str | None:
    rows = view.selectionModel().selectedRows()
    return view.model().data(rows[0], INQUIRY_ID_ROLE) if rows else None


# ---------------------------------------------------------------------- me

class MePanel(QGroupBox):
    """My name, tier and status, a forced break, and the broker's numbers about me."""

    #: the agent picked a status in the selector (maybe the one it has)
    status_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("meName")
        self.status_combo = QComboBox(self)
        for status in SHOWN_STATUSES:
            self.status_combo.addItem(status, status)
        self.status_combo.model().item(len(STATUSES)).setEnabled(False)
        self.status_combo.activated.connect(
            lambda index: self.status_chosen.emit(self.status_combo.itemData(index)))
        self.break_label = QLabel(self)
        self.break_label.setObjectName("forcedBreak")
        self.break_label.setStyleSheet("color: #a50e0e; font-weight: bold;")
        self.break_label.hide()
        self.held_label = QLabel(self)
        self.grabs_label = QLabel(self)
        self.service_label = QLabel(self)
        grid.addWidget(self.name_label, 0, 0, 1, 2)
        grid.addWidget(self.status_combo, 0, 2)
        grid.addWidget(self.break_label, 1, 0, 1, 3)
        grid.addWidget(self.held_label, 2, 0)
        grid.addWidget(self.grabs_label, 2, 1)
        grid.addWidget(self.service_label, 2, 2)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Me"))
        for i, status in enumerate(SHOWN_STATUSES):
            self.status_combo.setItemText(i, self.status_word(status))

    def status_word(self, status: str) -> str:
        return {"online": self.tr("Online"), "away": self.tr("Away"), "break": self.tr("On break"),
                "offline": self.tr("Offline")}.get(status, status)

    def render(self, view: MeView | None, agent_id: str, clock_offset_s: float) -> None:
        """Show ``view`` (None: the broker has not named this agent yet).

        ``clock_offset_s`` turns the broker's break end into local time.
        """
        if view is None:
            self.name_label.setText(self.tr("%1 (unknown to the broker so far)").replace("%1", agent_id))
            return
        tier = f" · {broker_text().word(view.tier)}" if view.tier else ""
        delay = self.tr(" · sees new inquiries after %1 s").replace(
            "%1", f"{view.visibility_delay_s:g}") if view.visibility_delay_s else ""
        self.name_label.setText(f"{view.name}{tier}{delay}")
        self.status_combo.setCurrentIndex(self.status_combo.findData(view.status))
        if view.forced_break and view.break_until:
            until = time.strftime("%H:%M", time.localtime(view.break_until - clock_offset_s))
            self.break_label.setText(self.tr("Forced break until %1 (continuous-service limit reached)")
                                     .replace("%1", until))
            self.break_label.show()
        else:
            self.break_label.hide()
        self.held_label.setText(self.tr("Held %1 / %2").replace("%1", str(view.held)).replace(
            "%2", format_limit(view.concurrent_cap)))
        self.grabs_label.setText(self.tr("Today %1 / %2").replace("%1", str(view.grabs_today)).replace(
            "%2", format_limit(view.daily_grabs)))
        self.service_label.setText(self.tr("Service %1").replace(
            "%1", format_service(view.service_s, view.continuous_hours)))


# ---------------------------------------------------------------------- the verdict banner

class VerdictBanner(QLabel):
    """The answer to my last grab, in my words, coloured by outcome; or why nothing can be sent."""

    def __init__(self, desk: AgentDeskState, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self._look = "idle"
        self._view: VerdictView | None = None
        self._text = ""
        #: the broker's reason for refusing this identity, while it does
        self._refusal: str | None = None
        self.setObjectName("verdictBanner")
        self.setWordWrap(True)
        self.setMinimumHeight(38)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # colours through the palette, not a style sheet: re-polishing a style sheet
        # on every verdict costs about a millisecond of the time the agent waits
        self.setAutoFillBackground(True)
        self.setMargin(6)
        bold = self.font()
        bold.setBold(True)
        self.setFont(bold)

    def show_verdict(self, view: VerdictView) -> None:
        self._show(view.outcome, view, "")

    def show_note(self, look: str, text: str = "") -> None:
        """A line that is not a verdict ("pending", or "idle" with the key hint when empty)."""
        self._show(look, None, text)

    def show_refusal(self, reason: str | None) -> None:
        """The broker refuses this identity (``reason``), or accepts it again (None)."""
        self._refusal = reason
        self._show("refused" if reason is not None else "idle", None, reason or "")

    def retranslate(self) -> None:
        self._render()

    def _show(self, look: str, view: VerdictView | None, text: str) -> None:
        self._look, self._view, self._text = look, view, text
        self._render()

    def _render(self) -> None:
        look, text = self._look, self._text
        if self._view is not None:
            text = self.verdict_text(self._view)
        elif look == "refused" and self._refusal is not None:
            text = self.identity_text(self._refusal)
        elif look == "idle" and not text:
            text = self.tr("Space grabs the selected inquiry, Ctrl+G the oldest.")
        back, fore = BANNER_LOOK.get(look, BANNER_LOOK["idle"])
        self.setText(text)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(back))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(fore))
        self.setPalette(palette)

    def identity_text(self, reason: str) -> str:
        return self.tr("The broker does not accept agent %1: %2").replace(
            "%1", self.desk.agent_id).replace("%2", reason)

    def verdict_text(self, view: VerdictView) -> str:
        inq = self.desk.mine.records.get(view.inquiry) or self.desk.mirror.inquiries.get(view.inquiry)
        what = view.inquiry  # the id, as the console shows it
        if view.outcome == "won":
            return self.tr("✔ Won %1 — it is in My inquiries").replace("%1", what)
        if view.outcome == "lost":
            return self.tr("✘ Lost %1 — %2 took it first").replace("%1", what).replace(
                "%2", view.winner_name or view.winner or "?")
        headline = self.refusal_words(view.code)
        if view.outcome == "failed" and view.code == "no-answer":
            headline = self.tr("No verdict: the broker did not answer. Check My inquiries before grabbing again.")
        reason = broker_text().reason(view.key, view.params, view.reason, view.code) if view.reason else ""
        return f"{headline}\n{reason}" if reason else headline

    def refusal_words(self, code: str) -> str:
        """The broker's refusal code, in the agent's words."""
        words = {
            p.ErrorCode.QUOTA_CONCURRENT.value: self.tr("Refused: you already hold as many inquiries as your concurrent cap allows."),
            p.ErrorCode.QUOTA_DAILY.value: self.tr("Refused: your daily grab quota is used up."),
            p.ErrorCode.QUOTA_HOURS.value: self.tr("Refused: continuous-service limit reached — a break is due."),
            p.ErrorCode.NOT_ELIGIBLE.value: self.tr("Refused: you may not take this inquiry now."),
            p.ErrorCode.NOT_FOUND.value: self.tr("Refused: this inquiry is no longer open."),
            p.ErrorCode.RATE_LIMITED.value: self.tr("Refused: too many grabs too fast — wait a moment."),
            p.ErrorCode.TOO_MANY_PENDING.value: self.tr("Refused: too many requests waiting — wait a moment."),
            p.ErrorCode.FORBIDDEN.value: self.tr("Refused: the broker does not accept this agent."),
            p.ErrorCode.UNAUTHENTICATED.value: self.tr("Refused: the broker does not accept this agent."),
        }
        return words.get(code, self.tr("Refused (%1).").replace("%1", code or "?"))


# ---------------------------------------------------------------------- the pool

class PoolView(QTableView):
    """The pool table; Space and Enter grab (the selected row, else the oldest)."""

    grab_requested = Signal()

    GRAB_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in self.GRAB_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            event.accept()
            if not event.isAutoRepeat():  # holding the key down is not a series of grabs
                self.grab_requested.emit()
            return
        super().keyPressEvent(event)


class PoolPanel(QGroupBox):
    """The inquiries I may take, oldest first, and the grab buttons."""

    #: grab the selected row, or the oldest when none is selected
    grab_requested = Signal()
    grab_oldest_requested = Signal()
    #: grab this inquiry (a double-clicked row)
    grab_row_requested = Signal(str)

    def __init__(self, desk: AgentDeskState, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.hint = QLabel(self)
        self.hint.setStyleSheet("color: #8a4b00;")
        self.hint.hide()
        layout.addWidget(self.hint)
        self.model = PoolModel(desk, desk.pool, self)
        self.view = _table(PoolView(self), self.model)
        self.view.setObjectName("poolView")
        self.view.grab_requested.connect(self.grab_requested)
        self.view.doubleClicked.connect(self._row_double_clicked)
        layout.addWidget(self.view)
        buttons = QHBoxLayout()
        self.grab_button = QPushButton(self)
        self.grab_button.setObjectName("grabButton")
        self.grab_button.clicked.connect(self.grab_requested)
        self.grab_oldest_button = QPushButton(self)
        self.grab_oldest_button.clicked.connect(self.grab_oldest_requested)
        buttons.addWidget(self.grab_button, 2)
        buttons.addWidget(self.grab_oldest_button, 1)
        layout.addLayout(buttons)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Pool: inquiries I may take"))
        self.grab_button.setText(self.tr("Grab (Space)"))
        self.grab_button.setToolTip(self.tr("Grab the selected inquiry, or the oldest if none is selected"))
        self.grab_oldest_button.setText(self.tr("Oldest (Ctrl+G)"))
        self.model.retranslate()

    def selected_inquiry(self) -> str | None:
        return _selected_id(self.view)

    def set_grab_enabled(self, enabled: bool) -> None:
        self.grab_button.setEnabled(enabled)
        self.grab_oldest_button.setEnabled(enabled)

    def show_offline_hint(self, status_word: str | None) -> None:
        """Say why nothing can be grabbed while I am not online (None hides it)."""
        if status_word is None:
            self.hint.hide()
            return
        self.hint.setText(self.tr("You are %1: go online to grab.").replace("%1", status_word))
        self.hint.show()

    def _row_double_clicked(self, index: QModelIndex) -> None:
        inquiry_id = self.model.data(index, INQUIRY_ID_ROLE)
        if inquiry_id is not None:
            self.grab_row_requested.emit(inquiry_id)


# ---------------------------------------------------------------------- my inquiries

class MinePanel(QGroupBox):
    """What I hold, with SLA countdowns, and what I can do with the selected one."""

    respond_requested = Signal()
    #: the satisfaction chosen (an int 1-5, or None)
    resolve_requested = Signal(object)
    release_requested = Signal()
    #: the colleague's agent id
    transfer_requested = Signal(str)
    #: to another skill's pool (the window asks which, with a note)
    pool_transfer_requested = Signal()
    #: the selection changed (the actions' enabled state follows it)
    selection_changed = Signal()

    def __init__(self, desk: AgentDeskState, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.model = MineModel(desk, desk.mine, self)
        self.view = _table(QTableView(self), self.model)
        self.view.setObjectName("mineView")
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        layout.addWidget(self.view)
        actions = QHBoxLayout()
        self.respond_button = QPushButton(self)
        self.respond_button.clicked.connect(self.respond_requested)
        self.satisfaction_combo = QComboBox(self)
        self.satisfaction_combo.addItem("—", None)
        for score in range(1, 6):
            self.satisfaction_combo.addItem("★" * score, score)
        self.resolve_button = QPushButton(self)
        self.resolve_button.clicked.connect(lambda: self.resolve_requested.emit(self.satisfaction()))
        self.release_button = QPushButton(self)
        self.release_button.clicked.connect(self.release_requested)
        self.transfer_button = QToolButton(self)
        self.transfer_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.transfer_menu = QMenu(self.transfer_button)
        self.transfer_menu.aboutToShow.connect(self._fill_transfer_menu)
        self.transfer_button.setMenu(self.transfer_menu)
        for widget in (self.respond_button, self.satisfaction_combo, self.resolve_button,
                       self.release_button, self.transfer_button):
            actions.addWidget(widget)
        layout.addLayout(actions)

    def retranslate(self) -> None:
        self.setTitle(self.tr("My inquiries"))
        self.respond_button.setText(self.tr("1st reply"))
        self.respond_button.setToolTip(self.tr("Mark the first response as sent (Ctrl+R)"))
        self.satisfaction_combo.setToolTip(self.tr("Customer satisfaction, if the customer gave one"))
        self.resolve_button.setText(self.tr("Resolve"))
        self.resolve_button.setToolTip(self.tr("Resolve with the satisfaction chosen on the left (Ctrl+E)"))
        self.release_button.setText(self.tr("Release"))
        self.release_button.setToolTip(self.tr("Put it back in the pool; the customer keeps their wait (Ctrl+L)"))
        self.transfer_button.setText(self.tr("Transfer ▾"))
        self.transfer_button.setToolTip(self.tr("Hand it to an online colleague"))
        self.model.retranslate()

    def selected_inquiry(self) -> str | None:
        return _selected_id(self.view)

    def select(self, inquiry_id: str) -> None:
        row = self.desk.mine.position(inquiry_id)
        if row is not None:
            self.view.selectRow(row)

    def satisfaction(self) -> int | None:
        return self.satisfaction_combo.currentData()

    def clear_satisfaction(self) -> None:
        self.satisfaction_combo.setCurrentIndex(0)

    def set_actions_enabled(self, enabled: bool) -> None:
        for widget in (self.respond_button, self.resolve_button, self.release_button, self.transfer_button):
            widget.setEnabled(enabled)

    def _fill_transfer_menu(self) -> None:
        self.transfer_menu.clear()
        colleagues = self.desk.colleagues(self.selected_inquiry())
        if not colleagues:
            self.transfer_menu.addAction(self.tr("No online colleague can take it")).setEnabled(False)
        for agent in colleagues:
            label = f"{agent.name or agent.id}  ({agent.held}/{format_limit(agent.effective.concurrent_cap)})"
            action = self.transfer_menu.addAction(label)
            action.triggered.connect(lambda _checked=False, a=agent.id: self.transfer_requested.emit(a))
        self.transfer_menu.addSeparator()
        self.transfer_menu.addAction(self.tr("To another skill's pool…"), self.pool_transfer_requested.emit)
