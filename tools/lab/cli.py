"""``grabdesk lab``: compare dispatch policies on the same traffic, in virtual time.

Examples::

    grabdesk lab                                  # the Double-11 day: grab, push, hybrid
    grabdesk lab --policy grab --policy "h20:mode=hybrid,hybrid_after_s=20" --json
    grabdesk lab --policies my.toml --report out/
    grabdesk lab --from-store ~/.local/share/grabdesk/broker.db --since 2026-11-11T19:00

Policies run in parallel processes (``--jobs``). Bad input (a malformed
policy file, an unknown key, a store that is not a grabdesk store or has no
arrivals in the period) is one sentence on stderr and exit status 2, with
nothing written. Ctrl-C stops every run and says how far each got (exit 130).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from grabdesk.cli import positive_float, positive_int

#: a progress line on stderr at most this often (real seconds)
PROGRESS_EVERY_S = 2.0
#: the longest generated trace (a month of floor time)
MAX_HOURS = 744.0
#: replayed periods without an offset are read in this zone (the broker's day zone by default)
DEFAULT_TZ = "Asia/Shanghai"


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "lab", help="compare dispatch policies on the same traffic (virtual time)",
        description="Run the broker's own arbiter in virtual time over one trace (the seeded Double-11 "
                    "day by default, a profile and roster, or the arrivals recorded in a store) under "
                    "several policies, with the simulator's people, and compare what customers got. "
                    "See docs/lab.md.")
    parser.add_argument("--policy", action="append", default=[], metavar="SPEC",
                        help="a built-in policy (grab, push, hybrid, grab-fair, grab-nofair, hybrid-flat) "
                             "or NAME:key=value,... (repeatable; default: grab, push, hybrid)")
    parser.add_argument("--policies", type=Path, metavar="FILE",
                        help="TOML file with one [name] table of settings per policy")
    parser.add_argument("--seed", type=int, default=1, help="seed of arrivals and people (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--report", type=Path, metavar="DIR",
                        help="also write summary.csv, hourly.csv, lab.json and PNG charts here")
    parser.add_argument("--jobs", type=positive_int, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="policies run at once, each in its own process (default: 2)")
    trace = parser.add_argument_group("trace (default: the built-in Double-11 day)")
    trace.add_argument("--from-store", type=Path, metavar="DB",
                       help="replay the arrivals recorded in this broker store (its broker.db; read only)")
    trace.add_argument("--since", metavar="ISO", help="with --from-store: first arrival time replayed")
    trace.add_argument("--until", metavar="ISO", help="with --from-store: replay arrivals before this time")
    trace.add_argument("--profile", type=Path, metavar="FILE", help="demand profile (with --roster)")
    trace.add_argument("--roster", type=Path, metavar="FILE",
                       help="roster (with --profile; with --from-store it replaces the saved one)")
    trace.add_argument("--floor", type=Path, metavar="FILE",
                       help="with --profile: shops, groups and agents (default: the demo floor)")
    trace.add_argument("--surge", type=positive_float, default=1.0, metavar="F",
                       help="with --profile: multiply every arrival rate (default 1)")
    trace.add_argument("--start", metavar="ISO", help="with --profile: the trace's start (default: Double 11)")
    trace.add_argument("--hours", type=positive_float, default=24.0, metavar="H",
                       help="with --profile: the trace's length (default 24)")
    parser.set_defaults(func=run)
    return parser


class LabInputError(ValueError):
    """Bad input: one sentence, exit 2."""


def _when(text: str | None, what: str) -> float | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise LabInputError(f"{what} {text!r} is not an ISO 8601 time such as 2026-11-11T19:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(DEFAULT_TZ))
    return when.timestamp()


def build_policies(args) -> list:
    from tools.lab.policy import BUILT_IN, DEFAULT_POLICIES, load_policy_file, parse_policy_option

    policies = [parse_policy_option(spec) for spec in args.policy]
    if args.policies is not None:
        policies += load_policy_file(args.policies)
    if not policies:
        policies = [BUILT_IN[name] for name in DEFAULT_POLICIES]
    names = [p.name for p in policies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise LabInputError(f"policy names must differ; {', '.join(twice)} is given twice")
    return policies


def build_trace(args):
    from tools.lab import trace as traces

    if args.from_store is not None:
        if args.profile is not None:
            raise LabInputError("--from-store and --profile are two different traces; give one")
        return traces.from_store(args.from_store, since=_when(args.since, "--since"),
                                 until=_when(args.until, "--until"), seed=args.seed, roster_path=args.roster)
    if args.since or args.until:
        raise LabInputError("--since and --until choose a period of a recorded store (--from-store)")
    if not args.hours <= MAX_HOURS:
        raise LabInputError(f"--hours must be at most {MAX_HOURS:g} (a month), not {args.hours:g}")
    if args.profile is not None or args.roster is not None:
        if args.profile is None or args.roster is None:
            raise LabInputError("--profile and --roster go together (or give neither for the Double-11 day)")
        start = None
        if args.start:
            start = datetime.fromtimestamp(_when(args.start, "--start"), ZoneInfo(DEFAULT_TZ))
        kwargs = {} if args.floor is None else {"floor_path": args.floor}
        trace = traces.from_profile(args.profile, args.roster, seed=args.seed, surge=args.surge, start=start,
                                    hours=args.hours, **kwargs)
    else:
        trace = traces.double11(args.seed)
    if not trace.arrivals:
        raise LabInputError(f"{trace.name} has no arrivals to run")
    return trace


# ---------------------------------------------------------------------- runs in worker processes

#: the trace every worker runs: set before the pool forks, so it is never pickled
_TRACE = None
_PROGRESS: "multiprocessing.Queue | None" = None


def _init_worker(progress) -> None:
    global _PROGRESS
    _PROGRESS = progress
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop


def _run_one(policy, seed: int):
    from tools.lab.engine import LabRun
    from tools.lab.figures import figures

    def progress(fraction: float) -> None:
        if _PROGRESS is not None:
            _PROGRESS.put((policy.name, fraction))

    outcome = LabRun(_TRACE, policy, seed, progress=progress).run()
    if _PROGRESS is not None:
        _PROGRESS.put((policy.name, 1.0))
    return policy.name, figures(outcome)


def run_policies(trace, policies, seed: int, jobs: int, on_progress=None) -> dict[str, dict]:
    """Each policy's figures, computed in up to ``jobs`` processes (in policy order)."""
    global _TRACE
    _TRACE = trace
    ctx = multiprocessing.get_context("fork")
    progress = ctx.Queue()
    done: dict[str, dict] = {}
    with ctx.Pool(min(jobs, len(policies)), initializer=_init_worker, initargs=(progress,)) as pool:
        pending = [pool.apply_async(_run_one, (policy, seed)) for policy in policies]
        try:
            while pending:
                for job in [j for j in pending if j.ready()]:
                    name, figures = job.get()
                    done[name] = figures
                    pending.remove(job)
                try:
                    while True:
                        name, fraction = progress.get(timeout=0.1)
                        if on_progress is not None:
                            on_progress(name, fraction)
                except queue.Empty:
                    pass
        except BaseException:
            pool.terminate()
            raise
    return {p.name: done[p.name] for p in policies}


