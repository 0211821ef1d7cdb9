"""``grabdesk bench fuzz``: hostile frames against a live broker while real agents grab.

One real broker process (``harness.start_broker``, CurveZMQ on unless
``--plain``), a floor of real agents grabbing at a human-ish pace with an
intake feeding them (one separate process), and ``--fuzzers`` processes that
send at least ``--frames`` malformed or hostile frames over raw, pipelined
DEALER sockets:

* garbage: random bytes, truncated and garbled MessagePack, not-a-map values,
  empty frames, deeply nested arrays;
* envelopes that are almost right: wrong field types, missing and unknown
  fields, unknown message types, wrong protocol versions;
* valid envelopes with invalid content: grabs of inquiries that do not exist
  or are not the fuzzer's skill, work on inquiries it does not hold, transfers
  to nobody, a reused grab id, bad query ranges, long identifiers;
* commands outside the fuzzer's role (an agent sending shutdown, quotas,
  submits ...) and, with Curve, identity impersonation (its key claiming to be
  a real agent, a supervisor, the admin or the intake);
* multi-frame messages; oversized frames over the command limit but under the
  4x hard cap (answered ``too-large``) and a few beyond it (the broker drops
  that connection, nobody else's);
* floods: pipelined bursts past the per-client pending limit, grab floods
  past the per-agent rate limit, a client that never reads its replies;
* with Curve: connections with keys nobody enrolled (refused by ZAP); and raw
  TCP connections that write garbage instead of ZMTP.

The real agents' grabs must keep getting verdicts, the broker must stay up,
and its memory (VmRSS from /proc, measured after a warm-up share of the
frames) must stay flat. Prints one JSON object; ``ok`` says all three held.

Then, unless ``--no-scenarios``, the three scenarios of
``tools/bench/fuzz_scenarios.py`` each on a fresh broker, under
``scenarios``: RSS growth for grabs with 100 KB ids within the rate limit
(``long_identifiers``) and for four clients that flood junk and never read
(``never_reading``), and the slowdown of a saturated grab load while a
subscriber is frozen (``frozen_subscriber.slowdown``, best run with it over
best run without). The tests check what these do, not these figures: on a
shared machine a figure moves with the neighbours.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import zmq

from broker.wire import protocol as p
from tools.bench.harness import RawClient, command, define_floor, percentile, rss_mb, start_broker
from grabdesk.cli import positive_int

#: the memory bound ``ok`` checks (MB of broker RSS growth after warm-up)
RSS_BOUND_MB = 30.0
#: each category's share of the pipelined frames, per mille
WEIGHTS = {
    "random_bytes": 120, "truncated": 100, "garbled": 100, "not_a_map": 30, "wrong_types": 120,
    "missing_field": 40, "unknown_field": 40, "unknown_type": 50, "wrong_version": 50,
    "invalid_content": 100, "outside_role": 60, "impersonation": 60, "multi_frame": 40, "empty": 10,
    "deep_nesting": 5, "long_fields": 10, "oversized": 3, "grab_flood": 60,
}
#: sent outside the pipelined mix, on their own sockets
SPECIAL = ("pending_flood", "no_read", "beyond_cap", "unenrolled_key", "tcp_garbage")
CATEGORIES = tuple(WEIGHTS) + SPECIAL
#: pipelined DEALERs per fuzzer and requests each keeps unanswered (under the pending limit)
SOCKETS = 8
WINDOW = 24
#: share of each fuzzer's frames sent as pending floods / by the client that never reads
FLOOD_SHARE = 0.02
NO_READ_SHARE = 0.02
FLOOD_BURST = 200
#: fixed-count hostile connections per fuzzer
BEYOND_CAP_PER_FUZZER = 6
UNENROLLED_PER_FUZZER = 6
TCP_GARBAGE_PER_FUZZER = 8
#: a fuzzer whose windows are all full hears nothing for this long: it stops (the broker is gone)
SILENCE_S = 20.0
#: a real agent's grab unanswered this long counts as failed (BrokerClient's own timeout)
GRAB_TIMEOUT_S = 5.0
#: the real agents' quotas: generous, within the broker's bounds
FLOOR_QUOTAS = p.Quotas(concurrent_cap=20, daily_grabs=100_000, continuous_hours=24.0, break_minutes=15.0)
#: the intake keeps this many inquiries queued ahead of the agents
INTAKE_LEAD = 300
WRONG_VALUES = (None, True, -1, 2 ** 63 - 1, 1.5, "", "x" * 40, [], {}, [1, 2], {"a": 1}, b"\x00\xff")
_POLLIN, _NOBLOCK = int(zmq.POLLIN), int(zmq.NOBLOCK)


def add_arguments(parser) -> None:
    parser.add_argument("--frames", type=positive_int, default=100_000, help="hostile frames to send (default 100000)")
    parser.add_argument("--agents", type=int, default=20, help="real agents grabbing meanwhile (default 20)")
    parser.add_argument("--agent-rate", type=float, default=10.0,
                        help="grabs per second per real agent (default 10; the broker's limit is 50)")
    parser.add_argument("--fuzzers", type=positive_int, default=2, help="fuzzing processes (default 2)")
    parser.add_argument("--max-command-bytes", type=int, default=64 * 1024,
                        help="the broker's command limit for the run (default 65536; the hard cap is 4x)")
    parser.add_argument("--plain", action="store_true",
                        help="no CurveZMQ: identities are then unauthenticated, so impersonation only "
                             "claims identities that do not exist")
    parser.add_argument("--exclude", action="append", default=[], metavar="CATEGORY",
                        help=f"leave a category out (repeatable): {', '.join(CATEGORIES)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synchronous", default="NORMAL", choices=["FULL", "NORMAL"])
    parser.add_argument("--no-scenarios", action="store_true",
                        help="skip the long-identifier, never-reading and frozen-subscriber scenarios")


def run(args) -> dict:
    unknown = [c for c in args.exclude if c not in CATEGORIES]
    if unknown:
        print(f"grabdesk bench fuzz: unknown category {', '.join(unknown)}; "
              f"choose from {', '.join(CATEGORIES)}", file=sys.stderr)
        raise SystemExit(2)
    result = fuzz(frames=args.frames, agents=args.agents, agent_rate=args.agent_rate, fuzzers=args.fuzzers,
                  max_command_bytes=args.max_command_bytes, curve=not args.plain, exclude=args.exclude,
                  seed=args.seed, synchronous=args.synchronous)
    if not args.no_scenarios:
        from tools.bench.fuzz_scenarios import all_scenarios

        result["scenarios"] = all_scenarios(Path(tempfile.mkdtemp(prefix="grabdesk-fuzz-scenarios-")))
    return result


# ---------------------------------------------------------------------- hostile frames

def _env(kind: str, role: str, who: str, msg_id: str, **fields) -> dict:
    return {"type": kind, "v": p.PROTOCOL_VERSION, "id": msg_id, "role": role, "who": who, **fields}


_enc = msgspec.msgpack.encode


class Hostile:
    """Makes the pipelined frames; each gets exactly one final reply from the broker."""

    def __init__(self, rng: random.Random, me: str, real_agents: list[str], curve: bool, limit: int,
                 exclude=()):
        self.rng = rng
        self.me = me
        self.real = real_agents
        self.curve = curve
        self.limit = limit
        self.n = 0
        self.pool = os.urandom(1 << 20)
        cats = [(c, w) for c, w in WEIGHTS.items() if c not in exclude and w > 0]
        self.names = [c for c, _ in cats]
        self.cum = []
        total = 0
        for _, w in cats:
            total += w
            self.cum.append(total)
        self.total = total
        if curve:
            # the fuzzer's key is enrolled as agent ``me``: every other claim is a lie
            self.claims = [("agent", a) for a in real_agents[:8]] + [
                ("supervisor", "boss"), ("admin", "bench"), ("intake", "bench-intake"), ("agent", "fz999")]
        else:
            # without Curve a claim is trusted, so only claim identities that do not exist
            self.claims = [("agent", "ghost"), ("agent", "a9999"), ("agent", "")]

    # -- helpers
    def _id(self) -> str:
        self.n += 1
        return f"{self.me}-{self.n}"

    def _bytes(self, n: int) -> bytes:
        start = self.rng.randrange(0, len(self.pool) - n) if n < len(self.pool) else 0
        return self.pool[start:start + n]

    def _q(self) -> str:
        return f"q{self.rng.randrange(0, 200_000)}"

    def own_dict(self) -> dict:
        """A valid command of the fuzzer's own identity (content may be nonsense)."""
        r = self.rng
        kind = r.choice(("grab", "respond", "resolve", "release", "transfer", "hello", "heartbeat",
                         "set_status", "query_grabs"))
        fields: dict = {}
        if kind == "grab":
            fields = {"grab_id": self._id(), "inquiry": self._q()}
        elif kind in ("respond", "resolve", "release", "query_grabs"):
            fields = {"inquiry": self._q()}
        elif kind == "transfer":
            fields = {"inquiry": self._q(), "to_agent": "nobody"}
        elif kind == "set_status":
            fields = {"status": r.choice(("online", "away"))}
        elif kind == "hello":
            fields = {"client": "fuzz"}
        return _env(kind, "agent", self.me, self._id(), **fields)

    def own(self) -> bytes:
        return _enc(self.own_dict())

    # -- categories
    def make(self, category: str) -> list[bytes]:
        return getattr(self, "c_" + category)()

    def next(self) -> tuple[str, list[bytes]]:
        x = self.rng.random() * self.total
        for name, edge in zip(self.names, self.cum):
            if x < edge:
                return name, self.make(name)
        return self.names[-1], self.make(self.names[-1])

    def c_random_bytes(self):
        return [self._bytes(self.rng.choice((1, 2, 3, 5, 8, 16, 64, 256, 1024, 4096)))]

    def c_truncated(self):
        data = self.own()
        return [data[:self.rng.randrange(0, len(data))]]

    def c_garbled(self):
        data = bytearray(self.own())
        for _ in range(self.rng.randint(1, 4)):
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        return [bytes(data)]

    def c_not_a_map(self):
        return [_enc(self.rng.choice(([1, 2, 3], 5, "grab", None, True, 1.5, b"bin", [{"type": "grab"}], -7)))]

    def c_wrong_types(self):
        d = self.own_dict()
        d[self.rng.choice(list(d))] = self.rng.choice(WRONG_VALUES)
        return [_enc(d)]

    def c_missing_field(self):
        d = self.own_dict()
        del d[self.rng.choice(list(d))]
        return [_enc(d)]

    def c_unknown_field(self):
        d = self.own_dict()
        d[self.rng.choice(("zzz", "admin", "__class__", "role2", "password"))] = self.rng.choice(WRONG_VALUES)
        return [_enc(d)]

    def c_unknown_type(self):
        d = self.own_dict()
        d["type"] = self.rng.choice(("explode", "GRAB", "grab ", "", "shutdown_now", "hello\x00", "verdict"))
        return [_enc(d)]

    def c_wrong_version(self):
        d = self.own_dict()
        d["v"] = self.rng.choice((0, 2, 3, -1, 255, 2 ** 32, 2 ** 63 - 1))
        return [_enc(d)]

    def c_invalid_content(self):
        r = self.rng
        me = self.me
        choice = r.randrange(10)
        if choice == 0:  # a real inquiry, but not the fuzzer's skill
            d = _env("grab", "agent", me, self._id(), grab_id=self._id(), inquiry=f"q{r.randrange(2000)}")
        elif choice == 1:  # the same grab id for another inquiry
            d = _env("grab", "agent", me, self._id(), grab_id=f"{me}-reused", inquiry=self._q())
        elif choice == 2:
            d = _env("transfer", "agent", me, self._id(), inquiry=self._q(), to_agent=r.choice(self.real))
        elif choice == 3:  # another agent's status
            d = _env("set_status", "agent", me, self._id(), status="offline", agent=r.choice(self.real))
        elif choice == 4:
            d = _env("snapshot", "agent", me, self._id(), streams=["nope", "../etc"])
        elif choice == 5:
            d = _env("query_stats", "agent", me, self._id(), since=100.0, until=r.choice((-1.0, 50.0, 100.0)))
        elif choice == 6:
            d = _env("resolve", "agent", me, self._id(), inquiry=self._q(),
                     satisfaction=r.choice((-5, 0, 99, 2 ** 40)))
        elif choice == 7:
            d = _env("query_grabs", "agent", me, self._id(), inquiry=r.choice(("", "\x00", "q-1", "%s%n")))
        elif choice == 8:
            d = _env("respond", "agent", me, self._id(), inquiry=f"q{r.randrange(2000)}")
        else:
            d = _env("release", "agent", me, self._id(), inquiry=f"q{r.randrange(2000)}")
        return [_enc(d)]

    def _foreign(self, role: str, who: str) -> bytes:
        """A decodable command of another role, sent as (role, who)."""
        r = self.rng
        mid = self._id()
        kind = r.randrange(12)
        if kind == 0:
            cls, fields = p.Shutdown, dict(reason="fuzz")
        elif kind == 1:
            cls, fields = p.SetQuotas, dict(agent=r.choice(self.real), quotas=p.Quotas(concurrent_cap=0))
        elif kind == 2:
            cls, fields = p.Reassign, dict(inquiry=f"q{r.randrange(2000)}", to_agent=self.me)
        elif kind == 3:
            cls, fields = p.SetMode, dict(shop="s1", mode="assign")
        elif kind == 4:
            cls, fields = p.SetQuality, dict(agent=r.choice(self.real), quality=0.0)
        elif kind == 5:
            cls, fields = p.DefineAgents, dict(agents=[p.AgentSpec(id="evil", skills={"pre_sales": 3})])
        elif kind == 6:
            cls, fields = p.DefineShop, dict(shop=p.ShopRecord(id="evil-shop"))
        elif kind == 7:
            cls, fields = p.Submit, dict(inquiries=[p.NewInquiry(id=f"evil-{mid}", shop="s1", skill="pre_sales")])
        elif kind == 8:
            cls, fields = p.Abandon, dict(inquiry=f"q{r.randrange(2000)}")
        elif kind == 9:
            cls, fields = p.QueryAudit, {}
        elif kind == 10:
            cls, fields = p.ReplaceRoster, dict(text="agent,day\n")
        else:
            cls, fields = p.DefineGroup, dict(group=p.GroupRecord(id="evil-group"))
        return command(cls, role, who, mid, **fields)

    def c_outside_role(self):
        return [self._foreign("agent", self.me)]

    def c_impersonation(self):
        role, who = self.rng.choice(self.claims)
        if self.curve:
            if self.rng.random() < 0.5:
                return [self._foreign(role, who)]
            return [_enc(_env("grab", role, who, self._id(), grab_id=self._id(), inquiry=self._q()))]
        # plain: agent commands from agents that do not exist, or from a role that may not grab
        if self.rng.random() < 0.5:
            return [_enc(_env("grab", "agent", who, self._id(), grab_id=self._id(), inquiry=self._q()))]
        return [_enc(_env("grab", "intake", "ghost-intake", self._id(), grab_id=self._id(), inquiry=self._q()))]

    def c_multi_frame(self):
        return [self.own() if i == 0 else self._bytes(self.rng.choice((0, 1, 8, 64)))
                for i in range(self.rng.randint(2, 4))]

    def c_empty(self):
        return [b""]

    def c_deep_nesting(self):
        depth = self.rng.randint(1_000, min(50_000, self.limit - 200))
        nested = b"\x91" * depth + b"\xc0"
        if self.rng.random() < 0.3:
            return [nested]  # the whole frame
        d = self.own_dict()
        d["zzz"] = None  # the last value: replaced by the nested arrays
        return [_enc(d)[:-1] + nested]

    def c_long_fields(self):
        if self.rng.random() < 0.5:  # as long as the protocol allows: accepted, and remembered
            edge = getattr(p, "MAX_ID_CHARS", 128)
            gid = (self._id() + "-" + "E" * edge)[:edge]
            return [_enc(_env("grab", "agent", self.me, self._id(), grab_id=gid, inquiry=("q" + "9" * edge)[:edge]))]
        long = "L" * self.rng.randint(1_000, 8_000)
        kind = self.rng.randrange(4)
        if kind == 0:
            d = _env("resolve", "agent", self.me, self._id(), inquiry=long)
        elif kind == 1:
            d = _env("hello", "agent", self.me, long[:2000] + self._id(), client=long)
        elif kind == 2:
            d = _env("grab", "agent", self.me, self._id(), grab_id=self._id() + long, inquiry=self._q())
        else:
            d = _env("query_grabs", "agent", self.me, self._id(), inquiry=long)
        return [_enc(d)]

    def c_oversized(self):
        size = self.rng.randint(self.limit + 1, 4 * self.limit)
        if self.rng.random() < 0.5:
            return [self._bytes(min(size, len(self.pool) - 1))]
        d = self.own_dict()
        d["pad"] = "P" * size  # a well-formed envelope, just too big
        return [_enc(d)]

    def c_grab_flood(self):
        return [_enc(_env("grab", "agent", self.me, self._id(), grab_id=self._id(), inquiry=self._q()))]


