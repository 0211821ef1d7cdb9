"""The console's "What if…" dialog: the policy lab on a trace, then the change on the live floor.

The supervisor picks the traffic (the built-in Double-11 day, or a period
recorded in a broker store on this machine) and one change (mode, hybrid
delay, fair share, concurrent cap). The dialog runs ``grabdesk lab --json``
in a QProcess, off the GUI thread, with the floor as configured ("as is")
and with the change side by side, shows the lab's progress line, then the
table and the per-hour chart. "Apply to the floor" sends the usual audited
commands (``set_mode`` for every shop, ``set_quotas`` for every group); the
fair-share setting is a group definition, which only an admin changes, so the
dialog says so instead of applying it. It decides nothing itself: the lab
runs the broker's arbiter, the broker decides what is applied.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QDateTime, QProcess, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateTimeEdit, QDialog, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from broker.wire import protocol as p

#: the figures shown, in order: (lab key, label)
ROWS = (
    ("first_response_10min_pct", "Answered within 10 min (%)"),
    ("resolved_20min_pct", "Resolved within 20 min (%)"),
    ("abandoned_pct", "Abandoned (%)"),
    ("p90_first_response_s", "First response p90 (s)"),
    ("gini", "Load Gini"),
    ("assisted_pct", "Assigned by assist (%)"),
    ("utilisation_pct", "Utilisation (%)"),
)
BASELINE, CHANGED = "as-is", "changed"
MODES = ("grab", "push", "hybrid")


@dataclass
class Change:
    """One change to try: None leaves a setting as the trace has it."""

    mode: str | None = None
    hybrid_after_s: float | None = None
    fair_share: bool | None = None
    concurrent_cap: int | None = None

    def policy_option(self) -> str:
        settings = [f"{k}={v}" for k, v in (("mode", self.mode), ("hybrid_after_s", self.hybrid_after_s),
                                             ("fair_share", self.fair_share), ("concurrent_cap", self.concurrent_cap))
                    if v is not None]
        return f"{CHANGED}:" + ",".join(settings) if settings else CHANGED + ":"


def lab_arguments(change: Change, store: str = "", since: str = "", until: str = "",
                  extra: tuple[str, ...] = ()) -> list[str]:
    """``grabdesk lab`` arguments comparing the floor as is with ``change``."""
    args = ["-m", "grabdesk", "lab", "--json", "--policy", f"{BASELINE}:", "--policy", change.policy_option()]
    if store:
        args += ["--from-store", store]
        if since:
            args += ["--since", since]
        if until:
            args += ["--until", until]
    return args + list(extra)


class WhatIfDialog(QDialog):
    """Pick traffic and a change, compare them in the lab, apply the change."""

    def __init__(self, actions, mirror, parent: QWidget | None = None, extra_lab_args: tuple[str, ...] = ()):
        super().__init__(parent)
        self.setObjectName("whatIfDialog")
        self.setWindowTitle(self.tr("What if…"))
        self.actions = actions
        self.mirror = mirror
        self.extra_lab_args = extra_lab_args
        self.result: dict | None = None
        self.process: QProcess | None = None
        self._stderr = ""

        self.trace_box = QComboBox()
        self.trace_box.addItem(self.tr("Double-11 day (built in)"), "double11")
        self.trace_box.addItem(self.tr("Recorded traffic (a store on this machine)"), "store")
        self.store_edit = QLineEdit()
        self.store_edit.setPlaceholderText(self.tr("broker.db"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        store_row = QHBoxLayout()
        store_row.addWidget(self.store_edit)
        store_row.addWidget(browse)
        now = QDateTime.currentDateTime()
        self.since_edit = QDateTimeEdit(now.addDays(-1))
        self.until_edit = QDateTimeEdit(now)
        self.mode_box = QComboBox()
        self.mode_box.addItem(self.tr("unchanged"), None)
        for mode in MODES:
            self.mode_box.addItem(mode, mode)
        self.hybrid_spin = QSpinBox()
        self.hybrid_spin.setRange(0, 600)
        self.hybrid_spin.setSpecialValueText(self.tr("unchanged"))
        self.hybrid_spin.setSuffix(" s")
        self.fair_box = QComboBox()
        for text, value in ((self.tr("unchanged"), None), (self.tr("on"), True), (self.tr("off"), False)):
            self.fair_box.addItem(text, value)
        self.cap_spin = QSpinBox()
        self.cap_spin.setRange(0, 50)
        self.cap_spin.setSpecialValueText(self.tr("unchanged"))

        form = QFormLayout()
        form.addRow(self.tr("Traffic"), self.trace_box)
        form.addRow(self.tr("Store"), store_row)
        form.addRow(self.tr("From"), self.since_edit)
        form.addRow(self.tr("Until"), self.until_edit)
        form.addRow(self.tr("Mode of every shop"), self.mode_box)
        form.addRow(self.tr("Hybrid delay"), self.hybrid_spin)
        form.addRow(self.tr("Fair share"), self.fair_box)
        form.addRow(self.tr("Concurrent cap of every group"), self.cap_spin)

        self.run_button = QPushButton(self.tr("Run the lab"))
        self.run_button.clicked.connect(self.run_lab)
        self.apply_button = QPushButton(self.tr("Apply to the floor"))
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(len(ROWS), 2)
        self.table.setHorizontalHeaderLabels([self.tr("as is"), self.tr("changed")])
        self.table.setVerticalHeaderLabels([self.tr(label) for _, label in ROWS])
        self.chart = pg.PlotWidget()
        self.chart.setBackground("w")
        self.chart.addLegend()
        self.chart.setLabel("left", self.tr("first response p90 (min)"))
        self.chart.setLabel("bottom", self.tr("hour of the traffic"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(self.chart)
        self.resize(720, 760)

    # ------------------------------------------------------------------ reading the form

    def change(self) -> Change:
        hybrid = self.hybrid_spin.value() or None
        return Change(mode=self.mode_box.currentData(), hybrid_after_s=float(hybrid) if hybrid else None,
                      fair_share=self.fair_box.currentData(), concurrent_cap=self.cap_spin.value() or None)

    def arguments(self) -> list[str]:
        if self.trace_box.currentData() == "store":
            fmt = Qt.DateFormat.ISODate
            return lab_arguments(self.change(), self.store_edit.text().strip(),
                                 self.since_edit.dateTime().toString(fmt), self.until_edit.dateTime().toString(fmt),
                                 self.extra_lab_args)
        return lab_arguments(self.change(), extra=self.extra_lab_args)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("A broker store"), "", "broker store (*.db)")
        if path:
            self.store_edit.setText(path)
            self.trace_box.setCurrentIndex(1)

    # ------------------------------------------------------------------ the lab, off the GUI thread

    def run_lab(self) -> None:
        if self.process is not None:
            return
        self.result = None
        self.apply_button.setEnabled(False)
        self._stderr = ""
        self.process = QProcess(self)
        self.process.readyReadStandardError.connect(self._on_stderr)
        self.process.finished.connect(self._on_finished)
        self.progress.show()
        self.run_button.setEnabled(False)
        self.status.setText(self.tr("Running the lab…"))
        self.process.start(sys.executable, self.arguments())

    def _on_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr += text
        lines = [line for line in self._stderr.splitlines() if line.strip()]
        if lines:
            self.status.setText(lines[-1])

    def _on_finished(self, code: int, _status) -> None:
        process, self.process = self.process, None
        out = bytes(process.readAllStandardOutput()).decode("utf-8", "replace")
        self.progress.hide()
        self.run_button.setEnabled(True)
        if code != 0:
            last = [line for line in self._stderr.splitlines() if line.strip()]
            self.status.setText(last[-1] if last else self.tr("The lab stopped (exit %1)").replace("%1", str(code)))
            return
        self.show_result(json.loads(out))

    def show_result(self, result: dict) -> None:
        """Fill the table and the chart from ``grabdesk lab --json``'s object."""
        self.result = result
        policies = result["policies"]
        for column, name in enumerate((BASELINE, CHANGED)):
            figures = policies[name]
            for row, (key, _) in enumerate(ROWS):
                value = figures.get(key)
                self.table.setItem(row, column, QTableWidgetItem("-" if value is None else f"{value:g}"))
        self.chart.clear()
        for name, colour in ((BASELINE, "#1f77b4"), (CHANGED, "#d62728")):
            hourly = policies[name]["hourly"]
            self.chart.plot([h["hour"] for h in hourly], [(h["p90_first_response_s"] or 0.0) / 60.0 for h in hourly],
                            name=self.tr("as is") if name == BASELINE else self.tr("changed"),
                            pen=pg.mkPen(colour, width=2))
        self.status.setText(self.tr("%1 arrivals of %2, %3 s").replace("%1", str(result["arrivals"]))
                            .replace("%2", result["trace"]).replace("%3", f"{result['wall_s']:g}"))
        change = self.change()
        self.apply_button.setEnabled(change.mode is not None or change.hybrid_after_s is not None
                                     or change.concurrent_cap is not None)

    # ------------------------------------------------------------------ applying, the usual way

    def apply(self) -> list[str]:
        """Send the change as audited commands; returns what was sent (one line each)."""
        change = self.change()
        reason = self.tr("what-if: %1").replace("%1", change.policy_option().partition(":")[2])
        sent = []
        if change.mode is not None or change.hybrid_after_s is not None:
            for shop in sorted(self.mirror.shops.values(), key=lambda s: s.id):
                mode = {"push": "assign"}.get(change.mode or "", change.mode) or shop.mode
                self.actions.set_mode(shop.id, mode, change.hybrid_after_s, reason)
                sent.append(f"set_mode {shop.id} {mode}")
        if change.concurrent_cap is not None:
            for group in sorted(self.mirror.groups):
                self.actions.set_quotas(p.Quotas(concurrent_cap=change.concurrent_cap), reason, group=group)
                sent.append(f"set_quotas {group} concurrent_cap={change.concurrent_cap}")
        note = self.tr(" Fair share is part of a group's definition: an admin changes it.") \
            if change.fair_share is not None else ""
        self.status.setText(self.tr("Sent %1 command(s) to the broker.").replace("%1", str(len(sent))) + note)
        return sent
