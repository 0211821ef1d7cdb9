"""The agent companion window: see what I may take, grab with one key, know at once.

The window puts the panels together (``panels``), follows the link (the
Hello that sets the broker's clock or names a refused identity, snapshots,
events, the connection state), and sends what the panels ask for through
``DeskActions``; it never waits on the network and never decides a grab.
While a grab is in flight grabbing is disabled, so a double press sends one
grab.

Keys: Space / Enter in the pool grab the selected inquiry (the oldest when
none is selected); Ctrl+G grabs the oldest from anywhere in the window;
double-click grabs a row. Ctrl+R marks the first response, Ctrl+E resolves,
Ctrl+L releases the selected inquiry of mine.
"""
from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from broker.wire import protocol as p
from broker.wire.client import BrokerRefused, ConnectionStatus
from supervisor.agentwin import settings
from supervisor.common.broker_text import broker_text
from supervisor.agentwin.actions import DeskActions
from supervisor.agentwin.attention import Attention, desk_icon
from supervisor.agentwin.transcript import TranscriptPanel
from supervisor.agentwin.handover import CustomerPanel, PoolTransferDialog
from supervisor.agentwin.panels import MePanel, MinePanel, PoolPanel, VerdictBanner
from supervisor.agentwin.state import AgentDeskState, BrokerClock, VerdictView
from supervisor.common import i18n
from supervisor.common.link import BrokerLink
from supervisor.common.widgets import ConnectionBadge, fill_language_menu

#: the streams the agent window needs; metrics, coverage and audit are the console's
AGENT_STREAMS = ("inquiry", "agent", "config", "alert")
#: time columns, visibility delays and the "Me" panel refresh this often
TICK_MS = 500
#: command results stay in the status bar this long
STATUS_MESSAGE_MS = 8_000
#: the GUI thread and the link's I/O thread share one GIL; with CPython's default
#: 5 ms switch interval a verdict that has arrived can wait that long for it while
#: the GUI digests a batch of events (bench agent: p50 and p99 both drop with 0.5 ms)
GIL_SWITCH_INTERVAL_S = 0.0005


