"""Helpers for the console tests: records to feed a mirror, a snapshot, the waits' deadline.

Imported normally (``from console_helpers import ...``); the console tests'
fixtures are in tests/console/conftest.py.
"""
from __future__ import annotations

import itertools
import socket
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from broker.arbiter import rules
from broker.wire import protocol as p
from broker.wire.mirror import Mirror

if TYPE_CHECKING:  # the plain-state tests import these helpers without Qt
    from supervisor.console.window import MainWindow

#: every wait on the broker gives up after this (ms)
DEADLINE_MS = 8_000
NOW = 1_795_000_000.0

_seq = itertools.count(1)


def agent(agent_id: str, **kw) -> p.AgentRecord:
    fields = dict(name=agent_id.upper(), group="g1", skills={"pre_sales": 3}, languages=["zh"],
                  status="online", tier="gold",
                  effective=p.Quotas(concurrent_cap=5, daily_grabs=300, continuous_hours=4.0,
                                     break_minutes=15.0),
                  service_since=NOW - 3600)
    fields.update(kw)
    record = p.AgentRecord(id=agent_id, **fields)
    if "unavailable" not in kw:  # as the broker publishes it
        refusal = rules.availability_refusal(record, NOW, "", ZoneInfo("UTC"), count_daily=False)
        record.unavailable = refusal.code.value if refusal is not None else ""
    return record


def inquiry(inquiry_id: str, **kw) -> p.InquiryRecord:
    fields = dict(shop="s1", skill="pre_sales", arrived_at=NOW - 60, queued_at=NOW - 60)
    fields.update(kw)
    return p.InquiryRecord(id=inquiry_id, **fields)


def event(record, kind: str | None = None, removed: bool = False, at: float = NOW) -> p.Event:
    if kind is None:
        kind = {p.InquiryRecord: "inquiry.updated", p.AgentRecord: "agent.updated",
                p.Alert: "alert.raised", p.AuditEntry: "audit.entry",
                p.FloorMetrics: "metrics.floor", p.CoverageRecord: "coverage.updated"}[type(record)]
    return p.Event(seq=next(_seq), kind=kind, at=at, record=record, removed=removed)


def snapshot(mirror: Mirror, *records) -> None:
    mirror.reset(list(records), p.SnapshotEnd(re="x", epoch="e1", seq=next(_seq), streams={},
                                              now=NOW, records=len(records)))


def floor(broker, *agents: p.AgentSpec, online=True) -> None:
    broker.define(groups=["g1"], agents=list(agents))
    if online:
        broker.online(*(a.id for a in agents))


def submit(broker, *ids: str, skill: str = "pre_sales") -> None:
    reply = broker.submit(*(p.NewInquiry(id=i, shop="s1", skill=skill) for i in ids))
    assert reply.accepted == len(ids), reply.rejected


def cell(window: MainWindow, table: str, key: str, column: str):
    model = getattr(window, table).model
    row = model.row_of(key)
    if row is None or row >= model.rowCount():
        return None
    return model.index(row, model.column_of(column)).data()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
