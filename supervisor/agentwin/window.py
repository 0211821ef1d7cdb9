"""The agent companion window: see what I may take, grab with one key, know at once.

The window renders ``AgentDeskState`` and sends commands through the
``BrokerLink``; it never waits on the network and never decides a grab. A
grab is one command with a client-chosen ``grab_id``; while it is in flight
grabbing is disabled (a double press sends one grab), and a retry after a
time-out reuses the same ``grab_id``, which the broker answers with the same
verdict.

Keys: Space / Enter in the pool grab the selected inquiry (the oldest when
none is selected); Ctrl+G grabs the oldest from anywhere in the window;
double-click grabs a row. Ctrl+R marks the first response, Ctrl+E resolves,
Ctrl+L releases the selected inquiry of mine.
"""
from __future__ import annotations

import logging
import sys
import time

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QMainWindow, QMenu, QMessageBox, QPushButton, QSplitter, QTableView, QToolButton, QVBoxLayout,
    QWidget,
)

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused, ConnectionStatus
from supervisor.common import i18n
from supervisor.common.broker_text import broker_text
from supervisor.agentwin.attention import Attention, desk_icon
from supervisor.agentwin.models import INQUIRY_ID_ROLE, MineModel, PoolModel
from supervisor.agentwin.state import GRAB_ATTEMPT_TIMEOUT_S, AgentDeskState, GrabInFlight, VerdictView
from supervisor.common.formats import format_service
from supervisor.common.link import BrokerLink
from supervisor.common.widgets import ConnectionBadge, fill_language_menu

log = logging.getLogger(__name__)

#: the streams the agent window needs; metrics, coverage and audit are the console's
AGENT_STREAMS = ("inquiry", "agent", "config", "alert")
#: time columns, visibility delays and the "Me" panel refresh this often
TICK_MS = 500
#: a grab whose connection dropped is sent again after this pause
GRAB_RETRY_PAUSE_MS = 300
#: command results stay in the status bar this long
STATUS_MESSAGE_MS = 8_000
SETTINGS_GROUP = "agent"
#: the GUI thread and the link's I/O thread share one GIL; with CPython's default
#: 5 ms switch interval a verdict that has arrived can wait that long for it while
#: the GUI digests a batch of events (bench agent: p50 and p99 both drop with 0.5 ms)
GIL_SWITCH_INTERVAL_S = 0.0005
DEFAULT_SIZE = (440, 640)
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


