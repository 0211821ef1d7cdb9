"""``grabdesk demo``: a live shop floor on this machine in one command.

Starts, each as its own process with its output in a log file in the demo
directory:

1. a broker on the embedded store (``DIR/broker.db``) with the demo floor
   (``--seed-demo``: 3 shops, 4 skill groups, agents a001..a040, the demo
   roster and profile), on two free loopback ports;
2. the robot first line (``grabdesk robot serve``): the demo shops have the
   robot on, so it answers the simple questions the simulated customers write
   and hands the rest to the pool;
3. the traffic simulator, playing every agent except a001;
4. the supervisor console;
5. an agent window for a001, for a human to play an agent.

Everything stops when the console is closed, on Ctrl-C or SIGTERM, or after
``--duration-s``: children are asked to terminate in reverse order of start
(the broker last, so it commits what the others did), waited for, and killed
if they do not go. Each child runs in its own session so that a Ctrl-C in the
terminal reaches the demo alone and the order holds; on Linux a child also
gets SIGTERM if the demo itself dies, so nothing is left behind.

The children's pids are written to ``DIR/pids.json`` (tests check they are
gone afterwards).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from grabdesk.cli import positive_float

#: the broker must answer a Hello within this long after it is started
BROKER_READY_TIMEOUT_S = 30.0
#: how often the demo checks on its children and the clock
POLL_S = 0.2
#: grace between SIGTERM and SIGKILL, per child
GUI_STOP_TIMEOUT_S = 5.0
SIMULATOR_STOP_TIMEOUT_S = 10.0
BROKER_STOP_TIMEOUT_S = 20.0
#: lines of a failed child's log shown in the error message
LOG_TAIL_LINES = 15
#: the demo opens on this evening hour of November 11 (the profile's time zone), arrivals this many
#: times the profile's: the moment a floor manager would want to see
DOUBLE_11_START = "11-11T19:30"
DEMO_SURGE = 3.0
#: real seconds the floor runs before the windows open (at the default pace, 20 floor minutes)
DEMO_WARMUP_S = 20.0
#: the agent a human plays; the simulator leaves it alone
HUMAN_AGENT = "a001"
LOOPBACK = "127.0.0.1"
#: Linux prctl option: signal to receive when the parent dies
_PR_SET_PDEATHSIG = 1
#: a window ended by one of these was closed by someone, not crashed
_CLOSING_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
#: the demo's robot first line
DEMO_ROBOT = "robot-1"


class DemoError(RuntimeError):
    """The demo cannot go on; the message says why and where to look."""


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "demo", help="a live demo floor: broker, simulator, console and an agent window",
        description="Start a broker with the demo floor, the traffic simulator, the supervisor "
                    "console and an agent window (agent a001) for you. Close the console or press "
                    "Ctrl-C to stop everything.")
    parser.add_argument("--dir", type=Path, metavar="PATH",
                        help="keep the store, logs and pids here (default: a temporary directory, "
                             "removed at exit)")
    parser.add_argument("--time-scale", type=_time_scale, default=60.0, metavar="N",
                        help="floor seconds per real second, for the broker and the simulator alike "
                             "(default 60: a day in 24 minutes)")
    parser.add_argument("--start", metavar="ISO", default=double_11_evening(),
                        help="the floor's time at start (without an offset: Asia/Shanghai; default "
                             f"{double_11_evening()}: a Double-11 evening, the floor's busiest hours; "
                             "'now' for the wall clock)")
    parser.add_argument("--surge", type=positive_float, default=DEMO_SURGE, metavar="FACTOR",
                        help=f"multiply the demo profile's arrivals, as on Double 11 (default {DEMO_SURGE:g})")
    parser.add_argument("--warmup-s", type=float, default=DEMO_WARMUP_S, metavar="S",
                        help="let the floor run this long before the windows open, so the console's "
                             f"chart starts with history on it (default {DEMO_WARMUP_S:g}; 0 to open at once)")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--duration-s", type=positive_float, metavar="S",
                        help="stop by itself after this many seconds (default: run until closed)")
    parser.add_argument("--no-agent-window", action="store_true",
                        help=f"do not open the agent window for {HUMAN_AGENT}")
    parser.set_defaults(func=run)
    return parser


def double_11_evening(today: date | None = None) -> str:
    """This year's Double-11 evening, as ``--start`` reads it."""
    return f"{(today or date.today()).year}-{DOUBLE_11_START}"


def _time_scale(text: str) -> float:
    from broker.service.clock import ClockError, check_time_scale

    try:
        return check_time_scale(positive_float(text))
    except ClockError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --------------------------------------------------------------------------
# children
# --------------------------------------------------------------------------

