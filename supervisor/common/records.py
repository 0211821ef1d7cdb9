"""What both windows read off the broker's records, read one way.

Display only: a reading of fields the broker sent, never a decision it makes.
"""
from __future__ import annotations

from broker.wire import protocol as p


def continuous_service_s(agent: p.AgentRecord, now: float) -> float | None:
    """Seconds of the agent's current stretch of service at ``now`` (broker time), while
    it is online; None otherwise."""
    if agent.status != "online" or agent.service_since is None:
        return None
    return max(0.0, now - agent.service_since)