def prefer_latency() -> None:
    """Process-wide interpreter setting for the agent window's process (CLI and bench)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


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
        self.desk = AgentDeskState(self.agent_id, BrokerClock(floor=link.floor_clock))
        self.actions = DeskActions(link, self.desk, self)
        #: perf_counter() when the last verdict was painted (the benchmark reads it)
        self.last_verdict_shown_at = 0.0
        #: the broker's reason for refusing this identity, while it does
        self.refusal: str | None = None
        self._live = False
        self.setObjectName("agentWindow")
        self.setWindowIcon(desk_icon())
        self._build()
        self._build_menus()
        self.attention = Attention(self, desk_icon())
        self._apply_layout(settings.restore())
        self.retranslate()

        self.actions.verdict_ready.connect(self._show_verdict)
        self.actions.message.connect(lambda text: self.statusBar().showMessage(text, STATUS_MESSAGE_MS))
        self.actions.status_answered.connect(self._render_me)  # back to what the broker says
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
        self.me_panel = MePanel(central)
        self.me_panel.status_chosen.connect(self._status_chosen)
        self.banner = VerdictBanner(self.desk, central)
        self.pool_panel = PoolPanel(self.desk)
        self.pool_panel.grab_requested.connect(self.grab_selected)
        self.pool_panel.grab_oldest_requested.connect(self.grab_oldest)
        self.pool_panel.grab_row_requested.connect(self.grab_inquiry)
        self.mine_panel = MinePanel(self.desk)
        self.mine_panel.selection_changed.connect(self._update_controls)
        self.mine_panel.respond_requested.connect(self.respond_selected)
        self.mine_panel.resolve_requested.connect(lambda satisfaction: self.resolve(self.selected_mine(), satisfaction))
        self.mine_panel.release_requested.connect(self.release_selected)
        self.mine_panel.transfer_requested.connect(self.transfer_selected)
        self.mine_panel.pool_transfer_requested.connect(self.open_pool_transfer)
        self.customer_panel = CustomerPanel(self.link, self.desk)
        self.mine_panel.selection_changed.connect(lambda: self.customer_panel.show_inquiry(self.selected_mine()))
        self.splitter = QSplitter(Qt.Orientation.Vertical, central)
        self.splitter.addWidget(self.pool_panel)
        self.splitter.addWidget(self.mine_panel)
        self.splitter.addWidget(self.customer_panel)
        self.transcript_panel = TranscriptPanel(self.link, self.desk)
        self.mine_panel.selection_changed.connect(lambda: self.transcript_panel.show_inquiry(self.selected_mine()))
        self.pool_panel.view.clicked.connect(lambda: self.transcript_panel.show_inquiry(self.selected_pool_inquiry()))
        self.splitter.addWidget(self.transcript_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 1)
        for widget in (self.badge, self.me_panel, self.banner):
            outer.addWidget(widget)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().setSizeGripEnabled(True)
        # keys go to the pool from the start: Space grabs without a click first
        self.pool_panel.view.setFocus()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.desk_menu = bar.addMenu("")
        self.grab_action = self.desk_menu.addAction("", self.grab_selected)
        self.grab_oldest_action = self.desk_menu.addAction("", self.grab_oldest)
        self.grab_oldest_action.setShortcut(QKeySequence("Ctrl+G"))
        self.grab_oldest_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.desk_menu.addSeparator()
        self.respond_action = self.desk_menu.addAction("", self.respond_selected)
        self.respond_action.setShortcut(QKeySequence("Ctrl+R"))
        self.resolve_action = self.desk_menu.addAction("", self.resolve_selected)
        self.resolve_action.setShortcut(QKeySequence("Ctrl+E"))
        self.release_action = self.desk_menu.addAction("", self.release_selected)
        self.release_action.setShortcut(QKeySequence("Ctrl+L"))
        self.desk_menu.addSeparator()
        self.quit_action = self.desk_menu.addAction("", self.close)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        # actions are window-wide shortcuts even while their menu is closed
        self.addActions(self.desk_menu.actions())

        self.view_menu = bar.addMenu("")
        self.on_top_action = self.view_menu.addAction("")
        self.on_top_action.setCheckable(True)
        self.on_top_action.toggled.connect(self.set_stay_on_top)
        self.mute_action = self.view_menu.addAction("")
        self.mute_action.setCheckable(True)
        self.mute_action.toggled.connect(self._set_muted)

        self.language_menu = bar.addMenu("")
        self.language_actions = fill_language_menu(self.language_menu, self._language, self.set_language)

    def retranslate(self) -> None:
        """Every visible string, again: called at start and on a language change."""
        self.setWindowTitle(self.tr("grabdesk — %1").replace("%1", self._my_name()))
        for panel in (self.me_panel, self.pool_panel, self.mine_panel, self.transcript_panel):
            panel.retranslate()
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
        self._render_me()
        self.banner.retranslate()
        self._update_controls()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------------ settings

    def _apply_layout(self, layout: settings.WindowLayout) -> None:
        if layout.geometry is not None:
            self.restoreGeometry(layout.geometry)
        else:
            self.resize(*settings.DEFAULT_SIZE)
        if layout.splitter is not None:
            self.splitter.restoreState(layout.splitter)
        self.mute_action.setChecked(layout.muted)
        self.on_top_action.setChecked(layout.stay_on_top)

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
        settings.remember(settings.WindowLayout(
            geometry=self.saveGeometry(), splitter=self.splitter.saveState(),
            muted=self.mute_action.isChecked(), stay_on_top=self.on_top_action.isChecked()))
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
                self.banner.show_refusal(None)
            return
        if isinstance(reply, BrokerRefused) and reply.code in (p.ErrorCode.FORBIDDEN,
                                                               p.ErrorCode.UNAUTHENTICATED):
            self._refuse_identity(broker_text().refusal(reply))

    def _refuse_identity(self, reason: str) -> None:
        first = self.refusal is None
        self.refusal = reason
        self.banner.show_refusal(reason)
        self._update_controls()
        if first:
            self.identity_refused.emit(reason)
            if self.dialogs:
                box = QMessageBox(QMessageBox.Icon.Critical, self.tr("Not accepted by the broker"),
                                  self.banner.identity_text(reason), QMessageBox.StandardButton.Close, self)
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()

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
            self.actions.set_status("online")

    def _flush(self) -> None:
        """Show what the desk's rows changed: right away, the agent is waiting for it."""
        self.pool_panel.model.flush()
        self.mine_panel.model.flush()

    def _tick(self) -> None:
        arrived = self.desk.tick()
        self._flush()
        if arrived:
            self._arrivals(arrived)
        self.pool_panel.model.tick()
        self.mine_panel.model.tick()
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
        return self.pool_panel.selected_inquiry()

    def grab_selected(self) -> None:
        """Grab the selected pool row, or the oldest when nothing is selected."""
        self.grab_inquiry(self.selected_pool_inquiry() or self.desk.oldest())

    def grab_oldest(self) -> None:
        self.grab_inquiry(self.desk.oldest())

    def grab_inquiry(self, inquiry_id: str | None) -> bool:
        """Send one grab; False when one is already in flight or there is nothing to grab."""
        if inquiry_id is None:
            if self.desk.grab is None:
                self.banner.show_note("idle", self.tr("Nothing to grab right now."))
            return False
        if not self._can_grab() or not self.actions.grab(inquiry_id):
            return False  # offline, refused, or a double press: the first grab is still in flight
        self.banner.show_note("pending", self.tr("Grabbing…"))
        self._update_controls()
        return True

    def _show_verdict(self, view: VerdictView) -> None:
        self._flush()
        self.banner.show_verdict(view)
        self._update_controls()
        if view.outcome == "won":
            self.mine_panel.select(view.inquiry)
        # paint now: the verdict is what the agent is waiting to see
        self.banner.repaint()
        self.last_verdict_shown_at = time.perf_counter()
        self.verdict_shown.emit(view)

    def _can_act(self) -> bool:
        """Connected and accepted as this agent: what the window sends can be acted on."""
        return self.link.live and self.refusal is None

    def _can_grab(self) -> bool:
        return self._can_act() and self.desk.grab is None

    # ------------------------------------------------------------------ my inquiries

    def selected_mine(self) -> str | None:
        return self.mine_panel.selected_inquiry()

    def respond_selected(self) -> None:
        self.respond(self.selected_mine())

    def resolve_selected(self) -> None:
        self.resolve(self.selected_mine(), self.mine_panel.satisfaction())

    def release_selected(self) -> None:
        self.release(self.selected_mine())

    def transfer_selected(self, to_agent: str) -> None:
        self.transfer(self.selected_mine(), to_agent)

    def respond(self, inquiry_id: str | None) -> None:
        if inquiry_id:
            self.actions.respond(inquiry_id)

    def resolve(self, inquiry_id: str | None, satisfaction: int | None = None) -> None:
        if inquiry_id:
            self.actions.resolve(inquiry_id, satisfaction)
            self.mine_panel.clear_satisfaction()

    def release(self, inquiry_id: str | None) -> None:
        if inquiry_id:
            self.actions.release(inquiry_id)

    def transfer(self, inquiry_id: str | None, to_agent: str) -> None:
        if inquiry_id and to_agent:
            self.actions.transfer(inquiry_id, to_agent)

    def open_pool_transfer(self) -> PoolTransferDialog | None:
        """Ask which pool and what note, then hand the selected inquiry over."""
        inquiry_id = self.selected_mine()
        inq = self.desk.mirror.inquiries.get(inquiry_id) if inquiry_id else None
        if inq is None:
            return None
        skills = sorted({skill for agent in self.desk.mirror.agents.values() for skill in agent.skills})
        dialog = PoolTransferDialog(skills, inq.skill, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.transfer_to_pool(inquiry_id, *dialog.chosen()))
        dialog.open()
        return dialog

    def transfer_to_pool(self, inquiry_id: str | None, skill: str, note: str = "") -> None:
        if inquiry_id and skill:
            self.actions.transfer_to_pool(inquiry_id, skill, note)

    # ------------------------------------------------------------------ me

    def _status_chosen(self, status: str) -> None:
        me = self.desk.me
        if me is not None and status != me.status:
            self.actions.set_status(status)

    def _my_name(self) -> str:
        me = self.desk.me
        return (me.name or me.id) if me is not None else self.agent_id

    def _render_me(self) -> None:
        view = self.desk.me_view()
        self.me_panel.render(view, self.agent_id, self.desk.clock.offset_s)
        if view is None:
            return
        self.setWindowTitle(self.tr("grabdesk — %1").replace("%1", view.name))
        self.attention.set_tooltip(self.tr("grabdesk — %1: %2 waiting for you").replace(
            "%1", view.name).replace("%2", str(len(self.desk.pool))))

    def _update_controls(self) -> None:
        live = self._can_act()
        can_grab = self._can_grab() and len(self.desk.pool) > 0
        self.pool_panel.set_grab_enabled(can_grab)
        self.grab_action.setEnabled(can_grab)
        self.grab_oldest_action.setEnabled(can_grab)
        has_mine = live and self.selected_mine() is not None
        self.mine_panel.set_actions_enabled(has_mine)
        for action in (self.respond_action, self.resolve_action, self.release_action):
            action.setEnabled(has_mine)
        me = self.desk.me
        offline = me is not None and me.status != "online" and live
        self.pool_panel.show_offline_hint(self.me_panel.status_word(me.status) if offline else None)
