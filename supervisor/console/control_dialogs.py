"""Dialogs for the floor's switches: a shop's mode, an agent's status and quality score.

Like the quota dialog, each sends its command and stays open until the broker
answers: an acceptance closes it, a refusal shows the broker's reason in the
user's language and leaves the values for correction. The dialogs offer
what the protocol allows and check nothing else: the broker decides.
"""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QVBoxLayout, QWidget)

from broker.wire import protocol as p
from supervisor.common.broker_text import broker_text
from supervisor.console.actions import ConsoleActions
from supervisor.console.dialogs import OK_STYLE, REFUSED_STYLE, _alive
from supervisor.console.state import ConsoleState

#: the modes a shop may run, in the order a supervisor reads them
SHOP_MODES = ("grab", "assign", "hybrid")
#: the statuses a supervisor may set
AGENT_STATUSES = ("online", "away", "break", "offline")
#: the delay editor's ceiling (s); the broker has its own limit and says so when it refuses
HYBRID_EDITOR_MAX_S = 7 * 86400.0


class _BrokerDialog(QDialog):
    """Apply / Close, a reason for the audit log, and the broker's answer shown in place."""

    def __init__(self, state: ConsoleState, actions: ConsoleActions, parent: QWidget | None):
        super().__init__(parent)
        self.state = state
        self.actions = actions
        self.form = QFormLayout()
        self.reason = QLineEdit()
        self.reason_label = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.reason)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _waiting(self) -> None:
        self.apply_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(self.tr("Waiting for the broker…"))

    def _done(self, ok: bool, text: str) -> None:
        if not _alive(self):  # the reply came after the dialog was closed
            return
        self.apply_button.setEnabled(True)
        self.status.setStyleSheet(OK_STYLE if ok else REFUSED_STYLE)
        self.status.setText(text)
        if ok:
            self.accept()
        else:
            self._load()  # what the broker still has (each dialog shows its target's values)


class ShopModeDialog(_BrokerDialog):
    """Grab, push (the broker assigns) or hybrid (grab first, pushed after a delay), per shop."""

    def __init__(self, state: ConsoleState, actions: ConsoleActions, shop_id: str = "",
                 parent: QWidget | None = None):
        super().__init__(state, actions, parent)
        self.setObjectName("shopModeDialog")
        self.shop = QComboBox()
        for shop in sorted(state.mirror.shops.values(), key=lambda s: s.id):
            self.shop.addItem(f"{shop.id} — {shop.name}" if shop.name else shop.id, shop.id)
        self.mode = QComboBox()
        for mode in SHOP_MODES:
            self.mode.addItem(broker_text().word(mode), mode)
        self.delay = QDoubleSpinBox()
        self.delay.setDecimals(0)
        self.delay.setRange(0.0, HYBRID_EDITOR_MAX_S)
        self.delay.setSuffix(" s")
        self.shop_label, self.mode_label, self.delay_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.shop_label, self.shop)
        self.form.addRow(self.mode_label, self.mode)
        self.form.addRow(self.delay_label, self.delay)
        self.mode.currentIndexChanged.connect(self._show_delay)
        self.shop.currentIndexChanged.connect(self._load)
        self.retranslateUi()
        if shop_id:
            self.shop.setCurrentIndex(max(0, self.shop.findData(shop_id)))
        self._load()

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Shop mode"))
        self.shop_label.setText(self.tr("Shop:"))
        self.mode_label.setText(self.tr("Mode:"))
        self.delay_label.setText(self.tr("Push after:"))
        self.delay.setToolTip(self.tr("In hybrid mode an inquiry nobody grabbed is pushed to an agent after this"))
        self.reason_label.setText(self.tr("Reason (kept in the audit log):"))
        self.apply_button.setText(self.tr("Apply"))

    def _load(self) -> None:
        shop = self.state.mirror.shops.get(self.shop.currentData())
        if shop is None:
            return
        self.mode.setCurrentIndex(max(0, self.mode.findData(shop.mode)))
        self.delay.setValue(shop.hybrid_after_s)
        self._show_delay()

    def _show_delay(self) -> None:
        hybrid = self.mode.currentData() == "hybrid"
        self.delay.setEnabled(hybrid)
        self.delay_label.setEnabled(hybrid)

    def apply(self) -> None:
        shop = self.shop.currentData()
        if not shop:
            self._done(False, self.tr("The broker has sent no shops yet"))
            return
        mode = self.mode.currentData()
        self._waiting()
        self.actions.set_mode(shop, mode, self.delay.value() if mode == "hybrid" else None,
                              self.reason.text(), on_done=self._done)


