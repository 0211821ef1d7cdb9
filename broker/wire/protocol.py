"""Every message grabdesk puts on the wire, as typed msgspec structs.

Broker and clients import this one module, so they cannot disagree about a
field. `docs/protocol.md` is the normative description for implementers in
other languages; this module is its executable form.

Wire summary (details in docs/protocol.md):

* Commands: client DEALER -> broker ROUTER, one frame, a MessagePack map.
  Every command carries the envelope fields ``v`` (protocol version), ``id``
  (client-chosen message id), ``role`` and ``who`` (the identity it acts as)
  and ``type`` (which command).
* Replies: broker ROUTER -> the DEALER that asked, one frame each, with
  ``re`` naming the command's ``id``. A snapshot is answered by several
  ``snapshot_part`` replies and one ``snapshot_end``.
* Events: broker PUB, two frames ``[topic, body]``. The topic is a stream
  name plus a dot (``b"inquiry."``); the body is an ``EventFrame`` carrying
  one or more events, each with the broker-wide sequence number ``seq``, and
  ``prev``: the seq of the last event of the frame before on the same stream,
  so a subscriber to any subset of streams detects a gap.
"""
from __future__ import annotations

import enum
from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta, Raw, Struct, field

import broker.wire.reasons as reasons

PROTOCOL_VERSION = 1
#: where a broker listens unless told otherwise (loopback: without keys it must not be reachable)
DEFAULT_COMMAND_ENDPOINT = "tcp://127.0.0.1:5570"
DEFAULT_EVENTS_ENDPOINT = "tcp://127.0.0.1:5571"
#: default ceiling on one command frame; the broker's config may lower/raise it
MAX_COMMAND_BYTES = 1 << 20
#: records per ``snapshot_part`` reply, small enough to never block a peer
SNAPSHOT_PART_RECORDS = 500

#: streams a subscriber may choose from; the PUB topic is ``name + "."``
STREAMS = ("inquiry", "agent", "config", "metrics", "alert", "coverage", "audit", "transcript", "robot")
#: broker liveness frames, outside the sequence chain
HEARTBEAT_TOPIC = b"hb."

#: identifiers a client sends (ids, names); bounded so nobody can make the broker
#: remember megabytes per grab in its verdict memory
MAX_ID_CHARS = 128
#: a sentence's parameters (broker/wire/reasons.py): plain values only
Params = dict[str, str | int | float | None]
#: free text a client sends (reasons, client names)
MAX_TEXT_CHARS = 1_000
Id = Annotated[str, Meta(max_length=MAX_ID_CHARS)]
Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]

Role = Literal["agent", "supervisor", "intake", "admin", "robot"]
AgentStatus = Literal["online", "away", "break", "offline"]
ShopMode = Literal["grab", "assign", "hybrid"]
#: "robot": with the robot first line (not in the pool, not grabbable; docs/robot.md)
InquiryState = Literal["queued", "held", "resolved", "abandoned", "robot"]
#: the states of an open inquiry
OPEN_STATES = ("queued", "held", "robot")
Outcome = Literal["won", "lost", "refused"]


class ErrorCode(str, enum.Enum):
    """Stable error codes. Clients branch on these, never on the sentence."""

    NOT_FOUND = "not-found"
    ALREADY_TAKEN = "already-taken"
    NOT_ELIGIBLE = "not-eligible"
    QUOTA_CONCURRENT = "quota-concurrent"
    QUOTA_DAILY = "quota-daily"
    QUOTA_HOURS = "quota-hours"
    FORBIDDEN = "forbidden"
    BAD_REQUEST = "bad-request"
    UNSUPPORTED_VERSION = "unsupported-version"
    TOO_LARGE = "too-large"
    INVALID_STATE = "invalid-state"
    RATE_LIMITED = "rate-limited"
    TOO_MANY_PENDING = "too-many-pending"
    UNAUTHENTICATED = "unauthenticated"
    INTERNAL = "internal"
    #: this broker is a standby; detail names the active one (docs/protocol.md)
    NOT_ACTIVE = "not-active"


# --------------------------------------------------------------------------
# Records: the state the broker owns, as carried in snapshots and events.
# The broker's core keeps its live state in these very structs.
# --------------------------------------------------------------------------

class Quotas(Struct, omit_defaults=True):
    """Quota limits. ``None`` means "inherit" (agent -> group -> broker default)."""

    concurrent_cap: int | None = None
    daily_grabs: int | None = None
    continuous_hours: float | None = None
    break_minutes: float | None = None


