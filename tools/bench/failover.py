"""``grabdesk bench failover``: an active/standby pair on PostgreSQL, killed again and again.

Three parts, one JSON object:

* **takeover**: two broker processes on one PostgreSQL schema (default lease,
  2 s), a submitter and racing agents on the client library (both endpoints
  given, following the active broker). The active one is ``kill -9``-ed
  ``--kills`` times (the killed one comes back as the standby); ``takeover_s``
  is from the kill to the first verdict the new active broker sends (a probe
  grab sent straight to it), ``clients_resumed_s`` to the first verdict each
  load agent gets again. One more round freezes the active (SIGSTOP) past its
  lease and wakes it once the standby has taken over. Then the store is
  audited: ``acknowledged_lost`` (a submit or a win the clients were told of
  that the store lacks), ``double_owners`` (inquiries won twice),
  ``lost_inquiries``, ``stale_epoch_commits`` (journal rows of an epoch
  written after a later epoch's). All must be 0.
* **throughput**: the arbitration bench's saturated and paced phases
  (tools/bench/arbitration.py) on SQLite and on PostgreSQL in the same run.
* **shards**: the same load on two shards at once (two brokers, two schemas,
  two load generators) beside one shard alone: combined grabs/s.

Needs the PostgreSQL at ``--dsn``; without it the result says so (``ok``
false) instead of inventing figures.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import zmq

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from grabdesk.cli import positive_int
from tools.bench import arbitration
from tools.bench.harness import BrokerProcess, free_port, write_config

DEFAULT_DSN = "postgresql://127.0.0.1:5432/test"
#: load agents racing during the takeover rounds
TAKEOVER_AGENTS = 8
#: how long a round waits for a broker to become active or a client to be served
ROUND_TIMEOUT_S = 30.0
#: grabs the load wins between kills, so every round kills a busy broker
WINS_BETWEEN_KILLS = 30


def add_arguments(parser) -> None:
    parser.add_argument("--dsn", default=DEFAULT_DSN, help=f"PostgreSQL (default {DEFAULT_DSN})")
    parser.add_argument("--kills", type=positive_int, default=5, help="kill -9 rounds (default 5)")
    parser.add_argument("--lease-s", type=float, default=2.0, help="the pair's lease (default 2, the broker's)")
    parser.add_argument("--agents", type=positive_int, default=200,
                        help="racing agents of the throughput parts (default 200)")
    parser.add_argument("--processes", type=positive_int, default=2, help="agent worker processes (default 2)")
    parser.add_argument("--duration-s", type=float, default=5.0, help="seconds per throughput phase (default 5)")
    parser.add_argument("--offered-per-s", type=float, default=2000.0,
                        help="grab rate of the paced latency phase (default 2000)")
    parser.add_argument("--skip-throughput", action="store_true", help="only the takeover rounds")


# --------------------------------------------------------------------------- PostgreSQL helpers

def _pg_or_reason(dsn: str) -> str | None:
    from broker.service.pgstore import StoreError, connect

    try:
        connect(dsn).close()
    except StoreError as exc:
        return str(exc)
    return None


def _drop_schema(dsn: str, schema: str) -> None:
    from broker.service.pgstore import connect

    conn = connect(dsn)
    try:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        conn.close()


def _audit_pg(dsn: str, schema: str):
    """``arbitration.measure``'s audit for a PostgreSQL store: fold the journal, then count."""
    def audit(_workdir) -> tuple[int, int]:
        from broker.service.pgstore import PgStore

        store = PgStore(dsn, schema, maintenance=None)
        try:
            store.catch_up()
            doubles = store.query_state(arbitration.AUDIT_DOUBLE_OWNERS_SQL)[0][0]
            stored = store.query_state("SELECT COUNT(*) FROM inquiries WHERE id LIKE 'q%'")[0][0]
            return doubles, stored
        finally:
            store.close()
    return audit


# --------------------------------------------------------------------------- the pair

