"""``grabdesk demo`` smoke tests: it starts, serves, stops by itself, leaves nothing behind.

The demo runs as a real subprocess, offscreen, for a few seconds. While it
runs, the test connects to the broker it reports; after it exits, every pid
in ``DIR/pids.json`` must be gone and the store must hold inquiries.
"""
from __future__ import annotations

import json
import os
import re
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from grabdesk import demo

ROOT = Path(__file__).resolve().parent.parent
#: the demo's own run; long enough for the test to talk to its broker
DEMO_DURATION_S = 6
#: fast enough that even the quietest night hour (8 arrivals/h) brings a few inquiries a second,
#: whatever the time of day the test runs at (the simulation starts at "now")
DEMO_TIME_SCALE = 3000
#: start-up (broker, simulator, Qt) plus teardown must fit in this
DEMO_DEADLINE_S = 90.0
ENDPOINT_LINE = re.compile(r"^\s*commands\s+(tcp://\S+)")
EVENTS_LINE = re.compile(r"^\s*events\s+(tcp://\S+)")


def start_demo(directory: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "grabdesk", "demo", "--dir", str(directory), "--time-scale", str(DEMO_TIME_SCALE),
         "--warmup-s", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


def read_endpoints(proc: subprocess.Popen, deadline: float) -> tuple[str, str, str]:
    """Read the demo's stdout until it has printed both endpoints (or fail at the deadline).

    Reads the pipe's descriptor directly: a buffered ``readline`` could hold
    lines the selector no longer reports.
    """
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    text = ""
    try:
        while True:
            command = next((m.group(1) for line in text.splitlines() if (m := ENDPOINT_LINE.match(line))), None)
            events = next((m.group(1) for line in text.splitlines() if (m := EVENTS_LINE.match(line))), None)
            if command and events:
                return command, events, text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the demo did not report its endpoints in time; stdout so far:\n{text}")
            if selector.select(min(remaining, 0.5)):
                chunk = os.read(fd, 65536)
                if not chunk:
                    pytest.fail(f"the demo closed stdout (exit {proc.wait()}) before reporting its "
                                f"endpoints; stdout:\n{text}\nstderr:\n{proc.stderr.read()}")
                text += chunk.decode("utf-8", "replace")
    finally:
        selector.close()


def assert_gone(pid: int) -> None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    # it may exist but only as a zombie of someone else; /proc says which
    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] if Path(f"/proc/{pid}").exists() else "?"
    pytest.fail(f"process {pid} is still there (state {state})")


def inquiries_in_store(directory: Path) -> int:
    """Inquiries recorded in the demo's SQLite files (the store may split state and journal)."""
    total = 0
    for path in sorted(directory.glob("broker*.db")):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "inquiries" in tables:
                total += db.execute("SELECT count(*) FROM inquiries").fetchone()[0]
    return total


def wait_for_log(path: Path, text: str, deadline: float) -> None:
    while text not in (path.read_text() if path.exists() else ""):
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} never said {text!r}")
        time.sleep(0.05)


def run_demo_and_check(directory: Path, *extra: str, interrupt: bool = False,
                       close_console: bool = False) -> dict:
    """Run the demo; it stops by itself after DEMO_DURATION_S, or once it serves, on SIGINT
    (``interrupt``) or when its console goes (``close_console``)."""
    deadline = time.monotonic() + DEMO_DEADLINE_S
    if not (interrupt or close_console):
        extra = ("--duration-s", str(DEMO_DURATION_S), *extra)
    proc = start_demo(directory, *extra)
    try:
        command, events, early = read_endpoints(proc, deadline)
        client = BrokerClient(command, events, "supervisor", "smoke-test", follow=False).start()
        try:
            welcome = client.call(p.Hello, timeout_s=5.0)
            assert isinstance(welcome, p.Welcome)
        finally:
            client.stop()
        if interrupt or close_console:
            # Once the simulator has said hello it handles signals; before, a
            # SIGTERM would end it abruptly, which is not what this test is about.
            wait_for_log(directory / "simulate.log", "grabdesk simulate: broker", deadline)
        if interrupt:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        if close_console:
            console_pid = json.loads((directory / "pids.json").read_text())["children"]["console"]
            os.kill(console_pid, signal.SIGTERM)  # as a window manager closing it would
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, f"demo exited {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}"
    out = early + out
    assert "grabdesk demo: stopped" in out
    pids = json.loads((directory / "pids.json").read_text())
    assert {"broker", "robot", "simulate"} <= set(pids["children"])
    for pid in pids["children"].values():
        assert_gone(pid)
    assert (directory / "broker.db").exists()
    if not (interrupt or close_console):  # an early stop may come before the first arrival
        assert inquiries_in_store(directory) > 0, "the simulator's inquiries did not reach the store"
        assert "grabdesk robot serve: robot robot-1" in (directory / "robot.log").read_text()
    broker_log = (directory / "broker.log").read_text()
    assert "shutting down: signal SIGTERM" in broker_log, broker_log[-2000:]
    assert "| stopped" in (directory / "simulate.log").read_text()
    return pids


def test_demo_starts_serves_and_stops_cleanly(tmp_path):
    pids = run_demo_and_check(tmp_path / "demo")
    expected = {"broker", "robot", "simulate"}
    if demo.gui_available("supervisor.console.cli"):
        expected.add("console")
    if demo.gui_available("supervisor.agentwin.cli"):
        expected.add("agent")
    assert set(pids["children"]) == expected


def test_demo_without_agent_window(tmp_path):
    pids = run_demo_and_check(tmp_path / "demo", "--no-agent-window")
    assert "agent" not in pids["children"]


def test_ctrl_c_stops_the_demo_cleanly(tmp_path):
    run_demo_and_check(tmp_path / "demo", "--no-agent-window", interrupt=True)


@pytest.mark.skipif(not demo.gui_available("supervisor.console.cli"), reason="no console in this tree")
def test_closing_the_console_stops_the_demo(tmp_path):
    run_demo_and_check(tmp_path / "demo", "--no-agent-window", close_console=True)


def test_a_broker_that_dies_at_start_is_reported_with_its_log(tmp_path):
    child = demo.Child("broker", [sys.executable, "-c", "import sys; print('cannot open store'); sys.exit(3)"],
                       tmp_path / "broker.log", 1.0)
    child.start()
    with pytest.raises(demo.DemoError, match=r"(?s)status 3.*cannot open store"):
        demo.wait_for_broker(f"tcp://127.0.0.1:{demo.free_port()}", child, timeout_s=30)


def test_a_broker_that_never_answers_is_reported_at_the_deadline(tmp_path):
    child = demo.Child("broker", [sys.executable, "-c", "import time; time.sleep(60)"],
                       tmp_path / "broker.log", 1.0)
    child.start()
    try:
        with pytest.raises(demo.DemoError, match="did not answer a Hello"):
            demo.wait_for_broker(f"tcp://127.0.0.1:{demo.free_port()}", child, timeout_s=0.5)
    finally:
        child.stop()
    assert not child.running


def test_demo_without_a_display_says_what_to_do_instead_of_starting():
    from grabdesk.demo import display_problem

    problem = display_problem({})
    assert problem is not None and "xvfb-run" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert display_problem({"DISPLAY": ":0"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
