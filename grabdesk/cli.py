"""The one `grabdesk` command.

Each subcommand lives in its own module, which exposes
``add_parser(subparsers) -> argparse.ArgumentParser`` and sets
``func=run`` on it; ``run(args) -> int`` is the exit status. Modules are
imported only when their subcommand is chosen (plus once for ``--help``), so
``grabdesk broker`` never loads Qt.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

#: subcommand name -> module that implements it
SUBCOMMANDS: dict[str, str] = {
    "broker": "broker.service.cli",
    "staffing": "broker.staffing.cli_staffing",
    "report": "broker.staffing.cli_report",
    "keys": "broker.service.cli_keys",
    "backup": "broker.service.cli_backup",
    "status": "broker.service.cli_status",
    "console": "supervisor.console.cli",
    "agent": "supervisor.agentwin.cli",
    "simulate": "tools.simulate.cli",
    "demo": "grabdesk.demo",
    "grabs": "grabdesk.grabs",
    "bench": "tools.bench.cli",
    "lab": "tools.lab.cli",
    "robot": "robot.cli",
}


def positive_float(text: str) -> float:
    """argparse type for durations, rates and scales that must be above zero."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least one."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grabdesk",
        description="Grab-order customer-service dispatch: broker, console, agent window, tools.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=f"(run 'grabdesk {name} --help')")
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a missing optional piece must not hide the others
            sub.add_parser(name, help=f"unavailable: {exc}")
            continue
        module.add_parser(sub)
    return parser


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
