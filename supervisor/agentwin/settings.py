"""How the agent left the window: size and place, the splitter, sound and stay-on-top.

Remembered per user with QSettings and offered again at the next start.
Where and as whom the window connects is the command line's business
(``supervisor.agentwin.cli``); the language has its own key
(``supervisor.common.i18n``).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings

SETTINGS_GROUP = "agent"
#: a first start's window size (px): a narrow column beside the chat tool
DEFAULT_SIZE = (440, 640)


@dataclass
class WindowLayout:
    """What the window restores at start and saves when it closes."""

    #: QMainWindow.saveGeometry(); None on a first start
    geometry: QByteArray | None = None
    #: the pool/mine splitter's saveState(); None on a first start
    splitter: QByteArray | None = None
    muted: bool = False
    stay_on_top: bool = False


def _bytes(value) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def restore() -> WindowLayout:
    """The layout saved last, or a first start's."""
    s = QSettings()
    s.beginGroup(SETTINGS_GROUP)
    try:
        return WindowLayout(geometry=_bytes(s.value("geometry")), splitter=_bytes(s.value("splitter")),
                            muted=s.value("muted", False, type=bool),
                            stay_on_top=s.value("stay_on_top", False, type=bool))
    finally:
        s.endGroup()


def remember(layout: WindowLayout) -> None:
    s = QSettings()
    s.beginGroup(SETTINGS_GROUP)
    if layout.geometry is not None:
        s.setValue("geometry", layout.geometry)
    if layout.splitter is not None:
        s.setValue("splitter", layout.splitter)
    s.setValue("muted", layout.muted)
    s.setValue("stay_on_top", layout.stay_on_top)
    s.endGroup()
