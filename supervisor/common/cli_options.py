"""Command-line options the console and the agent window share.

No Qt here: ``grabdesk --help`` builds every sub-parser without a display.
"""
from __future__ import annotations

import argparse

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT


#: where ``--place`` puts a window on its screen: (start, share) of the available width
PLACES = {"left": (0.0, 0.74), "right": (0.74, 0.26)}


def add_place_argument(parser: argparse.ArgumentParser) -> None:
    """``--place left|right``: the console and an agent window side by side on one screen,
    for a desktop with no window manager to place them (the demo under Xvfb)."""
    parser.add_argument("--place", choices=sorted(PLACES),
                        help="put the window on this side of the screen (left: 74 %% of its width, "
                             "right: 26 %%) instead of where it was last")


def add_link_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the broker listens, and the CurveZMQ key files ``grabdesk keys`` writes (docs/security.md)."""
    parser.add_argument("--command-endpoint", metavar="ENDPOINT[,ENDPOINT...]",
                        help=f"broker command endpoint (default {DEFAULT_COMMAND_ENDPOINT}); for an "
                             "active/standby pair, every broker's, comma-separated: the active one is followed")
    parser.add_argument("--events-endpoint", metavar="ENDPOINT[,ENDPOINT...]",
                        help=f"broker events endpoint (default {DEFAULT_EVENTS_ENDPOINT}); one per command "
                             "endpoint, in the same order")
    parser.add_argument("--server-key", metavar="FILE", help="the broker's public CurveZMQ key file")
    parser.add_argument("--public-key", metavar="FILE", help="your public CurveZMQ key file")
    parser.add_argument("--secret-key", metavar="FILE", help="your secret CurveZMQ key file")
