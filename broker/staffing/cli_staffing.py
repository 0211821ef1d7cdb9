"""``grabdesk staffing``: how many agents an hour of arrivals needs (Erlang C).

Examples::

    grabdesk staffing --arrivals-per-hour 200 --aht-s 180
    grabdesk staffing --arrivals-per-hour 600 --aht-s 420 --concurrency 3 --json

The arithmetic lives in :mod:`broker.staffing.erlang`; this module only parses,
validates through it, and prints. Bad input is reported as one sentence on
stderr with exit status 2 (argparse's own convention for usage errors), never
as a traceback, because supervisors run this by hand.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

from broker.staffing.erlang import average_speed_of_answer_s, required_agents

EXIT_OK = 0
EXIT_USAGE = 2

# broker.staffing.erlang names its Python arguments in error messages; a person at the
# shell typed the options, so speak in those.
_OPTION_FOR_ARGUMENT = {
    "arrivals_per_hour": "--arrivals-per-hour",
    "aht_s": "--aht-s",
    "target_pct": "--target-pct",
    "within_s": "--within-s",
    "concurrency": "--concurrency",
    "max_occupancy_pct": "--max-occupancy-pct",
}


def _as_option_message(message: str) -> str:
    name, _, rest = message.partition(" ")
    option = _OPTION_FOR_ARGUMENT.get(name)
    return f"{option} {rest}" if option else message


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``staffing`` subcommand on the dispatcher's subparsers."""
    parser = subparsers.add_parser(
        "staffing",
        help="agents needed for an hourly arrival rate (Erlang C)",
        description=(
            "Smallest number of agents so that TARGET percent of inquiries are answered "
            "within WITHIN seconds, by Erlang C. With --concurrency N an agent holding "
            "N chats counts as N servers (see docs/rosters.md for the limits of that)."
        ),
    )
    parser.add_argument("--arrivals-per-hour", type=float, required=True, metavar="N",
                        help="expected inquiries per hour")
    parser.add_argument("--aht-s", type=float, required=True, metavar="SECONDS",
                        help="average handle time of one inquiry, in seconds (while multitasking, for chats)")
    parser.add_argument("--target-pct", type=float, default=80.0, metavar="PCT",
                        help="service-level target in percent (default: 80)")
    parser.add_argument("--within-s", type=float, default=20.0, metavar="SECONDS",
                        help="answer-time threshold of the target, in seconds (default: 20)")
    parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="inquiries one agent holds at once (default: 1)")
    parser.add_argument("--max-occupancy-pct", type=float, default=None, metavar="PCT",
                        help="also keep agent occupancy at or below this (optional)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of a table")
    parser.set_defaults(func=run)
    return parser


def _finite_or_none(value: float) -> float | None:
    # JSON has no Infinity; an unbounded ASA cannot happen for a staffed
    # answer, but keep the output valid JSON whatever the numbers are.
    return value if math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    """Compute and print the staffing; return the exit status."""
    try:
        staffing = required_agents(
            args.arrivals_per_hour,
            args.aht_s,
            args.target_pct,
            args.within_s,
            concurrency=args.concurrency,
            max_occupancy_pct=args.max_occupancy_pct,
        )
        asa_s = average_speed_of_answer_s(args.arrivals_per_hour, args.aht_s, staffing.servers)
    except ValueError as exc:
        print(f"grabdesk staffing: error: {_as_option_message(str(exc))}", file=sys.stderr)
        return EXIT_USAGE

    if args.json:
        out = {
            "agents": staffing.agents,
            "servers": staffing.servers,
            "service_level": staffing.service_level,
            "prob_wait": staffing.prob_wait,
            "occupancy": staffing.occupancy,
            "traffic_erlangs": staffing.traffic_erlangs,
            "asa_s": _finite_or_none(asa_s),
            "arrivals_per_hour": args.arrivals_per_hour,
            "aht_s": args.aht_s,
            "target_pct": args.target_pct,
            "within_s": args.within_s,
            "concurrency": args.concurrency,
            "max_occupancy_pct": args.max_occupancy_pct,
        }
        print(json.dumps(out, sort_keys=True))
        return EXIT_OK

    rows = [
        ("arrivals per hour", f"{args.arrivals_per_hour:g}"),
        ("average handle time", f"{args.aht_s:g} s"),
        ("target", f"{args.target_pct:g} % within {args.within_s:g} s"),
        ("concurrency", f"{args.concurrency} per agent"),
    ]
    if args.max_occupancy_pct is not None:
        rows.append(("max occupancy", f"{args.max_occupancy_pct:g} %"))
    rows += [
        ("traffic", f"{staffing.traffic_erlangs:.2f} Erlangs"),
        ("agents required", f"{staffing.agents}"),
        ("service level", f"{staffing.service_level * 100:.1f} % within {args.within_s:g} s"),
        ("probability of waiting", f"{staffing.prob_wait * 100:.1f} %"),
        ("occupancy", f"{staffing.occupancy * 100:.1f} %"),
        ("average speed of answer", f"{asa_s:.1f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return EXIT_OK