def run(args) -> int:
    from tools.lab.policy import PolicyError
    from tools.lab.report import result_object, table, write_report
    from tools.lab.trace import TraceError

    started = time.perf_counter()
    try:
        policies = build_policies(args)
        trace = build_trace(args)
        if args.report is not None and args.report.exists() and not args.report.is_dir():
            raise LabInputError(f"--report {args.report} exists and is not a directory")
    except (LabInputError, PolicyError, TraceError) as exc:
        print(f"grabdesk lab: {exc}", file=sys.stderr)
        return 2
    reached = {p.name: 0.0 for p in policies}
    last_line = [time.perf_counter()]

    def on_progress(name: str, fraction: float) -> None:
        reached[name] = fraction
        now = time.perf_counter()
        if now - last_line[0] >= PROGRESS_EVERY_S:
            last_line[0] = now
            print(f"grabdesk lab: {_how_far(reached, trace)} ({now - started:.0f} s)", file=sys.stderr, flush=True)

    print(f"grabdesk lab: {trace.name}, {len(trace.arrivals)} arrivals, {len(trace.agents)} agents, "
          f"{len(policies)} policies", file=sys.stderr, flush=True)
    try:
        results = run_policies(trace, policies, args.seed, args.jobs, on_progress)
    except KeyboardInterrupt:
        print(f"grabdesk lab: interrupted; {_how_far(reached, trace)}; nothing written", file=sys.stderr)
        return 130
    result = result_object(trace.name, args.seed, len(trace.arrivals), time.perf_counter() - started, results)
    if args.json:
        print(json.dumps(result))
    else:
        print(table(result, {p.name: p.describe() for p in policies}))
    if args.report is not None:
        written = write_report(args.report, result)
        print(f"grabdesk lab: wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


def _how_far(reached: dict[str, float], trace) -> str:
    """Each policy's progress as the floor time it has reached."""
    from datetime import datetime as dt

    from tools.lab.engine import DRAIN_S

    span = trace.end + DRAIN_S - trace.start
    zone = ZoneInfo(trace.tz)
    parts = []
    for name, fraction in reached.items():
        at = dt.fromtimestamp(trace.start + fraction * span, zone)
        parts.append(f"{name} {'done' if fraction >= 1.0 else 'at ' + at.strftime('%H:%M')}")
    return ", ".join(parts)
