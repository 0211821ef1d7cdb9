"""Every start-up mistake an operator can make: one sentence on stderr, exit 2, no traceback.

Each test runs the real command (``python -m grabdesk ...``) in a subprocess,
as an operator would.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys

import pytest

TIMEOUT_S = 60


def grabdesk(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grabdesk", *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S, cwd=cwd)


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """The one line a refused start prints; fails on a traceback or the wrong status."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("grabdesk ")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def loopback_args(tmp_path, db) -> list[str]:
    return ["broker", "--db", str(db), "--command-endpoint", "tcp://127.0.0.1:0",
            "--events-endpoint", "tcp://127.0.0.1:0"]


def test_db_in_a_folder_that_cannot_be_created(tmp_path):
    refused(grabdesk(*loopback_args(tmp_path, "/proc/x/y.db")), "cannot create the store's folder /proc/x")


def test_db_under_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    refused(grabdesk(*loopback_args(tmp_path, tmp_path / "afile" / "broker.db")), "is a file, not a folder")


def test_db_that_is_a_folder(tmp_path):
    refused(grabdesk(*loopback_args(tmp_path, tmp_path)), "is a folder")


def test_db_that_is_not_sqlite(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 100)
    refused(grabdesk(*loopback_args(tmp_path, db)), "is not an SQLite database")
    assert db.read_text().startswith("these are my notes"), "the file was changed"


def test_db_that_is_another_programs_sqlite(tmp_path):
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE customers (id INTEGER)")
    refused(grabdesk(*loopback_args(tmp_path, db)), "not a grabdesk store", "customers")
    with sqlite3.connect(db) as con:  # nothing of ours was added to it
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"customers"}


def test_db_from_a_newer_grabdesk(tmp_path):
    db = tmp_path / "broker.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY)")
        con.execute("PRAGMA user_version = 99")
    refused(grabdesk(*loopback_args(tmp_path, db)), "schema version 99", "upgrade grabdesk")


def test_db_that_is_the_state_file(tmp_path):
    from broker.service.store import SqliteStore

    SqliteStore(tmp_path / "broker.db", synchronous="NORMAL", checkpoint_thread=False).close()
    refused(grabdesk(*loopback_args(tmp_path, tmp_path / "broker.state.db")), "not a grabdesk journal")


def test_port_in_use_names_the_port_and_its_holder(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        result = grabdesk("broker", "--db", str(tmp_path / "broker.db"),
                          "--command-endpoint", f"tcp://127.0.0.1:{port}",
                          "--events-endpoint", "tcp://127.0.0.1:0")
    finally:
        holder.close()
    line = refused(result, f"port {port} is already in use", "commands")
    if sys.platform == "linux":  # this very test process holds it
        assert f"by pid {os.getpid()} (" in line, line


def test_unreadable_key_file(tmp_path):
    keys = tmp_path / "keys"
    (keys / "broker.key_secret").mkdir(parents=True)  # unreadable as a file, even for root
    refused(grabdesk(*loopback_args(tmp_path, tmp_path / "broker.db"), "--curve", "--keys-dir", str(keys)),
            "cannot read a key pair", "broker.key_secret")


def test_missing_key_pair(tmp_path):
    refused(grabdesk(*loopback_args(tmp_path, tmp_path / "broker.db"), "--curve",
                     "--keys-dir", str(tmp_path / "nokeys")), "no broker key pair", "grabdesk keys init")


def test_bad_config_file(tmp_path):
    conf = tmp_path / "broker.toml"
    conf.write_text("[broker]\nbogus = 1\n")
    refused(grabdesk("broker", "--config", str(conf)), "bogus")


def test_check_config_accepts_a_good_configuration(tmp_path):
    conf = tmp_path / "broker.toml"
    conf.write_text(f'[broker]\ndb = "{tmp_path / "store" / "broker.db"}"\n')
    result = grabdesk("broker", "--config", str(conf), "--check-config")
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert not (tmp_path / "store").exists(), "--check-config created the store"


@pytest.mark.parametrize("mistake", ["db", "endpoint", "roster", "unsafe-bind"])
def test_check_config_refuses_with_the_sentence(tmp_path, mistake):
    args = ["broker", "--check-config", "--db", str(tmp_path / "broker.db")]
    expected = {"db": "is not an SQLite database", "endpoint": "no valid port",
                "roster": "roster", "unsafe-bind": "without CurveZMQ"}[mistake]
    if mistake == "db":
        (tmp_path / "broker.db").write_text("not sqlite" * 100)
    elif mistake == "endpoint":
        args += ["--command-endpoint", "tcp://127.0.0.1:notaport"]
    elif mistake == "roster":
        (tmp_path / "roster.csv").write_text("this,is\nnot,a roster\n")
        args += ["--roster", str(tmp_path / "roster.csv")]
    else:
        args += ["--command-endpoint", "tcp://0.0.0.0:5570"]
    refused(grabdesk(*args), expected)


def test_report_with_a_date_it_cannot_read(tmp_path):
    refused(grabdesk("report", "--db", str(tmp_path / "broker.db"), "--since", "yesterday"),
            "'yesterday' is not an ISO date")


def test_every_report_option_says_what_it_does():
    result = grabdesk("report", "--help")
    assert result.returncode == 0
    for option in ("--sla-first-response-s", "--sla-resolution-s"):
        help_text = " ".join(result.stdout.rsplit(option, 1)[1].split("--", 1)[0].split())
        assert "on time" in help_text, result.stdout


def test_usage_mistakes_exit_2_in_every_subcommand():
    for args in (["broker", "--no-such-option"], ["report", "--no-such-option"], ["keys", "--nope"],
                 ["bench", "nope"], ["no-such-command"]):
        result = grabdesk(*args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr
