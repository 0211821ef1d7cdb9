"""``grabdesk simulate``: customers and agents for a live broker, seeded and scaled.

Runs until Ctrl-C / SIGTERM or ``--duration-s``; prints a one-line summary
to stderr every few seconds. The model is described in docs/simulator.md.
"""
from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from grabdesk.cli import positive_float

#: seconds between progress lines on stderr
PROGRESS_EVERY_S = 5.0


def add_parser(sub) -> argparse.ArgumentParser:
    from tools.simulate.runner import DEFAULT_PROFILE, DEFAULT_ROSTER, DEFAULT_TIME_SCALE

    parser = sub.add_parser(
        "simulate", help="simulated customers and agents for a running broker",
        description="Drive a running broker with simulated traffic: customers arrive along the "
                    "profile's daily curve and give up when they wait too long; simulated agents "
                    "follow the roster, grab with their own habits and work inquiries. Seeded, so "
                    "a run repeats. It follows the broker's clock, so the broker's timers (SLA, "
                    "hybrid, reclaim) agree with the traffic; see docs/simulator.md.")
    parser.add_argument("--command-endpoint", default=DEFAULT_COMMAND_ENDPOINT, metavar="ENDPOINT[,ENDPOINT...]",
                        help=f"the broker's command endpoint (default {DEFAULT_COMMAND_ENDPOINT}); for an "
                             "active/standby pair, every broker's, comma-separated")
    parser.add_argument("--events-endpoint", default=DEFAULT_EVENTS_ENDPOINT, metavar="ENDPOINT[,ENDPOINT...]",
                        help=f"the broker's events endpoint (default {DEFAULT_EVENTS_ENDPOINT}); one per "
                             "command endpoint, in the same order")
    parser.add_argument("--directory", metavar="FILE",
                        help="a sharded platform's directory (TOML): drive the shard --shard names")
    parser.add_argument("--shard", metavar="NAME", help="with --directory: the shard to drive")
    parser.add_argument("--seed", type=int, default=1, help="random seed; same seed, same plan (default 1)")
    parser.add_argument("--time-scale", type=positive_float, default=None, metavar="N",
                        help="run the simulator's own clock at N simulated seconds per real second, for "
                             "a broker on the wall clock (default: follow the broker's clock; start the "
                             f"broker with --time-scale, e.g. {DEFAULT_TIME_SCALE:g}, to speed the floor up)")
    parser.add_argument("--surge", type=_non_negative, default=1.0, metavar="FACTOR",
                        help="multiply all arrivals, e.g. 5 for Double 11 or 618 (default 1)")
    parser.add_argument("--duration-s", type=positive_float, default=None, metavar="S",
                        help="stop after this many real seconds (default: until Ctrl-C)")
    parser.add_argument("--exclude", action="append", default=[], metavar="AGENT",
                        help="leave this agent to a human (repeatable, or comma-separated)")
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE, metavar="FILE",
                        help="demand profile TOML (default: the demo profile)")
    parser.add_argument("--roster", type=Path, default=DEFAULT_ROSTER, metavar="FILE",
                        help="roster CSV or TOML (default: the demo roster)")
    parser.add_argument("--start", metavar="WHEN",
                        help="the simulator's own clock's start, ISO 8601 (e.g. 2025-11-11T20:00); "
                             "without an offset it is read in the profile's time zone (default: follow the "
                             "broker's clock)")
    parser.set_defaults(func=run)
    return parser


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parse_start(text: str, tz: str) -> datetime:
    """An ISO instant; a naive one is local time in ``tz`` (the profile's zone)."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when


def run(args) -> int:
    from broker.staffing.forecast import ProfileError, load_profile
    from broker.staffing.roster import RosterError
    from tools.simulate.runner import SimOptions, Simulation, SimulationError

    excluded = frozenset(a.strip() for item in args.exclude for a in item.split(",") if a.strip())

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        start = None
        if args.start:
            try:
                start = parse_start(args.start, load_profile(args.profile).tz)
            except ValueError as exc:
                print(f"grabdesk simulate: --start: {exc}", file=sys.stderr)
                return 2
        from broker.wire.client import pair_endpoints
        from broker.wire.directory import DirectoryError, load_directory

        try:
            if args.directory:
                if not args.shard:
                    raise ValueError("--directory needs --shard NAME: the shard to drive")
                shard = load_directory(args.directory).shard(args.shard)
                args.command_endpoint = ",".join(shard.command_endpoints)
                args.events_endpoint = ",".join(shard.events_endpoints)
            pair_endpoints(args.command_endpoint, args.events_endpoint)
        except (ValueError, DirectoryError) as exc:
            print(f"grabdesk simulate: {exc}", file=sys.stderr)
            return 2
        options = SimOptions(
            command_endpoint=args.command_endpoint, events_endpoint=args.events_endpoint,
            seed=args.seed, time_scale=args.time_scale, surge=args.surge, duration_s=args.duration_s,
            exclude=excluded, profile=args.profile, roster=args.roster, start=start,
            progress=progress, progress_every_s=PROGRESS_EVERY_S)
        sim = Simulation(options)
    except (ProfileError, RosterError, SimulationError) as exc:
        print(f"grabdesk simulate: {exc}", file=sys.stderr)
        return 2

    def on_signal(_signum, _frame) -> None:
        sim.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    pace = f"x{args.time_scale:g}" if args.time_scale else "on the broker's clock"
    print(f"grabdesk simulate: broker {args.command_endpoint}, seed {args.seed}, {pace}, "
          f"surge {args.surge:g}" + (f", excluding {', '.join(sorted(excluded))}" if excluded else ""),
          file=sys.stderr, flush=True)
    try:
        sim.run()
    except SimulationError as exc:
        print(f"grabdesk simulate: {exc}", file=sys.stderr)
        return 1
    print(sim.summary() + " | stopped", file=sys.stderr, flush=True)
    return 0
