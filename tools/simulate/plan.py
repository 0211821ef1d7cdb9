"""The traffic plan: who asks what, when, and how long they wait. Pure and seeded.

No sockets, no clock: every function here takes its instants and its
random generator, so the same seed gives the same day, bit for bit, and a
whole simulated day can be generated offline in a test.

Arrivals are a **non-homogeneous Poisson process**. The demand profile
(``broker.staffing.forecast.DemandProfile``, e.g. ``assets/demo/profile.toml``) gives,
per skill, the expected arrivals per hour for each of the 24 *local* hours of
its time zone; the rate is constant within a local hour and changes at the
hour. Because a Poisson process is memoryless, drawing exponential gaps at the
current hour's rate and throwing away a gap that crosses into the next hour
(restarting there at the new rate) is exact, not an approximation. The total
rate over all skills is drawn once and the skill picked in proportion to its
rate (superposition of Poisson processes).

Each arrival then gets a shop, a channel, a language, a priority and a
*patience*: how long the customer waits for a first answer before giving up
(every customer is patient for a different time; phone callers least, e-mail
writers most). All of that is drawn from one :class:`TrafficMix`.

Time: instants are simulated epoch seconds (UTC). :class:`SimClock` maps
between simulated time and the real (monotonic) clock for a run at
``time_scale`` times real speed.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

from broker.staffing.forecast import DemandProfile
from broker.staffing.roster import Roster

__all__ = [
    "DEFAULT_MIX",
    "Arrival",
    "ArrivalPlan",
    "SimClock",
    "TrafficMix",
    "gives_up",
    "rostered",
]

SECONDS_PER_HOUR = 3600.0
#: a profile hour must carry at least this rate (per hour) to draw arrivals in it
_MIN_RATE_PER_HOUR = 1e-9


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class TrafficMix:
    """How arrivals spread over shops, channels, languages and priorities.

    Weights are relative (they need not sum to 1). Defaults match the demo
    floor (``assets/demo/floor.toml``): a Tmall flagship store that gets most
    of the traffic, a JD outlet, and a global store with foreign customers.
    """

    #: shop id -> weight
    shops: Mapping[str, float] = field(default_factory=lambda: {
        "tmall-flagship": 0.55, "jd-outlet": 0.30, "global-store": 0.15})
    #: channel -> weight
    channels: Mapping[str, float] = field(default_factory=lambda: {
        "chat": 0.62, "phone": 0.14, "sms": 0.05, "email": 0.09, "social": 0.10})
    #: language -> weight, for shops without their own entry below
    languages: Mapping[str, float] = field(default_factory=lambda: {
        "zh": 0.90, "en": 0.07, "ja": 0.02, "ko": 0.01})
    #: shop id -> language -> weight (a shop selling abroad hears other languages)
    languages_by_shop: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: {
        "global-store": {"en": 0.50, "zh": 0.25, "ja": 0.15, "ko": 0.10}})
    #: weights of priority 0, 1, 2 for skills without their own entry below
    priorities: tuple[float, ...] = (0.80, 0.15, 0.05)
    #: skill -> weights of priority 0, 1, 2 (complaints are high-risk, often urgent)
    priorities_by_skill: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: {
        "complaint": (0.30, 0.40, 0.30)})
    #: channel -> median patience in simulated seconds (log-normal around it)
    patience_median_s: Mapping[str, float] = field(default_factory=lambda: {
        "chat": 300.0, "phone": 120.0, "sms": 900.0, "email": 7200.0, "social": 1200.0})
    #: patience for a channel missing above, simulated seconds
    default_patience_median_s: float = 300.0
    #: spread of the log-normal patience (sigma of its logarithm)
    patience_sigma: float = 0.8

    def __post_init__(self) -> None:
        for name in ("shops", "channels", "languages"):
            _check_weights(getattr(self, name), name)
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for shop, weights in self.languages_by_shop.items():
            _check_weights(weights, f"languages_by_shop.{shop}")
        object.__setattr__(self, "languages_by_shop",
                           _frozen({k: _frozen(v) for k, v in self.languages_by_shop.items()}))
        _check_weights(dict(enumerate(self.priorities)), "priorities")
        for skill, weights in self.priorities_by_skill.items():
            _check_weights(dict(enumerate(weights)), f"priorities_by_skill.{skill}")
        object.__setattr__(self, "priorities_by_skill", _frozen(self.priorities_by_skill))
        object.__setattr__(self, "patience_median_s", _frozen(self.patience_median_s))
        if not self.patience_sigma >= 0:
            raise ValueError("patience_sigma must be >= 0")

    def with_shops(self, shop_ids: list[str]) -> "TrafficMix":
        """This mix for a broker that defines ``shop_ids``.

        Shops of the mix the broker does not know are dropped; if none is
        left, traffic is spread evenly over the broker's shops.
        """
        if not shop_ids:
            raise ValueError("the broker defines no shop to send inquiries to")
        kept = {s: w for s, w in self.shops.items() if s in shop_ids}
        if not kept:
            kept = {s: 1.0 for s in sorted(shop_ids)}
        return TrafficMix(shops=kept, channels=self.channels, languages=self.languages,
                          languages_by_shop=self.languages_by_shop, priorities=self.priorities,
                          priorities_by_skill=self.priorities_by_skill,
                          patience_median_s=self.patience_median_s,
                          default_patience_median_s=self.default_patience_median_s,
                          patience_sigma=self.patience_sigma)


def _check_weights(weights: Mapping, what: str) -> None:
    if not weights:
        raise ValueError(f"{what}: at least one weight is needed")
    for key, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"{what}.{key}: a weight must be a number >= 0, got {w!r}")
    if sum(weights.values()) <= 0:
        raise ValueError(f"{what}: the weights add up to 0")


DEFAULT_MIX = TrafficMix()


@dataclass(frozen=True, slots=True)
class Arrival:
    """One customer's inquiry as planned. ``at`` is simulated epoch seconds (UTC)."""

    seq: int
    at: float
    skill: str
    shop: str
    channel: str
    language: str
    priority: int
    customer: str
    #: simulated seconds the customer waits in the pool before leaving
    patience_s: float

    @property
    def id(self) -> str:
        """Plan-local id; the runner prefixes it so separate runs never collide."""
        return f"c{self.seq:07d}"