@dataclass
class Child:
    """One process of the demo and where its output goes."""

    name: str
    argv: list[str]
    log_path: Path
    stop_timeout_s: float
    #: extra environment for this child
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(self.env or {}))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """Terminate, wait, kill if needed; returns the exit status (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                return self.proc.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                print(f"grabdesk demo: {self.name} did not stop within {self.stop_timeout_s:g} s; killing it",
                      file=sys.stderr)
                self._signal(signal.SIGKILL)
        return self.proc.wait()

    def _signal(self, signum: int) -> None:
        # The child leads its own process group: signal the group so anything
        # it started goes too.
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in lines[-LOG_TAIL_LINES:])


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the demo dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # best effort; the orderly teardown does not depend on it
        pass


def closed_normally(returncode: int) -> bool:
    """Exit 0, or ended by a signal someone sends to close a program (not a crash)."""
    return returncode == 0 or (returncode < 0 and -returncode in _CLOSING_SIGNALS)


def free_port() -> int:
    """A TCP port free on loopback right now (the broker binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def gui_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def wait_for_broker(command_endpoint: str, broker: Child, timeout_s: float = BROKER_READY_TIMEOUT_S) -> None:
    """Return once the broker answers a Hello; raise DemoError if it dies or stays silent."""
    import zmq

    from broker.wire import protocol as p

    ctx = zmq.Context()  # own context, terminated here: no zmq threads while forking children
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(command_endpoint)
        sock.send(p.encode(p.Hello(v=p.PROTOCOL_VERSION, id="demo-hello", role="supervisor", who="demo",
                                   client="grabdesk-demo")))
        deadline = time.monotonic() + timeout_s
        while True:
            if not broker.running:
                raise DemoError(f"the broker exited with status {broker.proc.returncode} before it "
                                f"answered; its log {broker.log_path} ends with:\n{broker.tail()}")
            if sock.poll(int(POLL_S * 1000)):
                reply = p.decode_reply(sock.recv())
                if isinstance(reply, p.Welcome):
                    return
                raise DemoError(f"the broker refused the demo's Hello: {getattr(reply, 'reason', reply)}")
            if time.monotonic() >= deadline:
                raise DemoError(f"the broker did not answer a Hello on {command_endpoint} within "
                                f"{timeout_s:g} s; its log {broker.log_path} ends with:\n{broker.tail()}")
    finally:
        sock.close(linger=0)
        ctx.term()


# --------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------

class Demo:
    def __init__(self, args, directory: Path):
        self.args = args
        self.dir = directory
        self.db = directory / "broker.db"
        self.pids_path = directory / "pids.json"
        command_port = free_port()
        events_port = free_port()
        while events_port == command_port:
            events_port = free_port()
        self.command_endpoint = f"tcp://{LOOPBACK}:{command_port}"
        self.events_endpoint = f"tcp://{LOOPBACK}:{events_port}"
        self.children: list[Child] = []
        self.stop_reason: str | None = None

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    def _child(self, name: str, *argv: str, stop_timeout_s: float = GUI_STOP_TIMEOUT_S,
               env: dict[str, str] | None = None) -> Child:
        child = Child(name, [sys.executable, "-m", "grabdesk", *argv], self.dir / f"{name}.log",
                      stop_timeout_s, env=env)
        child.start()
        self.children.append(child)
        self._write_pids()
        return child

    def _write_pids(self) -> None:
        pids = {"demo": os.getpid(),
                "children": {c.name: c.proc.pid for c in self.children if c.proc is not None}}
        self.pids_path.write_text(json.dumps(pids, indent=2) + "\n", encoding="utf-8")

    def start(self) -> None:
        endpoints = ("--command-endpoint", self.command_endpoint, "--events-endpoint", self.events_endpoint)
        # One clock: the broker runs the floor's time at the demo's pace and everybody
        # (simulator, console, agent window) follows it, so every figure on screen is true.
        start = self.args.start
        clock = ("--time-scale", f"{self.args.time_scale:g}", *(("--start", start)
                                                                  if start and start != "now" else ()))
        broker = self._child("broker", "broker", "--seed-demo", "--db", str(self.db), *endpoints, *clock,
                             stop_timeout_s=BROKER_STOP_TIMEOUT_S)
        wait_for_broker(self.command_endpoint, broker)
        self._child("robot", "robot", "serve", "--who", DEMO_ROBOT, *endpoints)
        self._child("simulate", "simulate", *endpoints, "--seed", str(self.args.seed), "--exclude", HUMAN_AGENT,
                    "--surge", f"{self.args.surge:g}", stop_timeout_s=SIMULATOR_STOP_TIMEOUT_S)
        self._warm_up(self.args.warmup_s)
        # The windows remember the endpoints they last used (QSettings); the
        # demo's are throw-away ports, so they must not become the user's
        # defaults. On Linux, QSettings lives under XDG_CONFIG_HOME.
        gui_env = {"XDG_CONFIG_HOME": str(self.dir / "settings")}
        if gui_available("supervisor.console.cli"):
            # no window manager may be there to place them: the console left, the agent window beside it
            self._child("console", "console", *endpoints, "--who", "demo-supervisor", "--place", "left",
                        env=gui_env)
        else:
            print("grabdesk demo: the supervisor console is not part of this installation "
                  "(supervisor/console/cli.py is missing); running without it.", file=sys.stderr)
        if self.args.no_agent_window:
            pass
        elif gui_available("supervisor.agentwin.cli"):
            self._child("agent", "agent", "--agent", HUMAN_AGENT, *endpoints, "--place", "right", env=gui_env)
        else:
            print("grabdesk demo: the agent window is not part of this installation "
                  "(supervisor/agentwin/cli.py is missing); running without it.", file=sys.stderr)

    def _warm_up(self, seconds: float) -> None:
        """Let the simulator fill the floor (the broker keeps the queue's history for the console)."""
        if seconds <= 0:
            return
        print(f"grabdesk demo: letting the floor fill for {seconds:g} s before the windows open…", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.stop_reason is None:
            for child in self.children:
                if not child.running:
                    raise DemoError(f"the {child.name} exited with status {child.proc.returncode} while the "
                                    f"floor filled; {child.log_path} ends with:\n{child.tail()}")
            time.sleep(POLL_S)

    def describe(self, temporary: bool) -> str:
        logs = ", ".join(str(c.log_path) for c in self.children)
        gone = " (removed at exit; use --dir to keep it)" if temporary else ""
        lines = [
            "grabdesk demo is running",
            f"  directory  {self.dir}{gone}",
            f"  commands   {self.command_endpoint}",
            f"  events     {self.events_endpoint}",
            f"  store      {self.db}",
            f"  logs       {logs}",
            f"  pids       {self.pids_path}",
            f"  you play   agent {HUMAN_AGENT}" if any(c.name == "agent" for c in self.children) else "",
            "Close the console or press Ctrl-C to stop." if any(c.name == "console" for c in self.children)
            else "Press Ctrl-C to stop.",
        ]
        return "\n".join(line for line in lines if line)

    def watch(self, duration_s: float | None) -> int:
        """Wait for a reason to stop; returns 0, or 1 if a child failed on its own."""
        status = 0
        reported: set[str] = set()
        end = None if duration_s is None else time.monotonic() + duration_s
        while self.stop_reason is None:
            if end is not None and time.monotonic() >= end:
                self.request_stop(f"{duration_s:g} s are over")
                break
            for child in self.children:
                if child.running or child.name in reported:
                    continue
                reported.add(child.name)
                code = child.proc.returncode
                if child.name == "console":
                    if not closed_normally(code):
                        status = 1
                        print(f"grabdesk demo: the console exited with status {code}; "
                              f"{child.log_path} ends with:\n{child.tail()}", file=sys.stderr)
                    self.request_stop("the console was closed")
                elif child.name == "agent":
                    if not closed_normally(code):
                        print(f"grabdesk demo: the agent window exited with status {code}; see "
                              f"{child.log_path}", file=sys.stderr)
                else:
                    status = 1
                    print(f"grabdesk demo: the {child.name} exited with status {code}; "
                          f"{child.log_path} ends with:\n{child.tail()}", file=sys.stderr)
                    if child.name == "broker":
                        self.request_stop("the broker stopped")
            time.sleep(POLL_S)
        return status

    def stop(self) -> int:
        """Stop every child in reverse order; 1 if the broker did not shut down cleanly."""
        status = 0
        for child in reversed(self.children):
            code = child.stop()
            if child.name == "broker" and code != 0:
                status = 1
                print(f"grabdesk demo: the broker ended with status {code}; see {child.log_path}",
                      file=sys.stderr)
        return status


def display_problem(env=os.environ) -> str | None:
    """Why the windows cannot open here, before anything is started; None if they can."""
    if env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("the console and the agent window need a display, and this session has none "
            "(no DISPLAY or WAYLAND_DISPLAY). Run it on a desktop, under a virtual display "
            "(xvfb-run ./run demo; Qt's xcb plugin also needs libxcb-cursor0), or without the windows: "
            "QT_QPA_PLATFORM=offscreen ./run demo")


def run(args) -> int:
    problem = display_problem()
    if problem is not None:
        print(f"grabdesk demo: {problem}", file=sys.stderr)
        return 2
    temporary = args.dir is None
    directory = Path(tempfile.mkdtemp(prefix="grabdesk-demo-")) if temporary else args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    demo = Demo(args, directory)

    def on_signal(signum, _frame) -> None:
        demo.request_stop(f"signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        try:
            demo.start()
        except DemoError as exc:
            print(f"grabdesk demo: {exc}", file=sys.stderr)
            status = 1
        else:
            print(demo.describe(temporary), flush=True)
            status = demo.watch(args.duration_s)
            print(f"grabdesk demo: stopping ({demo.stop_reason})", flush=True)
    finally:
        # Even an unexpected error must not leave children running.
        status = max(status, demo.stop())
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
    print("grabdesk demo: stopped", flush=True)
    return status