class AgentStateDialog(_BrokerDialog):
    """An agent's status (online, away, on break, offline) and quality score (which sets the tier)."""

    def __init__(self, state: ConsoleState, actions: ConsoleActions, agent_id: str = "",
                 parent: QWidget | None = None):
        super().__init__(state, actions, parent)
        self.setObjectName("agentStateDialog")
        self.agent = QComboBox()
        self.agent.setEditable(True)
        self.agent.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for agent in sorted(state.mirror.agents.values(), key=lambda a: a.id):
            self.agent.addItem(f"{agent.id} — {agent.name}" if agent.name else agent.id, agent.id)
        self.status_box = QComboBox()
        for status in AGENT_STATUSES:
            self.status_box.addItem(broker_text().word(status), status)
        self.quality = QDoubleSpinBox()
        self.quality.setDecimals(1)
        # the editor lets any number through: an out-of-range score is the broker's to refuse
        self.quality.setRange(-1000.0, 1000.0)
        self.tier = QLabel()
        self.agent_label, self.status_label, self.quality_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.agent_label, self.agent)
        self.form.addRow(self.status_label, self.status_box)
        self.form.addRow(self.quality_label, self.quality)
        self.form.addRow("", self.tier)
        self.agent.currentIndexChanged.connect(self._load)
        self.retranslateUi()
        if agent_id:
            self.agent.setCurrentIndex(max(0, self.agent.findData(agent_id)))
        self._load()
        self._pending = 0
        self._failed: list[str] = []

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Agent status and quality"))
        self.agent_label.setText(self.tr("Agent:"))
        self.status_label.setText(self.tr("Status:"))
        self.quality_label.setText(self.tr("Quality score:"))
        self.reason_label.setText(self.tr("Reason (kept in the audit log):"))
        self.apply_button.setText(self.tr("Apply"))

    def _record(self) -> p.AgentRecord | None:
        return self.state.mirror.agents.get(self.agent.currentData())

    def _load(self) -> None:
        agent = self._record()
        if agent is None:
            return
        self.status_box.setCurrentIndex(max(0, self.status_box.findData(agent.status)))
        self.quality.setValue(agent.quality)
        self.tier.setText(self.tr("Tier now: %1").replace("%1", broker_text().word(agent.tier) or "–"))

    def apply(self) -> None:
        """Send what changed: the status, the score, or both (each answered on its own)."""
        agent = self._record()
        if agent is None:
            self._done(False, self.tr("Choose an agent first"))
            return
        status = self.status_box.currentData()
        quality = round(self.quality.value(), 1)
        changes = []
        if status != agent.status:
            changes.append(lambda done: self.actions.set_status(agent.id, status, on_done=done))
        if quality != round(agent.quality, 1):
            changes.append(lambda done: self.actions.set_quality(agent.id, quality, self.reason.text(), on_done=done))
        if not changes:
            self._done(False, self.tr("Nothing changed"))
            return
        self._waiting()
        self._pending = len(changes)
        self._failed = []
        for change in changes:
            change(self._one_done)

    def _one_done(self, ok: bool, text: str) -> None:
        self._pending -= 1
        if not ok:
            self._failed.append(text)
        if self._pending == 0:
            self._done(not self._failed, "\n".join(self._failed) or text)
