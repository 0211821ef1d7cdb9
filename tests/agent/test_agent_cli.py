"""``grabdesk agent``: where options come from, and a window it builds."""
from __future__ import annotations

import argparse

import pytest

from grabdesk.cli import build_parser
from supervisor.agentwin import cli as cli_agent
from supervisor.agentwin.cli import AgentSection, OptionError, load_agent_table, resolve_options
from supervisor.common.link import LinkSettings

from helpers import agent_spec
from agent_helpers import DEADLINE_MS

pytestmark = pytest.mark.usefixtures("isolated_settings")


def parse(*argv: str) -> argparse.Namespace:
    return build_parser("agent").parse_args(["agent", *argv])


def test_the_subcommand_is_wired():
    args = parse("--agent", "a1", "--lang", "zh_CN")
    assert args.func is cli_agent.run and args.agent == "a1" and args.lang == "zh_CN"


def test_command_line_beats_file_beats_remembered(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text('[agent]\nagent = "from-file"\nevents_endpoint = "tcp://10.0.0.1:5571"\n'
                      '[broker]\ndb = "ignored.db"\n')
    remembered = {"agent": "remembered", "command_endpoint": "tcp://10.0.0.9:5570",
                  "events_endpoint": "tcp://10.0.0.9:5571"}
    options = resolve_options(parse("--agent", "cli"), load_agent_table(config), remembered)
    assert options.agent == "cli"
    assert options.events_endpoint == "tcp://10.0.0.1:5571"
    assert options.command_endpoint == "tcp://10.0.0.9:5570"
    assert options.link_settings() == LinkSettings(command_endpoint="tcp://10.0.0.9:5570",
                                                   events_endpoint="tcp://10.0.0.1:5571")
    plain = resolve_options(parse(), AgentSection(), {})
    assert plain.command_endpoint == "tcp://127.0.0.1:5570" and plain.agent == ""


def test_a_bad_agent_table_is_reported(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text('[agent]\nagnet = "typo"\n')
    with pytest.raises(OptionError, match="agnet"):
        load_agent_table(config)
    with pytest.raises(OptionError, match="cannot read"):
        load_agent_table(tmp_path / "missing.toml")


def test_no_agent_id_is_a_clear_usage_error(capsys):
    assert cli_agent.run(parse()) == cli_agent.EXIT_USAGE
    assert "--agent ID" in capsys.readouterr().err


def test_built_window_connects_and_the_options_are_remembered(broker, qtbot):
    broker.define(agents=[agent_spec("a1")])
    args = parse("--agent", "a1", "--command-endpoint", broker.server.command_endpoint,
                 "--events-endpoint", broker.server.events_endpoint)
    options = resolve_options(args, AgentSection(), cli_agent.remembered_options())
    link, window = cli_agent.build_window(options)
    qtbot.addWidget(window)
    try:
        link.start()
        qtbot.waitUntil(lambda: link.live and window.desk.me is not None, timeout=DEADLINE_MS)
        cli_agent.remember_options(options)
        again = resolve_options(parse(), AgentSection(), cli_agent.remembered_options())
        assert (again.agent, again.command_endpoint) == ("a1", broker.server.command_endpoint)
    finally:
        window.close()
        link.stop()