class _Pair:
    def __init__(self, dsn: str, schema: str, lease_s: float, workdir: Path):
        self.dsn, self.schema, self.workdir = dsn, schema, workdir
        self.config = write_config(workdir / "pair.toml", store=dsn, pg_schema=schema, lease_s=lease_s,
                                   grab_rate_per_s=1_000_000.0, max_pending_per_client=1000,
                                   agent_timeout_s=3600.0, offline_grace_s=3600.0, heartbeat_s=0.25)
        self.slots = [(f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}") for _ in range(2)]
        self.brokers: list[BrokerProcess | None] = [None, None]

    def start(self, slot: int) -> BrokerProcess:
        command, events = self.slots[slot]
        log_path = self.workdir / f"broker-{slot}.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "grabdesk", "broker", "--config", str(self.config),
                                     "--command-endpoint", command, "--events-endpoint", events],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.brokers[slot] = BrokerProcess(proc, command, events, self.workdir, log_path)
        return self.brokers[slot]

    def probe(self, slot: int, message: p.Command, timeout_s: float = 0.5):
        """One command straight to a broker: its reply, or None."""
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.slots[slot][0])
            sock.send(p.encode(message))
            if sock.poll(int(timeout_s * 1000)):
                return p.decode_reply(sock.recv())
            return None
        finally:
            sock.close()

    def wait_active(self, slot: int) -> None:
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        hello = p.Hello(v=1, id="probe", role="admin", who="probe")
        while not isinstance(self.probe(slot, hello), p.Welcome):
            broker = self.brokers[slot]
            if broker.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"broker {slot} did not become active; log {broker.log_path}")

    def first_verdict(self, slot: int, grab_id: str, inquiry: str, deadline: float) -> float:
        """Send a probe grab to ``slot`` until it answers with a verdict: when it did."""
        grab = p.Grab(v=1, id=grab_id, role="agent", who="probe-agent", grab_id=grab_id, inquiry=inquiry)
        while time.monotonic() < deadline:
            if isinstance(self.probe(slot, grab, timeout_s=0.2), p.Verdict):
                return time.monotonic()
        raise RuntimeError(f"broker {slot} gave no verdict within {ROUND_TIMEOUT_S} s")

    def stop(self) -> None:
        for broker in self.brokers:
            if broker is not None and broker.proc.poll() is None:
                os.kill(broker.pid, signal.SIGCONT)
                broker.stop()


class _Load:
    """A submitter and racing agents on the client library, remembering what they were told."""

    def __init__(self, pair: _Pair, agents: list[str]):
        self.pair, self.agents = pair, agents
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[str] = []
        self.wins: dict[str, str] = {}
        self.double_wins = 0
        #: agent -> (sent, received) of its latest verdict (monotonic)
        self.last_verdict: dict[str, tuple[float, float]] = {}
        self.clients: list[BrokerClient] = []
        self.threads = [threading.Thread(target=self._submitter, daemon=True)] + \
            [threading.Thread(target=self._agent, args=(a,), daemon=True) for a in agents]

    def client(self, role: str, who: str) -> BrokerClient:
        commands = [c for c, _e in self.pair.slots]
        events = [e for _c, e in self.pair.slots]
        c = BrokerClient(commands, events, role, who, follow=False).start()
        self.clients.append(c)
        return c

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _submitter(self) -> None:
        client = self.client("intake", "gw")
        i = 0
        while not self.stop.is_set():
            ids = [f"t{i + k}" for k in range(5)]
            i += 5
            try:
                reply = client.call(p.Submit, inquiries=[p.NewInquiry(id=q, shop="s1", skill="pre_sales")
                                                         for q in ids])
            except Exception:  # not acknowledged: may or may not have happened
                continue
            with self.lock:
                self.acked.extend(q for k, q in enumerate(ids) if k not in {r.index for r in reply.rejected})
            time.sleep(0.01)  # a steady trickle: the kills, not the intake, are measured

    def _agent(self, agent: str) -> None:
        client = self.client("agent", agent)
        rng = random.Random(agent)
        n = 0
        while not self.stop.is_set():
            with self.lock:
                recent = self.acked[-10:]
            if not recent:
                time.sleep(0.01)
                continue
            n += 1
            sent = time.monotonic()
            try:
                verdict = client.call(p.Grab, grab_id=f"{agent}-{n}", inquiry=rng.choice(recent), timeout_s=15)
            except Exception:
                continue
            with self.lock:
                self.last_verdict[agent] = (sent, time.monotonic())
                if verdict.outcome == "won" and self.wins.setdefault(verdict.inquiry, agent) != agent:
                    self.double_wins += 1

    def finish(self) -> None:
        self.stop.set()
        for c in self.clients:
            c.stop()
        for t in self.threads:
            t.join(20)


