"""Opening the store's SQLite files, with one sentence for every way it can fail.

An operator who points ``--db`` at the wrong place must read what is wrong
and what to do, not a traceback: a folder that cannot be created, a file
that is not SQLite, an SQLite file that belongs to something else, a
grabdesk file of the other kind (journal versus state) or from a newer
grabdesk.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class StoreError(RuntimeError):
    """The store cannot be used; the message is one sentence an operator can act on."""


def prepare_folder(path: Path) -> None:
    """Create the store's folder, or say why it cannot be."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(f"cannot use {path}: {_first_file(folder)} is a file, not a folder") from None
    except OSError as exc:
        raise StoreError(f"cannot create the store's folder {folder}: {exc.strerror}") from None
    if path.is_dir():
        raise StoreError(f"{path} is a folder; --db names the store's file (e.g. {path / 'broker.db'})")


def _first_file(folder: Path) -> Path:
    """The ancestor of ``folder`` that exists as a file (what stopped mkdir)."""
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            return parent
    return folder


def describe_open_error(path: Path, exc: sqlite3.Error) -> str:
    """One sentence for an SQLite error met while opening ``path``."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return (f"{path} is not an SQLite database (or is damaged); point --db at a grabdesk store "
                f"or at a new file")
    if "readonly" in text or not os.access(path.parent, os.W_OK) \
            or (path.exists() and not os.access(path, os.R_OK | os.W_OK)):
        return f"cannot write the store at {path}: permission denied (the broker needs to write it and its folder)"
    if "locked" in text or "busy" in text:
        return f"the store at {path} is locked by another process (is another broker using it?)"
    return f"cannot open the store at {path}: {text}"


def check_identity(db: sqlite3.Connection, path: Path, own_table: str, version: int, newest: int,
                   kind: str) -> None:
    """Refuse a file that is not a grabdesk ``kind`` (journal or state) this grabdesk understands."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(f"{path} is an SQLite database but not a grabdesk store (it holds tables {shown}); "
                         f"point --db at a grabdesk store or at a new file")
    # what the file is comes first: the journal and the state file number their versions apart
    if version and own_table not in tables:
        if kind == "journal":
            raise StoreError(f"{path} is not a grabdesk journal (a state file?): --db names the journal, "
                             f"broker.db, not broker.state.db")
        raise StoreError(f"{path} is not a grabdesk {kind}; restore the store's state file from a backup "
                         f"(docs/operating.md, section 5.3)")
    if version > newest:
        raise StoreError(f"{path} has schema version {version}, newer than this grabdesk ({newest}); "
                         f"upgrade grabdesk rather than use an older one on it")
