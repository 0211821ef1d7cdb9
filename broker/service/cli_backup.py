"""``grabdesk backup``: a consistent copy of a store, live or not (broker/service/backup.py)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("backup", help="copy a broker's store while it runs",
                            description="Take a consistent copy of a broker's store (the journal OUT and "
                                        "its state file beside it) without stopping the broker. Start a "
                                        "broker from the copy with 'grabdesk broker --db OUT'.")
    parser.add_argument("--db", metavar="PATH", help="the store to copy (default: the per-user store)")
    parser.add_argument("out", metavar="OUT", help="the copy's journal file, e.g. backup/broker-1111.db; its "
                                                   "state file is written beside it (backup/broker-1111.state.db)")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from broker.service.backup import backup
    from broker.service.store import default_db_path
    from broker.service.storefiles import StoreError

    db = Path(args.db).expanduser() if args.db else default_db_path()
    started = time.monotonic()
    try:
        result = backup(db, Path(args.out).expanduser())
    except StoreError as exc:
        print(f"grabdesk backup: {exc}", file=sys.stderr)
        return 2
    print(f"backed up {db} to {result.journal} and {result.state}: seq {result.seq}, "
          f"{result.bytes / 1e6:.1f} MB in {time.monotonic() - started:.1f} s")
    return 0