# ---------------------------------------------------------------------- the fuzzing process

def _dealer(ctx: zmq.Context, endpoint: str, curve, **opts) -> zmq.Socket:
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    for opt, value in opts.items():
        s.setsockopt(getattr(zmq, opt), value)
    if curve is not None:
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = curve
    s.connect(endpoint)
    return s


def _monitored(ctx, endpoint, curve, wanted: set[int], timeout_s: float, send: bytes | None) -> int | None:
    """Connect a fresh DEALER, optionally send one frame, return the first ``wanted`` event seen."""
    from zmq.utils.monitor import recv_monitor_message

    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RECONNECT_IVL, 10_000)  # one connection, not a retry loop
    if curve is not None:
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = curve
    mon = s.get_monitor_socket()
    try:
        s.connect(endpoint)
        if send is not None:
            s.send(send, copy=False)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if mon.poll(50):
                event = recv_monitor_message(mon)["event"]
                if event in wanted:
                    return event
        return None
    finally:
        s.disable_monitor()
        mon.close(0)
        s.close(0)


def _tcp_garbage(endpoint: str, rng: random.Random) -> bool:
    """One TCP connection that writes garbage instead of ZMTP; True if the write went out."""
    parts = urlsplit(endpoint.replace("tcp://", "//"))
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([3, 0]) + b"NULL".ljust(20, b"\x00") + b"\x00" * 32
    variants = (
        lambda: os.urandom(rng.choice((1, 64, 4096, 65536))),
        lambda: greeting + os.urandom(256),  # a NULL-mechanism greeting at a Curve server, then noise
        lambda: b"\xff" + b"\xff" * 8 + b"\x7f" + bytes([9, 9]) + os.urandom(100),  # a huge length, bad version
        lambda: b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2) as s:
            s.sendall(rng.choice(variants)())
            s.settimeout(0.5)
            with contextlib.suppress(OSError):
                s.recv(4096)  # the broker's greeting, or its hang-up
        return True
    except OSError:
        return False


