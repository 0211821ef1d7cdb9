"""``grabdesk bench claim-peers``: the same claim race against grabdesk,
PostgreSQL (``FOR UPDATE SKIP LOCKED``) and Redis (a Lua script).

Each peer runs twice: bare (a claim and nothing else), and with the rules
grabdesk applies in this bench (``claim_rules.ClaimRules``: online status,
skill, a concurrent cap, a daily quota, idempotency by grab id, an event
record) inside the same transaction or script, at the same durability.

Every contender runs in the same invocation on the same harness
(``race.run_claim_race``): N agents in worker processes claim as fast as
they can, each claim is committed before its verdict, and every contender
states what its commit survives. For grabdesk the broker runs with
``synchronous=FULL`` (an fsync per group commit: a process crash and a power
loss); PostgreSQL with ``synchronous_commit=on``; Redis with ``appendfsync
always`` for the run.

A grabdesk claim is a grab of the next inquiry in the agent's own slice of a
pre-submitted pool, so no two agents aim at the same one (as SKIP LOCKED and
a Lua pop never hand out the same row). Like the other contenders' claims it
is one round trip and nothing else: the agents' concurrent cap is set to its
maximum (1,000) and no agent is given more than that to claim, so the quota
never stalls a run. (Until 2026-11-25 each agent also resolved what it won,
which doubled grabdesk's messages and no other contender had an equivalent.)
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import zmq
import zmq.asyncio

from broker.wire import protocol as p
from tools.bench import peer_postgres, peer_redis, race
from tools.bench.claim_rules import MAX_CONCURRENT_CAP, ClaimRules
from tools.bench.race_results import ContenderResult, cpu_us_per_claim, result_from_race
from tools.bench.harness import RawClient, command, define_floor, running_broker, server_cpu_seconds
from grabdesk.cli import positive_int

#: every agent's limits, the same for grabdesk and the peers' rules runs
RULES = ClaimRules()
#: pre-submitted inquiries per agent (a claim beyond them counts as a miss); at most
#: the cap, since nothing is resolved during the race
DEFAULT_PER_AGENT = MAX_CONCURRENT_CAP
SUBMIT_BATCH = 1_000


def add_arguments(parser) -> None:
    parser.add_argument("--agents", type=positive_int, default=200)
    parser.add_argument("--processes", type=positive_int, default=2)
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument("--per-agent", type=_per_agent, default=DEFAULT_PER_AGENT,
                        help=f"inquiries pre-submitted per grabdesk agent (at most {MAX_CONCURRENT_CAP}, "
                             "the highest concurrent cap; default that)")
    parser.add_argument("--rate-per-s", type=float, default=2000.0,
                        help="paced rate for the latency comparison (0: skip)")
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")


def _per_agent(text: str) -> int:
    value = int(text)
    if not 0 < value <= MAX_CONCURRENT_CAP:
        # nothing is resolved during the race, so an agent can hold no more than its cap
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_CONCURRENT_CAP}, got {text}")
    return value


class GrabdeskClaimers:
    """Picklable factory: one asyncio DEALER per agent (see race.run_claim_race)."""

    def __init__(self, endpoint: str, agent_ids: list[str], per_agent: int, prefix: str):
        self.endpoint = endpoint
        self.agent_ids = agent_ids
        self.per_agent = per_agent
        self.prefix = prefix
        self._ctx = None

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_ctx"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._ctx = None

    async def __call__(self, agent_index: int):
        if self._ctx is None:
            self._ctx = zmq.asyncio.Context()
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        agent = self.agent_ids[agent_index]
        ids = iter(range(self.per_agent))
        counter = [0]
        prefix = f"{self.prefix}{agent_index}-"

        async def claim():
            n = next(ids, None)
            if n is None:
                return None
            counter[0] += 1
            gid = f"c{counter[0]}"
            inquiry = f"{prefix}{n}"
            await sock.send(command(p.Grab, "agent", agent, gid, grab_id=gid, inquiry=inquiry))
            while True:
                reply = p.decode_reply(await sock.recv())
                if isinstance(reply, p.Verdict) and reply.re == gid:
                    break
            return inquiry if reply.outcome == "won" else None

        claim.aclose = lambda: _close(sock)  # type: ignore[attr-defined]
        return claim

    def close(self):
        if self._ctx is not None:
            self._ctx.term()


async def _close(sock):
    sock.close(0)


def run_grabdesk(agents: int, duration_s: float, processes: int, per_agent: int,
                 rate_per_s: float | None = None) -> ContenderResult:
    workdir = Path(tempfile.mkdtemp(prefix="grabdesk-claims-"))
    durability = ("committed before the verdict: the broker's journal is fsynced per group commit "
                  "(SQLite WAL, synchronous=FULL), so a claim survives a broker crash and a power loss; "
                  "one broker, no standby")
    with running_broker(workdir=workdir, synchronous="FULL", grab_rate_per_s=1_000_000.0,
                        max_pending_per_client=1000) as broker:
        ctx = zmq.Context()
        admin = RawClient(ctx, broker.command_endpoint, "admin", "bench")
        agent_ids = define_floor(admin, agents, quotas=p.Quotas(
            concurrent_cap=RULES.concurrent_cap, daily_grabs=RULES.daily_grabs, continuous_hours=24.0,
            break_minutes=15.0))
        prefix = f"k{int(time.time())}-"
        intake = RawClient(ctx, broker.command_endpoint, "intake", "bench-intake")
        batch = []
        for n in range(per_agent):
            for k in range(agents):
                batch.append(p.NewInquiry(id=f"{prefix}{k}-{n}", shop="s1", skill="pre_sales"))
                if len(batch) >= SUBMIT_BATCH:
                    intake.call(p.Submit, inquiries=batch)
                    batch = []
        if batch:
            intake.call(p.Submit, inquiries=batch)
        admin.close()
        intake.close()
        ctx.term()
        factory = GrabdeskClaimers(broker.command_endpoint, agent_ids, per_agent, prefix)
        cpu0 = server_cpu_seconds(pid=broker.pid)
        outcome = race.run_claim_race(factory, agents=agents, duration_s=duration_s, processes=processes,
                                      rate_per_s=rate_per_s)
        cpu1 = server_cpu_seconds(pid=broker.pid)
    settings = {"synchronous": "FULL", "pre_submitted": agents * per_agent,
                "claim": "grab the next inquiry of the agent's own slice; one round trip",
                "server_cpu_us_per_claim": cpu_us_per_claim(
                    None if cpu0 is None or cpu1 is None else cpu1 - cpu0, outcome.claims)}
    return result_from_race("grabdesk", outcome, durability=durability, settings=settings)


#: the contenders after grabdesk, each a peer bare and with the rules
PEERS = ("postgres", "postgres_rules", "redis", "redis_rules")


def _peer(name: str, args, **kw) -> ContenderResult:
    rules = RULES if name.endswith("_rules") else None
    if name.startswith("postgres"):
        return peer_postgres.run_postgres(args.postgres, rules=rules, **kw)
    return peer_redis.run_redis(args.redis, rules=rules, **kw)


def run(args) -> dict:
    kw = dict(agents=args.agents, duration_s=args.duration_s, processes=args.processes)
    results = {"grabdesk": run_grabdesk(per_agent=args.per_agent, **kw)}
    results.update({name: _peer(name, args, **kw) for name in PEERS})
    out: dict = {}
    for name, r in results.items():
        out[f"{name}_claims_per_s"] = None if r.claims_per_s is None else round(r.claims_per_s)
        out[f"{name}_p50_ms"] = r.p50_ms
        out[f"{name}_p99_ms"] = r.p99_ms
        # what the server (broker, PostgreSQL, Redis) spent per claim, on the cores the load shares
        out[f"{name}_server_cpu_us_per_claim"] = r.settings.get("server_cpu_us_per_claim")
    g = results["grabdesk"].claims_per_s or 0.0
    for name in PEERS:
        other = results[name].claims_per_s
        out[f"ratio_vs_{name}"] = round(g / other, 2) if other else None
    if args.rate_per_s:
        paced = {"grabdesk": run_grabdesk(per_agent=args.per_agent, rate_per_s=args.rate_per_s, **kw)}
        paced.update({name: _peer(name, args, rate_per_s=args.rate_per_s, **kw) for name in PEERS})
        out["paced_per_s"] = args.rate_per_s
        for name, r in paced.items():
            out[f"{name}_paced_p50_ms"] = r.p50_ms
            out[f"{name}_paced_p99_ms"] = r.p99_ms
    out["double_claims"] = {n: r.double_claims for n, r in results.items()}
    out["contenders"] = {n: r.to_dict() for n, r in results.items()}
    out["ok"] = all(r.double_claims == 0 for r in results.values() if r.available)
    return out