class _Picker:
    """Weighted choice over fixed options, with cumulative weights built once."""

    def __init__(self, weights: Mapping):
        self.options = list(weights)
        total = 0.0
        self.cumulative = []
        for option in self.options:
            total += float(weights[option])
            self.cumulative.append(total)

    def pick(self, rng: random.Random):
        return rng.choices(self.options, cum_weights=self.cumulative)[0]


class ArrivalPlan:
    """The seeded arrival process for one profile, surge factor and mix.

    ``arrivals(start, end)`` yields the same sequence for the same seed,
    start and arguments, lazily, so an open-ended run can consume it for as
    long as it lasts.
    """

    def __init__(self, profile: DemandProfile, seed: int, surge: float = 1.0,
                 mix: TrafficMix = DEFAULT_MIX):
        if isinstance(surge, bool) or not isinstance(surge, (int, float)) or not math.isfinite(surge) \
                or surge < 0:
            raise ValueError(f"surge must be a number >= 0, got {surge!r}")
        self.profile = profile
        self.seed = seed
        self.surge = float(surge)
        self.mix = mix
        self.skills = sorted(profile.arrivals_per_hour)
        self._zone = ZoneInfo(profile.tz)
        self._shops = _Picker(mix.shops)
        self._channels = _Picker(mix.channels)
        self._languages = _Picker(mix.languages)
        self._languages_by_shop = {s: _Picker(w) for s, w in mix.languages_by_shop.items()}
        self._priorities = _Picker(dict(enumerate(mix.priorities)))
        self._priorities_by_skill = {s: _Picker(dict(enumerate(w)))
                                     for s, w in mix.priorities_by_skill.items()}

    def rates_per_hour(self, at: float) -> dict[str, float]:
        """Expected arrivals per hour of each skill at simulated instant ``at``, surge included."""
        hour = datetime.fromtimestamp(at, self._zone).hour
        return {s: self.profile.arrivals_per_hour[s][hour] * self.surge for s in self.skills}

    def _next_local_hour(self, at: float) -> float:
        """The next instant at which the profile's local clock shows minute 0."""
        local = datetime.fromtimestamp(at, self._zone)
        into_hour_s = local.minute * 60 + local.second + local.microsecond / 1e6
        return at + SECONDS_PER_HOUR - into_hour_s

    def arrivals(self, start: datetime | float, end: datetime | float | None = None) -> Iterator[Arrival]:
        """Arrivals in ``[start, end)`` (open-ended without ``end``), in time order."""
        t = _epoch(start)
        stop = math.inf if end is None else _epoch(end)
        rng = random.Random(f"{self.seed}:arrivals")
        daily = sum(sum(r) for r in self.profile.arrivals_per_hour.values()) * self.surge
        if daily <= 0:
            return  # nothing ever arrives; an open-ended loop would spin forever
        seq = 0
        while t < stop:
            hour_end = self._next_local_hour(t)
            rates = self.rates_per_hour(t)
            total = sum(rates.values())
            if total < _MIN_RATE_PER_HOUR:
                t = hour_end
                continue
            gap_s = rng.expovariate(total / SECONDS_PER_HOUR)
            if t + gap_s >= hour_end:
                # Memoryless: restarting at the boundary with the next hour's rate is exact.
                t = hour_end
                continue
            t += gap_s
            if t >= stop:
                return
            seq += 1
            yield self._dress(rng, seq, t, rates)

    def _dress(self, rng: random.Random, seq: int, at: float, rates: Mapping[str, float]) -> Arrival:
        """Draw everything about one arrival except its time."""
        skill = rng.choices(self.skills, weights=[rates[s] for s in self.skills])[0]
        shop = self._shops.pick(rng)
        channel = self._channels.pick(rng)
        language = self._languages_by_shop.get(shop, self._languages).pick(rng)
        priority = self._priorities_by_skill.get(skill, self._priorities).pick(rng)
        median = self.mix.patience_median_s.get(channel, self.mix.default_patience_median_s)
        patience = median * math.exp(rng.gauss(0.0, self.mix.patience_sigma))
        customer = f"cust-{rng.randrange(1_000_000):06d}"
        return Arrival(seq=seq, at=at, skill=skill, shop=shop, channel=channel, language=language,
                       priority=int(priority), customer=customer, patience_s=patience)


