"""Command dispatch: one decoded command in, its replies out.

Holds the policy the transport must not: it applies the rules of who may
send what and how fast (``broker.arbiter.rules``), turns a refusal into an
error reply and audits what must be. No sockets here, so the whole
command surface is testable with plain function calls; ``server.py`` is the
thin ZeroMQ loop around it. A handler's exception becomes an ``internal``
error reply; the loop never dies of one command.
"""
from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import Counter
from typing import Callable

import msgspec

import broker.wire.reasons as reasons
from broker.wire import protocol as p
from broker.arbiter import rules
from broker.arbiter.core import Arbiter, Refusal
from broker.wire.protocol import ErrorCode

log = logging.getLogger(__name__)

#: at most one log line per (kind of problem) in this many seconds
LOG_EVERY_S = 5.0


class ThrottledLog:
    """Logs a kind of problem once per interval with the count it suppressed,
    so a flood of bad frames cannot flood the log."""

    def __init__(self, logger: logging.Logger, every_s: float = LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic):
        self._log = logger
        self._every = every_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def warning(self, key: str, message: str, *args, **fields) -> None:
        """``fields`` go to the record as ``extra`` (structured logs, broker/service/logs.py)."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._every:
            self._suppressed[key] += 1
            return
        self._last[key] = now
        extra = self._suppressed.pop(key, 0)
        if extra:
            message += f" (and {extra} more like it)"
            fields["suppressed"] = extra
        self._log.warning(message, *args, extra=fields)


class Peer(msgspec.Struct):
    """What the transport knows about a sender: its authenticated identity, if any."""

    #: (role, who) bound to the client's key by CurveZMQ; None without authentication
    authenticated: tuple[str, str] | None = None


Replies = list[p.Reply | p.SnapshotPartOut]


class Service:
    def __init__(self, core: Arbiter, store=None, *, max_command_bytes: int = p.MAX_COMMAND_BYTES,
                 heartbeat_s: float = 1.0, broker_name: str = "grabdesk", grab_rate_per_s: float = 50.0,
                 time_scale: float = 1.0,
                 on_shutdown: Callable[[str], None] | None = None,
                 on_roster: Callable[[str, str, str, str], str] | None = None,
                 stats_query: Callable[[float, float], list] | None = None):
        self.core = core
        self.store = store
        self.max_command_bytes = max_command_bytes
        self.heartbeat_s = heartbeat_s
        #: floor seconds per real second of the core's clock, told to every client
        self.time_scale = time_scale
        self.broker_name = broker_name
        self.epoch = uuid.uuid4().hex[:12]
        #: set by an active/standby pair (pair.py): the shard, and when this broker took it over
        self.shard = ""
        self.active_since: float | None = None
        self.counters: Counter[str] = Counter()
        self._on_shutdown = on_shutdown
        #: hooks the floor views provide (broker/service/floor.py); without them the commands say so
        self.on_roster = on_roster
        self.stats_query = stats_query
        #: fn(since) -> the floor's recent queue samples (the floor views provide it)
        self.queue_history: Callable[[float], list[p.QueueSample]] | None = None
        #: latest periodic views, so a snapshot carries them (set by the floor views)
        self.latest_metrics: p.FloorMetrics | None = None
        self.latest_coverage: p.CoverageRecord | None = None
        self._bad_log = ThrottledLog(log)
        self.grab_limit = rules.GrabRateLimit(grab_rate_per_s, 2.0 * grab_rate_per_s, time.monotonic)
        #: called with each command that succeeded (floor views refresh coverage on some)
        self.after_success: list[Callable[[p.Command], None]] = []
        #: called with each hello and heartbeat: every client sends one a second (metrics count
        #: connected clients from them, at no cost per grab)
        self.on_heartbeat: list[Callable[[p.Command], None]] = []
        self._handlers: dict[type, Callable[[p.Command], Replies]] = {
            p.Hello: self._hello,
            p.Heartbeat: self._heartbeat,
            p.Snapshot: self._snapshot,
            p.Grab: self._grab,
            p.FirstResponse: lambda c: self._ok(c, self.core.respond(c.who, c.inquiry)),
            p.Resolve: lambda c: self._ok(c, self.core.resolve(c.who, c.inquiry, c.satisfaction)),
            p.Release: lambda c: self._ok(c, self.core.release(c.who, c.inquiry)),
            p.Transfer: lambda c: self._ok(c, self.core.transfer(c.who, c.inquiry, c.to_agent)),
            p.TransferToPool: lambda c: self._ok(c, self.core.transfer_to_pool(c.who, c.inquiry, c.skill, c.note)),
            p.AcknowledgeAlert: lambda c: self._ok(c, self.core.ack_alert(c.alert, c.who, c.reason)),
            p.QueryAgentGrabs: self._query_agent_grabs,
            p.QueryCustomer: self._query_customer,
            p.QueryQueueHistory: self._query_queue_history,
            p.SetStatus: self._set_status,
            p.Submit: self._submit,
            p.Abandon: lambda c: self._ok(c, self.core.abandon(c.inquiry, c.who)),
            p.SetQuotas: lambda c: self._ok(c, self.core.set_quotas(
                c.quotas, c.who, c.reason, agent_id=c.agent, group_id=c.group)),
            p.Reassign: lambda c: self._ok(c, self.core.reassign(c.inquiry, c.to_agent, c.who, c.reason)),
            p.SetMode: lambda c: self._ok(c, self.core.set_mode(c.shop, c.mode, c.hybrid_after_s,
                                                                c.who, c.reason)),
            p.SetQuality: lambda c: self._ok(c, self.core.set_quality(c.agent, c.quality, c.who, c.reason)),
            p.DefineAgents: self._define_agents,
            p.DefineShop: lambda c: self._ok(c, self.core.define_shop(c.shop, c.who)),
            p.DefineGroup: lambda c: self._ok(c, self.core.define_group(c.group, c.who)),
            p.QueryGrabs: self._query_grabs,
            p.QueryAudit: self._query_audit,
            p.ReplaceRoster: self._replace_roster,
            p.QueryStats: self._query_stats,
            p.Shutdown: self._shutdown,
            p.CustomerMessage: lambda c: self._ok(c, self.core.customer_message(c.inquiry, c.text, c.who)),
            p.RobotAnswer: lambda c: self._ok(c, self.core.robot_answer(c.who, c.inquiry, c.text, c.skill)),
            p.RobotEscalate: lambda c: self._ok(c, self.core.robot_escalate(
                c.who, c.inquiry, c.skill, c.reason, c.priority_bump, c.note)),
            p.RobotReport: lambda c: self._ok(c, self.core.robot_report(
                c.who, c.answering, c.decided, c.errors, c.last_error)),
            p.QueryTranscript: self._query_transcript,
        }

    # ------------------------------------------------------------------ entry

    def handle(self, data: bytes, peer: Peer | None = None) -> Replies:
        """Decode and run one command frame; always returns at least one reply."""
        self.counters["commands"] += 1
        try:
            cmd = p.decode_command(data, self.max_command_bytes)
        except p.DecodeFailure as failure:
            self.counters["bad_requests"] += 1
            self.counters[f"refused.{failure.code.value}"] += 1
            self._bad_log.warning(f"decode.{failure.code.value}", "refused a frame: %s: %s",
                                  failure.code.value, failure.reason, event="frame.refused",
                                  code=failure.code.value)
            return [p.Error(re=failure.msg_id, code=failure.code, reason=failure.reason,
                            detail=failure.detail, key=failure.key, params=failure.params)]
        except Exception:  # no frame, however strange, may stop the loop
            log.exception("unexpected failure decoding a frame")
            self.counters["bad_requests"] += 1
            return [p.Error(re="", code=ErrorCode.BAD_REQUEST, reason="the frame could not be decoded")]
        return self.run(cmd, peer)

    def run(self, cmd: p.Command, peer: Peer | None = None) -> Replies:
        kind = _type_of(cmd)
        refusal = self._authorize(cmd, kind, peer)
        if refusal is not None:
            self._bad_log.warning(f"auth.{refusal.code.value}", "refused %s from %s/%s: %s",
                                  kind, cmd.role, cmd.who, refusal.reason, event="command.refused",
                                  code=refusal.code.value, command=kind, role=cmd.role, who=cmd.who,
                                  agent=cmd.who if cmd.role == "agent" else getattr(cmd, "agent", None),
                                  inquiry=getattr(cmd, "inquiry", None))
            return self._refused(cmd, kind, refusal, audit=kind not in _NOT_AUDITED_WHEN_REFUSED)
        if cmd.role == "agent":
            self.core.seen(cmd.who)
        elif cmd.role == "robot":
            self.core.robot_seen(cmd.who)
        # supervisors' actions, and an admin acting on an agent's behalf, are audited
        audited = (cmd.role in ("supervisor", "admin") and kind in _AUDITED) or \
            (cmd.role == "admin" and kind in p.AGENT_COMMANDS)
        try:
            replies = self._handlers[type(cmd)](cmd)
        except Refusal as refusal:
            return self._refused(cmd, kind, refusal, audit=audited)
        except Exception:  # a bug in one handler must not take the broker down
            log.exception("internal error handling %s from %s", kind, cmd.who,
                          extra={"event": "command.failed", "command": kind, "who": cmd.who})
            self.counters["internal_errors"] += 1
            return [p.Error(re=cmd.id, code=ErrorCode.INTERNAL, reason=reasons.sentence("internal", {}),
                            key="internal")]
        if audited:
            self.core.audit(cmd.who, cmd.role, kind, _subject_of(cmd), getattr(cmd, "reason", "") or "", True)
        for hook in self.after_success:
            hook(cmd)
        return replies

    def _refused(self, cmd: p.Command, kind: str, refusal: Refusal, audit: bool) -> Replies:
        self.counters[f"refused.{refusal.code.value}"] += 1
        if audit:
            self.core.audit(cmd.who, cmd.role, kind, _subject_of(cmd), refusal.reason, False)
        return [p.Error(re=cmd.id, code=refusal.code, reason=refusal.reason, detail=_plain(refusal.detail),
                        key=refusal.key, params=_plain(refusal.params))]

    def _authorize(self, cmd: p.Command, kind: str, peer: Peer | None) -> Refusal | None:
        return rules.authorize(kind, cmd.role, cmd.who,
                               authenticated=peer.authenticated if peer is not None else None,
                               enrolled_agent=cmd.who in self.core.agents,
                               status_target=cmd.agent if isinstance(cmd, p.SetStatus) else None)

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _ok(cmd: p.Command, record=None, text: str = "") -> Replies:
        return [p.Ok(re=cmd.id, text=text, record=record)]

    def _heartbeat(self, cmd: p.Heartbeat) -> Replies:
        for hook in self.on_heartbeat:
            hook(cmd)
        return [p.Ok(re=cmd.id)]

    def _hello(self, cmd: p.Hello) -> Replies:
        for hook in self.on_heartbeat:
            hook(cmd)
        agent = self.core.agents.get(cmd.who) if cmd.role == "agent" else None
        return [p.Welcome(re=cmd.id, broker=self.broker_name, epoch=self.epoch, now=self.core.clock(),
                          time_scale=self.time_scale, heartbeat_s=self.heartbeat_s, max_command_bytes=self.max_command_bytes,
                          agent=agent, agent_timeout_s=self.core.config.agent_timeout_s / self.time_scale, shard=self.shard,
                          active_since=self.active_since)]

    def _grab(self, cmd: p.Grab) -> Replies:
        too_fast = self.grab_limit.check(cmd.who)
        if too_fast is not None:
            raise too_fast
        verdict = self.core.grab(cmd.who, cmd.inquiry, cmd.grab_id)
        self.counters[f"grab.{verdict.outcome}"] += 1
        return [p.Verdict(re=cmd.id, grab_id=cmd.grab_id, inquiry=verdict.inquiry,
                          outcome=verdict.outcome,  # type: ignore[arg-type]
                          code=verdict.code, reason=verdict.reason, winner=verdict.winner,
                          won_at=verdict.won_at, key=verdict.key, params=dict(verdict.params))]

    def _set_status(self, cmd: p.SetStatus) -> Replies:
        agent_id = cmd.agent or cmd.who
        return self._ok(cmd, self.core.set_status(agent_id, cmd.status, cmd.who))

    def _submit(self, cmd: p.Submit) -> Replies:
        accepted = 0
        rejected = []
        for index, new in enumerate(cmd.inquiries):
            try:
                self.core.submit(new, cmd.who)
                accepted += 1
            except Refusal as refusal:
                rejected.append(p.Rejected(index, refusal.code, refusal.reason))
        self.counters["submitted"] += accepted
        return [p.Submitted(re=cmd.id, accepted=accepted, rejected=rejected)]

    def _define_agents(self, cmd: p.DefineAgents) -> Replies:
        for spec in cmd.agents:
            self.core.define_agent(spec, cmd.who)
        return self._ok(cmd, text=f"{len(cmd.agents)} agents defined")

    def _snapshot(self, cmd: p.Snapshot) -> Replies:
        wanted = set(cmd.streams) if cmd.streams else None
        records = [msgspec.Raw(p.encode(record))
                   for record in itertools.chain(self.core.snapshot_records(), self.extra_snapshot_records())
                   if wanted is None or _stream_of_record(record) in wanted]
        replies: Replies = []
        step = p.SNAPSHOT_PART_RECORDS
        for start in range(0, len(records), step):
            replies.append(p.SnapshotPartOut(re=cmd.id, records=records[start:start + step]))
        replies.append(p.SnapshotEnd(re=cmd.id, epoch=self.epoch, seq=self.core.seq,
                                     streams=dict(self.core.stream_last), now=self.core.clock(),
                                     time_scale=self.time_scale, records=len(records)))
        return replies

    def extra_snapshot_records(self) -> list:
        """The latest periodic views (metrics, coverage) the floor views published."""
        return [r for r in (self.latest_metrics, self.latest_coverage) if r is not None]

    def _query_grabs(self, cmd: p.QueryGrabs) -> Replies:
        if self.store is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "feature.no_grab_history", {})
        attempts = self.store.grab_history(cmd.inquiry)
        inq = self.core.inquiries.get(cmd.inquiry)
        winner = inq.owner if inq is not None else next(
            (a.agent for a in reversed(attempts) if a.outcome == "won"), None)
        if not attempts and inq is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "grabs.none", {"inquiry": cmd.inquiry})
        return [p.GrabHistory(re=cmd.id, inquiry=cmd.inquiry, winner=winner, attempts=attempts)]

    def _query_agent_grabs(self, cmd: p.QueryAgentGrabs) -> Replies:
        if self.store is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "feature.no_grab_history", {})
        if cmd.agent not in self.core.agents:
            raise Refusal.because(ErrorCode.NOT_FOUND, "agent.unknown", {"agent": cmd.agent}, field="agent")
        return [p.AgentGrabs(re=cmd.id, agent=cmd.agent, attempts=self.store.agent_grabs(cmd.agent, _rows(cmd.limit)))]

    def _query_customer(self, cmd: p.QueryCustomer) -> Replies:
        if self.store is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "feature.no_history", {})
        return [p.CustomerHistory(re=cmd.id, customer=cmd.customer,
                                  inquiries=self.store.customer_history(cmd.customer, _rows(cmd.limit)))]

    def _query_queue_history(self, cmd: p.QueryQueueHistory) -> Replies:
        samples = self.queue_history(cmd.since) if self.queue_history is not None else []
        return [p.QueueSamples(re=cmd.id, samples=samples)]

    def _query_audit(self, cmd: p.QueryAudit) -> Replies:
        if self.store is None:
            return [p.AuditPage(re=cmd.id, entries=[])]
        # the store bounds the limit
        return [p.AuditPage(re=cmd.id, entries=self.store.audit(cmd.limit, cmd.actor, cmd.kind_prefix,
                                                                cmd.only_refusals))]

    def _replace_roster(self, cmd: p.ReplaceRoster) -> Replies:
        if self.on_roster is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "feature.no_rosters", {})
        text = self.on_roster(cmd.fmt, cmd.text, cmd.who, cmd.reason)
        return self._ok(cmd, text=text)

    def _query_stats(self, cmd: p.QueryStats) -> Replies:
        if self.stats_query is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "feature.no_stats", {})
        if cmd.until <= cmd.since:
            raise Refusal.because(ErrorCode.BAD_REQUEST, "value.period", {}, field="until")
        return [p.Stats(re=cmd.id, since=cmd.since, until=cmd.until,
                        rows=self.stats_query(cmd.since, cmd.until))]

    def _query_transcript(self, cmd: p.QueryTranscript) -> Replies:
        record = self.core.transcript(cmd.inquiry)
        if record is None and self.store is not None and cmd.inquiry not in self.core.inquiries:
            record = self.store.transcript(cmd.inquiry)
        if record is None:
            raise Refusal.because(ErrorCode.NOT_FOUND, "transcript.none", {"inquiry": cmd.inquiry})
        return [p.Transcript(re=cmd.id, inquiry=cmd.inquiry, transcript=record)]

    def _shutdown(self, cmd: p.Shutdown) -> Replies:
        if self._on_shutdown is not None:
            self._on_shutdown(cmd.reason or f"requested by {cmd.who}")
        return self._ok(cmd, text="shutting down")


_AUDITED = p.SUPERVISOR_COMMANDS - {"query_audit"} | p.ADMIN_COMMANDS | {"set_status"}
#: a misconfigured client repeats these every second; logging them is enough
_NOT_AUDITED_WHEN_REFUSED = frozenset({"hello", "heartbeat", "snapshot"})


def _rows(limit: int) -> int:
    """A history query's row limit, clamped to what one reply may carry."""
    return min(max(limit, 1), p.MAX_HISTORY_ROWS)


def _type_of(cmd: p.Command) -> str:
    return type(cmd).__struct_config__.tag  # type: ignore[attr-defined]


def _subject_of(cmd: p.Command) -> str:
    """What an audit entry is about. Bounded like every identifier: a refused command is
    audited before anything checks its fields, and a record's id has no length limit."""
    for name in ("inquiry", "agent", "group", "shop", "alert"):
        value = getattr(cmd, name, None)
        if value is not None and not isinstance(value, str):
            value = getattr(value, "id", None)
        if isinstance(value, str):
            return value[:p.MAX_ID_CHARS]
    return ""


def _plain(detail: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float)) or v is None else str(v)) for k, v in detail.items()}


_RECORD_STREAM = {
    p.InquiryRecord: "inquiry", p.AgentRecord: "agent", p.ShopRecord: "config",
    p.GroupRecord: "config", p.FloorMetrics: "metrics", p.CoverageRecord: "coverage",
    p.Alert: "alert", p.AuditEntry: "audit", p.RobotRecord: "robot", p.TranscriptRecord: "transcript",
}


def _stream_of_record(record) -> str:
    return _RECORD_STREAM.get(type(record), "config")