def prefer_latency() -> None:
    """Process-wide interpreter setting for the agent window's process (CLI and bench)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


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


class AgentWindow(QMainWindow):
    #: a verdict (VerdictView) is on screen; emitted after the banner was painted
    verdict_shown = Signal(object)
    #: new inquiries reached the pool while the window was in the background (list of ids)
    attention_raised = Signal(list)
    #: the broker refused this identity (its reason)
    identity_refused = Signal(str)

    def __init__(self, link: BrokerLink, *, auto_online: bool = True, dialogs: bool = True,
                 language: str | None = None, parent: QWidget | None = None):
        """``language``: the one installed (i18n.install's result), for the menu's check mark."""
        super().__init__(parent)
        self._language = language or i18n.chosen_language()
        self.link = link
        self.agent_id = link.who
        self.auto_online = auto_online
        self.dialogs = dialogs
        self.desk = AgentDeskState(self.agent_id)
        #: perf_counter() when the last verdict was painted (the benchmark reads it)
        self.last_verdict_shown_at = 0.0
        self.refusal: str | None = None
        self._live = False
        self._banner_state: tuple[str, VerdictView | None, str] = ("idle", None, "")
        self.setObjectName("agentWindow")
        self.setWindowIcon(desk_icon())
        self._build()
        self.attention = Attention(self, desk_icon())
        self._restore_settings()
        self.retranslate()

        link.reset.connect(self._on_reset)
        link.changed.connect(self._on_events)
        link.status_changed.connect(self._on_status)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        if link.mirror.seq:  # the link was live before the window existed
            self._on_reset()
        self._on_status(link.status)
        self._say_hello()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)

        self.badge = ConnectionBadge(central)
        outer.addWidget(self.badge)

        # --- Me
        self.me_box = QGroupBox(central)
        grid = QGridLayout(self.me_box)
        grid.setContentsMargins(6, 4, 6, 4)
        self.me_name = QLabel(self.me_box)
        self.me_name.setObjectName("meName")
        self.status_combo = QComboBox(self.me_box)
        for status in SHOWN_STATUSES:
            self.status_combo.addItem(status, status)
        self.status_combo.model().item(len(STATUSES)).setEnabled(False)
        self.status_combo.activated.connect(self._status_chosen)
        self.break_label = QLabel(self.me_box)
        self.break_label.setObjectName("forcedBreak")
        self.break_label.setStyleSheet("color: #a50e0e; font-weight: bold;")
        self.break_label.hide()
        self.held_label = QLabel(self.me_box)
        self.grabs_label = QLabel(self.me_box)
        self.service_label = QLabel(self.me_box)
        grid.addWidget(self.me_name, 0, 0, 1, 2)
        grid.addWidget(self.status_combo, 0, 2)
        grid.addWidget(self.break_label, 1, 0, 1, 3)
        grid.addWidget(self.held_label, 2, 0)
        grid.addWidget(self.grabs_label, 2, 1)
        grid.addWidget(self.service_label, 2, 2)
        outer.addWidget(self.me_box)

        # --- verdict banner
        self.banner = QLabel(central)
        self.banner.setObjectName("verdictBanner")
        self.banner.setWordWrap(True)
        self.banner.setMinimumHeight(38)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        # colours through the palette, not a style sheet: re-polishing a style sheet
        # on every verdict costs about a millisecond of the time the agent waits
        self.banner.setAutoFillBackground(True)
        self.banner.setMargin(6)
        bold = self.banner.font()
        bold.setBold(True)
        self.banner.setFont(bold)
        outer.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Vertical, central)
        self.splitter = split

        # --- pool
        self.pool_box = QGroupBox(split)
        pool_layout = QVBoxLayout(self.pool_box)
        pool_layout.setContentsMargins(4, 4, 4, 4)
        self.pool_hint = QLabel(self.pool_box)
        self.pool_hint.setStyleSheet("color: #8a4b00;")
        self.pool_hint.hide()
        pool_layout.addWidget(self.pool_hint)
        self.pool_model = PoolModel(self.desk, self.desk.pool, self)
        self.pool_view = _table(PoolView(self.pool_box), self.pool_model)
        self.pool_view.setObjectName("poolView")
        self.pool_view.grab_requested.connect(self.grab_selected)
        self.pool_view.doubleClicked.connect(self._grab_row)
        pool_layout.addWidget(self.pool_view)
        buttons = QHBoxLayout()
        self.grab_button = QPushButton(self.pool_box)
        self.grab_button.setObjectName("grabButton")
        self.grab_button.clicked.connect(self.grab_selected)
        self.grab_oldest_button = QPushButton(self.pool_box)
        self.grab_oldest_button.clicked.connect(self.grab_oldest)
        buttons.addWidget(self.grab_button, 2)
        buttons.addWidget(self.grab_oldest_button, 1)
        pool_layout.addLayout(buttons)

        # --- mine
        self.mine_box = QGroupBox(split)
        mine_layout = QVBoxLayout(self.mine_box)
        mine_layout.setContentsMargins(4, 4, 4, 4)
        self.mine_model = MineModel(self.desk, self.desk.mine, self)
        self.mine_view = _table(QTableView(self.mine_box), self.mine_model)
        self.mine_view.setObjectName("mineView")
        self.mine_view.selectionModel().selectionChanged.connect(self._update_controls)
        mine_layout.addWidget(self.mine_view)
        actions = QHBoxLayout()
        self.respond_button = QPushButton(self.mine_box)
        self.respond_button.clicked.connect(self.respond_selected)
        self.satisfaction_combo = QComboBox(self.mine_box)
        self.satisfaction_combo.addItem("—", None)
        for score in range(1, 6):
            self.satisfaction_combo.addItem("★" * score, score)
        self.resolve_button = QPushButton(self.mine_box)
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.release_button = QPushButton(self.mine_box)
        self.release_button.clicked.connect(self.release_selected)
        self.transfer_button = QToolButton(self.mine_box)
        self.transfer_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.transfer_menu = QMenu(self.transfer_button)
        self.transfer_menu.aboutToShow.connect(self._fill_transfer_menu)
        self.transfer_button.setMenu(self.transfer_menu)
        for widget in (self.respond_button, self.satisfaction_combo, self.resolve_button,
                       self.release_button, self.transfer_button):
            actions.addWidget(widget)
        mine_layout.addLayout(actions)
        split.addWidget(self.pool_box)
        split.addWidget(self.mine_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self.statusBar().setSizeGripEnabled(True)
        # keys go to the pool from the start: Space grabs without a click first
        self.pool_view.setFocus()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.desk_menu = bar.addMenu("")
        self.grab_action = QAction(self)
        self.grab_action.triggered.connect(self.grab_selected)
        self.grab_oldest_action = QAction(self)
        self.grab_oldest_action.setShortcut(QKeySequence("Ctrl+G"))
        self.grab_oldest_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.grab_oldest_action.triggered.connect(self.grab_oldest)
        self.respond_action = QAction(self)
        self.respond_action.setShortcut(QKeySequence("Ctrl+R"))
        self.respond_action.triggered.connect(self.respond_selected)
        self.resolve_action = QAction(self)
        self.resolve_action.setShortcut(QKeySequence("Ctrl+E"))
        self.resolve_action.triggered.connect(self.resolve_selected)
        self.release_action = QAction(self)
        self.release_action.setShortcut(QKeySequence("Ctrl+L"))
        self.release_action.triggered.connect(self.release_selected)
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.quit_action.triggered.connect(self.close)
        for action in (self.grab_action, self.grab_oldest_action):
            self.desk_menu.addAction(action)
        self.desk_menu.addSeparator()
        for action in (self.respond_action, self.resolve_action, self.release_action):
            self.desk_menu.addAction(action)
        self.desk_menu.addSeparator()
        self.desk_menu.addAction(self.quit_action)
        # actions are window-wide shortcuts even while their menu is closed
        self.addActions(self.desk_menu.actions())

        self.view_menu = bar.addMenu("")
        self.on_top_action = QAction(self, checkable=True)
        self.on_top_action.toggled.connect(self.set_stay_on_top)
        self.mute_action = QAction(self, checkable=True)
        self.mute_action.toggled.connect(self._set_muted)
        self.view_menu.addAction(self.on_top_action)
        self.view_menu.addAction(self.mute_action)

        self.language_menu = bar.addMenu("")
        self.language_actions = fill_language_menu(self.language_menu, self._language, self.set_language)

    def retranslate(self) -> None:
        """Every visible string, again: called at start and on a language change."""
        self.setWindowTitle(self.tr("grabdesk — %1").replace("%1", self._my_name()))
        self.me_box.setTitle(self.tr("Me"))
        for i, status in enumerate(SHOWN_STATUSES):
            self.status_combo.setItemText(i, self._status_word(status))
        self.pool_box.setTitle(self.tr("Pool: inquiries I may take"))
        self.mine_box.setTitle(self.tr("My inquiries"))
        self.grab_button.setText(self.tr("Grab (Space)"))
        self.grab_button.setToolTip(self.tr("Grab the selected inquiry, or the oldest if none is selected"))
        self.grab_oldest_button.setText(self.tr("Oldest (Ctrl+G)"))
        self.respond_button.setText(self.tr("1st reply"))
        self.respond_button.setToolTip(self.tr("Mark the first response as sent (Ctrl+R)"))
        self.satisfaction_combo.setToolTip(self.tr("Customer satisfaction, if the customer gave one"))
        self.resolve_button.setText(self.tr("Resolve"))
        self.resolve_button.setToolTip(self.tr("Resolve with the satisfaction chosen on the left (Ctrl+E)"))
        self.release_button.setText(self.tr("Release"))
        self.release_button.setToolTip(self.tr("Put it back in the pool; the customer keeps their wait (Ctrl+L)"))
        self.transfer_button.setText(self.tr("Transfer ▾"))
        self.transfer_button.setToolTip(self.tr("Hand it to an online colleague"))
        self.desk_menu.setTitle(self.tr("&Desk"))
        self.grab_action.setText(self.tr("Grab selected\tSpace"))
        self.grab_oldest_action.setText(self.tr("Grab oldest"))
        self.respond_action.setText(self.tr("Mark first response"))
        self.resolve_action.setText(self.tr("Resolve"))
        self.release_action.setText(self.tr("Release"))
        self.quit_action.setText(self.tr("Quit"))
        self.view_menu.setTitle(self.tr("&View"))
        self.on_top_action.setText(self.tr("Stay on top"))
        self.mute_action.setText(self.tr("Mute sound"))
        self.language_menu.setTitle(self.tr("&Language"))
        for model in (self.pool_model, self.mine_model):
            model.retranslate()
        self._render_me()
        self._render_banner()
        self._update_controls()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------------ settings

    def _restore_settings(self) -> None:
        s = QSettings()
        s.beginGroup(SETTINGS_GROUP)
        geometry = s.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        splitter = s.value("splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        self.mute_action.setChecked(s.value("muted", False, type=bool))
        self.on_top_action.setChecked(s.value("stay_on_top", False, type=bool))
        s.endGroup()

    def _save_settings(self) -> None:
        s = QSettings()
        s.beginGroup(SETTINGS_GROUP)
        s.setValue("geometry", self.saveGeometry())
        s.setValue("splitter", self.splitter.saveState())
        s.setValue("muted", self.mute_action.isChecked())
        s.setValue("stay_on_top", self.on_top_action.isChecked())
        s.endGroup()

    def set_stay_on_top(self, on: bool) -> None:
        if bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) == on:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:  # changing window flags hides the window
            self.show()

    def _set_muted(self, muted: bool) -> None:
        self.attention.muted = muted

    def set_language(self, lang: str) -> None:
        """Switch the UI language now and remember it (the translators send LanguageChange)."""
        i18n.switch(lang)
        for code, action in self.language_actions.items():
            action.setChecked(code == lang)

    def closeEvent(self, event) -> None:
        self._save_settings()
        self._timer.stop()
        self.attention.close()
        super().closeEvent(event)

    # ------------------------------------------------------------------ link

    def _say_hello(self) -> None:
        """Our own Hello: its Welcome sets the broker clock; an Error names a refused identity."""
        self.link.request(p.Hello, self._on_welcome, client=f"agent-window:{self.agent_id}")

    def _on_welcome(self, reply) -> None:
        if isinstance(reply, p.Welcome):
            self.desk.clock.sync(reply.now)
            if self.refusal is not None:
                self.refusal = None
                self._set_banner("idle", None, "")
            return
        if isinstance(reply, BrokerRefused) and reply.code in (p.ErrorCode.FORBIDDEN,
                                                               p.ErrorCode.UNAUTHENTICATED):
            self._refuse_identity(broker_text().refusal(reply))

    def _refuse_identity(self, reason: str) -> None:
        first = self.refusal is None
        self.refusal = reason
        self._set_banner("refused", None, reason)
        self._update_controls()
        if first:
            self.identity_refused.emit(reason)
            if self.dialogs:
                box = QMessageBox(QMessageBox.Icon.Critical, self.tr("Not accepted by the broker"),
                                  self._identity_text(reason), QMessageBox.StandardButton.Close, self)
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()

    def _identity_text(self, reason: str) -> str:
        return self.tr("The broker does not accept agent %1: %2").replace(
            "%1", self.agent_id).replace("%2", reason)

    def _on_reset(self) -> None:
        self.desk.reset(self.link.mirror)
        self._flush()
        self._render_me()
        self._update_controls()

    def _on_events(self, events: list) -> None:
        me_before = self.desk.me
        alerts_before = self.desk.my_alert_count
        arrived = self.desk.apply(events)
        self._flush()
        if self.desk.my_alert_count != alerts_before:
            self._alerted(self.desk.my_alerts[-1])
        if self.desk.me is not me_before:
            self._render_me()
        if arrived:
            self._arrivals(arrived)
        self._update_controls()

    def _on_status(self, status: ConnectionStatus) -> None:
        self.badge.set_status(status)
        if status.state == "live" and not self._live:
            # each new session signs in again: the broker marks a silent agent offline
            self._go_online_if_offline()
        elif status.state == "connecting" and status.detail.startswith("retrying"):
            self._say_hello()  # a new session after a loss: learn the clock, or a refusal
        if status.state != "live" and status.detail.startswith("refused:"):
            self._refuse_identity(status.detail.partition(":")[2].strip() or status.detail)
        self._live = status.state == "live"
        self._update_controls()

    def _go_online_if_offline(self) -> None:
        me = self.desk.me
        if self.auto_online and me is not None and me.status == "offline":
            self.link.request(p.SetStatus, self._on_status_reply, status="online")

    def _flush(self) -> None:
        """Show what the desk's rows changed: right away, the agent is waiting for it."""
        self.pool_model.flush()
        self.mine_model.flush()

    def _tick(self) -> None:
        arrived = self.desk.tick()
        self._flush()
        if arrived:
            self._arrivals(arrived)
        self.pool_model.tick()
        self.mine_model.tick()
        self._render_me()
        self._update_controls()

    # ------------------------------------------------------------------ attention

    def _arrivals(self, inquiry_ids: list[str]) -> None:
        me = self.desk.me
        if self.isActiveWindow() or me is None or me.status != "online":
            return
        first = self.desk.pool.records.get(inquiry_ids[0])
        what = f"{first.skill} · {first.channel} · {first.language}" if first else inquiry_ids[0]
        text = self.tr("%n new inquiry you may take: %1", "", len(inquiry_ids)).replace("%1", what)
        if self.attention.notify(self.tr("grabdesk: new inquiry"), text):
            self.attention_raised.emit(list(inquiry_ids))

    def _alerted(self, alert: p.Alert) -> None:
        """The broker raised an alert about me: say it, and notify if I look elsewhere."""
        inquiry = alert.inquiry or ""
        words = {
            "silent_grab": self.tr("%1 went back to the pool: no first response in time after you took it"),
            "sla.warn": self.tr("%1: SLA at risk"),
            "sla.breach": self.tr("%1: SLA breached"),
        }.get(alert.kind)
        text = words.replace("%1", inquiry) if words else alert.text
        self.statusBar().showMessage(text, STATUS_MESSAGE_MS)
        if not self.isActiveWindow() and alert.severity != "info":
            self.attention.notify(self.tr("grabdesk: attention"), text)

    # ------------------------------------------------------------------ grabbing

    def selected_pool_inquiry(self) -> str | None:
        rows = self.pool_view.selectionModel().selectedRows()
        if rows:
            return self.pool_model.data(rows[0], INQUIRY_ID_ROLE)
        return None

    def grab_selected(self) -> None:
        """Grab the selected pool row, or the oldest when nothing is selected."""
        self.grab_inquiry(self.selected_pool_inquiry() or self.desk.oldest())

    def grab_oldest(self) -> None:
        self.grab_inquiry(self.desk.oldest())

    def _grab_row(self, index: QModelIndex) -> None:
        self.grab_inquiry(self.pool_model.data(index, INQUIRY_ID_ROLE))

    def grab_inquiry(self, inquiry_id: str | None) -> bool:
        """Send one grab; False when one is already in flight or there is nothing to grab."""
        if inquiry_id is None:
            if self.desk.grab is None:
                self._set_banner("idle", None, self.tr("Nothing to grab right now."))
            return False
        if not self._can_grab():
            return False
        grab = self.desk.begin_grab(inquiry_id, time.monotonic())
        if grab is None:
            return False  # a double press: the first grab is still in flight
        self._send_grab(grab)
        self._set_banner("pending", None, self.tr("Grabbing…"))
        self._update_controls()
        return True

    def _send_grab(self, grab: GrabInFlight) -> None:
        grab_id = grab.grab_id
        self.link.request(p.Grab, lambda reply: self._on_grab_reply(grab_id, reply),
                          timeout_s=GRAB_ATTEMPT_TIMEOUT_S, grab_id=grab_id, inquiry=grab.inquiry)

    def _on_grab_reply(self, grab_id: str, reply) -> None:
        step = self.desk.grab_reply(grab_id, reply, time.monotonic())
        if step is None:
            return
        if step.retry is not None:
            log.info("grab %s unanswered (%s); asking again", grab_id, reply)
            if isinstance(reply, ConnectionError):
                QTimer.singleShot(GRAB_RETRY_PAUSE_MS, lambda g=step.retry: self._resend(g))
            else:
                self._send_grab(step.retry)
            return
        self._show_verdict(step.verdict)

    def _resend(self, grab: GrabInFlight) -> None:
        if self.desk.grab is grab:
            self._send_grab(grab)

    def _show_verdict(self, view: VerdictView) -> None:
        self._flush()
        self._set_banner(view.outcome, view, "")
        self._update_controls()
        if view.outcome == "won":
            row = self.desk.mine.position(view.inquiry)
            if row is not None:
                self.mine_view.selectRow(row)
        # paint now: the verdict is what the agent is waiting to see
        self.banner.repaint()
        self.last_verdict_shown_at = time.perf_counter()
        self.verdict_shown.emit(view)

    def verdict_text(self, view: VerdictView) -> str:
        inq = self.desk.mine.records.get(view.inquiry) or self.desk.mirror.inquiries.get(view.inquiry)
        what = (inq.customer or inq.id) if inq is not None else view.inquiry
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

    def _set_banner(self, look: str, view: VerdictView | None, text: str) -> None:
        self._banner_state = (look, view, text)
        self._render_banner()

    def _render_banner(self) -> None:
        look, view, text = self._banner_state
        if view is not None:
            text = self.verdict_text(view)
        elif look == "refused" and self.refusal is not None:
            text = self._identity_text(self.refusal)
        elif look == "idle" and not text:
            text = self.tr("Space grabs the selected inquiry, Ctrl+G the oldest.")
        back, fore = BANNER_LOOK.get(look, BANNER_LOOK["idle"])
        self.banner.setText(text)
        palette = self.banner.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(back))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(fore))
        self.banner.setPalette(palette)

    def _can_act(self) -> bool:
        """Connected and accepted as this agent: what the window sends can be acted on."""
        return self.link.live and self.refusal is None

    def _can_grab(self) -> bool:
        return self._can_act() and self.desk.grab is None

    # ------------------------------------------------------------------ my inquiries

    def selected_mine(self) -> str | None:
        rows = self.mine_view.selectionModel().selectedRows()
        if rows:
            return self.mine_model.data(rows[0], INQUIRY_ID_ROLE)
        return None

    def respond_selected(self) -> None:
        self.respond(self.selected_mine())

    def resolve_selected(self) -> None:
        self.resolve(self.selected_mine(), self.satisfaction_combo.currentData())

    def release_selected(self) -> None:
        self.release(self.selected_mine())

    def transfer_selected(self, to_agent: str) -> None:
        self.transfer(self.selected_mine(), to_agent)

    def respond(self, inquiry_id: str | None) -> None:
        if inquiry_id:
            self.link.request(p.FirstResponse, self._action_reply(self.tr("First response noted for %1"), inquiry_id),
                              inquiry=inquiry_id)

    def resolve(self, inquiry_id: str | None, satisfaction: int | None = None) -> None:
        if inquiry_id:
            self.link.request(p.Resolve, self._action_reply(self.tr("Resolved %1"), inquiry_id),
                              inquiry=inquiry_id, satisfaction=satisfaction)
            self.satisfaction_combo.setCurrentIndex(0)

    def release(self, inquiry_id: str | None) -> None:
        if inquiry_id:
            self.link.request(p.Release, self._action_reply(self.tr("Released %1 back to the pool"), inquiry_id),
                              inquiry=inquiry_id)

    def transfer(self, inquiry_id: str | None, to_agent: str) -> None:
        if inquiry_id and to_agent:
            done = self.tr("Transferred %1 to %2").replace("%2", self.desk.agent_name(to_agent))
            self.link.request(p.Transfer, self._action_reply(done, inquiry_id),
                              inquiry=inquiry_id, to_agent=to_agent)

    def _action_reply(self, done: str, inquiry_id: str):
        def on_reply(reply) -> None:
            if isinstance(reply, p.Ok):
                self.statusBar().showMessage(done.replace("%1", inquiry_id), STATUS_MESSAGE_MS)
            elif isinstance(reply, BrokerRefused):
                self.statusBar().showMessage(self.tr("Not done: %1").replace("%1", broker_text().refusal(reply)),
                                             STATUS_MESSAGE_MS)
            else:
                self.statusBar().showMessage(self.tr("No answer from the broker: %1").replace("%1", str(reply)),
                                             STATUS_MESSAGE_MS)
        return on_reply

    def _fill_transfer_menu(self) -> None:
        self.transfer_menu.clear()
        inquiry_id = self.selected_mine()
        colleagues = self.desk.colleagues(inquiry_id)
        if not colleagues:
            self.transfer_menu.addAction(self.tr("No online colleague can take it")).setEnabled(False)
            return
        for agent in colleagues:
            cap = agent.effective.concurrent_cap
            label = f"{agent.name or agent.id}  ({agent.held}/{'∞' if cap is None else cap})"
            action = self.transfer_menu.addAction(label)
            action.triggered.connect(lambda _checked=False, a=agent.id: self.transfer_selected(a))

    # ------------------------------------------------------------------ me

    def _status_chosen(self, index: int) -> None:
        status = self.status_combo.itemData(index)
        me = self.desk.me
        if me is not None and status != me.status:
            self.link.request(p.SetStatus, self._on_status_reply, status=status)

    def _on_status_reply(self, reply) -> None:
        if isinstance(reply, BrokerRefused):
            self.statusBar().showMessage(self.tr("Status not changed: %1").replace(
                "%1", broker_text().refusal(reply)), STATUS_MESSAGE_MS)
        self._render_me()  # back to what the broker says

    def _my_name(self) -> str:
        me = self.desk.me
        return (me.name or me.id) if me is not None else self.agent_id

    def _status_word(self, status: str) -> str:
        return {"online": self.tr("Online"), "away": self.tr("Away"), "break": self.tr("On break"),
                "offline": self.tr("Offline")}.get(status, status)

    def _render_me(self) -> None:
        view = self.desk.me_view()
        if view is None:
            self.me_name.setText(self.tr("%1 (unknown to the broker so far)").replace("%1", self.agent_id))
            return
        tier = f" · {broker_text().word(view.tier)}" if view.tier else ""
        delay = self.tr(" · sees new inquiries after %1 s").replace(
            "%1", f"{view.visibility_delay_s:g}") if view.visibility_delay_s else ""
        self.me_name.setText(f"{view.name}{tier}{delay}")
        self.setWindowTitle(self.tr("grabdesk — %1").replace("%1", view.name))
        index = self.status_combo.findData(view.status)
        self.status_combo.setCurrentIndex(index)
        if view.forced_break and view.break_until:
            until = time.strftime("%H:%M", time.localtime(view.break_until - self.desk.clock.offset_s))
            self.break_label.setText(self.tr("Forced break until %1 (continuous-service limit reached)")
                                     .replace("%1", until))
            self.break_label.show()
        else:
            self.break_label.hide()
        cap = "∞" if view.concurrent_cap is None else str(view.concurrent_cap)
        daily = "∞" if view.daily_grabs is None else str(view.daily_grabs)
        self.held_label.setText(self.tr("Held %1 / %2").replace("%1", str(view.held)).replace("%2", cap))
        self.grabs_label.setText(self.tr("Today %1 / %2").replace("%1", str(view.grabs_today)).replace("%2", daily))
        self.service_label.setText(self.tr("Service %1").replace(
            "%1", format_service(view.service_s, view.continuous_hours)))
        self.attention.set_tooltip(self.tr("grabdesk — %1: %2 waiting for you").replace(
            "%1", view.name).replace("%2", str(len(self.desk.pool))))

    def _update_controls(self, *_args) -> None:
        live = self._can_act()
        can_grab = self._can_grab() and len(self.desk.pool) > 0
        self.grab_button.setEnabled(can_grab)
        self.grab_oldest_button.setEnabled(can_grab)
        self.grab_action.setEnabled(can_grab)
        self.grab_oldest_action.setEnabled(can_grab)
        has_mine = live and self.selected_mine() is not None
        for widget in (self.respond_button, self.resolve_button, self.release_button, self.transfer_button,
                       self.respond_action, self.resolve_action, self.release_action):
            widget.setEnabled(has_mine)
        me = self.desk.me
        if me is not None and me.status != "online" and live:
            self.pool_hint.setText(self.tr("You are %1: go online to grab.").replace(
                "%1", self._status_word(me.status)))
            self.pool_hint.show()
        else:
            self.pool_hint.hide()