#: the four limits, in the order a supervisor reads them
QUOTA_FIELDS: tuple[str, ...] = Quotas.__struct_fields__


class SlaPolicy(Struct, omit_defaults=True):
    first_response_s: float = 600.0
    resolution_s: float = 1200.0
    warn_pct: float = 80.0
    #: an owner who has not responded this long after taking it loses it (恶意抢单)
    silent_reclaim_s: float = 180.0


class TierRule(Struct, omit_defaults=True):
    """Quality tier: agents whose score is at least ``min_score`` fall in it."""

    name: str
    min_score: float
    visibility_delay_s: float = 0.0
    cap: int | None = None


class FairShare(Struct, omit_defaults=True):
    """Damp 强者恒强: agents far above their group's mean recent load (takes
    fading with a half-life of 30 min) see new inquiries later. The defaults
    are what the policy lab found best (docs/lab.md)."""

    enabled: bool = False
    factor: float = 1.1
    delay_s: float = 10.0
    #: no damping until the group's mean recent load is at least this many takes
    min_mean_grabs: float = 3.0


class ShopRecord(Struct, tag="shop", omit_defaults=True):
    id: str
    name: str = ""
    mode: ShopMode = "grab"
    #: hybrid: agents may grab this long, then the assist assigns (it shrinks the delay as the
    #: pool grows and the deadline nears; broker/arbiter/assist.py, docs/lab.md)
    hybrid_after_s: float = 14.0
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    sla_by_skill: dict[str, SlaPolicy] = field(default_factory=dict)
    #: new inquiries go to the robot first line while a robot is connected
    robot: bool = False


class GroupRecord(Struct, tag="group", omit_defaults=True):
    id: str
    name: str = ""
    quotas: Quotas = field(default_factory=Quotas)
    fair_share: FairShare = field(default_factory=FairShare)


class AgentRecord(Struct, tag="agent", omit_defaults=True, gc=False):
    id: str
    name: str = ""
    group: str = ""
    #: skill -> proficiency 1..5
    skills: dict[str, int] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    #: shops this agent serves; empty means every shop
    shops: list[str] = field(default_factory=list)
    status: AgentStatus = "offline"
    quality: float = 80.0
    tier: str = ""
    #: per-agent overrides; ``effective`` is what the broker enforces now
    quotas: Quotas = field(default_factory=Quotas)
    effective: Quotas = field(default_factory=Quotas)
    held: int = 0
    grabs_today: int = 0
    day: str = ""
    #: start of the current stretch of continuous service
    service_since: float | None = None
    #: when the agent last stopped being online (a long enough absence is a rest)
    away_since: float | None = None
    break_until: float | None = None
    forced_break: bool = False
    idle_since: float = 0.0
    visibility_delay_s: float = 0.0
    last_seen: float = 0.0
    reclaims_today: int = 0
    #: the ErrorCode value the broker would refuse handing this agent an inquiry with
    #: right now (a transfer or a reassignment: status, forced break, concurrent cap,
    #: continuous hours); "" when it would not. "quota-concurrent" is the at-cap flag.
    #: A str, not an ErrorCode, so a client older than a new code still decodes it.
    unavailable: str = ""


class AgentLoad(Struct, tag="agent_load", omit_defaults=True, gc=False):
    """What decisions change on an agent: its load. Published as ``agent.load`` (one per
    agent per batch of decisions, however many touched it) instead of the whole
    AgentRecord; a client sets these fields on the agent it holds (``applied_to``)."""

    id: str
    held: int = 0
    grabs_today: int = 0
    reclaims_today: int = 0
    day: str = ""
    idle_since: float = 0.0
    unavailable: str = ""

    def applied_to(self, agent: AgentRecord) -> AgentRecord:
        """``agent`` with this load: a new record, the old one is left as it was."""
        return msgspec.structs.replace(
            agent, held=self.held, grabs_today=self.grabs_today, reclaims_today=self.reclaims_today,
            day=self.day, idle_since=self.idle_since, unavailable=self.unavailable)

    @classmethod
    def of(cls, agent: AgentRecord) -> "AgentLoad":
        return cls(id=agent.id, held=agent.held, grabs_today=agent.grabs_today,
                   reclaims_today=agent.reclaims_today, day=agent.day, idle_since=agent.idle_since,
                   unavailable=agent.unavailable)