def _fuzzer(index: int, endpoint: str, frames: int, seed: int, me: str, real_agents: list[str], curve_key,
            curve: bool, limit: int, exclude: list[str], warm_frames: int, warmed, go, abort, results) -> None:
    rng = random.Random(seed)
    gen = Hostile(rng, me, real_agents, curve, limit, exclude)
    ctx = zmq.Context()
    sent = Counter()
    replies = Counter()
    errors = Counter()
    extra = Counter()
    socks = [_dealer(ctx, endpoint, curve_key, RCVHWM=0) for _ in range(SOCKETS)]
    outstanding = {s: 0 for s in socks}
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    flood = _dealer(ctx, endpoint, curve_key, RCVHWM=0) if "pending_flood" not in exclude else None
    no_read = _dealer(ctx, endpoint, curve_key, RCVHWM=1000) if "no_read" not in exclude else None
    flood_every = FLOOD_BURST / FLOOD_SHARE if flood is not None else None
    no_read_every = 100 / NO_READ_SHARE if no_read is not None else None
    specials_at = sorted(rng.sample(range(max(1, frames)), min(frames, BEYOND_CAP_PER_FUZZER
                                                               + UNENROLLED_PER_FUZZER + TCP_GARBAGE_PER_FUZZER)))
    special_kinds = (["beyond_cap"] * BEYOND_CAP_PER_FUZZER + ["unenrolled_key"] * UNENROLLED_PER_FUZZER
                     + ["tcp_garbage"] * TCP_GARBAGE_PER_FUZZER)
    rng.shuffle(special_kinds)
    specials = [(at, kind) for at, kind in zip(specials_at, special_kinds) if kind not in exclude
                and (kind != "unenrolled_key" or curve)]
    total = 0
    next_flood = flood_every or 0
    next_no_read = no_read_every or 0

    def read(sock) -> None:
        while sock.getsockopt(zmq.EVENTS) & _POLLIN:
            data = sock.recv()
            try:
                reply = p.decode_reply(data)
            except msgspec.MsgspecError:
                replies["undecodable"] += 1
                outstanding[sock] -= 1
                continue
            if isinstance(reply, p.SnapshotPart):
                continue
            outstanding[sock] -= 1
            if isinstance(reply, p.Error):
                errors[reply.code.value] += 1
            elif isinstance(reply, p.Verdict):
                replies[f"verdict.{reply.outcome}"] += 1
            else:
                replies[type(reply).__struct_config__.tag] += 1

    def drain(deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while any(outstanding.values()) and time.monotonic() < deadline and not abort.is_set():
            for sock, _ in poller.poll(50):
                read(sock)

    def pending_flood() -> None:
        """A burst past the pending limit on one connection, then read every answer."""
        for _ in range(FLOOD_BURST):
            flood.send(_enc(_env("heartbeat", "agent", me, gen._id())))
        got = 0
        deadline = time.monotonic() + 15
        while got < FLOOD_BURST and time.monotonic() < deadline and not abort.is_set():
            if flood.poll(50):
                while flood.getsockopt(zmq.EVENTS) & _POLLIN:
                    reply = p.decode_reply(flood.recv())
                    got += 1
                    if isinstance(reply, p.Error):
                        errors[reply.code.value] += 1
                    else:
                        replies[type(reply).__struct_config__.tag] += 1
        extra["pending_flood_unanswered"] += FLOOD_BURST - got

    def special(kind: str) -> int:
        """One hostile connection; returns the frames it sent (TCP garbage is no frame)."""
        if kind == "beyond_cap":
            size = 4 * limit + 4096 + rng.randint(1, 65536)
            event = _monitored(ctx, endpoint, curve_key, {zmq.EVENT_DISCONNECTED}, 10.0, b"B" * size)
            extra["beyond_cap_sent"] += 1
            extra["beyond_cap_dropped"] += event == zmq.EVENT_DISCONNECTED
        elif kind == "unenrolled_key":
            public, secret = zmq.curve_keypair()
            key = (curve_key[0], public, secret)
            hello = _enc(_env("hello", "agent", me, gen._id()))
            event = _monitored(ctx, endpoint, key, {zmq.EVENT_HANDSHAKE_FAILED_AUTH,
                                                     zmq.EVENT_HANDSHAKE_SUCCEEDED}, 10.0, hello)
            extra["unenrolled_sent"] += 1
            extra["unenrolled_refused"] += event == zmq.EVENT_HANDSHAKE_FAILED_AUTH
        else:
            extra["tcp_garbage_connections"] += _tcp_garbage(endpoint, rng)
            return 0
        sent[kind] += 1
        return 1

    phase_end = warm_frames
    warming = warm_frames > 0
    last_reply = time.monotonic()
    while True:
        while total < phase_end:
            if abort.is_set():
                break
            if time.monotonic() - last_reply > SILENCE_S:
                extra["gave_up_silent_broker"] += 1  # every window full, nothing back: the broker is gone
                break
            progressed = False
            for sock in socks:
                while outstanding[sock] < WINDOW and total < phase_end:
                    category, parts = gen.next()
                    if len(parts) == 1:
                        sock.send(parts[0], copy=len(parts[0]) < 65536)
                    else:
                        sock.send_multipart(parts)
                    outstanding[sock] += 1
                    sent[category] += 1
                    total += 1
                    progressed = True
                    if specials and total >= specials[0][0]:
                        total += special(specials.pop(0)[1])
                        last_reply = time.monotonic()
                    if flood_every and total >= next_flood:
                        next_flood += flood_every
                        pending_flood()
                        sent["pending_flood"] += FLOOD_BURST
                        total += FLOOD_BURST
                        last_reply = time.monotonic()
                    if no_read_every and total >= next_no_read:
                        next_no_read += no_read_every
                        n = 0
                        for _ in range(100):
                            try:
                                no_read.send(gen.c_random_bytes()[0], _NOBLOCK)
                                n += 1
                            except zmq.Again:
                                break
                        sent["no_read"] += n
                        total += n
            ready = poller.poll(0 if progressed else 20)
            if ready:
                last_reply = time.monotonic()
            for sock, _ in ready:
                read(sock)
        drain(20.0)
        if not warming:
            break
        warming = False
        extra["warm_frames"] = sum(sent.values())
        warmed.set()
        while not go.wait(0.1) and not abort.is_set():
            pass
        phase_end = frames
        last_reply = time.monotonic()
    if not abort.is_set() and not extra["gave_up_silent_broker"]:
        for kind in [k for _, k in specials]:  # any left (a tiny --frames)
            total += special(kind)
    unanswered = sum(outstanding.values())
    for s in socks + [x for x in (flood, no_read) if x is not None]:
        s.close(0)
    ctx.term()
    results.put({"sent": dict(sent), "replies": dict(replies), "errors": dict(errors), "extra": dict(extra),
                 "unanswered": unanswered})


# ---------------------------------------------------------------------- the real floor

def _floor(endpoint: str, agent_ids: list[str], keys, intake_key, rate: float, stop, ok_count, results,
           seed: int) -> None:
    """An intake and ``agent_ids`` grabbing at ``rate`` each, one grab in flight per agent."""
    rng = random.Random(seed)
    ctx = zmq.Context()
    poller = zmq.Poller()
    intake = _dealer(ctx, endpoint, intake_key)
    poller.register(intake, zmq.POLLIN)
    socks = {}
    for agent in agent_ids:
        s = _dealer(ctx, endpoint, None if keys is None else keys[agent])
        poller.register(s, zmq.POLLIN)
        socks[s] = agent
    by_agent = {a: s for s, a in socks.items()}
    submitted = taken = next_id = grabs = 0
    intake_in_flight = 0
    msg = 0
    recent: list[int] = []
    interval = 1.0 / rate
    now = time.monotonic()
    next_at = {a: now + rng.random() * interval for a in agent_ids}
    in_flight: dict[str, tuple[str, float]] = {}  # grab id -> (agent, sent at)
    busy: set[str] = set()
    done: list[tuple[float, float]] = []  # (finished at, latency ms) of grabs with a verdict won/lost
    failed = Counter()

    def pick() -> int | None:
        nonlocal taken
        if recent and rng.random() < 0.3:
            return rng.choice(recent)
        if taken >= submitted:
            return None
        taken += 1
        recent.append(taken - 1)
        if len(recent) > 64:
            del recent[:32]
        return taken - 1

    def on_reply(agent: str | None, data: bytes) -> None:
        nonlocal submitted, intake_in_flight
        reply = p.decode_reply(data)
        if agent is None:
            intake_in_flight -= 1
            if isinstance(reply, p.Submitted):
                submitted += reply.accepted
            return
        if not reply.re.startswith("g"):
            return  # a resolve's answer
        sent = in_flight.pop(reply.re, None)
        if sent is None:
            return  # timed out already
        busy.discard(agent)
        t = time.monotonic()
        if isinstance(reply, p.Verdict) and reply.outcome in ("won", "lost"):
            done.append((t, (t - sent[1]) * 1000.0))
            with ok_count.get_lock():
                ok_count.value += 1
            if reply.outcome == "won":
                by_agent[agent].send(command(p.Resolve, "agent", agent, f"r{reply.re}", inquiry=reply.inquiry))
        elif isinstance(reply, p.Verdict):
            failed[f"verdict.{reply.code.value if reply.code else reply.outcome}"] += 1
        else:
            failed[reply.code.value if isinstance(reply, p.Error) else type(reply).__name__] += 1

    def expire(t: float) -> None:
        for gid, (agent, at) in list(in_flight.items()):
            if t - at > GRAB_TIMEOUT_S:
                del in_flight[gid]
                busy.discard(agent)
                failed["timeout"] += 1

    while not stop.is_set():
        while intake_in_flight < 2 and submitted - taken < INTAKE_LEAD:
            msg += 1
            batch = [p.NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales") for i in range(next_id, next_id + 50)]
            next_id += 50
            intake.send(command(p.Submit, "intake", "bench-intake", f"in-{msg}", inquiries=batch))
            intake_in_flight += 1
        now = time.monotonic()
        soonest = now + 0.05
        for agent in agent_ids:
            if agent in busy:
                continue
            if next_at[agent] <= now:
                idx = pick()
                if idx is None:
                    next_at[agent] = now + interval / 4
                    continue
                grabs += 1
                gid = f"g{agent}-{grabs}"
                in_flight[gid] = (agent, now)
                busy.add(agent)
                by_agent[agent].send(command(p.Grab, "agent", agent, gid, grab_id=gid, inquiry=f"q{idx}"))
                next_at[agent] = max(next_at[agent] + interval, now)
            else:
                soonest = min(soonest, next_at[agent])
        timeout_ms = max(1, int((soonest - time.monotonic()) * 1000))
        for sock, _ in poller.poll(timeout_ms):
            agent = None if sock is intake else socks[sock]
            while sock.getsockopt(zmq.EVENTS) & _POLLIN:
                on_reply(agent, sock.recv())
        expire(time.monotonic())
    deadline = time.monotonic() + GRAB_TIMEOUT_S
    while in_flight and time.monotonic() < deadline:
        for sock, _ in poller.poll(50):
            agent = None if sock is intake else socks[sock]
            while sock.getsockopt(zmq.EVENTS) & _POLLIN:
                on_reply(agent, sock.recv())
    failed["timeout"] += len(in_flight)
    if not failed["timeout"]:
        del failed["timeout"]
    for s in list(socks) + [intake]:
        s.close(0)
    ctx.term()
    results.put({"done": done, "failed": dict(failed)})


# ---------------------------------------------------------------------- the run

def _alive(broker, admin_key) -> bool:
    if broker.proc.poll() is not None:
        return False
    ctx = zmq.Context()
    client = RawClient(ctx, broker.command_endpoint, "admin", "bench", curve=admin_key)
    try:
        return isinstance(client.call(p.Hello, timeout_s=10.0), p.Welcome)
    except (TimeoutError, RuntimeError):
        return False
    finally:
        client.close()
        ctx.term()


def fuzz(frames: int = 100_000, agents: int = 20, agent_rate: float = 10.0, fuzzers: int = 2,
         max_command_bytes: int = 64 * 1024, curve: bool = True, exclude=(), seed: int = 1,
         synchronous: str = "NORMAL", workdir: Path | None = None, warmup_share: float = 0.1) -> dict:
    """Run the whole fuzz against a fresh broker process; returns the figures (see the module doc)."""
    from tools.bench.curve_setup import curve_fixture

    exclude = list(exclude)
    fuzz_ids = [f"fz{i:03d}" for i in range(fuzzers)]
    workdir = Path(workdir or tempfile.mkdtemp(prefix="grabdesk-fuzz-"))
    mctx = mp.get_context("fork")
    with contextlib.ExitStack() as stack:
        setup = None
        if curve:
            setup = stack.enter_context(curve_fixture(agents, extra={f"fuzz-{f}": ("agent", f) for f in fuzz_ids}))
        admin_key = setup["admin"] if setup else None
        broker = start_broker(workdir=workdir, curve_client=admin_key, synchronous=synchronous,
                              max_command_bytes=max_command_bytes,
                              **(setup["broker_fields"] if setup else {}))
        stack.callback(broker.stop)
        zctx = zmq.Context()
        admin = RawClient(zctx, broker.command_endpoint, "admin", "bench", curve=admin_key)
        try:
            real = define_floor(admin, agents, quotas=FLOOR_QUOTAS)
            # the fuzzers' own agents: real identities with a skill no inquiry needs
            admin.call(p.DefineAgents, agents=[p.AgentSpec(id=f, skills={"fuzz_only": 1}) for f in fuzz_ids])
            for f in fuzz_ids:
                admin.call(p.SetStatus, status="online", agent=f)
        finally:
            admin.close()
            zctx.term()  # no live context across fork

        stop = mctx.Event()
        ok_count = mctx.Value("q", 0)
        floor_results = mctx.Queue()
        floor = mctx.Process(target=_floor, args=(
            broker.command_endpoint, real, setup["agent"] if setup else None, setup["intake"] if setup else None,
            agent_rate, stop, ok_count, floor_results, seed), daemon=True)
        floor.start()
        stack.callback(lambda: floor.join(15) if floor.is_alive() else None)
        stack.callback(stop.set)
        deadline = time.monotonic() + 30
        while ok_count.value < agents and time.monotonic() < deadline:
            if not floor.is_alive():
                raise RuntimeError("the real agents' process died before the fuzz started")
            time.sleep(0.02)
        if ok_count.value < agents:
            raise RuntimeError(f"the real agents got only {ok_count.value} verdicts in 30 s; broker log: "
                               f"{broker.log_path}")

        per = [frames // fuzzers + (1 if i < frames % fuzzers else 0) for i in range(fuzzers)]
        warmed = [mctx.Event() for _ in range(fuzzers)]
        go = mctx.Event()
        abort = mctx.Event()
        results = mctx.Queue()
        workers = [mctx.Process(target=_fuzzer, args=(
            i, broker.command_endpoint, per[i], seed * 1000 + i, fuzz_ids[i], real,
            setup["extra"][f"fuzz-{fuzz_ids[i]}"] if setup else None, curve, max_command_bytes, exclude,
            int(per[i] * warmup_share), warmed[i], go, abort, results), daemon=True) for i in range(fuzzers)]
        stack.callback(lambda: [w.join(10) for w in workers])
        stack.callback(abort.set)
        broker_dead = lambda: broker.proc.poll() is not None  # noqa: E731
        t_start = time.monotonic()
        for w in workers:
            w.start()
        # warm-up: a share of every category, so allocator pools and caches exist before the baseline
        while not all(ev.is_set() for ev in warmed):
            if broker_dead() or time.monotonic() - t_start > 300:
                abort.set()
                break
            if not all(w.is_alive() or ev.is_set() for w, ev in zip(workers, warmed)):
                raise RuntimeError("a fuzzing process died during warm-up")
            time.sleep(0.05)
        rss_warm = None if broker_dead() else rss_mb(broker.pid)
        rss_samples = [] if rss_warm is None else [round(rss_warm, 1)]
        t0 = time.monotonic()
        go.set()
        collected = []
        while len(collected) < fuzzers:
            try:
                collected.append(results.get(timeout=1.0))
            except queue.Empty:
                if broker_dead():
                    abort.set()
                else:
                    rss_samples.append(round(rss_mb(broker.pid), 1))
                if time.monotonic() - t0 > 900 or not any(w.is_alive() for w in workers) and results.empty():
                    abort.set()
                    if not any(w.is_alive() for w in workers):
                        break
        t1 = time.monotonic()
        for w in workers:
            w.join(10)
        alive = not broker_dead()
        rss_after = rss_mb(broker.pid) if alive else None
        alive = alive and _alive(broker, admin_key)
        stop.set()
        floor_out = floor_results.get(timeout=60)
        floor.join(15)
        exit_code = broker.stop()

    sent = Counter()
    replies = Counter()
    errors = Counter()
    extra = Counter()
    unanswered = 0
    for c in collected:
        sent.update(c["sent"])
        replies.update(c["replies"])
        errors.update(c["errors"])
        extra.update(c["extra"])
        unanswered += c["unanswered"]
    during = [lat for at, lat in floor_out["done"] if t0 <= at <= t1]
    failed = sum(floor_out["failed"].values())
    frames_sent = sum(sent.values())
    growth = None if rss_after is None or rss_warm is None else round(rss_after - rss_warm, 1)
    result = {
        "frames_sent": frames_sent,
        "broker_alive": alive,
        "agent_grabs_ok": len(floor_out["done"]),
        "agent_grabs_failed": failed,
        "rss_growth_mb": growth,
        "error_replies_by_code": dict(errors.most_common()),
        "other_replies": dict(replies.most_common()),
        "frames_by_category": dict(sent.most_common()),
        "unanswered_frames": unanswered,
        "agent_grabs_ok_during_fuzz": len(during),
        "agent_grab_p50_ms_during_fuzz": round(percentile(during, 50), 2) if during else None,
        "agent_grab_p99_ms_during_fuzz": round(percentile(during, 99), 2) if during else None,
        "agent_failures_by_code": floor_out["failed"],
        "broker_rss_after_warmup_mb": None if rss_warm is None else round(rss_warm, 1),
        "broker_rss_after_mb": None if rss_after is None else round(rss_after, 1),
        "broker_rss_samples_mb": rss_samples,
        "broker_exit_code": exit_code,
        "fuzz_s": round(t1 - t0, 2),
        "frames_per_s": round((frames_sent - extra["warm_frames"]) / max(1e-9, t1 - t0)),
        "beyond_cap_dropped": f"{extra['beyond_cap_dropped']}/{extra['beyond_cap_sent']}",
        "unenrolled_refused": f"{extra['unenrolled_refused']}/{extra['unenrolled_sent']}" if curve else "n/a",
        "tcp_garbage_connections": extra["tcp_garbage_connections"],
        "curve": curve,
        "max_command_bytes": max_command_bytes,
        "hard_cap_bytes": 4 * max_command_bytes + 4096,
        "real_agents": agents,
        "fuzzers": fuzzers,
        "excluded": exclude,
        "broker_log": str(broker.log_path),
    }
    if not alive:
        result["broker_log_tail"] = _tail(broker.log_path)
    result["ok"] = bool(alive and len(during) > 0 and failed == 0 and growth is not None
                        and growth < RSS_BOUND_MB)
    return result


def _tail(path: Path, lines: int = 12) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []
