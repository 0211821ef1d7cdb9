"""A client's copy of the broker's state, rebuilt from a snapshot and events.

Plain Python, no sockets and no Qt: the console, the agent window, the
simulator and the tests all keep their view of the floor in one of these.
Events carry whole records (the Clone pattern's key/value updates), so
applying one is an upsert or a removal, except ``agent.load``, which carries
only an agent's load and is set on the agent held; the mirror never re-derives
a decision the broker made.
"""
from __future__ import annotations

from collections import deque
from typing import Iterable

from broker.wire import protocol as p

#: alerts and audit entries kept for display
RECENT_ALERTS = 500
RECENT_AUDIT = 1_000


class Mirror:
    def __init__(self) -> None:
        self.shops: dict[str, p.ShopRecord] = {}
        self.groups: dict[str, p.GroupRecord] = {}
        self.agents: dict[str, p.AgentRecord] = {}
        #: open inquiries (queued, held, or with the robot first line)
        self.inquiries: dict[str, p.InquiryRecord] = {}
        #: the robot first line's robots, by id
        self.robots: dict[str, p.RobotRecord] = {}
        self.metrics: p.FloorMetrics | None = None
        self.coverage: p.CoverageRecord | None = None
        self.alerts: deque[p.Alert] = deque(maxlen=RECENT_ALERTS)
        self.audit: deque[p.AuditEntry] = deque(maxlen=RECENT_AUDIT)
        self.seq = 0
        self.broker_now = 0.0

    def reset(self, records: Iterable[p.Record], end: p.SnapshotEnd) -> None:
        """Replace everything with a snapshot's content."""
        self.shops.clear()
        self.groups.clear()
        self.agents.clear()
        self.inquiries.clear()
        self.robots.clear()
        self.metrics = None
        self.coverage = None
        for record in records:
            self._upsert(record)
        self.seq = end.seq
        self.broker_now = end.now

    def apply(self, events: Iterable[p.Event]) -> None:
        for event in events:
            self.seq = event.seq
            self.broker_now = event.at
            record = event.record
            if record is None:
                continue
            if event.removed and isinstance(record, p.InquiryRecord):
                self.inquiries.pop(record.id, None)
            elif isinstance(record, p.AgentLoad):
                agent = self.agents.get(record.id)
                if agent is not None:
                    self.agents[record.id] = record.applied_to(agent)
            else:
                self._upsert(record)

    def _upsert(self, record: p.Record) -> None:
        if isinstance(record, p.InquiryRecord):
            if record.state in p.OPEN_STATES:
                self.inquiries[record.id] = record
            else:
                self.inquiries.pop(record.id, None)
        elif isinstance(record, p.AgentRecord):
            self.agents[record.id] = record
        elif isinstance(record, p.ShopRecord):
            self.shops[record.id] = record
        elif isinstance(record, p.GroupRecord):
            self.groups[record.id] = record
        elif isinstance(record, p.FloorMetrics):
            self.metrics = record
        elif isinstance(record, p.CoverageRecord):
            self.coverage = record
        elif isinstance(record, p.Alert):
            self.alerts.append(record)
        elif isinstance(record, p.AuditEntry):
            self.audit.append(record)
        elif isinstance(record, p.RobotRecord):
            self.robots[record.id] = record

    # ------------------------------------------------------------------ views

    def queued(self) -> list[p.InquiryRecord]:
        return [i for i in self.inquiries.values() if i.state == "queued"]

    def held_by(self, agent_id: str) -> list[p.InquiryRecord]:
        return [i for i in self.inquiries.values() if i.owner == agent_id]
