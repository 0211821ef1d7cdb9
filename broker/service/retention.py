"""Bounded disk: the journal is pruned once materialized, history kept for a retention period.

Three things grow without this:

* **The journal.** Every committed batch is a row, needed only until the
  materializer has folded it into the state file *and that file is on disk*.
  The maintenance side (``Upkeep.after_pass``) checkpoints the state file;
  when the checkpoint is complete (every frame in the database file, which
  SQLite syncs), the position it covers is published in ``durable``, a shared
  integer. The broker's own commit then deletes a few journal rows below it
  in the same transaction as its insert (``prune_rows``): no second writer
  ever takes the journal's lock, so the loop never waits for one (a
  maintenance process at idle priority holding that lock could stall verdicts
  for as long as the scheduler leaves it off the CPU), and no extra fsync is
  paid. SQLite reuses the freed pages, so the file stops growing at the
  largest backlog the materializer ever had.
* **The WALs.** The journal's WAL is capped at its pre-sized length by
  ``journal_size_limit``; the state file's WAL is truncated whenever the
  materializer finds nothing to do.
* **History** in the state file (grab attempts, the audit trail, closed
  inquiries) is deleted once older than ``retention_days`` on the broker's
  clock, in small batches, after being appended to CSV files if
  ``retention_export_dir`` is set.

The newest journal row is never deleted: SQLite gives a new row the highest
id plus one, and an id below the materialized position would be skipped.
"""
from __future__ import annotations

import csv
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

#: journal rows deleted per commit at most; one commit inserts one, so two per commit catch up
PRUNE_ROWS_PER_COMMIT = 4
#: history rows deleted per state transaction (keeps a query's wait short)
RETENTION_BATCH_ROWS = 2_000
#: history is pruned at most this often
RETENTION_EVERY_S = 60.0
DAY_S = 86_400.0

#: table -> (time column, extra condition, exported columns)
HISTORY = {
    "grabs": ("at", "", ("inquiry", "grab_id", "agent", "at", "latency_s", "outcome", "code", "reason",
                         "winner", "won_at")),
    "audit": ("at", "", ("seq", "at", "actor", "role", "kind", "subject", "reason", "ok")),
    "inquiries": ("closed_at", " AND closed_at IS NOT NULL",
                  ("id", "state", "shop", "skill", "language", "channel", "owner", "arrived_at", "taken_at",
                   "first_response_at", "closed_at", "satisfaction")),
}


@dataclass(frozen=True)
class RetentionPolicy:
    #: grab attempts, audit entries and closed inquiries older than this are deleted (0: keep forever)
    days: float = 90.0
    #: folder the deleted rows are appended to as CSV first; empty: not exported
    export_dir: str = ""


def retention_of(broker_section) -> RetentionPolicy:
    """The policy a ``[broker]`` config section asks for."""
    return RetentionPolicy(days=broker_section.retention_days, export_dir=broker_section.retention_export_dir)


def prune_rows(db: sqlite3.Connection, durable_below: int, pruned_to: int) -> int:
    """Inside the caller's transaction: delete a few journal rows below ``durable_below``.

    Returns the new ``pruned_to`` (every row id below it is gone). Rows with an id
    of ``durable_below`` or more are kept, and so is the newest row (see the
    module docstring).
    """
    if durable_below <= pruned_to:
        return pruned_to
    upto = min(durable_below, pruned_to + PRUNE_ROWS_PER_COMMIT)
    db.execute("DELETE FROM journal WHERE id >= ? AND id < ?", (pruned_to, upto))
    return upto


def oldest_row(db: sqlite3.Connection) -> int:
    """Where pruning starts after a restart: the oldest journal row left."""
    return db.execute("SELECT MIN(id) FROM journal").fetchone()[0] or 0


def journal_clock(db: sqlite3.Connection, up_to: int | None = None) -> float | None:
    """The broker's clock as its newest journal row (up to id ``up_to``) recorded it;
    None for an empty journal. Stores hold floor time, which on a scaled clock is
    not the wall's: "now" for anything that reads a store is this."""
    row = db.execute("SELECT at FROM journal WHERE id <= ? ORDER BY id DESC LIMIT 1",
                     (up_to if up_to is not None else 2**63 - 1,)).fetchone()
    return row[0] if row else None


class Upkeep:
    """The maintenance side: after each materializer pass, publish the durable
    position, keep the state file's WAL short and apply the retention."""

    def __init__(self, journal: sqlite3.Connection, state: sqlite3.Connection, durable,
                 policy: RetentionPolicy | None = None):
        self.journal = journal
        self.state = state
        #: shared integer (multiprocessing RawValue): journal ids below it may be deleted
        self.durable = durable
        self.policy = policy or RetentionPolicy()
        self._last_position = -1
        self._next_retention = 0.0

    def after_pass(self) -> None:
        position = self.state.execute("SELECT journal_id FROM position").fetchone()[0]
        idle = position == self._last_position
        self._last_position = position
        # TRUNCATE when idle gives the WAL's disk back; PASSIVE otherwise never waits on readers
        mode = "TRUNCATE" if idle else "PASSIVE"
        busy, frames, done = self.state.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        if busy == 0 and frames == done:
            # every frame is in the database file, which the checkpoint synced: the rows up
            # to ``position`` are on disk twice and the journal's copy may go
            self.durable.value = max(self.durable.value, position)
        now_mono = time.monotonic()
        if self.policy.days > 0 and now_mono >= self._next_retention:
            self._next_retention = now_mono + RETENTION_EVERY_S
            self.apply_retention()

    def broker_now(self) -> float | None:
        """The broker's clock as of the newest materialized batch (retention is on broker time)."""
        row = self.state.execute("SELECT journal_id FROM position").fetchone()
        return journal_clock(self.journal, row[0])

    def apply_retention(self, now: float | None = None) -> dict[str, int]:
        """Delete (after exporting) history older than the retention; returns rows deleted per table."""
        now = now if now is not None else self.broker_now()
        deleted = {}
        if now is None:
            return deleted
        cutoff = now - self.policy.days * DAY_S
        for table, (column, condition, columns) in HISTORY.items():
            total = 0
            while True:
                n = self._prune_history(table, column, condition, columns, cutoff)
                total += n
                if n < RETENTION_BATCH_ROWS:
                    break
            if total:
                deleted[table] = total
                log.info("retention: deleted %d %s rows older than %g days", total, table, self.policy.days,
                         extra={"event": "retention.deleted", "table": table, "rows": total})
        return deleted

    def _prune_history(self, table: str, column: str, condition: str, columns: tuple, cutoff: float) -> int:
        state = self.state
        state.execute("BEGIN IMMEDIATE")
        try:
            rows = state.execute(
                f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE {column} < ?{condition} LIMIT ?",
                (cutoff, RETENTION_BATCH_ROWS)).fetchall()
            if rows:
                if self.policy.export_dir:
                    export(Path(self.policy.export_dir), table, columns, [r[1:] for r in rows])
                state.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r[0],) for r in rows])
            state.execute("COMMIT")
        except BaseException:
            state.execute("ROLLBACK")
            raise
        return len(rows)


def export(folder: Path, table: str, columns: tuple, rows: list[tuple]) -> Path:
    """Append ``rows`` to FOLDER/TABLE-YYYY-MM-DD.csv (UTC date of the export), synced to disk."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}-{datetime.now(timezone.utc):%Y-%m-%d}.csv"
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(columns)
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())  # exported before deleted, or not deleted at all
    return path
