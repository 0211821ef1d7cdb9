"""What a lab run replays: the arrivals, and the floor that serves them.

Three sources, one shape (:class:`Trace`):

* :func:`double11`: the built-in seeded Double-11 day. The demo demand
  profile (``assets/demo/profile.toml``) with ten times its arrivals in the
  two evening hours 20:00-22:00 (Asia/Shanghai), and a floor staffed the way
  a shop plans its big night: for every skill and hour, as many agents as
  Erlang C (``broker.staffing.erlang.required_agents``, what ``grabdesk
  staffing`` prints) says that hour needs for 80 % answered within 20 s, plus
  :data:`SHRINKAGE` for breaks, rostered in contiguous shifts.
* :func:`from_profile`: any demand profile and roster over the agents of a
  floor file (the demo floor by default), for any start and length.
* :func:`from_store`: the arrivals recorded in a broker store (read only,
  from its journal: every ``inquiry.queued`` event is one arrival, with its
  original time, shop, skill, language, channel and priority), with the
  store's own shops, groups and agents and its saved roster.

Patience (how long a customer waits for a first answer before leaving) is drawn from
the simulator's traffic mix for generated traces; a replayed customer who
abandoned keeps the patience they showed, the others get a seeded draw.
"""
from __future__ import annotations

import math
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from broker.staffing.erlang import required_agents
from broker.staffing.forecast import DemandProfile, load_profile
from broker.staffing.roster import Roster, Shift, load_roster, parse_roster
from broker.wire import protocol as p
from tools.simulate.personas import DEFAULT_AHT_S, Persona
from tools.simulate.plan import DEFAULT_MIX, Arrival, ArrivalPlan

__all__ = ["Trace", "TraceError", "double11", "from_profile", "from_store"]

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
DEMO_PROFILE = ASSETS / "profile.toml"
DEMO_ROSTER = ASSETS / "roster.csv"
DEMO_FLOOR = ASSETS / "floor.toml"

#: the Double-11 day: its date, its surge and the hours it lasts (local, Asia/Shanghai)
DOUBLE11_DATE = "2026-11-11"
DOUBLE11_SURGE = 10.0
DOUBLE11_SURGE_HOURS = (20, 21)
#: the shop plans for 80 % answered within 20 s (the broker's coverage target)
PLAN_TARGET_PCT = 80.0
PLAN_WITHIN_S = 20.0
#: extra staff over Erlang C for forced breaks and slower people (a planner's shrinkage)
SHRINKAGE = 1.15
SECONDS_PER_HOUR = 3600.0


class TraceError(ValueError):
    """A trace the lab cannot build; the message is one sentence."""


@dataclass
class Trace:
    """Arrivals in ``[start, end)`` and the floor that serves them (floor times, epoch seconds)."""

    name: str
    start: float
    end: float
    tz: str
    arrivals: list[Arrival]
    shops: list[p.ShopRecord]
    groups: list[p.GroupRecord]
    agents: list[p.AgentSpec]
    #: None: every agent is on duty all the time
    roster: Roster | None
    #: average handling time per skill (floor seconds)
    aht_s: dict[str, float] = field(default_factory=dict)
    sla: p.SlaPolicy = field(default_factory=p.SlaPolicy)
    #: agent id -> persona; None: drawn from the seed (tools.simulate.personas)
    personas: dict[str, Persona] | None = None

    @property
    def hours(self) -> int:
        return max(1, math.ceil((self.end - self.start) / SECONDS_PER_HOUR))


# ---------------------------------------------------------------------- Double 11

def double11_profile(base: DemandProfile) -> DemandProfile:
    """``base`` with DOUBLE11_SURGE times its arrivals in the surge hours."""
    rates = {skill: tuple(r * DOUBLE11_SURGE if h in DOUBLE11_SURGE_HOURS else r for h, r in enumerate(values))
             for skill, values in base.arrivals_per_hour.items()}
    return DemandProfile(tz=base.tz, arrivals_per_hour=rates, aht_s=base.aht_s, concurrency=base.concurrency)


def planned_agents(profile: DemandProfile) -> dict[str, list[int]]:
    """Per skill, the agents each local hour needs (Erlang C, with shrinkage)."""
    out = {}
    for skill, rates in sorted(profile.arrivals_per_hour.items()):
        aht_s = profile.aht_s.get(skill, DEFAULT_AHT_S)
        concurrency = profile.concurrency.get(skill, 1)
        out[skill] = [max(1, math.ceil(SHRINKAGE * required_agents(rate, aht_s, PLAN_TARGET_PCT, PLAN_WITHIN_S,
                                                                   concurrency).agents)) for rate in rates]
    return out