def gives_up(inq) -> bool:
    """Whether a customer whose patience just ran out leaves: if nobody has answered yet.

    A customer cannot tell a pool from an agent who took the inquiry and
    said nothing, so an assigned or grabbed but unanswered inquiry is left
    too (the live simulator and the lab apply the same rule).
    """
    return inq is not None and inq.state in ("queued", "held") and inq.first_response_at is None


def _epoch(at: datetime | float) -> float:
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("instants must be timezone-aware datetimes or epoch seconds")
        return at.timestamp()
    return float(at)


@dataclass(frozen=True)
class SimClock:
    """Simulated time running ``time_scale`` times faster than the real clock.

    ``sim_start`` (epoch seconds) is the simulated instant at the real
    monotonic instant ``real_start``. Simulated durations become real ones by
    dividing by the scale.
    """

    sim_start: float
    real_start: float
    time_scale: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_scale) and self.time_scale > 0):
            raise ValueError(f"time_scale must be > 0, got {self.time_scale!r}")

    def sim_at(self, real: float) -> float:
        return self.sim_start + (real - self.real_start) * self.time_scale

    def real_at(self, sim: float) -> float:
        return self.real_start + (sim - self.sim_start) / self.time_scale

    def real_s(self, sim_s: float) -> float:
        """A simulated duration in real seconds."""
        return sim_s / self.time_scale

    def sim_datetime(self, real: float) -> datetime:
        return datetime.fromtimestamp(self.sim_at(real), timezone.utc)


def rostered(roster: Roster, agent_id: str, at: datetime | float) -> bool:
    """Is ``agent_id`` on shift at simulated instant ``at``? Not rostered means not working."""
    instant = at if isinstance(at, datetime) else datetime.fromtimestamp(at, timezone.utc)
    return roster.on_shift(agent_id, instant)
