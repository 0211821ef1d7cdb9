"""Where the console connects and as whom: command line > config file > last used > defaults.

The config file is TOML with a ``[console]`` table holding the same keys as
the command-line options (``command_endpoint``, ``events_endpoint``,
``who``, ``server_key``, ``public_key``, ``secret_key``, ``lang``). The
values last used are remembered with QSettings, so the next start (and the
File → Connect… dialog) offers them again.
"""
from __future__ import annotations

import getpass
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from supervisor.common.link import LinkSettings

SETTINGS_GROUP = "connection"


class ConsoleConfigError(ValueError):
    """A config file the console cannot use; the message says why."""


def default_who() -> str:
    """The supervisor id: the user's login name."""
    try:
        return getpass.getuser() or "supervisor"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "supervisor"


@dataclass
class ConsoleSettings:
    """Where the console connects, as whom, and in which language."""

    command_endpoint: str = DEFAULT_COMMAND_ENDPOINT
    events_endpoint: str = DEFAULT_EVENTS_ENDPOINT
    who: str = field(default_factory=default_who)
    #: CurveZMQ key files (all three or none): broker public, own public, own secret
    server_key: str = ""
    public_key: str = ""
    secret_key: str = ""
    #: "en", "zh_CN", or "" to follow the Language menu's choice / the system locale
    lang: str = ""

    def link_settings(self) -> LinkSettings:
        return LinkSettings.of(self)


KEYS = tuple(f.name for f in fields(ConsoleSettings))
#: remembered between runs (the language has its own key, see supervisor.common.i18n)
REMEMBERED = tuple(k for k in KEYS if k != "lang")


def read_config(path: str | Path) -> dict[str, str]:
    """The ``[console]`` table of a TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConsoleConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConsoleConfigError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get("console", {})
    if not isinstance(table, dict):
        raise ConsoleConfigError(f"{path}: [console] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConsoleConfigError(f"{path}: unknown key(s) in [console]: {', '.join(unknown)}; "
                                 f"known: {', '.join(KEYS)}")
    wrong = [k for k, v in table.items() if not isinstance(v, str)]
    if wrong:
        raise ConsoleConfigError(f"{path}: [console] {', '.join(wrong)} must be text")
    return dict(table)


def merge(*layers: dict) -> ConsoleSettings:
    """The first layer that sets a key (non-empty) wins; defaults fill the rest."""
    chosen = {}
    for key in KEYS:
        for layer in layers:
            value = layer.get(key)
            if value:
                chosen[key] = value
                break
    return ConsoleSettings(**chosen)


def saved() -> dict[str, str]:
    """The connection last used (QSettings)."""
    qs = QSettings()
    qs.beginGroup(SETTINGS_GROUP)
    try:
        return {k: str(qs.value(k, "")) for k in REMEMBERED if qs.contains(k)}
    finally:
        qs.endGroup()


def remember(settings: ConsoleSettings) -> None:
    qs = QSettings()
    qs.beginGroup(SETTINGS_GROUP)
    for key, value in asdict(settings).items():
        if key in REMEMBERED:
            qs.setValue(key, value)
    qs.endGroup()
    qs.sync()
