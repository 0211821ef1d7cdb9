"""A consistent copy of a live store, taken with SQLite's online backup API.

The store is two files, and a copy is only good if the two agree: the state
file's position must fall inside the journal copy's rows (a state ahead of
its journal would make the restored broker skip new rows; a journal pruned
past the state's position would lose the rows in between). So both are read
through one connection inside one read transaction: the state's snapshot is
taken first, the journal's a moment later, the copy is checked for that
agreement and retaken in the rare case that a commit slipped between the
two. Each file is copied in one step of the backup API, from its snapshot,
while the broker goes on committing (WAL readers never block the writer;
the journal's WAL can only grow past its usual size for as long as the copy
takes).
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from broker.service.store import state_path_for
from broker.service.storefiles import StoreError

#: times the copy is retaken if a commit fell between the two snapshots
ATTEMPTS = 5


@dataclass
class BackupResult:
    journal: Path
    state: Path
    position: int
    seq: int
    bytes: int


def backup(db: Path, out: Path) -> BackupResult:
    """Copy the store at ``db`` to ``out`` (journal) and its state file beside it."""
    db, out = Path(db), Path(out)
    state = state_path_for(db)
    out_state = state_path_for(out)
    for path in (db, state):
        if not path.is_file():
            raise StoreError(f"no grabdesk store at {db} ({path} is missing)")
    if out.resolve() in (db.resolve(), state.resolve()):
        raise StoreError("the backup must not overwrite the store it copies")
    for path in (out, out_state):
        if path.exists():
            raise StoreError(f"{path} already exists; choose a new name or remove it first")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {out.parent}: {exc.strerror}") from None
    tmp_journal, tmp_state = out.with_name(out.name + ".partial"), out_state.with_name(out_state.name + ".partial")
    try:
        source = sqlite3.connect(db, isolation_level=None)
        source.execute("PRAGMA busy_timeout=5000")
        source.execute("ATTACH DATABASE ? AS state", (str(state),))
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store at {db}: {exc}") from None
    try:
        for _attempt in range(ATTEMPTS):
            source.execute("BEGIN")
            try:
                # the state's snapshot first, then the journal's (see the module docstring)
                position, seq = source.execute("SELECT journal_id, seq FROM state.position").fetchone()
                low, high, last_seq = source.execute(
                    "SELECT MIN(id), MAX(id), MAX(last_seq) FROM main.journal").fetchone()
                if high is not None and not (low <= position + 1 and high >= position):
                    continue  # a commit and a prune fell between the two snapshots: take them again
                for name, target in (("state", tmp_state), ("main", tmp_journal)):
                    _copy(source, name, target)
            finally:
                source.execute("ROLLBACK")
            os.replace(tmp_state, out_state)
            os.replace(tmp_journal, out)
            _sync_dir(out.parent)
            size = out.stat().st_size + out_state.stat().st_size
            return BackupResult(out, out_state, position, max(seq, last_seq or 0), size)
        raise StoreError(f"the store at {db} changed under every one of {ATTEMPTS} attempts; try again")
    except sqlite3.Error as exc:
        raise StoreError(f"backup of {db} failed: {exc}") from None
    finally:
        source.close()
        for tmp in (tmp_journal, tmp_state):
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _copy(source: sqlite3.Connection, name: str, target: Path) -> None:
    """One database of ``source`` (inside its open read transaction) into a self-contained file."""
    target.unlink(missing_ok=True)
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        source.backup(dest, name=name)  # one step: every page from the transaction's snapshot
        # a single file: the copy must not depend on a -wal beside it
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()
    with open(target, "rb+") as f:
        os.fsync(f.fileno())


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