class InquiryRecord(Struct, tag="inquiry", omit_defaults=True, gc=False):
    id: str
    shop: str
    skill: str
    language: str = "zh"
    channel: str = "chat"
    priority: int = 0
    customer: str = ""
    #: when the customer first asked; never reset, so a released inquiry keeps its wait
    arrived_at: float = 0.0
    #: when it (re-)entered the pool; visibility delays count from here
    queued_at: float = 0.0
    state: InquiryState = "queued"
    owner: str | None = None
    #: "grab", "assign", "transfer", "reassign"
    taken_by: str = ""
    taken_at: float | None = None
    #: the customer's first answer; kept across releases and transfers
    first_response_at: float | None = None
    #: the current owner's latest answer; an owner silent since taking it loses it
    owner_responded_at: float | None = None
    closed_at: float | None = None
    satisfaction: int | None = None
    #: SLA flags raised so far: "first_response.warn", "resolution.breach", ...
    #: (a tuple of strings, which the cyclic GC does not track)
    sla: tuple[str, ...] = ()
    #: the SLA deadlines on the broker's clock, fixed when the inquiry arrived
    #: (counted from arrived_at, by the shop's policy for its skill then in force)
    first_response_due: float | None = None
    resolution_due: float | None = None
    #: the note of the last transfer to another skill's pool, for whoever takes it next
    note: str = ""
    #: the robot holding it while ``state`` is "robot"
    robot: str = ""
    #: while with the robot: when it last answered (it awaits the customer's next message)
    robot_answered_at: float | None = None
    #: why the robot handed it to people ("complaint", "robot-timeout", ...; docs/robot.md)
    escalation: str = ""


