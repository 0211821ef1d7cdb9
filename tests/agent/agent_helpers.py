"""Helpers for the agent-window tests (their fixtures are in tests/agent/conftest.py)."""
from __future__ import annotations

from broker.wire import protocol as p

#: every wait in these tests gives up after this (ms)
DEADLINE_MS = 5_000


def submit(broker, *ids: str, skill: str = "pre_sales", **fields) -> None:
    reply = broker.submit(*(p.NewInquiry(id=i, shop="s1", skill=skill, **fields) for i in ids))
    assert reply.accepted == len(ids), reply.rejected