def _takeover(dsn: str, kills: int, lease_s: float) -> dict:
    from broker.service.pgstore import PgStore

    schema = f"grabdesk_bench_{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-failover-"))
    pair = _Pair(dsn, schema, lease_s, workdir)
    agents = [f"a{i}" for i in range(TAKEOVER_AGENTS)]
    takeovers: list[float] = []
    resumed: list[float] = []
    load = None
    try:
        pair.start(0)
        pair.wait_active(0)
        pair.start(1)
        admin = BrokerClient(pair.slots[0][0], pair.slots[0][1], "admin", "bench", follow=False).start()
        try:
            admin.call(p.DefineShop, shop=p.ShopRecord(id="s1"))
            admin.call(p.DefineAgents, agents=[
                p.AgentSpec(id=a, skills={"pre_sales": 3}, quality=95,
                            quotas=p.Quotas(concurrent_cap=1000, daily_grabs=100_000))
                for a in agents + ["probe-agent"]])
            for a in agents + ["probe-agent"]:
                admin.call(p.SetStatus, status="online", agent=a)
            admin.call(p.Submit, inquiries=[p.NewInquiry(id=f"probe-{k}", shop="s1", skill="pre_sales")
                                            for k in range(kills + 2)])
        finally:
            admin.stop()
        load = _Load(pair, agents)
        load.start()
        active = 0
        for k in range(kills):
            wins = len(load.wins)
            deadline = time.monotonic() + ROUND_TIMEOUT_S
            while len(load.wins) < wins + WINS_BETWEEN_KILLS and time.monotonic() < deadline:
                time.sleep(0.05)
            standby = 1 - active
            pair.brokers[active].proc.kill()
            killed = time.monotonic()
            pair.brokers[active].proc.wait(10)
            served = pair.first_verdict(standby, f"probe-{k}", f"probe-{k}", killed + ROUND_TIMEOUT_S)
            takeovers.append(served - killed)
            deadline = killed + ROUND_TIMEOUT_S
            # each agent's first verdict for a grab it sent after the kill
            first_after: dict[str, float] = {}
            while len(first_after) < len(agents) and time.monotonic() < deadline:
                for a in agents:
                    sent, received = load.last_verdict.get(a, (0.0, 0.0))
                    if a not in first_after and sent > killed:
                        first_after[a] = received - killed
                time.sleep(0.005)
            if len(first_after) < len(agents):
                raise RuntimeError(f"only {len(first_after)} of {len(agents)} agents were served within "
                                   f"{ROUND_TIMEOUT_S:g} s of kill {k + 1}")
            resumed.append(statistics.median(first_after.values()))
            pair.start(active)  # the killed one returns as the standby
            active = standby
        # one frozen round: the active stops past its lease, the standby takes over, it wakes up
        standby = 1 - active
        frozen = pair.brokers[active]
        os.kill(frozen.pid, signal.SIGSTOP)
        pair.first_verdict(standby, f"probe-{kills}", f"probe-{kills}", time.monotonic() + ROUND_TIMEOUT_S)
        os.kill(frozen.pid, signal.SIGCONT)
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        while "stepping down" not in frozen.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        stepped_down = "stepping down" in frozen.log_path.read_text()
        time.sleep(0.5)  # the load keeps going on the new active for a moment
        load.finish()
        pair.stop()
        store = PgStore(dsn, schema, maintenance=None)
        try:
            store.catch_up()
            rows = dict((i, (state, owner)) for i, state, owner in
                        store.query_state("SELECT id, state, owner FROM inquiries"))
            doubles = store.query_state(arbitration.AUDIT_DOUBLE_OWNERS_SQL)[0][0]
            s = f'"{schema}"'
            stale = store._db.execute(
                f"SELECT COUNT(*) FROM {s}.journal j WHERE EXISTS "
                f"(SELECT 1 FROM {s}.journal k WHERE k.epoch > j.epoch AND k.id < j.id)").fetchone()[0]
            epochs = store._db.execute(f"SELECT epoch FROM {s}.lease").fetchone()[0]
        finally:
            store.close()
        lost = [q for q in load.acked if q not in rows]
        wrong_owner = [q for q, agent in load.wins.items() if rows.get(q, (None, None))[1] != agent]
        return {
            "takeover_s": round(statistics.median(takeovers), 3),
            "takeover_s_all": [round(t, 3) for t in takeovers],
            "clients_resumed_s": round(statistics.median(resumed), 3),
            "clients_resumed_s_all": [round(t, 3) for t in resumed],
            "kills": kills,
            "lease_s": lease_s,
            "lease_epochs": epochs,
            "frozen_active_stepped_down": stepped_down,
            "acknowledged_lost": len(lost) + len(wrong_owner),
            "double_owners": doubles + load.double_wins,
            "lost_inquiries": len(lost),
            "stale_epoch_commits": stale,
            "acknowledged_submits": len(load.acked),
            "acknowledged_wins": len(load.wins),
        }
    finally:
        if load is not None:
            load.finish()
        pair.stop()
        _drop_schema(dsn, schema)


