"""``grabdesk agent``: the agent companion window.

Where each option comes from, first found wins: the command line, the
``[agent]`` table of ``--config FILE``, the values this user last started
with (QSettings), the defaults. Key files are the ones ``grabdesk keys``
writes (docs/security.md). If the broker does not accept the identity, the
window says so (and so does stderr) instead of sitting there disconnected.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, fields
from pathlib import Path

import msgspec

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from supervisor.common.cli_options import add_link_arguments, add_place_argument

#: QSettings group for the last values used
REMEMBER_GROUP = "agent/last"
EXIT_USAGE = 2
EXIT_REFUSED = 3


class AgentSection(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The ``[agent]`` table of a config file."""

    agent: str | None = None
    command_endpoint: str | None = None
    events_endpoint: str | None = None
    server_key: str | None = None
    public_key: str | None = None
    secret_key: str | None = None
    lang: str | None = None


@dataclass
class AgentOptions:
    agent: str = ""
    command_endpoint: str = DEFAULT_COMMAND_ENDPOINT
    events_endpoint: str = DEFAULT_EVENTS_ENDPOINT
    server_key: str = ""
    public_key: str = ""
    secret_key: str = ""
    lang: str = ""

    def link_settings(self):
        from supervisor.common.link import LinkSettings

        return LinkSettings.of(self)


OPTION_NAMES = tuple(f.name for f in fields(AgentOptions))


class OptionError(ValueError):
    pass


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "agent", help="the agent companion window (grab inquiries)",
        description="The agent's small window: the pool of inquiries you may take, one-key grabbing, "
                    "your inquiries with SLA countdowns, your quota use. Options not given here come "
                    "from --config's [agent] table, then from the values you last started with.")
    parser.add_argument("--agent", metavar="ID", help="your agent id, as enrolled at the broker")
    add_link_arguments(parser)
    parser.add_argument("--directory", metavar="FILE",
                        help="a sharded platform's directory (TOML): connect to the shard of --shop "
                             "instead of --command-endpoint/--events-endpoint")
    parser.add_argument("--shop", metavar="ID", help="with --directory: the shop whose shard you serve")
    parser.add_argument("--config", metavar="FILE", help="TOML file with an [agent] table of these options")
    add_place_argument(parser)
    parser.add_argument("--lang", choices=["en", "zh_CN"], help="UI language (default: last chosen, or the system's)")
    parser.set_defaults(func=run)
    return parser


def load_agent_table(path: str | Path | None) -> AgentSection:
    if not path:
        return AgentSection()
    path = Path(path)
    try:
        raw = msgspec.toml.decode(path.read_bytes())
    except OSError as exc:
        raise OptionError(f"cannot read config file {path}: {exc.strerror}") from exc
    except msgspec.DecodeError as exc:
        raise OptionError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return msgspec.convert(raw.get("agent", {}), AgentSection)
    except msgspec.ValidationError as exc:
        raise OptionError(f"{path}: [agent] {exc}") from exc


def resolve_options(args: argparse.Namespace, file_table: AgentSection,
                    remembered: dict[str, str]) -> AgentOptions:
    """Command line, then the file, then the last values used, then defaults."""
    options = AgentOptions()
    for name in OPTION_NAMES:
        for value in (getattr(args, name, None), getattr(file_table, name), remembered.get(name)):
            if value:
                setattr(options, name, str(value))
                break
    if options.lang and options.lang not in ("en", "zh_CN"):
        raise OptionError(f"unknown language {options.lang!r}; choose en or zh_CN")
    return options


def use_shard_of_shop(options: AgentOptions, directory_path: str, shop: str | None) -> None:
    """Point ``options`` at the brokers of ``shop``'s shard (every one of its active/standby set)."""
    from broker.wire.directory import DirectoryError, load_directory

    if not shop:
        raise OptionError("--directory needs --shop ID: the shop whose shard you serve")
    try:
        shard = load_directory(directory_path).shard_of(shop)
    except DirectoryError as exc:
        raise OptionError(str(exc)) from None
    options.command_endpoint = ",".join(shard.command_endpoints)
    options.events_endpoint = ",".join(shard.events_endpoints)


def remembered_options() -> dict[str, str]:
    from PySide6.QtCore import QSettings

    s = QSettings()
    s.beginGroup(REMEMBER_GROUP)
    values = {name: s.value(name, "", type=str) for name in OPTION_NAMES if name != "lang"}
    s.endGroup()
    return values


def remember_options(options: AgentOptions) -> None:
    from PySide6.QtCore import QSettings

    s = QSettings()
    s.beginGroup(REMEMBER_GROUP)
    for name in OPTION_NAMES:
        if name != "lang":  # the language is remembered by the Language menu
            s.setValue(name, getattr(options, name))
    s.endGroup()


def build_window(options: AgentOptions, language: str | None = None):
    """The link and the window for ``options`` (the link not started yet)."""
    from supervisor.agentwin.window import AGENT_STREAMS, AgentWindow
    from supervisor.common.link import BrokerLink

    from broker.wire.client import pair_endpoints

    try:
        pair_endpoints(options.command_endpoint, options.events_endpoint)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    try:
        link = BrokerLink(options.link_settings(), "agent", options.agent, streams=AGENT_STREAMS,
                          name=f"agent-window:{options.agent}")
    except ImportError as exc:
        raise OptionError(f"CurveZMQ keys given, but key support is not available: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise OptionError(f"cannot load the key files: {exc}") from exc
    return link, AgentWindow(link, language=language)


def _ensure_app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setOrganizationName("grabdesk")
        app.setApplicationName("grabdesk-agent")
        app.setApplicationDisplayName("grabdesk")
    return app


def run(args) -> int:
    app = _ensure_app()
    from supervisor.common import i18n
    from supervisor.common.widgets import close_on_termination, place

    try:
        options = resolve_options(args, load_agent_table(getattr(args, "config", None)), remembered_options())
    except OptionError as exc:
        print(f"grabdesk agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "directory", None):
        try:
            use_shard_of_shop(options, args.directory, args.shop)
        except OptionError as exc:
            print(f"grabdesk agent: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if not options.agent:
        print("grabdesk agent: which agent are you? Pass --agent ID (or set agent in the [agent] "
              "table of --config FILE).", file=sys.stderr)
        return EXIT_USAGE
    language = i18n.install(options.lang or None)
    try:
        link, window = build_window(options, language)
    except OptionError as exc:
        print(f"grabdesk agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    remember_options(options)
    from supervisor.agentwin.window import prefer_latency

    prefer_latency()
    window.identity_refused.connect(lambda reason: print(
        f"grabdesk agent: the broker at {options.command_endpoint} does not accept agent "
        f"{options.agent}: {reason}", file=sys.stderr))
    close_on_termination(window)
    link.start()
    if getattr(args, "place", None):
        place(window, args.place)
    window.show()
    try:
        app.exec()
    finally:
        link.stop()
    return EXIT_REFUSED if window.refusal is not None else 0
