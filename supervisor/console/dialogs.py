"""Dialogs: quota changes, reassignment, and where to connect.

The quota and reassign dialogs send their command and stay open until the
broker answers: an acceptance closes them, a refusal is shown in the dialog
with the broker's reason so the supervisor can correct and retry.
"""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from broker.wire import protocol as p
from supervisor.console.actions import ConsoleActions
from supervisor.console.delegates import EDITOR_MAX
from supervisor.common.formats import format_duration, format_limit
from supervisor.console.text import words
from supervisor.console.settings import ConsoleSettings
from supervisor.console.state import QUOTA_FIELDS, ConsoleState, fraction

OK_STYLE = "color: #188038;"
REFUSED_STYLE = "color: #c5221f; font-weight: bold;"
#: the broker never accepts more than this for break_minutes (the editor allows more; it decides)
BREAK_EDITOR_MAX = 10_000


def _alive(widget: QWidget) -> bool:
    """A reply may arrive after its dialog was closed and deleted."""
    return shiboken6.isValid(widget)


class QuotaDialog(QDialog):
    """Change an agent's or a group's concurrent cap, daily quota, service-hours limit, break."""

    def __init__(self, state: ConsoleState, actions: ConsoleActions, agent_id: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("quotaDialog")
        self.state = state
        self.actions = actions
        self.scope = QComboBox()
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.checks: dict[str, QCheckBox] = {}
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.current: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, name in enumerate(QUOTA_FIELDS):
            check = QCheckBox()
            if name == "continuous_hours":
                spin = QDoubleSpinBox()
                spin.setDecimals(2)
                spin.setSingleStep(0.25)
                spin.setRange(0.0, EDITOR_MAX[name])
            else:
                spin = QSpinBox()
                spin.setRange(0, EDITOR_MAX.get(name, BREAK_EDITOR_MAX))
            spin.valueChanged.connect(lambda _v, c=check: c.setChecked(True))
            now = QLabel()
            now.setStyleSheet("color: #5f6368;")
            grid.addWidget(check, row, 0)
            grid.addWidget(spin, row, 1)
            grid.addWidget(now, row, 2)
            self.checks[name], self.spins[name], self.current[name] = check, spin, now
        self.reason = QLineEdit()
        self.status = QLabel()
        self.status.setObjectName("quotaStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        self.form.addRow("", self.scope)
        self.form.addRow("", self.target)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(grid)
        self.reason_label = QLabel()
        layout.addWidget(self.reason_label)
        layout.addWidget(self.reason)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.retranslateUi()
        self.scope.currentIndexChanged.connect(self._fill_targets)
        self.target.currentIndexChanged.connect(self._load_values)
        self._fill_targets()
        if agent_id:
            self.target.setCurrentIndex(max(0, self.target.findData(agent_id)))
        self._load_values()

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Quotas"))
        index = self.scope.currentIndex()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItems([self.tr("One agent"), self.tr("A whole group")])
        self.scope.setCurrentIndex(max(0, index))
        self.scope.blockSignals(False)
        labels = {"concurrent_cap": self.tr("Concurrent cap"), "daily_grabs": self.tr("Daily grabs"),
                  "continuous_hours": self.tr("Continuous service (hours)"),
                  "break_minutes": self.tr("Forced break (minutes)")}
        for name, check in self.checks.items():
            check.setText(labels[name])
        self.reason_label.setText(self.tr("Reason (kept in the audit log):"))
        self.apply_button.setText(self.tr("Apply"))

    @property
    def is_group(self) -> bool:
        return self.scope.currentIndex() == 1

    def _fill_targets(self) -> None:
        mirror = self.state.mirror
        self.target.blockSignals(True)
        self.target.clear()
        if self.is_group:
            for group in sorted(mirror.groups.values(), key=lambda g: g.id):
                self.target.addItem(f"{group.id} — {group.name}" if group.name else group.id, group.id)
        else:
            for agent in sorted(mirror.agents.values(), key=lambda a: a.id):
                self.target.addItem(f"{agent.id} — {agent.name}" if agent.name else agent.id, agent.id)
        self.target.blockSignals(False)
        self._load_values()

    def _values(self) -> p.Quotas:
        """What the broker has now for the target (the effective quotas for an agent)."""
        key = self.target.currentData()
        if self.is_group:
            group = self.state.mirror.groups.get(key)
            return group.quotas if group is not None else p.Quotas()
        agent = self.state.mirror.agents.get(key)
        return agent.effective if agent is not None else p.Quotas()

    def _load_values(self) -> None:
        values = self._values()
        for name in QUOTA_FIELDS:
            value = getattr(values, name)
            spin = self.spins[name]
            spin.blockSignals(True)
            spin.setValue(value if value is not None else 0)
            spin.blockSignals(False)
            self.checks[name].setChecked(False)
            self.current[name].setText(self.tr("now: %1").replace("%1", format_limit(value)))

    def requested(self) -> p.Quotas:
        """Only the ticked limits; the broker keeps the others as they are."""
        chosen = {}
        for name in QUOTA_FIELDS:
            if self.checks[name].isChecked():
                value = self.spins[name].value()
                chosen[name] = int(value) if isinstance(self.spins[name], QSpinBox) else float(value)
        return p.Quotas(**chosen)

    def apply(self) -> None:
        key = self.target.currentData()
        quotas = self.requested()
        if not key:
            self._show(False, self.tr("Choose an agent or a group first"))
            return
        if quotas == p.Quotas():
            self._show(False, self.tr("Tick the limits to change"))
            return
        self.apply_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(self.tr("Waiting for the broker…"))
        target = {"group": key} if self.is_group else {"agent": key}
        self.actions.set_quotas(quotas, self.reason.text(), on_done=self._done, **target)

    def _done(self, ok: bool, text: str) -> None:
        if not _alive(self):
            return
        self.apply_button.setEnabled(True)
        self._show(ok, text)
        if ok:
            self.accept()
        else:
            self._load_values()  # what the broker still has

    def _show(self, ok: bool, text: str) -> None:
        self.status.setStyleSheet(OK_STYLE if ok else REFUSED_STYLE)
        self.status.setText(text)


class ReassignDialog(QDialog):
    """Move inquiries to another agent or back to the pool; likely refusals are explained."""

    def __init__(self, state: ConsoleState, actions: ConsoleActions, inquiry_ids: list[str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reassignDialog")
        self.resize(620, 520)
        self.state = state
        self.actions = actions
        self.inquiry_ids = list(inquiry_ids)
        self._waiting = 0
        self._failures: list[str] = []
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.targets = QTreeWidget()
        self.targets.setObjectName("reassignTargets")
        self.targets.setRootIsDecorated(False)
        self.targets.setColumnCount(4)
        self.targets.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.targets.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.targets.header().setStretchLastSection(True)
        self.targets.itemDoubleClicked.connect(lambda *_: self.apply())
        self.reason = QLineEdit()
        self.status = QLabel()
        self.status.setObjectName("reassignStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Close)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.reason_label = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.filter)
        layout.addWidget(self.targets, 1)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.reason)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Reassign"))
        self.targets.setHeaderLabels([self.tr("Move to"), self.tr("Status"), self.tr("Held / cap"),
                                      self.tr("Note")])
        self.filter.setPlaceholderText(self.tr("Find an agent…"))
        self.reason_label.setText(self.tr("Reason (kept in the audit log):"))
        self.ok_button.setText(self.tr("Reassign"))
        self._describe()
        self._fill()

    def _describe(self) -> None:
        lines = []
        now = self.state.clock()
        for inquiry_id in self.inquiry_ids:
            inq = self.state.mirror.inquiries.get(inquiry_id)
            if inq is None:
                lines.append(self.tr("%1 is no longer open").replace("%1", inquiry_id))
                continue
            where = self.tr("held by %1").replace("%1", inq.owner) if inq.owner else self.tr("in the pool")
            lines.append(self.tr("%1 (%2, %3, %4), waiting %5, %6").replace("%1", inq.id)
                         .replace("%2", inq.skill).replace("%3", inq.language).replace("%4", inq.shop)
                         .replace("%5", format_duration(max(0.0, now - inq.arrived_at))).replace("%6", where))
        self.about.setText("\n".join(lines))

    def _fill(self) -> None:
        """The pool first, then agents likely to be accepted (least loaded first), then the rest."""
        self.targets.clear()
        pool = QTreeWidgetItem([self.tr("Back to the pool"), "", "", self.tr("anyone eligible may grab it")])
        pool.setData(0, Qt.ItemDataRole.UserRole, None)
        self.targets.addTopLevelItem(pool)
        likely, unlikely = [], []
        for agent in self.state.mirror.agents.values():
            notes = [words().hint(*hint) for hint in self.state.refusal_hints(agent, self.inquiry_ids)]
            share = fraction(agent.held, agent.effective.concurrent_cap)
            (unlikely if notes else likely).append((share if share is not None else 0.0, agent, "; ".join(notes)))
        likely.sort(key=lambda t: (t[0], t[1].id))
        unlikely.sort(key=lambda t: t[1].id)
        for _share, agent, note in likely + unlikely:
            label = f"{agent.id} — {agent.name}" if agent.name else agent.id
            item = QTreeWidgetItem([label, words().status(agent.status),
                                    f"{agent.held} / {format_limit(agent.effective.concurrent_cap)}",
                                    note or self.tr("eligible")])
            item.setData(0, Qt.ItemDataRole.UserRole, agent.id)
            if note:
                for col in range(4):
                    item.setForeground(col, Qt.GlobalColor.gray)
                item.setToolTip(3, note)
            self.targets.addTopLevelItem(item)
        self._filter(self.filter.text())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.targets.topLevelItemCount()):
            item = self.targets.topLevelItem(i)
            item.setHidden(bool(needle) and needle not in item.text(0).lower() and i != 0)

    def select_target(self, agent_id: str | None) -> bool:
        for i in range(self.targets.topLevelItemCount()):
            item = self.targets.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == agent_id:
                self.targets.setCurrentItem(item)
                return True
        return False

    def apply(self) -> None:
        item = self.targets.currentItem()
        if item is None:
            self._show(False, self.tr("Choose an agent, or the pool"))
            return
        target = item.data(0, Qt.ItemDataRole.UserRole)
        self.ok_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(self.tr("Waiting for the broker…"))
        self._waiting = len(self.inquiry_ids)
        self._failures = []
        for inquiry_id in self.inquiry_ids:
            self.actions.reassign(inquiry_id, target, self.reason.text(), on_done=self._done)

    def _done(self, ok: bool, text: str) -> None:
        if not _alive(self):
            return
        self._waiting -= 1
        if not ok:
            self._failures.append(text)
        if self._waiting > 0:
            return
        self.ok_button.setEnabled(True)
        if self._failures:
            self._show(False, "\n".join(self._failures))
            self._fill()
        else:
            self._show(True, text)
            self.accept()

    def _show(self, ok: bool, text: str) -> None:
        self.status.setStyleSheet(OK_STYLE if ok else REFUSED_STYLE)
        self.status.setText(text)


class ConnectDialog(QDialog):
    """Where to connect and as whom; CurveZMQ key files when the broker requires them."""

    def __init__(self, settings: ConsoleSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.lang = settings.lang
        self.command = QLineEdit(settings.command_endpoint)
        self.events = QLineEdit(settings.events_endpoint)
        self.who = QLineEdit(settings.who)
        self.keys = {name: QLineEdit(getattr(settings, name))
                     for name in ("server_key", "public_key", "secret_key")}
        self.form = QFormLayout()
        self.labels = [QLabel() for _ in range(6)]
        for label, editor in zip(self.labels[:3], (self.command, self.events, self.who), strict=True):
            self.form.addRow(label, editor)
        self.browse: list[QPushButton] = []
        for label, editor in zip(self.labels[3:], self.keys.values(), strict=True):
            row = QHBoxLayout()
            row.addWidget(editor, 1)
            button = QPushButton()
            button.clicked.connect(lambda _=False, e=editor: self._pick(e))
            self.browse.append(button)
            row.addWidget(button)
            self.form.addRow(label, row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5f6368;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.retranslateUi()

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Connect to a broker"))
        texts = [self.tr("Command endpoint:"), self.tr("Events endpoint:"), self.tr("Supervisor id:"),
                 self.tr("Broker public key:"), self.tr("My public key:"), self.tr("My secret key:")]
        for label, text in zip(self.labels, texts, strict=True):
            label.setText(text)
        for button in self.browse:
            button.setText(self.tr("Browse…"))
        self.note.setText(self.tr("Key files are needed only when the broker requires CurveZMQ; give all "
                                  "three or none. These values are remembered for the next start."))

    def _pick(self, editor: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a key file"), editor.text())
        if path:
            editor.setText(path)

    def values(self) -> ConsoleSettings:
        return ConsoleSettings(command_endpoint=self.command.text().strip(),
                               events_endpoint=self.events.text().strip(), who=self.who.text().strip(),
                               lang=self.lang, **{k: e.text().strip() for k, e in self.keys.items()})
