"""The supervisor console's main window.

One ``QTimer`` drives every view: on each tick (100 ms) the models replay
what the events changed; once a second the history takes a sample, the chart
redraws and time-dependent columns (waits, service time) refresh. Events
themselves only update plain state (``ConsoleState.apply``) as they arrive,
so 2,000 events a second cost the GUI thread little more than bookkeeping.

The link's connection state is always visible in the status bar; while it is
not live every view greys its data and editing is disabled: nothing shown
then is the broker's current word.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from broker.wire.client import ConnectionStatus
from supervisor.common import i18n
from supervisor.console import export
from supervisor.console.robot_panel import RobotPanel
from supervisor.console.actions import ConsoleActions
from supervisor.console.alert_bar import AlertBar, selected_keys
from supervisor.console.chart import QueueChart
from supervisor.console.coverage_view import CoverageView
from supervisor.console.control_dialogs import AgentStateDialog, ShopModeDialog
from supervisor.console.dialogs import ConnectDialog, QuotaDialog, ReassignDialog
from supervisor.console.grabs_view import GrabsView
from supervisor.console.skills_view import SkillsView
from supervisor.console.wallboard import Wallboard
from supervisor.console.history import SAMPLE_INTERVAL_S
from supervisor.console.panels import AgentPanel, AlertPanel, AuditPanel, InquiryPanel
from supervisor.console.settings import ConsoleSettings, remember
from supervisor.console.state import ConsoleState
from supervisor.common.widgets import ConnectionBadge, fill_language_menu
from supervisor.console.active_broker import ActiveBrokerLabel

log = logging.getLogger(__name__)

#: the refresh tick: models replay changes this often
REFRESH_MS = 100
#: bump when the docks change, so an old saved layout is not forced onto new docks
LAYOUT_VERSION = 2
SETTINGS_GEOMETRY = "console/geometry"
SETTINGS_STATE = "console/windowState"
#: the default layout (a remembered one wins)
DEFAULT_CHART_HEIGHT_PX = 300
DEFAULT_RIGHT_WIDTH_PX = 560
#: how long a verdict stays in the status bar (ms); the last one stays in its label
MESSAGE_MS = 15_000

pg.setConfigOptions(background="w", foreground="#3c4043", antialias=True)


class MainWindow(QMainWindow):
    """Live floor: queue chart, coverage, agents, inquiries, alerts and audit, and the actions."""

    def __init__(self, link, settings: ConsoleSettings | None = None, *,
                 link_factory: Callable[[ConsoleSettings], object] | None = None,
                 refresh_ms: int = REFRESH_MS, restore_layout: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("consoleWindow")
        self.settings = settings or ConsoleSettings()
        self.link_factory = link_factory
        self.link = None
        self.dialog = None
        #: None until the first status arrives, so the first one always applies
        self.stale: bool | None = None
        self._stale_since: float | None = None
        self.state = ConsoleState(link.mirror, clock=link.floor_now,
                                  time_scale=lambda: link.floor_clock.time_scale)
        self.actions = ConsoleActions(link, self.state, self)
        self.actions.result.connect(self.notify)

        self.chart = QueueChart(self.state)
        self.coverage = CoverageView(self.state)
        self.agents = AgentPanel(self.state)
        self.inquiries = InquiryPanel(self.state)
        self.alerts = AlertPanel(self.state)
        self.alert_bar = AlertBar(self.state, self.actions, lambda: selected_keys(self.alerts.view))
        self.alerts.layout().insertWidget(0, self.alert_bar)
        self._alerts_seen = 0
        self.audit = AuditPanel(self.state)
        self.grabs = GrabsView(link)
        self.skills = SkillsView(link, lambda: self.state.clock())
        self.wallboard = Wallboard(self.state, self)
        self.wallboard.leave_requested.connect(lambda: self.show_wallboard(False))
        self.setCentralWidget(self.agents)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("queue", self.chart, Qt.DockWidgetArea.TopDockWidgetArea)
        self._dock("coverage", self.coverage, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("alerts", self.alerts, Qt.DockWidgetArea.RightDockWidgetArea)
        self.robot = RobotPanel(self.state)
        self._dock("robot", self.robot, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["coverage"], self.docks["robot"])
        self.docks["coverage"].raise_()
        self._dock("inquiries", self.inquiries, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("audit", self.audit, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("grabs", self.grabs, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["inquiries"], self.docks["audit"])
        self._dock("skills", self.skills, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["inquiries"], self.docks["grabs"])
        self.tabifyDockWidget(self.docks["inquiries"], self.docks["skills"])
        self.docks["skills"].visibilityChanged.connect(lambda shown: shown and self.skills.refresh())
        self.docks["inquiries"].raise_()
        # the chart spans the full width on top; coverage and alerts fill the right column
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.TopDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.TopDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)

        self.badge = ConnectionBadge()
        self.stale_banner = QLabel()
        self.stale_banner.setObjectName("staleBanner")
        self.stale_banner.setStyleSheet("color: #c5221f;")
        self.last_result = QLabel()
        self.last_result.setObjectName("lastResult")
        self.statusBar().addWidget(self.stale_banner)
        self.statusBar().addPermanentWidget(self.last_result)
        self.active_broker = ActiveBrokerLabel()
        self.statusBar().addPermanentWidget(self.active_broker)
        self.statusBar().addPermanentWidget(self.badge)

        self.agents.quota_dialog_requested.connect(self.open_quota_dialog)
        self.agents.model.quota_edit_requested.connect(self.actions.edit_quota)
        self.agents.view.reassign_dropped.connect(self.reassign_dropped)
        self.agents.view.drop_hint.connect(self._show_hint)
        self.inquiries.reassign_requested.connect(self.open_reassign_dialog)
        self.alerts.link_activated.connect(self.show_link)
        self.chart.inquiry_activated.connect(lambda i: self.show_link("inquiry", i))
        self.audit.refresh_requested.connect(self.actions.query_audit)

        self._build_menus()
        self.retranslateUi()
        self.resize(1440, 900)
        self.resizeDocks([self.docks["queue"]], [DEFAULT_CHART_HEIGHT_PX], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["coverage"]], [DEFAULT_RIGHT_WIDTH_PX], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["coverage"], self.docks["alerts"]], [1, 1], Qt.Orientation.Vertical)
        if restore_layout:
            self.restore_layout()

        self._last_sample = float("-inf")
        self._columns_due = 0.0
        self._versions = (-1, -1)
        self.timer = QTimer(self)
        self.timer.setObjectName("refreshTimer")
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.set_link(link)
        self.timer.start()

    # ------------------------------------------------------------------ layout

    def _dock(self, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(self)
        dock.setObjectName(f"{name}Dock")  # saveState() finds docks by object name
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def restore_layout(self) -> None:
        qs = QSettings()
        geometry = qs.value(SETTINGS_GEOMETRY)
        layout = qs.value(SETTINGS_STATE)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(layout, QByteArray):
            self.restoreState(layout, LAYOUT_VERSION)

    def save_layout(self) -> None:
        qs = QSettings()
        qs.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        qs.setValue(SETTINGS_STATE, self.saveState(LAYOUT_VERSION))
        qs.sync()

    def open_what_if(self):
        """The policy lab on a trace, side by side, then the change on the floor (whatif.py)."""
        from supervisor.console.whatif import WhatIfDialog

        dialog = WhatIfDialog(self.actions, self.link.mirror, self)
        dialog.show()
        return dialog

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.connect_action = self.file_menu.addAction("", self.open_connect_dialog)
        self.connect_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.file_menu.addSeparator()
        self.export_menu = self.file_menu.addMenu("")
        self.export_actions = {
            "chart": self.export_menu.addAction("", lambda: self.export_png("chart")),
            "coverage": self.export_menu.addAction("", lambda: self.export_png("coverage")),
        }
        self.export_menu.addSeparator()
        for table in ("agents", "inquiries", "alerts", "audit"):
            self.export_actions[table] = self.export_menu.addAction(
                "", lambda t=table: self.export_csv(t))
        self.file_menu.addSeparator()
        self.quit_action = self.file_menu.addAction("", self.close)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        self.actions_menu = bar.addMenu("")
        self.quota_action = self.actions_menu.addAction(
            "", lambda: self.open_quota_dialog(self.agents.current_agent() or ""))
        self.quota_action.setShortcut(QKeySequence("Ctrl+K"))
        self.reassign_action = self.actions_menu.addAction(
            "", lambda: self.open_reassign_dialog(self.inquiries.view.selected_ids()))
        self.reassign_action.setShortcut(QKeySequence("Ctrl+R"))
        self.agent_state_action = self.actions_menu.addAction(
            "", lambda: self.open_agent_state_dialog(self.agents.current_agent() or ""))
        self.agent_state_action.setShortcut(QKeySequence("Ctrl+T"))
        self.shop_mode_action = self.actions_menu.addAction("", self.open_shop_mode_dialog)
        self.shop_mode_action.setShortcut(QKeySequence("Ctrl+M"))
        self.what_if_action = self.actions_menu.addAction("", self.open_what_if)
        self.actions_menu.addSeparator()
        self.inquiry_grabs_action = self.actions_menu.addAction("", self._grabs_of_selected_inquiry)
        self.inquiry_grabs_action.setShortcut(QKeySequence("Ctrl+H"))
        self.agent_grabs_action = self.actions_menu.addAction("", self._grabs_of_selected_agent)
        self.agent_grabs_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.actions_menu.addSeparator()
        self.find_agent_action = self.actions_menu.addAction("", self._find_agent)
        self.find_agent_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_inquiry_action = self.actions_menu.addAction("", self._find_inquiry)
        self.find_inquiry_action.setShortcut(QKeySequence("Ctrl+Shift+F"))

        self.view_menu = bar.addMenu("")
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.wallboard_action = self.view_menu.addAction("")
        self.wallboard_action.setCheckable(True)
        self.wallboard_action.setShortcut(QKeySequence("F11"))
        self.wallboard_action.toggled.connect(self.show_wallboard)

        self.language_menu = bar.addMenu("")
        self.language_actions = fill_language_menu(
            self.language_menu, self.settings.lang or i18n.chosen_language(), self.set_language)

    def retranslateUi(self) -> None:
        self._update_title()
        titles = {"queue": self.tr("Queue"), "coverage": self.tr("Coverage (24 h)"),
                  "alerts": self.tr("Alerts"), "inquiries": self.tr("Inquiries"), "audit": self.tr("Audit"),
                  "grabs": self.tr("Grabs"), "skills": self.tr("Who is good at what"),
                  "robot": self.tr("Robot first line")}
        for name, dock in self.docks.items():
            dock.setWindowTitle(titles[name])
        self.file_menu.setTitle(self.tr("&File"))
        self.connect_action.setText(self.tr("&Connect…"))
        self.export_menu.setTitle(self.tr("&Export"))
        texts = {"chart": self.tr("Queue chart as PNG…"), "coverage": self.tr("Coverage heat map as PNG…"),
                 "agents": self.tr("Agents as CSV…"), "inquiries": self.tr("Inquiries as CSV…"),
                 "alerts": self.tr("Alerts as CSV…"), "audit": self.tr("Audit as CSV…")}
        for name, action in self.export_actions.items():
            action.setText(texts[name])
        self.quit_action.setText(self.tr("&Quit"))
        self.actions_menu.setTitle(self.tr("&Actions"))
        self.quota_action.setText(self.tr("Change &quotas…"))
        self.reassign_action.setText(self.tr("&Reassign selected inquiry…"))
        self.agent_state_action.setText(self.tr("Agent s&tatus and quality…"))
        self.shop_mode_action.setText(self.tr("Shop &mode…"))
        self.what_if_action.setText(self.tr("&What if…"))
        self.inquiry_grabs_action.setText(self.tr("&Grabs of the selected inquiry"))
        self.agent_grabs_action.setText(self.tr("Grabs of the selected a&gent"))
        self.find_agent_action.setText(self.tr("Find &agent"))
        self.find_inquiry_action.setText(self.tr("Find &inquiry"))
        self.view_menu.setTitle(self.tr("&View"))
        self.wallboard_action.setText(self.tr("&Wallboard (full screen)"))
        self.language_menu.setTitle(self.tr("&Language"))
        self._update_stale_banner()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def _update_title(self) -> None:
        self.setWindowTitle(self.tr("grabdesk console — %1 at %2").replace("%1", self.settings.who)
                            .replace("%2", self.settings.command_endpoint))

    def set_language(self, lang: str) -> None:
        """Switch the UI language now and remember the choice."""
        i18n.switch(lang)
        self.settings.lang = lang
        if lang in self.language_actions:
            self.language_actions[lang].setChecked(True)

    # ------------------------------------------------------------------ the link

    def set_link(self, link) -> None:
        """Follow a (new) broker link; the views start over from its mirror."""
        if self.link is not None:
            for signal, slot in ((self.link.reset, self._on_reset), (self.link.changed, self._on_changed),
                                 (self.link.status_changed, self._on_status)):
                signal.disconnect(slot)
        self.link = link
        link.reset.connect(self._on_reset)
        link.changed.connect(self._on_changed)
        link.status_changed.connect(self._on_status)
        self.actions.set_link(link)
        self.grabs.set_link(link)
        self.skills.set_link(link)
        self.state.attach(link.mirror)
        self._flush_models()
        self._on_status(link.status)

    def connect_to(self, settings: ConsoleSettings) -> None:
        """Drop the current connection and follow the broker ``settings`` name."""
        if self.link_factory is None:
            raise RuntimeError("this window was given no way to make links")
        try:
            link = self.link_factory(settings)
        except Exception as exc:  # unreadable key files and the like: keep the old connection
            self.notify(False, self.tr("Cannot connect: %1").replace("%1", str(exc)))
            return
        old = self.link
        self.settings = settings
        self.set_link(link)
        link.start()
        old.stop()
        remember(settings)
        self._update_title()

    def _on_reset(self) -> None:
        self.state.reset()
        self._flush_models()
        self.actions.query_audit()  # the snapshot has no audit; fetch what we missed
        self.actions.query_queue_history()  # nor the queue's past: the chart starts with the evening so far

    def _on_changed(self, events: list) -> None:
        self.state.apply(events)

    def _on_status(self, status: ConnectionStatus) -> None:
        self.badge.set_status(status)
        self.active_broker.set_status(status)
        stale = status.state != "live"
        if stale == self.stale:
            return
        if stale and self.stale is False:  # was live: what is shown dates from now
            self._stale_since = self.state.clock()
        self.stale = stale
        for model in (self.agents.model, self.inquiries.model, self.alerts.model, self.audit.model):
            model.set_stale(stale)
        self.chart.set_stale(stale)
        self.wallboard.set_stale(stale)
        self.coverage.refresh(stale)
        for action in (self.quota_action, self.reassign_action, self.agent_state_action, self.shop_mode_action):
            action.setEnabled(not stale)
        self.agents.quota_button.setEnabled(not stale)
        self.inquiries.reassign_button.setEnabled(not stale)
        self._update_stale_banner()

    def _update_stale_banner(self) -> None:
        if self.stale and self._stale_since:
            self.stale_banner.setText(self.tr("Not live since %1: figures shown are stale").replace(
                "%1", time.strftime("%H:%M:%S", time.localtime(self._stale_since))))
        elif self.stale:
            self.stale_banner.setText(self.tr("Waiting for the broker's snapshot…"))
        else:
            self.stale_banner.setText("")

    # ------------------------------------------------------------------ the tick

    def refresh(self) -> None:
        """One frame: replay changes into the models; once a second, sample and redraw the chart.

        The once-a-second work is split over two ticks half a second apart (the
        chart on one, the clock-driven columns on the other), so no single frame
        carries all of it.
        """
        # the cadence is real time; what is sampled and drawn is the floor's (the broker's) time
        tick = time.monotonic()
        stale = self.stale
        if tick - self._last_sample >= SAMPLE_INTERVAL_S:
            self._last_sample = tick
            self._columns_due = tick + SAMPLE_INTERVAL_S / 2
            now = self.state.clock()
            self.state.sample(now, not stale)
            self.chart.refresh(now, stale)
            if self.wallboard.isVisible():
                self.wallboard.refresh()
        elif self._columns_due and tick >= self._columns_due:
            self._columns_due = 0.0
            self.inquiries.model.refresh_columns(["waiting"])
            self.agents.model.refresh_columns(["service"])
            self.agents.update_count()
            self.inquiries.update_count()
        if len(self.state.alerts_by_id) != self._alerts_seen:
            self._alerts_seen = len(self.state.alerts_by_id)
            self.alert_bar.alerts_arrived()
        versions = (self.state.metrics_version, self.state.coverage_version)
        if versions != self._versions:
            if versions[1] != self._versions[1]:
                self.coverage.refresh(stale)
            if versions[0] != self._versions[0]:
                self.robot.refresh()
            self._versions = versions
        mono = time.monotonic()
        self.state.agents.resort_if_due(mono)
        self.state.inquiries.resort_if_due(mono)
        self._flush_models()

    def _flush_models(self) -> None:
        for model in (self.agents.model, self.inquiries.model, self.alerts.model, self.audit.model):
            model.flush()

    # ------------------------------------------------------------------ acting

    def notify(self, ok: bool, text: str) -> None:
        """A verdict from the broker: in the status bar for a while, and kept in its label."""
        self.statusBar().showMessage(text, MESSAGE_MS)
        self.last_result.setText(text)
        self.last_result.setToolTip(text)
        self.last_result.setStyleSheet("color: #188038;" if ok else "color: #c5221f; font-weight: bold;")

    def _show_hint(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text)
        else:
            self.statusBar().clearMessage()

    def reassign_dropped(self, inquiry_ids: list, agent_id: str) -> None:
        for inquiry_id in inquiry_ids:
            self.actions.reassign(inquiry_id, agent_id, self.tr("dragged onto %1 in the console")
                                  .replace("%1", agent_id))

    def open_quota_dialog(self, agent_id: str = "") -> QuotaDialog:
        dialog = QuotaDialog(self.state, self.actions, agent_id, self)
        self._open(dialog)
        return dialog

    def open_reassign_dialog(self, inquiry_ids: list) -> ReassignDialog | None:
        if not inquiry_ids:
            self.notify(False, self.tr("Select an inquiry in the inquiry table first"))
            return None
        dialog = ReassignDialog(self.state, self.actions, list(inquiry_ids), self)
        self._open(dialog)
        return dialog

    def open_agent_state_dialog(self, agent_id: str = "") -> AgentStateDialog:
        dialog = AgentStateDialog(self.state, self.actions, agent_id, self)
        self._open(dialog)
        return dialog

    def open_shop_mode_dialog(self, shop_id: str = "") -> ShopModeDialog:
        dialog = ShopModeDialog(self.state, self.actions, shop_id, self)
        self._open(dialog)
        return dialog

    def open_connect_dialog(self) -> ConnectDialog:
        dialog = ConnectDialog(self.settings, self)
        dialog.accepted.connect(lambda: self.connect_to(dialog.values()))
        self._open(dialog)
        return dialog

    def _open(self, dialog) -> None:
        # window-modal but not blocking: events keep flowing while a dialog is up
        if self.dialog is not None:
            self.dialog.close()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None) if self.dialog is dialog else None)
        self.dialog = dialog
        dialog.open()

    def show_link(self, kind: str, key: str) -> bool:
        """Bring the inquiry or agent an alert (or the chart) points at into view."""
        if kind == "inquiry":
            self.docks["inquiries"].show()
            self.docks["inquiries"].raise_()
            found = self.inquiries.show_inquiry(key)
        else:
            found = self.agents.show_agent(key)
        if not found:
            self.statusBar().showMessage(self.tr("%1 is no longer on the floor").replace("%1", key), MESSAGE_MS)
        return found

    def show_grabs(self, kind: str, key: str) -> None:
        """The grab attempts on an inquiry, or of an agent, in the Grabs dock."""
        self.docks["grabs"].show()
        self.docks["grabs"].raise_()
        if kind == "agent":
            self.grabs.show_agent(key)
        else:
            self.grabs.show_inquiry(key)

    def _grabs_of_selected_inquiry(self) -> None:
        selected = self.inquiries.view.selected_ids()
        if not selected:
            self.notify(False, self.tr("Select an inquiry in the inquiry table first"))
            return
        self.show_grabs("inquiry", selected[0])

    def _grabs_of_selected_agent(self) -> None:
        agent_id = self.agents.current_agent()
        if not agent_id:
            self.notify(False, self.tr("Select an agent in the agent table first"))
            return
        self.show_grabs("agent", agent_id)

    def _find_agent(self) -> None:
        self.agents.filter.setFocus()
        self.agents.filter.selectAll()

    def _find_inquiry(self) -> None:
        self.docks["inquiries"].show()
        self.docks["inquiries"].raise_()
        self.inquiries.filter.setFocus()
        self.inquiries.filter.selectAll()

    # ------------------------------------------------------------------ export

    def export_png(self, which: str, path: str | None = None) -> bool:
        widget = self.chart.view if which == "chart" else self.coverage
        path = path or self._ask_path(self.tr("Export as PNG"), f"{which}.png", self.tr("PNG images (*.png)"))
        if not path:
            return False
        ok = export.widget_to_png(widget, path)
        self.notify(ok, (self.tr("Saved %1") if ok else self.tr("Could not save %1")).replace("%1", path))
        return ok

    def export_csv(self, which: str, path: str | None = None) -> int:
        model = {"agents": self.agents.model, "inquiries": self.inquiries.model,
                 "alerts": self.alerts.model, "audit": self.audit.model}[which]
        path = path or self._ask_path(self.tr("Export as CSV"), f"{which}.csv", self.tr("CSV files (*.csv)"))
        if not path:
            return 0
        try:
            rows = export.model_to_csv(model, path)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Export"), str(exc))
            return 0
        self.notify(True, self.tr("Saved %1 rows to %2").replace("%1", str(rows)).replace("%2", path))
        return rows

    def _ask_path(self, title: str, name: str, kinds: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, name, kinds)
        return path

    # ------------------------------------------------------------------ closing

    def show_wallboard(self, on: bool = True) -> None:
        """The floor's figures full screen (View → Wallboard, F11); Esc or F11 returns."""
        if on:
            self.wallboard.refresh()
            self.wallboard.showFullScreen()
            self.wallboard.activateWindow()
        else:
            self.wallboard.hide()
        if self.wallboard_action.isChecked() != on:
            self.wallboard_action.setChecked(on)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.wallboard.close()
        self.timer.stop()
        self.save_layout()
        if self.link is not None:
            self.link.stop()
        super().closeEvent(event)
