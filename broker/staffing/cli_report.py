"""``grabdesk report``: the floor's figures for a period, as CSV.

Reads the broker's store directly (no running broker needed; safe while one
runs, since SQLite in WAL mode lets readers in beside the writer). The
figures are computed by ``broker.staffing.reports``, the same code the live broker
uses, so a report agrees with what the console showed.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from broker.wire.protocol import SlaPolicy

DEFAULT_DAYS = 1


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("report", help="write floor metrics for a period to CSV",
                            description="Per hour and skill: arrivals, resolved, abandoned, SLA "
                                        "attainment, time to grab, first-response and resolution "
                                        "times (p50/p90); per agent and skill: who is good at what.")
    parser.add_argument("--db", metavar="PATH", help="the broker's store (default: the per-user store)")
    parser.add_argument("--since", metavar="WHEN", help="start, ISO date/time in local time "
                                                        "(default: 24 hours before --until)")
    parser.add_argument("--until", metavar="WHEN", help="end, ISO date/time in local time "
                                                        "(default: the broker's clock at its last commit)")
    parser.add_argument("--out", metavar="DIR", default=".",
                        help="folder for hourly.csv and agents.csv (default: current folder)")
    parser.add_argument("--sla-first-response-s", metavar="SECONDS", type=float,
                        default=SlaPolicy().first_response_s,
                        help="first response counts as on time within this many seconds of arrival "
                             "(default: %(default)g)")
    parser.add_argument("--sla-resolution-s", metavar="SECONDS", type=float, default=SlaPolicy().resolution_s,
                        help="resolution counts as on time within this many seconds of arrival "
                             "(default: %(default)g)")
    parser.set_defaults(func=run)
    return parser


class _BadWhen(ValueError):
    pass


def _when(text: str | None) -> float | None:
    """An ISO date/time as epoch seconds; None when not given."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise _BadWhen(f"{text!r} is not an ISO date or date-time (e.g. 2026-11-11T20:00)") from None


def run(args) -> int:
    from broker.staffing import reports
    from broker.service.store import SqliteStore, StoreError, default_db_path, state_path_for

    try:
        until_given = _when(args.until)
        since_given = _when(args.since)
    except _BadWhen as exc:
        print(f"grabdesk report: {exc}", file=sys.stderr)
        return 2
    db = Path(args.db).expanduser() if args.db else default_db_path()
    if not db.exists() or not state_path_for(db).exists():
        print(f"grabdesk report: no broker store at {db}", file=sys.stderr)
        return 2
    try:
        store = SqliteStore(db, synchronous="NORMAL", checkpoint_thread=False)
    except StoreError as exc:
        print(f"grabdesk report: {exc}", file=sys.stderr)
        return 2
    # "now" is the broker's clock as of its last commit: on a scaled clock it is not the wall's
    until = until_given if until_given is not None else (store.floor_now() or time.time())
    since = since_given if since_given is not None else until - timedelta(days=DEFAULT_DAYS).total_seconds()
    if until <= since:
        store.close()
        print("grabdesk report: --until must be after --since", file=sys.stderr)
        return 2
    try:
        hourly = reports.hourly_summary(store, since, until, args.sla_first_response_s, args.sla_resolution_s)
        agents = reports.agent_skill_stats(store, since, until)
    finally:
        store.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(hourly[0]) if hourly else ["hour_start_utc", "skill", "arrivals"]
    with open(out / "hourly.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(hourly)
    with open(out / "agents.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["agent", "skill", "resolved", "first_response_p50_s", "resolution_p50_s",
                         "satisfaction_avg", "satisfaction_n"])
        for row in agents:
            writer.writerow(["" if v is None else v for v in
                             (row.agent, row.skill, row.resolved, row.first_response_p50_s,
                              row.resolution_p50_s, row.satisfaction_avg, row.satisfaction_n)])
    print(f"wrote {out / 'hourly.csv'} ({len(hourly)} rows) and {out / 'agents.csv'} ({len(agents)} rows)",
          file=sys.stderr)
    return 0
