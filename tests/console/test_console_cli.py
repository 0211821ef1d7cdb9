"""``grabdesk console`` options: command line > config file > last used > defaults."""
from __future__ import annotations

import pytest

from broker.service.config import DEFAULT_COMMAND_ENDPOINT
from grabdesk.cli import build_parser, main
from supervisor.console.cli import command_line_values
from supervisor.console.settings import (ConsoleConfigError, ConsoleSettings, default_who, merge,
                                         read_config, remember, saved)



def parse(*argv: str):
    return build_parser("console").parse_args(["console", *argv])


def test_options_are_registered_with_the_grabdesk_command():
    args = parse("--command-endpoint", "tcp://10.0.0.5:5570", "--who", "lead1", "--lang", "zh_CN",
                 "--server-key", "broker.key", "--config", "c.toml")
    assert command_line_values(args) == {"command_endpoint": "tcp://10.0.0.5:5570", "who": "lead1",
                                         "lang": "zh_CN", "server_key": "broker.key"}
    assert args.func.__module__ == "supervisor.console.cli"


def test_precedence_command_line_then_file_then_saved_then_defaults(tmp_path):
    config = tmp_path / "console.toml"
    config.write_text('[console]\nwho = "from-file"\nevents_endpoint = "tcp://file:5571"\n'
                      'command_endpoint = "tcp://file:5570"\n', encoding="utf-8")
    from_file = read_config(config)
    settings = merge({"who": "from-cli"}, from_file, {"command_endpoint": "tcp://saved:5570",
                                                       "secret_key": "saved.key_secret"})
    assert settings.who == "from-cli"
    assert settings.command_endpoint == "tcp://file:5570"
    assert settings.events_endpoint == "tcp://file:5571"
    assert settings.secret_key == "saved.key_secret"
    assert merge({}, {}, {}) == ConsoleSettings()
    assert ConsoleSettings().command_endpoint == DEFAULT_COMMAND_ENDPOINT
    assert ConsoleSettings().who == default_who() != ""


def test_config_file_mistakes_are_explained(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[console]\nendpoint = "tcp://x:1"\n', encoding="utf-8")
    with pytest.raises(ConsoleConfigError, match="unknown key.*endpoint"):
        read_config(bad)
    (tmp_path / "broken.toml").write_text("[console\n", encoding="utf-8")
    with pytest.raises(ConsoleConfigError, match="not valid TOML"):
        read_config(tmp_path / "broken.toml")
    with pytest.raises(ConsoleConfigError, match="cannot read"):
        read_config(tmp_path / "missing.toml")
    assert main(["console", "--config", str(bad)]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_last_used_values_are_remembered(isolated_settings):
    assert saved() == {}
    remember(ConsoleSettings(command_endpoint="tcp://10.1.1.1:5570", who="lead2", lang="zh_CN"))
    again = saved()
    assert again["command_endpoint"] == "tcp://10.1.1.1:5570" and again["who"] == "lead2"
    assert "lang" not in again, "the language is remembered by the Language menu"
    link = merge({}, {}, again).link_settings()
    assert link.command_endpoint == "tcp://10.1.1.1:5570" and link.curve() is None


def test_sigterm_closes_the_window_the_way_its_close_button_does(qtbot):
    """A service manager's or the demo's SIGTERM closes the console and the agent window
    through ``close()`` (layout saved, link stopped, exit status 0) instead of killing the
    process where it stands."""
    import os
    import signal

    from PySide6.QtWidgets import QWidget

    from supervisor.common.widgets import close_on_termination

    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        close_on_termination(window)
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