# --------------------------------------------------------------------------- throughput

def _measure(args, store: str, dsn: str) -> dict:
    if store == "sqlite":
        result = arbitration.measure(args.agents, args.processes, args.duration_s, args.offered_per_s, "FULL")
    else:
        schema = f"grabdesk_bench_{uuid.uuid4().hex[:10]}"
        try:
            result = arbitration.measure(args.agents, args.processes, args.duration_s, args.offered_per_s, "FULL",
                                         store_fields={"store": dsn, "pg_schema": schema},
                                         audit=_audit_pg(dsn, schema))
        finally:
            _drop_schema(dsn, schema)
    return {k: result[k] for k in ("grabs_per_s", "wins_per_s", "p50_ms", "p99_ms", "broker_cpu_us_per_grab",
                                   "broker_cores_busy", "loadgen_cores_busy", "double_owners", "lost_inquiries")}


def _measure_child(args, dsn: str, out) -> None:
    try:
        out.put(_measure(args, "postgresql", dsn))
    except Exception as exc:  # reported by the parent as the shard's failure
        out.put({"error": f"{type(exc).__name__}: {exc}"})


def _two_shards(args, dsn: str) -> dict:
    """Two brokers on two schemas, each with its own load generator, at the same time."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    # each shard gets half the agents and one load process, so the machine runs the same load in total
    half = argparse_copy(args, agents=max(1, args.agents // 2), processes=max(1, args.processes // 2))
    children = [ctx.Process(target=_measure_child, args=(half, dsn, out)) for _ in range(2)]
    for c in children:
        c.start()
    results = [out.get(timeout=args.duration_s * 4 + 300) for _ in children]
    for c in children:
        c.join(30)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError("; ".join(errors))
    return {"combined_grabs_per_s": sum(r["grabs_per_s"] for r in results),
            "per_shard_grabs_per_s": [r["grabs_per_s"] for r in results],
            "double_owners": sum(r["double_owners"] for r in results),
            "lost_inquiries": sum(r["lost_inquiries"] for r in results)}


def argparse_copy(args, **changes):
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(args) -> dict:
    dsn = args.dsn
    absent = _pg_or_reason(dsn)
    if absent:
        return {"ok": False, "reason": f"PostgreSQL is needed and not available: {absent}"}
    result: dict = {"load_average_before": _load_average(), "cpu_count": os.cpu_count()}
    result.update(_takeover(dsn, args.kills, args.lease_s))
    if not args.skip_throughput:
        result["throughput"] = {"sqlite": _measure(args, "sqlite", dsn),
                                "postgresql": _measure(args, "postgresql", dsn)}
        result["grabs_per_s"] = result["throughput"]["postgresql"]["grabs_per_s"]
        result["grabs_per_s_sqlite"] = result["throughput"]["sqlite"]["grabs_per_s"]
        result["shards"] = {"one_shard_grabs_per_s": result["grabs_per_s"], **_two_shards(args, dsn)}
    result["load_average_after"] = _load_average()
    throughput_sound = all(v["double_owners"] == 0 and v["lost_inquiries"] == 0
                           for v in result.get("throughput", {}).values())
    result["ok"] = (result["acknowledged_lost"] == 0 and result["double_owners"] == 0
                    and result["lost_inquiries"] == 0 and result["stale_epoch_commits"] == 0
                    and result["frozen_active_stepped_down"] and throughput_sound
                    and result.get("shards", {}).get("double_owners", 0) == 0)
    return result
