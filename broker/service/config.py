"""Broker configuration: defaults, a TOML file, then the command line.

Precedence is command line > file > default. The file also seeds shops,
groups and agents the store does not know yet; after the first start the
store (changed live by supervisors and admins) is the truth for them.
See docs/operating.md for every key.
"""
from __future__ import annotations

from pathlib import Path

import msgspec

from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT

from broker.wire.protocol import AgentSpec, GroupRecord, Quotas, ShopRecord, SlaPolicy, TierRule
from broker.arbiter import rules



class BrokerSection(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    command_endpoint: str = DEFAULT_COMMAND_ENDPOINT
    events_endpoint: str = DEFAULT_EVENTS_ENDPOINT
    #: empty: the per-user default (see store.default_db_path)
    db: str = ""
    #: "postgresql://..." runs this broker on PostgreSQL as one of an active/standby
    #: pair of its shard (docs/operating.md, "More than one machine"); empty: SQLite at ``db``
    store: str = ""
    #: the floor this broker serves; brokers of one shard share a lease and a schema
    shard: str = "main"
    #: the platform's shard directory (broker/wire/directory.py): checked at start, so this
    #: broker's shard exists there and every shop it seeds belongs to it
    directory: str = ""
    #: PostgreSQL schema of the shard's tables (empty: grabdesk_<shard>)
    pg_schema: str = ""
    #: a standby takes over this long after the active last renewed its lease
    lease_s: float = 2.0
    #: endpoints a standby names in its "not active, try ..." replies for this broker
    #: (empty: the bound endpoints; set them when binding to 0.0.0.0 or behind NAT)
    advertise_command_endpoint: str = ""
    advertise_events_endpoint: str = ""
    #: SQLite synchronous: FULL survives a power loss, NORMAL a process crash
    synchronous: str = "FULL"
    #: where the journal is folded into the state tables: "process" keeps that
    #: work off the broker's GIL; "thread" starts faster (tests, small floors)
    materializer: str = "process"
    max_command_bytes: int = 1 << 20
    #: most commands decided per loop turn (one commit each turn)
    max_batch: int = 1024
    #: events are coalesced into one frame per stream at most this often
    publish_interval_ms: float = 10.0
    heartbeat_s: float = 1.0
    agent_timeout_s: float = 15.0
    offline_grace_s: float = 120.0
    # --- the robot first line (docs/robot.md)
    #: a robot silent this long (real seconds) is disconnected, and an inquiry it has not
    #: decided on within this long goes to the pool
    robot_timeout_s: float = 5.0
    #: floor seconds an inquiry the robot answered awaits the customer before it is resolved
    robot_await_s: float = 120.0
    #: the most text one inquiry's transcript keeps, and one line of it
    transcript_max_chars: int = 16_000
    transcript_line_chars: int = 4_000
    #: the skill of an inquiry submitted without one that no robot takes
    fallback_skill: str = "pre_sales"
    day_tz: str = "Asia/Shanghai"
    #: floor seconds per real second; 1.0 is the wall clock (production)
    time_scale: float = 1.0
    #: the floor's time at start-up, ISO 8601 (naive: in day_tz); empty: now
    start: str = ""
    roster: str = ""
    #: demand profile for the coverage forecast when there is no history yet
    profile: str = ""
    #: chat concurrency assumed per agent in the Erlang C coverage model
    chat_concurrency: int = 3
    service_target_pct: float = 80.0
    service_within_s: float = 20.0
    #: average handling time per inquiry until one is measured
    aht_s: float = 300.0
    surge_factor: float = 1.0
    #: Gini of grabs today above which an uneven-grabbing alert is raised
    gini_alert: float = 0.45
    # --- security (docs/security.md)
    curve: bool = False
    keys_dir: str = ""
    allow_insecure_bind: bool = False
    #: requests one client may have unanswered at once
    max_pending_per_client: int = 64
    #: grabs per second one agent may send (token bucket, burst of twice that)
    grab_rate_per_s: float = 50.0
    #: messages to one slow subscriber queued before the broker drops (it re-syncs)
    pub_hwm: int = 50_000
    # --- operations (docs/operating.md)
    #: HOST:PORT serving /metrics (Prometheus) and /healthz; empty: off. A bare PORT binds loopback
    metrics_endpoint: str = ""
    #: grab attempts, audit entries and closed inquiries are kept this long (0: forever)
    retention_days: float = 90.0
    #: deleted history is appended to CSV files here first; empty: not exported
    retention_export_dir: str = ""
    #: "text" (one human line per message) or "json" (one JSON object per line)
    log_format: str = "text"


class FileConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    broker: BrokerSection = msgspec.field(default_factory=BrokerSection)
    quotas: Quotas = msgspec.field(default_factory=lambda: msgspec.structs.replace(rules.DEFAULT_QUOTAS))
    sla: SlaPolicy = msgspec.field(default_factory=SlaPolicy)
    tiers: list[TierRule] = msgspec.field(default_factory=lambda: list(rules.DEFAULT_TIERS))
    shops: list[ShopRecord] = msgspec.field(default_factory=list)
    groups: list[GroupRecord] = msgspec.field(default_factory=list)
    agents: list[AgentSpec] = msgspec.field(default_factory=list)


class ConfigError(ValueError):
    pass


def load_config(path: str | Path | None) -> FileConfig:
    if not path:
        return FileConfig()
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        # shop/group/agent tables in TOML carry no "type" key; add the tag msgspec expects
        raw = msgspec.toml.decode(text)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected tables at the top level")
    for key, tag in (("shops", "shop"), ("groups", "group")):
        for entry in raw.get(key, []) or []:
            if isinstance(entry, dict):
                entry.setdefault("type", tag)
                # a shop without its own [sla] follows the file's [sla] table
                if tag == "shop" and "sla" not in entry and isinstance(raw.get("sla"), dict):
                    entry["sla"] = dict(raw["sla"])
    try:
        config = msgspec.convert(raw, FileConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    # limits left out of [quotas] keep the built-in defaults rather than "no limit"
    config.quotas = rules.resolve_quotas(config.quotas, rules.DEFAULT_QUOTAS)
    validate(config, str(path))
    return config


def validate(config: FileConfig, source: str = "configuration") -> None:
    """Refuse values that would only fail later, deep inside the broker."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    b = config.broker
    if b.materializer not in ("process", "thread"):
        raise ConfigError(f"{source}: broker.materializer must be process or thread, not {b.materializer!r}")
    if b.synchronous.upper() not in ("FULL", "NORMAL"):
        raise ConfigError(f"{source}: broker.synchronous must be FULL or NORMAL, not {b.synchronous!r}")
    try:
        ZoneInfo(b.day_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{source}: broker.day_tz {b.day_tz!r} is not a known time zone") from None
    if b.store and not b.store.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{source}: broker.store must be a postgresql:// URL (or empty for SQLite at "
                          f"broker.db), not {b.store!r}")
    import re

    if b.pg_schema and not re.match(r"^[a-z_][a-z0-9_]{0,62}$", b.pg_schema):
        raise ConfigError(f"{source}: broker.pg_schema {b.pg_schema!r}: use lower-case letters, digits and _")
    if not b.shard.strip():
        raise ConfigError(f"{source}: broker.shard must not be empty")
    if b.lease_s <= 0:
        raise ConfigError(f"{source}: broker.lease_s must be positive")
    from broker.service.clock import ClockError, check_time_scale, parse_start

    try:
        check_time_scale(b.time_scale)
        if b.start:
            parse_start(b.start, b.day_tz)
    except ClockError as exc:
        raise ConfigError(f"{source}: broker.{exc}") from None
    for name in ("max_command_bytes", "max_batch", "max_pending_per_client", "pub_hwm"):
        if getattr(b, name) <= 0:
            raise ConfigError(f"{source}: broker.{name} must be positive")
    if b.retention_days < 0:
        raise ConfigError(f"{source}: broker.retention_days must be 0 (keep forever) or more")
    if b.log_format not in ("text", "json"):
        raise ConfigError(f"{source}: broker.log_format must be text or json, not {b.log_format!r}")
    if b.metrics_endpoint:
        from broker.service.httpd import EndpointError, parse_endpoint

        try:
            parse_endpoint(b.metrics_endpoint)
        except EndpointError as exc:
            raise ConfigError(f"{source}: broker.{exc}") from None
    for name in ("publish_interval_ms", "heartbeat_s", "agent_timeout_s", "offline_grace_s",
                 "grab_rate_per_s", "robot_timeout_s", "robot_await_s"):
        if getattr(b, name) <= 0:
            raise ConfigError(f"{source}: broker.{name} must be positive")
    if not 100 <= b.transcript_line_chars <= b.transcript_max_chars <= 1_000_000:
        raise ConfigError(f"{source}: broker.transcript_line_chars must be at least 100 and at most "
                          "transcript_max_chars, itself at most 1000000")
    if not b.fallback_skill:
        raise ConfigError(f"{source}: broker.fallback_skill must not be empty")


def robot_settings(b: BrokerSection, time_scale: float) -> dict:
    """The arbiter's robot first line settings from the broker section. The robot's lease is
    transport (a client heartbeats once a real second), so it counts real seconds."""
    return {"robot_timeout_s": b.robot_timeout_s * time_scale, "robot_await_s": b.robot_await_s,
            "transcript_max_chars": b.transcript_max_chars, "transcript_line_chars": b.transcript_line_chars,
            "fallback_skill": b.fallback_skill}


def check_directory(config: FileConfig, source: str) -> None:
    """This broker's shard is in the directory, and every shop it seeds is that shard's."""
    from broker.wire.directory import DirectoryError, load_directory

    b = config.broker
    try:
        directory = load_directory(Path(b.directory).expanduser())
        shard = directory.shard(b.shard)
        for shop in config.shops:
            owner = directory.shard_of(shop.id)
            if owner.name != shard.name:
                raise DirectoryError(f"{directory.source}: shop {shop.id!r} belongs to shard {owner.name!r}, "
                                     f"not to this broker's shard {shard.name!r}")
    except DirectoryError as exc:
        raise ConfigError(f"{source}: broker.directory: {exc}") from None
