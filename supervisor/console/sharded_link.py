"""Every shard of a directory as one link: the console shows a sharded platform as one floor.

``ShardedLink`` looks like ``BrokerLink`` to the window (``mirror``, ``reset``,
``changed``, ``status_changed``, ``request``) and holds one ``BrokerLink`` per
shard, each following its shard's active broker. Its mirror is the union of
theirs (shops, agents and inquiries never overlap: a shop lives on one shard).
Floor metrics are added up where they are counts and the largest taken where
they are waits or loop turns; the ratios a broker computes over its own floor
(SLA attainment, time percentiles, grab Gini) are not combined across shards,
since the parts needed to combine them are not sent; the per-shard health
label says which shard is live. A command about an inquiry, an agent or a
shop goes to the shard that holds it; others go to the first shard.
"""
from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from broker.wire import protocol as p
from broker.wire.client import ConnectionStatus
from broker.wire.directory import Directory, DirectoryError
from broker.wire.mirror import Mirror
from broker.wire.shards import ShardHealth
from supervisor.common.link import BrokerLink, LinkSettings

#: the worse of two client states, for the whole floor's badge
_STATE_RANK = {"live": 0, "syncing": 1, "connecting": 2, "lost": 3, "stopped": 4}
_COUNTS = ("held_total", "agents_online", "agents_at_cap", "abandoned_today", "resolved_today",
           "arrivals_last_hour", "bad_requests", "grabs_total")
_LARGEST = ("loop_max_turn_ms", "loop_max_turn_cpu_ms")


def merge_metrics(parts: list[p.FloorMetrics]) -> p.FloorMetrics | None:
    """One floor's figures from several shards' (see the module docstring for what is not combined)."""
    if len(parts) <= 1:
        return parts[0] if parts else None
    queue: dict[str, int] = {}
    longest: dict[str, tuple[str, float]] = {}
    for m in parts:
        for skill, n in m.queue_by_skill.items():
            queue[skill] = queue.get(skill, 0) + n
        for skill, (inquiry, wait) in m.longest_wait.items():
            if skill not in longest or wait > longest[skill][1]:
                longest[skill] = (inquiry, wait)
    return p.FloorMetrics(at=max(m.at for m in parts), queue_by_skill=queue, longest_wait=longest,
                          **{f: sum(getattr(m, f) for m in parts) for f in _COUNTS},
                          **{f: max(getattr(m, f) for m in parts) for f in _LARGEST})


class ShardedLink(QObject):
    reset = Signal()
    changed = Signal(list)
    status_changed = Signal(object)
    #: list[ShardHealth], whenever a shard's connection changes
    health_changed = Signal(list)

    def __init__(self, directory: Directory, settings: LinkSettings, role: str, who: str,
                 streams=None, name: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.directory = directory
        self.mirror = Mirror()
        self.status = ConnectionStatus("connecting", 0.0)
        self.links: dict[str, BrokerLink] = {}
        for shard in directory.shards.values():
            shard_settings = replace(settings, command_endpoint=",".join(shard.command_endpoints),
                                     events_endpoint=",".join(shard.events_endpoints))
            link = BrokerLink(shard_settings, role, who, streams=streams, name=f"{name}@{shard.name}", parent=self)
            link.reset.connect(self._rebuild)
            link.changed.connect(self._changed)
            link.status_changed.connect(self._status)
            self.links[shard.name] = link
        self._first = next(iter(self.links.values()))

    @property
    def who(self) -> str:
        return self._first.who

    @property
    def floor_clock(self):
        return self._first.floor_clock

    def floor_now(self) -> float:
        return self._first.floor_now()

    @property
    def live(self) -> bool:
        return all(link.live for link in self.links.values())

    def start(self) -> None:
        for link in self.links.values():
            link.start()

    def stop(self) -> None:
        for link in self.links.values():
            link.stop()

    # ------------------------------------------------------------------ the merged floor

    def _rebuild(self) -> None:
        merged = self.mirror
        mirrors = [link.mirror for link in self.links.values()]
        for name in ("shops", "groups", "agents", "inquiries"):
            table = getattr(merged, name)
            table.clear()
            for m in mirrors:
                table.update(getattr(m, name))
        for name in ("alerts", "audit"):
            queue = getattr(merged, name)
            queue.clear()
            queue.extend(sorted((x for m in mirrors for x in getattr(m, name)), key=lambda x: x.at))
        merged.metrics = merge_metrics([m.metrics for m in mirrors if m.metrics is not None])
        merged.coverage = next((m.coverage for m in mirrors if m.coverage is not None), None)
        merged.seq = max(m.seq for m in mirrors)
        merged.broker_now = max(m.broker_now for m in mirrors)
        self.reset.emit()

    def _changed(self, events: list) -> None:
        self.mirror.apply(events)
        if any(isinstance(e.record, p.FloorMetrics) for e in events):
            self.mirror.metrics = merge_metrics([link.mirror.metrics for link in self.links.values()
                                                 if link.mirror.metrics is not None])
        self.changed.emit(events)

    # ------------------------------------------------------------------ health

    def health(self) -> list[ShardHealth]:
        out = []
        for name, link in self.links.items():
            st = link.status
            m = link.mirror
            out.append(ShardHealth(name, st.state, st.since, st.endpoint, st.active_since, len(m.inquiries),
                                   sum(1 for a in m.agents.values() if a.status != "offline"),
                                   st.detail if st.state != "live" else ""))
        return out

    def _status(self, _status: ConnectionStatus) -> None:
        statuses = {name: link.status for name, link in self.links.items()}
        worst = max(statuses.values(), key=lambda s: _STATE_RANK.get(s.state, 4))
        detail = "; ".join(f"{name}: {st.state}" for name, st in statuses.items() if st.state != "live")
        self.status = ConnectionStatus(worst.state, worst.since or time.time(), detail,
                                       sum(s.gaps for s in statuses.values()),
                                       sum(s.resyncs for s in statuses.values()),
                                       ",".join(s.epoch for s in statuses.values()))
        self.status_changed.emit(self.status)
        self.health_changed.emit(self.health())

    # ------------------------------------------------------------------ commands

    def shard_for(self, fields: dict) -> BrokerLink:
        """The shard a command belongs to: its inquiry's, its agent's, or its shop's; else the first."""
        for key in ("inquiry", "agent", "to_agent"):
            value = fields.get(key)
            if value:
                for link in self.links.values():
                    if value in link.mirror.inquiries or value in link.mirror.agents:
                        return link
        shop = fields.get("shop")
        if isinstance(shop, p.ShopRecord):
            shop = shop.id
        if shop:
            try:
                return self.links[self.directory.shard_of(shop).name]
            except DirectoryError:
                pass
        return self._first

    def request(self, cls: type[p.Command], on_reply=None, timeout_s: float | None = None, **fields) -> p.Command:
        return self.shard_for(fields).request(cls, on_reply, timeout_s, **fields)
