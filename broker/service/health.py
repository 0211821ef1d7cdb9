"""Is the broker fit to serve? One answer for ``/healthz`` and ``grabdesk status``.

Read from the metrics snapshot the loop publishes once a second, so asking
never touches the loop: a loop that stops turning stops publishing, and the
snapshot's age is the lag.

* **up**: the process answers (whoever reads this is talking to it);
* **serving**: the loop runs and is not shutting down;
* **loop lag**: how much later than due the loop published its last
  snapshot; a loop stuck in a long turn, a blocked disk or a GC pause shows
  here first;
* **last commit age**: seconds since the journal last committed; shown, not
  judged, since an idle floor has nothing to commit.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from broker.service.metrics import SNAPSHOT_INTERVAL_S, Snapshot

#: loop lag above this is "degraded" (verdicts are slow), above the next "unhealthy"
DEGRADED_LAG_S = 1.0
UNHEALTHY_LAG_S = 5.0


@dataclass
class Health:
    status: str  # "ok", "degraded" or "unhealthy"
    serving: bool
    loop_lag_s: float
    last_commit_age_s: float | None
    uptime_s: float
    seq: int
    reasons: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(snapshot: Snapshot, now_mono: float | None = None) -> Health:
    now = time.monotonic() if now_mono is None else now_mono
    if not snapshot.published_mono:
        return Health("unhealthy", False, 0.0, None, now - snapshot.started_mono, 0,
                      ["the loop has not published its figures yet (starting)"])
    lag = max(0.0, now - snapshot.published_mono - SNAPSHOT_INTERVAL_S)
    reasons = []
    status = "ok"
    if lag > DEGRADED_LAG_S:
        status = "degraded"
        reasons.append(f"the loop is {lag:.1f} s late")
    if lag > UNHEALTHY_LAG_S:
        status = "unhealthy"
    if not snapshot.serving:
        status = "unhealthy"
        reasons.append("the broker is shutting down")
    commit_age = now - snapshot.last_commit_mono if snapshot.last_commit_mono else None
    return Health(status, snapshot.serving, round(lag, 3),
                  None if commit_age is None else round(commit_age, 3),
                  round(now - snapshot.started_mono, 1), snapshot.seq, reasons)
