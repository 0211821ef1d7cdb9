"""``grabdesk console``: the supervisor console (PySide6 + pyqtgraph).

Where to connect comes from, in this order: the command line, the
``[console]`` table of ``--config FILE``, the values last used (QSettings),
the defaults. File → Connect… edits them while running.
"""
from __future__ import annotations

import argparse
import sys

from supervisor.common.cli_options import add_link_arguments, add_place_argument

ORGANIZATION = "grabdesk"
APPLICATION = "grabdesk-console"


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("console", help="the supervisor console (desktop)",
                            description="Watch the floor live and steer it: queue, coverage, agents' "
                                        "load, quotas, reassignment, alerts, audit.")
    parser.add_argument("--who", metavar="ID", help="supervisor id (default: your login name)")
    add_link_arguments(parser)
    parser.add_argument("--directory", metavar="FILE",
                        help="a sharded platform's directory (TOML): follow every shard in it as one floor, "
                             "with each shard's health in the status bar (instead of the endpoints)")
    parser.add_argument("--config", metavar="FILE", help="TOML file with a [console] table of the same keys")
    add_place_argument(parser)
    parser.add_argument("--lang", choices=["en", "zh_CN"],
                        help="interface language (default: the Language menu's choice, else the system's)")
    # for scripts/screenshot_console.sh: grab the window to FILE after S seconds, then quit
    parser.add_argument("--screenshot", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot-after", metavar="S", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--chart-minutes", metavar="N", type=int, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)
    return parser


def command_line_values(args) -> dict[str, str]:
    from supervisor.console.settings import KEYS
    return {k: getattr(args, k) for k in KEYS if getattr(args, k, None)}


def run(args) -> int:
    from PySide6.QtWidgets import QApplication

    from supervisor.common import i18n
    from supervisor.console.settings import ConsoleConfigError, merge, read_config, remember, saved
    from supervisor.common.link import BrokerLink
    from supervisor.common.widgets import close_on_termination, place

    try:
        from_file = read_config(args.config) if args.config else {}
    except ConsoleConfigError as exc:
        print(f"grabdesk console: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    settings = merge(command_line_values(args), from_file, saved())
    i18n.install(settings.lang or None)

    from supervisor.console.window import MainWindow

    directory = None
    if getattr(args, "directory", None):
        from broker.wire.directory import DirectoryError, load_directory

        try:
            directory = load_directory(args.directory)
        except DirectoryError as exc:
            print(f"grabdesk console: {exc}", file=sys.stderr)
            return 2
    made: dict = {}

    def make_link(s):
        if directory is None:
            return BrokerLink(s.link_settings(), "supervisor", s.who, name="console")
        from supervisor.console.sharded_link import ShardedLink

        link = ShardedLink(directory, s.link_settings(), "supervisor", s.who, name="console")
        if "window" in made:
            link.health_changed.connect(made["window"].active_broker.set_shards)
        return link

    try:
        link = make_link(settings)
    except Exception as exc:  # unreadable key files and the like: say so, do not trace back
        print(f"grabdesk console: cannot connect: {exc}", file=sys.stderr)
        return 2
    remember(settings)
    window = MainWindow(link, settings, link_factory=make_link)
    made["window"] = window
    if directory is not None:
        link.health_changed.connect(window.active_broker.set_shards)
    close_on_termination(window)
    link.start()
    if getattr(args, "place", None):
        place(window, args.place)
    window.show()
    if getattr(args, "chart_minutes", None):
        window.chart.set_window(args.chart_minutes * 60)
    if getattr(args, "screenshot", None):
        _screenshot_later(app, window, args.screenshot, args.screenshot_after)
    try:
        return app.exec()
    finally:
        window.link.stop()


def _screenshot_later(app, window, path: str, after_s: float) -> None:
    from PySide6.QtCore import QTimer

    def shoot() -> None:
        window.refresh()
        ok = window.grab().save(path, "PNG")
        print(f"grabdesk console: screenshot {'saved to' if ok else 'FAILED for'} {path}", file=sys.stderr)
        window.close()
        app.quit()
    QTimer.singleShot(int(after_s * 1000), shoot)
