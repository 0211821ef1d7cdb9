"""``grabdesk broker --check-config``: everything a start would refuse, found without starting.

It reads what the broker would read (config file, key folder, roster,
demand profile, the store's files) and changes nothing: a store that does
not exist yet is checked by creating and removing a temporary file in the
nearest folder that exists. It does not
bind the endpoints, since the broker being checked may be the one running on
them; a port in use is named when the broker starts.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from broker.service.config import ConfigError, FileConfig
from broker.service.storefiles import StoreError, check_identity, describe_open_error


def check(config: FileConfig) -> list[str]:
    """What was checked, one line each; raises ConfigError, StoreError or StartupError on the first problem."""
    from broker.service.app import StartupError, check_binding
    from broker.service.store import JOURNAL_MIGRATIONS, STATE_MIGRATIONS, default_db_path, state_path_for

    b = config.broker
    done = []
    check_binding(config)
    for endpoint in (b.command_endpoint, b.events_endpoint):
        _check_endpoint(endpoint)
    done.append(f"endpoints {b.command_endpoint} and {b.events_endpoint}")
    if b.curve:
        from broker.service.keys import CurveAuthenticator, KeyFileError

        try:
            auth = CurveAuthenticator(Path(b.keys_dir).expanduser())
        except KeyFileError as exc:
            raise StartupError(str(exc)) from None
        done.append(f"Curve keys in {auth.keys_dir}")
    if b.roster:
        from broker.staffing.roster import RosterError, load_roster

        try:
            roster = load_roster(b.roster)
        except (RosterError, OSError) as exc:
            raise ConfigError(f"roster {b.roster}: {exc}") from None
        done.append(f"roster {b.roster} ({len(roster.shifts)} shifts)")
    if b.profile:
        from broker.staffing.forecast import ProfileError, load_profile

        try:
            load_profile(b.profile)
        except (ProfileError, OSError) as exc:
            raise ConfigError(f"demand profile {b.profile}: {exc}") from None
        done.append(f"demand profile {b.profile}")
    if b.store:
        from broker.service.pgstore import check_schema, schema_for

        done.append(check_schema(b.store, b.pg_schema or schema_for(b.shard)))
        return done
    journal = Path(b.db).expanduser() if b.db else default_db_path()
    for path, own_table, migrations, kind in (
            (journal, "journal", JOURNAL_MIGRATIONS, "journal"),
            (state_path_for(journal), "position", STATE_MIGRATIONS, "state file")):
        done.append(_check_store_file(path, own_table, len(migrations), kind))
    return done


def _check_endpoint(endpoint: str) -> None:
    from broker.service.ports import tcp_port_of

    scheme, sep, rest = endpoint.partition("://")
    if not sep or scheme not in ("tcp", "ipc", "inproc"):
        raise ConfigError(f"endpoint {endpoint!r} is not a ZeroMQ endpoint (tcp://HOST:PORT or ipc://PATH)")
    if scheme == "tcp" and tcp_port_of(endpoint) is None:
        raise ConfigError(f"endpoint {endpoint!r} has no valid port (tcp://HOST:PORT)")
    if scheme == "ipc":
        folder = Path(rest).parent
        if not folder.is_dir():
            raise ConfigError(f"endpoint {endpoint!r}: the folder {folder} does not exist")


def _check_store_file(path: Path, own_table: str, newest: int, kind: str) -> str:
    if path.is_dir():
        raise StoreError(f"{path} is a folder; --db names the store's file (e.g. {path / 'broker.db'})")
    if not path.exists():
        ancestor = next(p for p in [path.parent, *path.parent.parents] if p.exists())
        if not ancestor.is_dir():
            raise StoreError(f"cannot use {path}: {ancestor} is a file, not a folder")
        try:  # os.access says yes to root everywhere, even in /proc: try it
            with tempfile.NamedTemporaryFile(dir=ancestor, prefix=".grabdesk-check-"):
                pass
        except OSError as exc:
            raise StoreError(f"cannot create the store's {kind} {path}: {ancestor}: {exc.strerror}") from None
        return f"{kind} {path} (new; will be created)"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            check_identity(db, path, own_table, version, newest, kind)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StoreError(describe_open_error(path, exc)) from None
    if not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"cannot write the store's {kind} {path}: permission denied")
    return f"{kind} {path} (schema version {version})"
