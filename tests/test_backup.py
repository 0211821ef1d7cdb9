"""``grabdesk backup`` of a store under load restores to the state the broker had at that seq."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import msgspec
import pytest

from broker.service.store import SqliteStore
from broker.wire import protocol as p
from broker.wire.client import BrokerClient, BrokerRefused
from broker.wire.mirror import Mirror
from helpers import agent_spec, wait_until

AGENTS = [f"a{i}" for i in range(6)]


def grabdesk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grabdesk", *args], capture_output=True, text=True, timeout=120)


class Recorder:
    """Every snapshot and event batch a follower received, to rebuild the floor at any seq."""

    def __init__(self):
        self.log: list[tuple] = []
        self.lock = threading.Lock()

    def reset(self, records, end):
        with self.lock:
            self.log.append(("reset", list(records), end))

    def events(self, events):
        with self.lock:
            self.log.append(("events", list(events), None))

    def floor_at(self, seq: int) -> Mirror:
        with self.lock:
            log = list(self.log)
        starts = [i for i, (kind, _r, end) in enumerate(log) if kind == "reset" and end.seq <= seq]
        assert starts, "no snapshot at or before the backup's seq"
        mirror = Mirror()
        _kind, records, end = log[starts[-1]]
        mirror.reset(records, end)
        for kind, events, _end in log[starts[-1] + 1:]:
            if kind == "events":
                mirror.apply([e for e in events if e.seq <= seq])
        return mirror


def agents_view(agents) -> dict:
    return {a.id: {**msgspec.to_builtins(a), "last_seen": 0} for a in agents}


def test_backup_under_load_restores_to_an_identical_state(start_broker, tmp_path):
    broker = start_broker(grab_rate_per_s=10_000.0)
    broker.define(agents=[agent_spec(a, quotas=p.Quotas(concurrent_cap=500, daily_grabs=100_000)) for a in AGENTS])
    broker.online(*AGENTS)
    recorder = Recorder()
    follower = broker.client("supervisor", "recorder", follow=True, on_reset=recorder.reset,
                             on_events=recorder.events)
    assert follower.wait_live(10)
    stop = threading.Event()
    submitted: list[str] = []
    errors: list[BaseException] = []

    def intake():
        n = 0
        while not stop.is_set():
            ids = [f"q{n + k}" for k in range(4)]
            n += 4
            broker.admin.call(p.Submit, inquiries=[p.NewInquiry(id=q, shop="s1", skill="pre_sales") for q in ids])
            submitted.extend(ids)

    def agent(who: str):
        client = broker.client("agent", who)
        k = 0
        while not stop.is_set():
            if len(submitted) < 8:
                time.sleep(0.001)
                continue
            k += 1
            q = submitted[-1 - (k % 8)]
            try:
                verdict = client.call(p.Grab, grab_id=f"{who}-{k}", inquiry=q)
                if verdict.outcome == "won" and k % 3:
                    client.call(p.Resolve, inquiry=q, satisfaction=5)
            except BrokerRefused:
                pass  # resolved by nobody else; a lost race is a verdict, not an error
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=intake, daemon=True)] + \
        [threading.Thread(target=agent, args=(a,), daemon=True) for a in AGENTS]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(submitted) > 400, 30, 0.05, "the load never got going")
        # the journal is being pruned while the copy is taken (a materializer pass a second)
        out = tmp_path / "backups" / "broker-copy.db"
        result = grabdesk("backup", "--db", broker.server.config.broker.db, str(out))
        assert result.returncode == 0, result.stderr
        assert "backed up" in result.stdout
        submitted_at_backup = len(submitted)
        wait_until(lambda: len(submitted) > submitted_at_backup + 200, 30, 0.05, "the load stalled after the backup")
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors

    copy = SqliteStore(out, synchronous="NORMAL", checkpoint_thread=False)
    loaded = copy.load(time.time())
    copy.close()
    assert loaded.seq < broker.core.seq, "the copy is not from the middle of the load"
    wait_until(lambda: follower.status.state == "live" and recorder.log and
               recorder.floor_at(broker.core.seq).seq == broker.core.seq, 10, 0.05)
    # the floor as the recorder saw it at the copy's seq (its last event may be on a stream
    # the recorder does not follow, so its own seq can be a little lower)
    then = recorder.floor_at(loaded.seq)
    assert {i.id: i for i in loaded.inquiries} == then.inquiries
    assert agents_view(loaded.agents) == agents_view(then.agents.values())
    assert len(then.inquiries) > 10

    # and a broker starts from the copy and serves what it holds
    restored = tmp_path / "restored"
    restored.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "grabdesk", "broker", "--db", str(out),
                             "--command-endpoint", f"ipc://{restored}/cmd", "--events-endpoint",
                             f"ipc://{restored}/ev"], stderr=subprocess.PIPE, text=True)
    mirror = Mirror()
    client = BrokerClient(f"ipc://{restored}/cmd", f"ipc://{restored}/ev", "supervisor", "restorer",
                          follow=True, on_reset=mirror.reset, on_events=mirror.apply).start()
    try:
        assert client.wait_live(30), "the broker on the copy never served"
        assert set(mirror.inquiries) == {i.id for i in loaded.inquiries}
    finally:
        client.stop()
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_backup_refuses_to_overwrite(tmp_path):
    db = tmp_path / "broker.db"
    SqliteStore(db, synchronous="NORMAL", checkpoint_thread=False).close()
    (tmp_path / "copy.db").write_text("precious")
    result = grabdesk("backup", "--db", str(db), str(tmp_path / "copy.db"))
    assert result.returncode == 2 and "already exists" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "copy.db").read_text() == "precious"
    result = grabdesk("backup", "--db", str(tmp_path / "none.db"), str(tmp_path / "x.db"))
    assert result.returncode == 2 and "no grabdesk store" in result.stderr
