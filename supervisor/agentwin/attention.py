"""Telling an agent who is looking elsewhere that something arrived.

A system-tray notification where there is a tray; otherwise the window asks
the desktop for attention (``QApplication.alert``: a flashing taskbar entry).
Sound is a short chime through QtMultimedia when that module is installed
(PySide6-Essentials does not ship it), else the platform beep. Everything
degrades quietly: the offscreen platform has neither tray nor speaker, and
the window must work the same there.
"""
from __future__ import annotations

import logging
import math
import os
import struct
import time
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QUrl
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

log = logging.getLogger(__name__)

#: arrivals closer together than this share one notification
MIN_INTERVAL_S = 3.0
#: how long a tray message stays up
MESSAGE_MS = 5_000
CHIME_HZ = 880.0
CHIME_S = 0.15
CHIME_RATE_HZ = 22_050


def desk_icon(colour: str = "#1a73e8") -> QIcon:
    """A plain dot, drawn rather than shipped, for the window and the tray."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor(colour))
    painter.drawEllipse(3, 3, 26, 26)
    painter.end()
    return QIcon(pixmap)


def _chime_file() -> Path:
    """A short sine chime, written once into the cache (no binary asset in git)."""
    cache = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
                 or os.path.join(os.path.expanduser("~"), ".cache", "grabdesk"))
    path = cache / "agent-chime.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        frames = int(CHIME_RATE_HZ * CHIME_S)
        samples = (int(12_000 * math.sin(2 * math.pi * CHIME_HZ * i / CHIME_RATE_HZ)
                       * min(1.0, (frames - i) / (0.3 * frames))) for i in range(frames))
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(CHIME_RATE_HZ)
            out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def _sound_effect(parent: QObject):
    """A QSoundEffect when QtMultimedia exists and has an audio output, else None."""
    try:
        from PySide6.QtMultimedia import QMediaDevices, QSoundEffect  # not in Essentials
    except ImportError:
        return None
    try:
        if QMediaDevices.defaultAudioOutput().isNull():
            return None
        effect = QSoundEffect(parent)
        effect.setSource(QUrl.fromLocalFile(str(_chime_file())))
        return effect
    except Exception:  # a broken audio stack must not break the window
        log.info("no sound effect available; using the platform beep", exc_info=True)
        return None


class Attention(QObject):
    def __init__(self, window: QWidget, icon: QIcon):
        super().__init__(window)
        self.window = window
        self.muted = False
        #: notifications given (not counting the arrivals they coalesced)
        self.count = 0
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.activated.connect(self._bring_forward)
            self.tray.messageClicked.connect(self._bring_forward)
            self.tray.show()
        self._sound = _sound_effect(self)
        self._last_mono = -math.inf

    def notify(self, title: str, text: str) -> bool:
        """Notify unless one was given moments ago; True if this one was shown."""
        now = time.monotonic()
        if now - self._last_mono < MIN_INTERVAL_S:
            return False
        self._last_mono = now
        self.count += 1
        if self.tray is not None:
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
        else:
            QApplication.alert(self.window, 0)
        if not self.muted:
            if self._sound is not None:
                self._sound.play()
            else:
                QApplication.beep()
        return True

    def set_tooltip(self, text: str) -> None:
        if self.tray is not None:
            self.tray.setToolTip(text)

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()

    def _bring_forward(self, *_args) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
