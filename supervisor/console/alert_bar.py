"""The alert panel's tools: filter, acknowledge, and a sound for new critical alerts.

Acknowledging is the broker's business (``ack_alert``: who and when are
published and audited); this bar sends it for the selected alerts and shows
the verdict. The sound is off by default and remembered per user. PySide6
Essentials has no QtMultimedia, so a short chime is written once (a WAV
synthesized here) and played with the desktop's own player (``paplay``,
``pw-play``, ``aplay``, ``afplay``); without one the bell rings
(``QApplication.beep``).
"""
from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, QStandardPaths, Signal
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from broker.wire import protocol as p
from supervisor.console.actions import ConsoleActions
from supervisor.console.state import ConsoleState

SOUND_SETTING = "alerts/soundForCritical"
#: players tried in order; each takes a WAV path as its one argument
PLAYERS = ("paplay", "pw-play", "aplay", "afplay")
#: the chime: two short tones (Hz) of this length (s), at this sample rate
CHIME_TONES_HZ = (880.0, 1320.0)
CHIME_TONE_S = 0.12
CHIME_RATE_HZ = 22_050
#: what the severity filter offers, least to most severe
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertFilter:
    """What the alert list shows: at least this severity, optionally only unacknowledged, text."""

    min_severity: str = "info"
    only_open: bool = False
    text: str = ""

    def matcher(self):
        floor = SEVERITIES.index(self.min_severity)
        needle = self.text.lower()

        def match(alert: p.Alert) -> bool:
            if SEVERITIES.index(alert.severity) < floor:
                return False
            if self.only_open and alert.acked_by is not None:
                return False
            return not needle or needle in " ".join(
                filter(None, (alert.text, alert.kind, alert.inquiry, alert.agent, alert.group, alert.skill))).lower()
        return None if (floor == 0 and not self.only_open and not needle) else match


def selected_keys(view) -> list:
    """The record keys of a row model's selected rows."""
    model = view.model()
    rows = sorted({index.row() for index in view.selectionModel().selectedRows()})
    return [key for key in (model.key_at(row) for row in rows) if key is not None]


def chime_path() -> Path:
    """The chime's WAV, written to the cache the first time it is needed."""
    cache = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
                 or Path.home() / ".cache" / "grabdesk")
    path = cache / "critical-alert.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        frames = bytearray()
        n = int(CHIME_TONE_S * CHIME_RATE_HZ)
        for tone_hz in CHIME_TONES_HZ:
            for i in range(n):
                fade = min(1.0, i / 200, (n - i) / 200)  # no clicks at the edges
                frames += struct.pack("<h", int(12_000 * fade * math.sin(2 * math.pi * tone_hz * i / CHIME_RATE_HZ)))
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(CHIME_RATE_HZ)
            out.writeframes(bytes(frames))
    return path


def play_chime() -> None:
    """Play the chime without waiting for it; the bell if no player is installed."""
    player = next((found for name in PLAYERS if (found := shutil.which(name))), None)
    if player is None:
        QApplication.beep()
        return
    try:
        subprocess.Popen([player, str(chime_path())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        QApplication.beep()


class AlertBar(QWidget):
    """Filters over the alert list, Acknowledge for the selection, and the sound switch."""

    #: the ids of the alerts to acknowledge (the panel's selection)
    acknowledge_requested = Signal(list)

    def __init__(self, state: ConsoleState, actions: ConsoleActions, selected, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("alertBar")
        self.state = state
        self.actions = actions
        #: fn() -> the selected alerts' ids
        self.selected = selected
        self.severity = QComboBox()
        self.only_open = QCheckBox()
        self.text = QLineEdit()
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumWidth(90)
        self.ack_button = QPushButton()
        self.ack_button.setObjectName("ackButton")
        self.sound = QCheckBox()
        self.sound.setObjectName("alertSound")
        self.sound.setChecked(QSettings().value(SOUND_SETTING, False, type=bool))
        self.sound.toggled.connect(lambda on: QSettings().setValue(SOUND_SETTING, on))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.severity, self.only_open):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.ack_button)
        layout.addWidget(self.sound)
        self.severity.currentIndexChanged.connect(self._filter)
        self.only_open.toggled.connect(self._filter)
        self.text.textChanged.connect(self._filter)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self._seen_critical: set[str] = set(a.id for a in state.alerts_by_id.values() if a.severity == "critical")
        self.retranslateUi()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        index = self.severity.currentIndex()
        self.severity.blockSignals(True)
        self.severity.clear()
        self.severity.addItems([self.tr("All alerts"), self.tr("Warnings and critical"), self.tr("Critical only")])
        self.severity.setCurrentIndex(max(0, index))
        self.severity.blockSignals(False)
        self.only_open.setText(self.tr("Not acknowledged"))
        self.text.setPlaceholderText(self.tr("Filter alerts"))
        self.ack_button.setText(self.tr("Acknowledge"))
        self.ack_button.setToolTip(self.tr("Take the selected alerts in hand; the broker records who and when"))
        self.sound.setText(self.tr("Sound for critical"))

    def current_filter(self) -> AlertFilter:
        return AlertFilter(SEVERITIES[max(0, self.severity.currentIndex())], self.only_open.isChecked(),
                           self.text.text().strip())

    def _filter(self) -> None:
        self.state.alerts.set_filter(self.current_filter().matcher())

    def acknowledge_selected(self, reason: str = "") -> None:
        ids = [i for i in self.selected() if (a := self.state.alerts_by_id.get(i)) is not None and a.acked_by is None]
        if not ids:
            self.actions.result.emit(False, self.tr("Select an alert nobody has acknowledged yet"))
            return
        for alert_id in ids:
            self.actions.acknowledge(alert_id, reason if isinstance(reason, str) else "")

    def alerts_arrived(self) -> None:
        """After events: chime once for critical alerts not seen before (if the user wants sound)."""
        fresh = [a.id for a in self.state.alerts_by_id.values()
                 if a.severity == "critical" and a.acked_by is None and a.id not in self._seen_critical]
        if not fresh:
            return
        self._seen_critical.update(fresh)
        if self.sound.isChecked():
            play_chime()
