"""``grabdesk robot serve``: run the robot first line against a broker until stopped.

Examples::

    grabdesk robot serve                                  # the local broker, as robot "robot"
    grabdesk robot serve --who robot-2 --command-endpoint tcp://10.0.0.5:5570 \\
        --events-endpoint tcp://10.0.0.5:5571 --server-key broker.key \\
        --public-key robot-2.key --secret-key robot-2.key_secret

Headless. A broken knowledge base or key file is one sentence on stderr and
exit status 2; SIGINT/SIGTERM stop it cleanly (status 0). Every decision and
problem is logged (``-v`` for one line per decision).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from robot.knowledge import DEFAULT_DIRECTORY, KnowledgeError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
#: how often the serving loop logs its counters, in seconds
SUMMARY_EVERY_S = 60.0


def add_serve_parser(actions: argparse._SubParsersAction) -> argparse.ArgumentParser:
    serve = actions.add_parser(
        "serve", help="answer or escalate the broker's new inquiries (headless)",
        description="Connect to a broker as role robot, decide every inquiry it gives this robot "
                    "and answer or escalate it. docs/robot.md, 'The robot on the floor'.")
    serve.add_argument("--who", default="robot", metavar="ID",
                       help="this robot's identity (default robot); one per running robot")
    serve.add_argument("--command-endpoint", default=DEFAULT_COMMAND_ENDPOINT, metavar="ENDPOINT[,ENDPOINT...]",
                       help=f"the broker's command endpoint (default {DEFAULT_COMMAND_ENDPOINT})")
    serve.add_argument("--events-endpoint", default=DEFAULT_EVENTS_ENDPOINT, metavar="ENDPOINT[,ENDPOINT...]",
                       help=f"the broker's events endpoint (default {DEFAULT_EVENTS_ENDPOINT})")
    serve.add_argument("--server-key", metavar="FILE", help="the broker's public CurveZMQ key file")
    serve.add_argument("--public-key", metavar="FILE", help="this robot's public CurveZMQ key file")
    serve.add_argument("--secret-key", metavar="FILE", help="this robot's secret CurveZMQ key file")
    serve.add_argument("--knowledge", metavar="DIR", default=str(DEFAULT_DIRECTORY),
                       help="knowledge-base directory (default: assets/robot)")
    return serve


def run_serve(args: argparse.Namespace) -> int:
    from broker.wire.keyfiles import load_client_keys
    from robot.decide import Robot
    from robot.service import RobotService

    keys = (args.server_key, args.public_key, args.secret_key)
    curve = None
    if any(keys):
        if not all(keys):
            print("grabdesk robot serve: give all of --server-key, --public-key and --secret-key, or none",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            curve = load_client_keys(*(Path(k) for k in keys))
        except (OSError, ValueError) as exc:
            print(f"grabdesk robot serve: cannot read the key files: {exc}", file=sys.stderr)
            return EXIT_USAGE
    stop = threading.Event()

    def on_signal(_signum, _frame) -> None:
        stop.set()

    # a stop asked for while the model trains ends the robot cleanly once it has
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        robot = Robot.from_directory(args.knowledge)
    except KnowledgeError as exc:
        print(f"grabdesk robot serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if stop.is_set():
        return EXIT_OK
    print(f"grabdesk robot serve: robot {args.who} on {args.command_endpoint}", file=sys.stderr, flush=True)
    service = RobotService(robot, args.command_endpoint, args.events_endpoint, args.who, curve=curve)
    service.start()
    try:
        while not stop.wait(SUMMARY_EVERY_S):
            c = service.snapshot()
            log.warning("robot %s: %d decided, %d answered, %d escalated, %d errors%s", args.who, c.decided,
                        c.answered, c.escalated, c.errors, f" (last: {c.last_error})" if c.last_error else "")
    finally:
        service.stop()
    return EXIT_OK