class NewInquiry(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """What a channel gateway submits; the broker fills in the rest."""

    id: Id
    shop: Id
    #: "" lets the robot infer it (the broker's fallback skill when no robot takes it)
    skill: Id = ""
    language: Id = "zh"
    channel: Id = "chat"
    priority: int = 0
    customer: Id = ""
    #: defaults to the broker's clock at intake
    arrived_at: float | None = None
    #: what the customer wrote first: the inquiry's transcript starts with it
    message: str = ""


class AgentSpec(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Definition of an agent (admin ``define``, or the config file)."""

    id: Id
    name: Id = ""
    group: Id = ""
    skills: dict[Id, int] = field(default_factory=dict)
    languages: list[Id] = field(default_factory=lambda: ["zh"])
    channels: list[Id] = field(default_factory=list)
    shops: list[Id] = field(default_factory=list)
    quality: float = 80.0
    quotas: Quotas = field(default_factory=Quotas)


class FloorMetrics(Struct, tag="metrics", omit_defaults=True):
    at: float
    queue_by_skill: dict[str, int] = field(default_factory=dict)
    #: skill -> [inquiry id, wait seconds] of the longest waiter
    longest_wait: dict[str, tuple[str, float]] = field(default_factory=dict)
    held_total: int = 0
    agents_online: int = 0
    agents_at_cap: int = 0
    gini_by_group: dict[str, float] = field(default_factory=dict)
    #: "first_response"/"resolution" x "hour"/"today" -> fraction met
    sla_attainment: dict[str, float] = field(default_factory=dict)
    #: "time_to_grab"/"first_response"/"resolution" -> [p50_s, p90_s]
    times_s: dict[str, tuple[float, float]] = field(default_factory=dict)
    abandoned_today: int = 0
    resolved_today: int = 0
    arrivals_last_hour: int = 0
    bad_requests: int = 0
    grabs_total: int = 0
    #: the broker loop's longest turn (read, decide, commit, reply, publish, one slice of
    #: periodic work) since the previous metrics, in ms: how long a command can wait unread
    loop_max_turn_ms: float = 0.0
    #: the CPU time of the loop's costliest turn since the previous metrics, in ms (what the
    #: broker's own work costs, without waits on the disk or for a busy host's CPU)
    loop_max_turn_cpu_ms: float = 0.0
    #: the most CPU time the periodic work (timers, the agent sweep, a slice of metrics) took
    #: of one turn, in ms: what the loop adds to a command's wait besides deciding and committing
    loop_max_periodic_cpu_ms: float = 0.0
    #: the robot first line: inquiries with it now, and over the last hour and today those
    #: it closed without a person (contained) and those it handed to people (escalated)
    robot_holding: int = 0
    robot_contained_hour: int = 0
    robot_escalated_hour: int = 0
    robot_contained_today: int = 0
    robot_escalated_today: int = 0
    #: skill -> [contained, escalated] over the last hour
    robot_by_skill: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: contained / (contained + escalated) over the last hour and today; None before any
    robot_containment_hour: float | None = None
    robot_containment_today: float | None = None


class Alert(Struct, tag="alert", omit_defaults=True, gc=False):
    id: str
    kind: str  # reasons.ALERT_KINDS: "sla.warn", "sla.breach", "silent_grab", ...
    severity: Literal["info", "warning", "critical"]
    at: float
    #: the English sentence; ``key`` and ``params`` let a client say it in its user's language
    text: str
    inquiry: str | None = None
    agent: str | None = None
    group: str | None = None
    skill: str | None = None
    key: str = ""
    params: Params = field(default_factory=dict)
    #: the supervisor who took it in hand (``ack_alert``), when, and their note
    acked_by: str | None = None
    acked_at: float | None = None
    ack_note: str = ""


class CoverageCellRecord(Struct, array_like=True):
    hour_start: float
    skill: str
    rostered: int
    required: int
    gap: int


class NowCoverage(Struct, array_like=True):
    skill: str
    rostered: int
    online: int
    at_cap: int


class CoverageRecord(Struct, tag="coverage", omit_defaults=True):
    at: float
    cells: list[CoverageCellRecord] = field(default_factory=list)
    now: list[NowCoverage] = field(default_factory=list)
    #: when ``cells`` were computed (floor time): ``at`` moves with the "now" column, the cells
    #: only when recomputed from the forecast and the measured handling times
    cells_at: float | None = None


class AuditEntry(Struct, tag="audit", omit_defaults=True, gc=False):
    seq: int
    at: float
    actor: str
    role: str
    kind: str
    subject: str = ""
    reason: str = ""
    ok: bool = True


class TranscriptLine(Struct, array_like=True, gc=False):
    at: float
    #: "customer", "robot" or "agent"
    who: str
    text: str


class TranscriptRecord(Struct, tag="transcript", omit_defaults=True, gc=False):
    """What the customer wrote and what the robot replied, bounded in size (docs/protocol.md,
    "Transcripts"). Published on the ``transcript`` stream, never in inquiry events."""

    #: the inquiry's id
    id: str
    shop: str = ""
    customer: str = ""
    #: the robot asked to decide on the latest customer line; "" when nobody is
    robot: str = ""
    lines: list[TranscriptLine] = field(default_factory=list)
    #: lines dropped after the first to keep it within the broker's bound
    dropped: int = 0


class RobotRecord(Struct, tag="robot", omit_defaults=True, gc=False):
    """A robot first line as the broker sees it (stream ``robot``)."""

    id: str
    connected: bool = False
    #: the floor's time of its last command or heartbeat
    last_seen: float = 0.0
    #: inquiries it holds now (awaiting its decision or the customer)
    holding: int = 0
    #: what the robot reports of itself (``robot_report``)
    answering: bool = False
    decided: int = 0
    errors: int = 0
    last_error: str = ""
    last_error_at: float | None = None


# Records and events set gc=False: they never reference each other in cycles, and a
# broker holding 100,000 open inquiries must not have Python's cyclic GC walk them all
# (full collections took 35-280 ms on the decision loop before this).

Record = Union[
    InquiryRecord, AgentRecord, AgentLoad, ShopRecord, GroupRecord, FloorMetrics, Alert,
    CoverageRecord, AuditEntry, TranscriptRecord, RobotRecord,
]


# --------------------------------------------------------------------------
# Commands (client -> broker)
# --------------------------------------------------------------------------

class Command(Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True,
              omit_defaults=True):
    v: int
    id: Id
    role: Role
    who: Id


class Hello(Command, tag="hello", kw_only=True):
    client: Text = ""


class Heartbeat(Command, tag="heartbeat", kw_only=True):
    pass


class Snapshot(Command, tag="snapshot", kw_only=True):
    #: streams whose state the client wants; empty means all
    streams: list[str] = field(default_factory=list)


class Grab(Command, tag="grab", kw_only=True):
    grab_id: Id
    inquiry: Id


class FirstResponse(Command, tag="respond", kw_only=True):
    inquiry: Id


class Resolve(Command, tag="resolve", kw_only=True):
    inquiry: Id
    satisfaction: int | None = None


class Release(Command, tag="release", kw_only=True):
    inquiry: Id


class Transfer(Command, tag="transfer", kw_only=True):
    inquiry: Id
    to_agent: Id


class TransferToPool(Command, tag="transfer_to_pool", kw_only=True):
    """Hand a held inquiry to another skill's pool (pre-sales to after-sales) with a note;
    it keeps its arrival time, so its wait and SLA go on."""

    inquiry: Id
    skill: Id
    note: Text = ""


class SetStatus(Command, tag="set_status", kw_only=True):
    status: AgentStatus
    #: defaults to ``who``; another agent only for supervisors
    agent: Id | None = None


class Submit(Command, tag="submit", kw_only=True):
    inquiries: list[NewInquiry]


class Abandon(Command, tag="abandon", kw_only=True):
    inquiry: Id


class SetQuotas(Command, tag="set_quotas", kw_only=True):
    #: exactly one of agent / group
    agent: Id | None = None
    group: Id | None = None
    quotas: Quotas
    reason: Text = ""


class Reassign(Command, tag="reassign", kw_only=True):
    inquiry: Id
    #: ``None`` sends it back to the pool
    to_agent: Id | None = None
    reason: Text = ""


class SetMode(Command, tag="set_mode", kw_only=True):
    shop: Id
    mode: ShopMode
    hybrid_after_s: float | None = None
    reason: Text = ""


class SetQuality(Command, tag="set_quality", kw_only=True):
    agent: Id
    quality: float
    reason: Text = ""


class DefineAgents(Command, tag="define_agents", kw_only=True):
    agents: list[AgentSpec]


class DefineShop(Command, tag="define_shop", kw_only=True):
    shop: ShopRecord


class DefineGroup(Command, tag="define_group", kw_only=True):
    group: GroupRecord


class QueryGrabs(Command, tag="query_grabs", kw_only=True):
    inquiry: Id


#: the most rows one history query returns
MAX_HISTORY_ROWS = 500


class QueryAgentGrabs(Command, tag="query_agent_grabs", kw_only=True):
    """An agent's most recent grab attempts, newest first."""

    agent: Id
    #: clamped to 1..MAX_HISTORY_ROWS
    limit: int = 50


class QueryCustomer(Command, tag="query_customer", kw_only=True):
    """A customer's earlier inquiries, newest first."""

    customer: Id
    #: clamped to 1..MAX_HISTORY_ROWS
    limit: int = 20


class QueryQueueHistory(Command, tag="query_queue_history", kw_only=True):
    """The queue's recent past per skill, so a window opened mid-evening draws the evening so far."""

    #: only samples taken after this (floor time)
    since: float = 0.0


class AcknowledgeAlert(Command, tag="ack_alert", kw_only=True):
    """A supervisor takes an alert in hand: who and when are published and audited."""

    alert: Id
    #: kept in the audit log and on the alert
    reason: Text = ""


class QueryAudit(Command, tag="query_audit", kw_only=True):
    limit: int = 200
    actor: Id | None = None
    kind_prefix: Id | None = None
    only_refusals: bool = False


class ReplaceRoster(Command, tag="replace_roster", kw_only=True):
    text: str
    fmt: Literal["csv", "toml"] = "csv"
    reason: Text = ""


class QueryStats(Command, tag="query_stats", kw_only=True):
    """Who is good at what: per agent and skill over [since, until)."""

    since: float
    until: float


class CustomerMessage(Command, tag="message", kw_only=True):
    """The customer wrote again on an open inquiry: appended to its transcript."""

    inquiry: Id
    text: str


class RobotAnswer(Command, tag="robot_answer", kw_only=True):
    """The robot answered the customer; the inquiry stays with it awaiting the customer."""

    inquiry: Id
    text: str
    #: the skill the robot inferred ("" keeps the inquiry's)
    skill: Id = ""
    intent: Id = ""


#: the most a robot may raise an escalated inquiry's priority
MAX_PRIORITY_BUMP = 10


class RobotEscalate(Command, tag="robot_escalate", kw_only=True):
    """The robot hands the inquiry to people: the pool of ``skill``, arrival time kept."""

    inquiry: Id
    skill: Id
    reason: Id
    #: 0 to MAX_PRIORITY_BUMP
    priority_bump: int = 0
    #: one line for the agent (the robot's understanding), added to the transcript
    note: Text = ""


class RobotReport(Command, tag="robot_report", kw_only=True):
    """What the robot says of itself, for the console (a few seconds apart at most)."""

    answering: bool = True
    decided: int = 0
    errors: int = 0
    last_error: Text = ""


class QueryTranscript(Command, tag="query_transcript", kw_only=True):
    inquiry: Id


class Shutdown(Command, tag="shutdown", kw_only=True):
    reason: Text = ""


AnyCommand = Union[
    Hello, Heartbeat, Snapshot, Grab, FirstResponse, Resolve, Release, Transfer,
    SetStatus, Submit, Abandon, SetQuotas, Reassign, SetMode, SetQuality,
    DefineAgents, DefineShop, DefineGroup, QueryGrabs, QueryAudit, ReplaceRoster,
    QueryStats, Shutdown, TransferToPool, QueryAgentGrabs, QueryCustomer, AcknowledgeAlert,
    CustomerMessage, RobotAnswer, RobotEscalate, RobotReport, QueryTranscript, QueryQueueHistory,
]

#: commands each role may send; admin may send everything
SUPERVISOR_COMMANDS = frozenset({
    "set_quotas", "reassign", "set_mode", "set_quality", "query_audit",
    "replace_roster", "ack_alert",
})
ADMIN_COMMANDS = frozenset({"define_agents", "define_shop", "define_group", "shutdown"})
AGENT_COMMANDS = frozenset({"grab", "respond", "resolve", "release", "transfer", "transfer_to_pool"})
INTAKE_COMMANDS = frozenset({"submit", "abandon", "message"})
ROBOT_COMMANDS = frozenset({"robot_answer", "robot_escalate", "robot_report"})
#: every role may send these
COMMON_COMMANDS = frozenset({"hello", "heartbeat", "snapshot", "set_status",
                             "query_grabs", "query_stats", "query_agent_grabs", "query_customer",
                             "query_transcript", "query_queue_history"})


# --------------------------------------------------------------------------
# Replies (broker -> the client that asked)
# --------------------------------------------------------------------------

class Reply(Struct, tag_field="type", kw_only=True, omit_defaults=True):
    v: int = PROTOCOL_VERSION
    #: the ``id`` of the command answered ("" when the command had no readable id)
    re: str


class Ok(Reply, tag="ok", kw_only=True):
    #: a short sentence of what happened, for logs and status bars
    text: str = ""
    record: Record | None = None


class Error(Reply, tag="error", kw_only=True):
    code: ErrorCode
    #: the English sentence; ``key`` and ``params`` let a client say it in its user's language
    reason: str
    #: machine-readable facts: "rule", "winner", "limit", "field", ...
    detail: dict[str, str | int | float | None] = field(default_factory=dict)
    #: the sentence's stable key in broker/wire/reasons.REASONS ("" when it has none)
    key: str = ""
    params: Params = field(default_factory=dict)


class Verdict(Reply, tag="verdict", kw_only=True):
    grab_id: str
    inquiry: str
    outcome: Outcome
    code: ErrorCode | None = None
    reason: str = ""
    winner: str | None = None
    won_at: float | None = None
    #: as in ``Error``: the reason's stable key and parameters
    key: str = ""
    params: Params = field(default_factory=dict)


class Welcome(Reply, tag="welcome", kw_only=True):
    broker: str
    epoch: str
    #: the floor's time (the broker's clock) when it answered
    now: float
    #: floor seconds per real second: 1.0 on the wall clock, e.g. 60.0 in a demo
    time_scale: float = 1.0
    heartbeat_s: float
    max_command_bytes: int
    agent: AgentRecord | None = None
    #: an agent silent this long (real seconds, like all liveness) is set offline: send a command more often.
    #: None only from a broker older than this field.
    agent_timeout_s: float | None = None
    #: the shard this broker serves ("" for a broker on its own SQLite file)
    shard: str = ""
    #: when this broker became the shard's active one (its takeover); None without a pair
    active_since: float | None = None


class SnapshotPart(Reply, tag="snapshot_part", kw_only=True):
    records: list[Record]


class SnapshotPartOut(Reply, tag="snapshot_part", kw_only=True):
    """Encode-side twin of SnapshotPart: records already encoded."""

    records: list[Raw]


class SnapshotEnd(Reply, tag="snapshot_end", kw_only=True):
    epoch: str
    #: the broker-wide sequence number the snapshot reflects
    seq: int
    #: stream -> seq of the last event on it the snapshot includes
    streams: dict[str, int]
    now: float
    records: int
    time_scale: float = 1.0


class Rejected(Struct, array_like=True):
    index: int
    code: ErrorCode
    reason: str


class Submitted(Reply, tag="submitted", kw_only=True):
    accepted: int
    rejected: list[Rejected] = field(default_factory=list)


class GrabAttempt(Struct, array_like=True):
    grab_id: str
    agent: str
    at: float
    #: seconds since the inquiry entered the pool
    latency_s: float
    outcome: Outcome
    code: str
    reason: str


class GrabHistory(Reply, tag="grab_history", kw_only=True):
    inquiry: str
    winner: str | None
    attempts: list[GrabAttempt]


class AgentGrabAttempt(Struct, array_like=True):
    inquiry: str
    grab_id: str
    at: float
    #: seconds since the inquiry entered the pool
    latency_s: float
    outcome: Outcome
    code: str
    reason: str
    winner: str | None


class AgentGrabs(Reply, tag="agent_grabs", kw_only=True):
    agent: str
    #: newest first
    attempts: list[AgentGrabAttempt]


class PastInquiry(Struct, array_like=True):
    id: str
    shop: str
    skill: str
    arrived_at: float
    state: InquiryState
    #: who served it last (None if nobody took it)
    owner: str | None
    closed_at: float | None
    satisfaction: int | None


class CustomerHistory(Reply, tag="customer_history", kw_only=True):
    customer: str
    #: newest first
    inquiries: list[PastInquiry]


class QueueSample(Struct, array_like=True):
    at: float
    #: skill -> queued inquiries (skills with none left out)
    depth: dict[str, int]
    #: skill -> the longest waiter's wait, seconds
    wait_s: dict[str, float]


class QueueSamples(Reply, tag="queue_samples", kw_only=True):
    #: oldest first, evenly thinned to at most MAX_QUEUE_SAMPLES
    samples: list[QueueSample]


#: the most samples one ``queue_samples`` reply carries
MAX_QUEUE_SAMPLES = 2_000


class AuditPage(Reply, tag="audit_page", kw_only=True):
    entries: list[AuditEntry]


class AgentSkillStats(Struct, array_like=True):
    agent: str
    skill: str
    resolved: int
    first_response_p50_s: float | None
    resolution_p50_s: float | None
    satisfaction_avg: float | None
    satisfaction_n: int


class Stats(Reply, tag="stats", kw_only=True):
    since: float
    until: float
    rows: list[AgentSkillStats]


class Transcript(Reply, tag="transcript", kw_only=True):
    inquiry: str
    transcript: TranscriptRecord


AnyReply = Union[Ok, Error, Verdict, Welcome, SnapshotPart, SnapshotEnd, Submitted,
                 GrabHistory, AuditPage, Stats, AgentGrabs, CustomerHistory, QueueSamples, Transcript]


# --------------------------------------------------------------------------
# Events (broker PUB)
# --------------------------------------------------------------------------

class Event(Struct, kw_only=True, omit_defaults=True, gc=False):
    seq: int
    #: "inquiry.grabbed", "agent.updated", ...: the stream is the part before the dot
    kind: str
    at: float
    #: who caused it ("" for the broker itself: timers)
    actor: str = ""
    reason: str = ""
    record: Record | None = None
    #: removing a record from the live state (closed inquiry) rather than upserting
    removed: bool = False


class EventFrame(Struct, kw_only=True):
    v: int
    epoch: str
    stream: str
    #: seq of the last event in the previous frame of this stream (0: none yet)
    prev: int
    #: seq of this frame's last event: the frame holds every event of the stream
    #: in (prev, last], so a subscriber can follow the chain without decoding events
    last: int
    events: list[Event]


class EventFrameHeader(Struct, kw_only=True):
    """Just the chain fields of an EventFrame, for cheap sequence checking."""

    v: int
    epoch: str
    stream: str
    prev: int
    last: int


class EventFrameOut(Struct, kw_only=True):
    """Encode-side twin of EventFrame: events encoded once, when they happened."""

    v: int
    epoch: str
    stream: str
    prev: int
    last: int
    events: list[Raw]


class BrokerHeartbeat(Struct, kw_only=True):
    v: int
    epoch: str
    #: the floor's time (the broker's clock) when it was sent
    at: float
    #: floor seconds per real second (see Welcome)
    time_scale: float = 1.0
    seq: int
    #: stream -> seq of the last event published on it
    streams: dict[str, int]


# --------------------------------------------------------------------------
# Codec helpers shared by both ends
# --------------------------------------------------------------------------

class _Header(Struct):
    """The envelope alone, read when a full decode fails, to say why precisely.
    Every field is loosely typed so a wrongly typed one does not hide the others."""

    v: object = None
    id: object = None
    type: object = None


_command_decoder = msgspec.msgpack.Decoder(AnyCommand)
_header_decoder = msgspec.msgpack.Decoder(_Header)
_reply_decoder = msgspec.msgpack.Decoder(AnyReply)
_frame_decoder = msgspec.msgpack.Decoder(EventFrame)
_frame_header_decoder = msgspec.msgpack.Decoder(EventFrameHeader)
_hb_decoder = msgspec.msgpack.Decoder(BrokerHeartbeat)
_encoder = msgspec.msgpack.Encoder()

encode = _encoder.encode


def _only_msgspec_errors(decode):
    """msgspec raises UnicodeDecodeError on invalid UTF-8; clients catch MsgspecError."""
    def guarded(data):
        try:
            return decode(data)
        except UnicodeDecodeError as exc:
            raise msgspec.DecodeError(f"invalid UTF-8: {exc}") from None
        except RecursionError:
            raise msgspec.DecodeError("values nested too deeply") from None
    guarded.__doc__ = f"Decode one message (see {decode!r})."
    return guarded


decode_reply = _only_msgspec_errors(_reply_decoder.decode)
decode_event_frame = _only_msgspec_errors(_frame_decoder.decode)
decode_frame_header = _only_msgspec_errors(_frame_header_decoder.decode)
decode_heartbeat = _only_msgspec_errors(_hb_decoder.decode)

_COMMAND_TYPES = frozenset(
    t.__struct_config__.tag for t in AnyCommand.__args__  # type: ignore[attr-defined]
)


class DecodeFailure(Exception):
    """A command that cannot be accepted, with the reply that says why.

    ``key`` and ``params`` name the sentence in broker/wire/reasons.py."""

    def __init__(self, code: ErrorCode, key: str, params: dict, msg_id: str = "", detail: dict | None = None):
        self.reason = reasons.sentence(key, params)
        super().__init__(self.reason)
        self.code = code
        self.key = key
        self.params = params
        self.msg_id = msg_id
        self.detail = detail or {}


def decode_command(data: bytes, max_bytes: int = MAX_COMMAND_BYTES) -> Command:
    """Decode one command frame or raise DecodeFailure with the precise reason."""
    if len(data) > max_bytes:
        raise DecodeFailure(ErrorCode.TOO_LARGE, "frame.too_large", {"size": len(data), "limit": max_bytes},
                            detail={"limit": max_bytes, "size": len(data)})
    try:
        cmd = _command_decoder.decode(data)
    except msgspec.ValidationError as exc:
        failure = str(exc)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter on bad UTF-8
        raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.unreadable", {"problem": str(exc)}) from None
    except RecursionError:  # a few KB of nested arrays is enough to reach Python's limit
        raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.unreadable",
                            {"problem": "values nested too deeply"}) from None
    else:
        if cmd.v != PROTOCOL_VERSION:
            raise DecodeFailure(ErrorCode.UNSUPPORTED_VERSION, "frame.version",
                                {"version": cmd.v, "supported": PROTOCOL_VERSION},
                                cmd.id, {"supported": PROTOCOL_VERSION})
        return cmd
    # The full decode failed: read the envelope alone to name the cause.
    try:
        header = _header_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.envelope", {"problem": failure}) from None
    msg_id = header.id if isinstance(header.id, str) else ""
    # Only an integer names a version: a missing or otherwise typed ``v`` ("1", 1.0,
    # true) is a malformed envelope, which a newer broker would refuse just the same.
    if not isinstance(header.v, int) or isinstance(header.v, bool):
        raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.envelope",
                            {"problem": f"v must be the integer {PROTOCOL_VERSION}, not {header.v!r}"
                             if header.v is not None else f"v (the integer {PROTOCOL_VERSION}) is missing"},
                            msg_id, {"field": "v"})
    if header.v != PROTOCOL_VERSION:
        raise DecodeFailure(ErrorCode.UNSUPPORTED_VERSION, "frame.version",
                            {"version": header.v, "supported": PROTOCOL_VERSION},
                            msg_id, {"supported": PROTOCOL_VERSION})
    if header.type is not None and (not isinstance(header.type, str) or header.type not in _COMMAND_TYPES):
        raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.unknown_type", {"type": repr(header.type)},
                            msg_id, {"field": "type"})
    kind = header.type if isinstance(header.type, str) else "message"
    raise DecodeFailure(ErrorCode.BAD_REQUEST, "frame.invalid", {"command": kind, "problem": failure}, msg_id)


def stream_of(kind: str) -> str:
    """The stream an event kind belongs to: "inquiry.grabbed" -> "inquiry"."""
    return kind.split(".", 1)[0]


def topic_of(stream: str) -> bytes:
    return stream.encode() + b"."
