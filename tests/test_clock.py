"""One clock: a broker on a scaled floor clock, and clients that show its time."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from broker.service.clock import MAX_TIME_SCALE, ScaledClock
from broker.wire import protocol as p
from broker.wire.floorclock import FloorClock

from helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
#: floor seconds per real second in these tests: the 10-minute SLA is one real second
SCALE = 600.0
START = "2026-11-11T19:00:00+08:00"
START_TS = datetime.fromisoformat(START).timestamp()


def test_a_scaled_clock_runs_from_its_start_at_its_pace():
    mono = [100.0]
    clock = ScaledClock(START_TS, 60.0, mono=lambda: mono[0])
    assert clock() == START_TS
    mono[0] += 2.5
    assert clock() == START_TS + 150.0


def test_a_floor_clock_follows_the_last_reading_at_the_brokers_pace():
    mono = [10.0]
    clock = FloorClock(mono=lambda: mono[0], wall=lambda: 5.0)
    assert clock.now() == 5.0 and clock.time_scale == 1.0  # before any reading: our own wall clock
    clock.sync(START_TS, 60.0)
    mono[0] += 1.0
    assert clock.now() == START_TS + 60.0
    assert clock.real_s(120.0) == 2.0
    clock.catch_up(START_TS + 90.0)  # an event stamped later than our estimate
    assert clock.now() == START_TS + 90.0
    clock.catch_up(START_TS)  # an older stamp never moves it back
    assert clock.now() == START_TS + 90.0


def test_the_broker_fires_sla_warning_and_breach_at_scaled_floor_times(start_broker):
    broker = start_broker(time_scale=SCALE, start=START)
    broker.define()
    watcher, mirror = broker.follow("watcher")
    welcome = watcher.welcome
    assert welcome.time_scale == SCALE
    # the floor started at START, not at the wall clock's now
    assert START_TS <= welcome.now < START_TS + 600 * SCALE / 60
    flags: dict[str, float] = {}
    watcher.on_events = lambda events: flags.update(
        {e.reason: e.at for e in events if e.kind == "inquiry.sla"})
    real_start = time.monotonic()
    assert broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales")).accepted == 1
    wait_until(lambda: "first_response.breach" in flags, timeout_s=10,
               message=f"no breach on the scaled clock (flags {flags})")
    real_s = time.monotonic() - real_start
    arrived = broker.core.inquiries["q1"].arrived_at
    sla = p.SlaPolicy()
    # each fired at its floor time (within a loop turn of floor time), long before ten real minutes
    assert 0 <= flags["first_response.warn"] - (arrived + sla.first_response_s * sla.warn_pct / 100) < 0.2 * SCALE
    assert 0 <= flags["first_response.breach"] - (arrived + sla.first_response_s) < 0.2 * SCALE
    assert real_s < sla.first_response_s / 10
    # the client's clock is the broker's, not ours
    assert abs(watcher.floor_now() - broker.server.clock()) < 0.2 * SCALE
    assert abs(watcher.floor_now() - time.time()) > 3600


def test_agent_liveness_stays_in_real_seconds_on_a_fast_floor(start_broker):
    from helpers import agent_spec

    broker = start_broker(time_scale=SCALE, start=START, agent_timeout_s=3.0)
    broker.define(agents=[agent_spec("a1")])
    agent = broker.client("agent", "a1")
    agent.call(p.SetStatus, status="online")
    # its own heartbeats (one a real second) keep it online through many floor time-outs
    wait_until(lambda: broker.server.clock() - START_TS > 2 * 3.0 * SCALE, timeout_s=10)
    assert broker.core.agents["a1"].status == "online"


@pytest.mark.parametrize("scale", ["0", "-2", "nan", "inf", str(MAX_TIME_SCALE * 2)])
def test_an_impossible_time_scale_is_one_sentence_and_exit_2(tmp_path, scale):
    proc = subprocess.run([sys.executable, "-m", "grabdesk", "broker", "--db", str(tmp_path / "b.db"),
                           f"--time-scale={scale}"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "time_scale must be" in proc.stderr, proc.stderr
    assert not (tmp_path / "b.db").exists()


def test_a_start_that_is_not_a_time_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grabdesk", "broker", "--db", str(tmp_path / "b.db"),
                           "--start", "yesterday"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "not an ISO 8601 time" in proc.stderr, proc.stderr
