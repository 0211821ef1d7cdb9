"""The rules a claim must pass in ``bench claim-peers``, for every contender alike.

grabdesk applies them (and more) to every grab. The "rules" run of each
store contender applies the same ones, in the same transaction or script as
the claim, at the same durability, so the comparison is like for like:

* the agent is **online**;
* the agent has the inquiry's **skill**;
* the agent holds fewer than its **concurrent cap**;
* the agent has grabbed fewer than its **daily quota** on the quota day
  (the day in ``day_tz`` on the store's own clock);
* the claim is **idempotent by grab id**: a grab id seen before returns what
  it got the first time and claims nothing new;
* the claim is recorded as an **event** (kind, agent, inquiry, time).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

#: the highest concurrent cap grabdesk accepts for an agent (core._validate_quotas)
MAX_CONCURRENT_CAP = 1_000


@dataclass(frozen=True)
class ClaimRules:
    """The limits of one run; the defaults are what ``bench claim-peers`` gives every agent
    (as high as grabdesk allows: nothing is resolved during the race, so a lower cap
    would end it)."""

    concurrent_cap: int = MAX_CONCURRENT_CAP
    daily_grabs: int = 100_000
    skill: str = "pre_sales"
    day_tz: str = "Asia/Shanghai"
    #: UTC offset of ``day_tz`` in seconds, for a store that cannot read a zone (Redis Lua)
    day_utc_offset_s: int = 8 * 3600

    def to_dict(self) -> dict:
        return asdict(self)