def planned_roster(needed: dict[str, list[int]], tz: str) -> tuple[Roster, dict[str, str]]:
    """Shifts giving each hour its agents: agent k of a skill works every hour that needs more than k.

    Returns the roster and each agent's skill.
    """
    shifts, skill_of = [], {}
    for skill, per_hour in needed.items():
        for k in range(max(per_hour)):
            agent_id = f"{skill}-{k + 1:03d}"
            skill_of[agent_id] = skill
            hours = [h for h in range(24) if per_hour[h] > k]
            if len(hours) == 24:
                shifts.append(Shift(agent_id, frozenset(range(7)), time(0), time(0), tz))
                continue
            for first, last in _runs(hours):
                shifts.append(Shift(agent_id, frozenset(range(7)), time(first), time((last + 1) % 24), tz))
    return Roster(tuple(shifts), "Double-11 plan"), skill_of


def _runs(hours: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of sorted hours, joined across midnight."""
    runs: list[list[int]] = []
    for h in hours:
        if runs and runs[-1][1] == h - 1:
            runs[-1][1] = h
        else:
            runs.append([h, h])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 23:
        runs[0][0] = runs[-1][0] - 24
        runs.pop()
    return [(first % 24, last % 24) for first, last in runs]


def double11_floor(skill_of: dict[str, str], seed: int) -> tuple[list[p.ShopRecord], list[p.GroupRecord],
                                                                  list[p.AgentSpec]]:
    """The demo's shops (the shipped hybrid delay), one group per skill (the shipped fair
    share, on), and the planned agents.

    Every agent speaks Chinese; the first of each skill speaks every language
    the traffic mix has (someone must at night), the others English, Japanese
    or Korean besides in turn. Proficiency 2-5 and quality 62-98 are seeded.
    """
    shops = [p.ShopRecord(id=s, mode="grab") for s in DEFAULT_MIX.shops]
    fair = p.FairShare(enabled=True)  # the shipped damping
    skills = sorted(set(skill_of.values()))
    groups = [p.GroupRecord(id=s, fair_share=fair,
                            quotas=p.Quotas(concurrent_cap=3) if s == "complaint" else p.Quotas())
              for s in skills]
    rng = random.Random(f"{seed}:double11-floor")
    all_languages = sorted({*DEFAULT_MIX.languages, *(l for m in DEFAULT_MIX.languages_by_shop.values() for l in m)})
    extra = ("en", "en", "ja", "en", "ko")
    agents = []
    for agent_id in sorted(skill_of):
        k = int(agent_id.rsplit("-", 1)[1]) - 1
        languages = all_languages if k == 0 else sorted({"zh", extra[k % len(extra)]})
        agents.append(p.AgentSpec(id=agent_id, group=skill_of[agent_id],
                                  skills={skill_of[agent_id]: rng.randint(2, 5)}, languages=languages,
                                  quality=round(rng.uniform(62.0, 98.0), 1)))
    return shops, groups, agents


def double11(seed: int = 1, day: str = DOUBLE11_DATE) -> Trace:
    """The built-in Double-11 day (a whole local day in Asia/Shanghai)."""
    profile = double11_profile(load_profile(DEMO_PROFILE))
    zone = ZoneInfo(profile.tz)
    start = datetime.fromisoformat(day).replace(tzinfo=zone)
    end = start + timedelta(days=1)
    roster, skill_of = planned_roster(planned_agents(profile), profile.tz)
    shops, groups, agents = double11_floor(skill_of, seed)
    arrivals = list(ArrivalPlan(profile, seed, 1.0, DEFAULT_MIX).arrivals(start, end))
    return Trace(f"double11 seed {seed}", start.timestamp(), end.timestamp(), profile.tz, arrivals, shops,
                 groups, agents, roster, aht_s=dict(profile.aht_s))


# ---------------------------------------------------------------------- any profile and roster

def from_profile(profile_path: Path, roster_path: Path, floor_path: Path = DEMO_FLOOR, *, seed: int = 1,
                 surge: float = 1.0, start: datetime | None = None, hours: float = 24.0) -> Trace:
    """A profile's arrivals served by a floor file's agents on a roster."""
    from broker.service.config import ConfigError, load_config
    from broker.staffing.forecast import ProfileError
    from broker.staffing.roster import RosterError

    try:
        profile = load_profile(profile_path)
        roster = load_roster(roster_path)
        floor = load_config(floor_path)
    except (ProfileError, RosterError, ConfigError, OSError) as exc:
        raise TraceError(str(exc)) from None
    zone = ZoneInfo(profile.tz)
    start = start or datetime.fromisoformat(DOUBLE11_DATE).replace(tzinfo=zone)
    end = start + timedelta(hours=hours)
    shops = floor.shops or [p.ShopRecord(id=s) for s in DEFAULT_MIX.shops]
    try:
        mix = DEFAULT_MIX.with_shops([s.id for s in shops])
        arrivals = list(ArrivalPlan(profile, seed, surge, mix).arrivals(start, end))
    except ValueError as exc:
        raise TraceError(str(exc)) from None
    agents = [a for a in floor.agents if a.id in roster.agents]
    if not agents:
        raise TraceError(f"none of the agents of {floor_path} is on the roster {roster_path}")
    return Trace(f"{Path(profile_path).name} + {Path(roster_path).name} seed {seed}", start.timestamp(),
                 end.timestamp(), profile.tz, arrivals, shops, list(floor.groups), agents, roster,
                 aht_s=dict(profile.aht_s), sla=floor.sla)


# ---------------------------------------------------------------------- replay of a store

_events = msgspec.msgpack.Decoder(list[p.Event])


def _open_journal(db: Path) -> sqlite3.Connection:
    if not db.is_file():
        raise TraceError(f"{db} is not a file; --from-store names a broker's store (its broker.db)")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        raise TraceError(f"{db} is not a grabdesk store (not an SQLite database)") from None
    if not version or "journal" not in tables:
        conn.close()
        raise TraceError(f"{db} is not a grabdesk store (no journal in it; --from-store names broker.db, "
                         "not broker.state.db)")
    return conn


def read_store(db: Path) -> tuple[list[p.InquiryRecord], dict[str, float], dict, str | None]:
    """From a store's journal: every first arrival (as queued), the patience of those who
    abandoned unanswered, the latest shop/group/agent definitions, and the saved roster."""
    conn = _open_journal(Path(db))
    arrived: list[p.InquiryRecord] = []
    patience: dict[str, float] = {}
    defined: dict = {"shop": {}, "group": {}, "agent": {}}
    try:
        for (blob,) in conn.execute("SELECT events FROM journal ORDER BY id"):
            for event in _events.decode(blob):
                record = event.record
                if event.kind == "inquiry.queued" and isinstance(record, p.InquiryRecord):
                    arrived.append(record)
                elif event.kind == "inquiry.abandoned" and isinstance(record, p.InquiryRecord) \
                        and record.first_response_at is None:
                    patience[record.id] = event.at - record.arrived_at
                elif isinstance(record, p.ShopRecord):
                    defined["shop"][record.id] = record
                elif isinstance(record, p.GroupRecord):
                    defined["group"][record.id] = record
                elif isinstance(record, p.AgentRecord):
                    defined["agent"][record.id] = record
        row = conn.execute("SELECT value FROM settings WHERE key = 'roster'").fetchone()
    except (sqlite3.DatabaseError, msgspec.DecodeError) as exc:
        raise TraceError(f"{db}: the journal cannot be read ({exc})") from None
    finally:
        conn.close()
    return arrived, patience, defined, row[0] if row else None


def from_store(db: Path, *, since: float | None = None, until: float | None = None, seed: int = 1,
               roster_path: Path | None = None) -> Trace:
    """The arrivals a broker recorded in ``[since, until)``, on the store's own floor."""
    import json

    inquiries, patience, defined, saved_roster = read_store(Path(db))
    chosen = [i for i in inquiries if (since is None or i.arrived_at >= since)
              and (until is None or i.arrived_at < until)]
    if not chosen:
        span = "" if since is None and until is None else " in the period asked"
        raise TraceError(f"{db} has no arrivals{span} to replay")
    chosen.sort(key=lambda i: (i.arrived_at, i.id))
    rng = random.Random(f"{seed}:replay-patience")
    mix = DEFAULT_MIX
    arrivals = []
    for seq, inq in enumerate(chosen, 1):
        shown = patience.get(inq.id)
        if shown is None:
            median = mix.patience_median_s.get(inq.channel, mix.default_patience_median_s)
            shown = median * math.exp(rng.gauss(0.0, mix.patience_sigma))
        arrivals.append(Arrival(seq=seq, at=inq.arrived_at, skill=inq.skill, shop=inq.shop, channel=inq.channel,
                                language=inq.language, priority=inq.priority, customer=inq.customer,
                                patience_s=shown))
    roster = None
    try:
        if roster_path is not None:
            roster = load_roster(roster_path)
        elif saved_roster is not None:
            fmt, text = json.loads(saved_roster)
            roster = parse_roster(text, fmt, f"roster saved in {db}")
    except (ValueError, OSError) as exc:
        raise TraceError(f"roster: {exc}") from None
    agents = [p.AgentSpec(id=a.id, name=a.name, group=a.group, skills=dict(a.skills), languages=list(a.languages),
                          channels=list(a.channels), shops=list(a.shops), quality=a.quality, quotas=a.quotas)
              for a in defined["agent"].values()]
    if not agents:
        raise TraceError(f"{db} defines no agents to serve the replayed arrivals")
    shops = list(defined["shop"].values())
    known = {s.id for s in shops}
    shops += [p.ShopRecord(id=s) for s in sorted({a.shop for a in arrivals} - known)]
    start = math.floor(arrivals[0].at / SECONDS_PER_HOUR) * SECONDS_PER_HOUR if since is None else since
    end = arrivals[-1].at + 1.0 if until is None else until
    return Trace(f"replay of {Path(db).name}", start, end, "Asia/Shanghai", arrivals, shops,
                 list(defined["group"].values()), agents, roster)
