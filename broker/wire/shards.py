"""Every shard of a directory followed as one floor, with each shard's health.

A supervisor of a sharded platform watches all its shards at once: one
``BrokerClient`` (following that shard's active broker) and one ``Mirror``
per shard. Reads merge the mirrors; commands about a shop go to the shop's
shard, so nothing a client does can make a grab cross shards.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, ConnectionStatus, CurveKeys
from broker.wire.directory import Directory
from broker.wire.mirror import Mirror


@dataclass(frozen=True)
class ShardHealth:
    shard: str
    #: the client's state for this shard: "live", "syncing", "connecting", "lost", "stopped"
    state: str
    #: since when (wall clock) it is in that state
    since: float
    #: the broker this client talks to, and since when it is the shard's active one
    endpoint: str
    active_since: float | None
    open_inquiries: int
    agents_online: int
    detail: str = ""


class _Member:
    def __init__(self, client: BrokerClient, mirror: Mirror):
        self.client = client
        self.mirror = mirror
        self.lock = threading.Lock()


class ShardSet:
    """Follows every shard of ``directory``; ``on_change(shard)`` is called from I/O threads."""

    def __init__(self, directory: Directory, role: str, who: str, *, streams: Iterable[str] | None = None,
                 curve: CurveKeys | None = None, name: str = "",
                 on_change: Callable[[str], None] | None = None):
        self.directory = directory
        self.on_change = on_change
        self.members: dict[str, _Member] = {}
        for shard in directory.shards.values():
            mirror = Mirror()
            member = _Member(None, mirror)  # type: ignore[arg-type]
            member.client = BrokerClient(
                shard.command_endpoints, shard.events_endpoints, role, who, streams=streams, curve=curve,
                name=f"{name or role + ':' + who}@{shard.name}",
                on_reset=self._locked(member, shard.name, mirror.reset),
                on_events=self._locked(member, shard.name, mirror.apply),
                on_status=lambda _status, shard=shard.name: self._changed(shard))
            self.members[shard.name] = member

    def _locked(self, member: _Member, shard: str, apply: Callable):
        def run(*args) -> None:
            with member.lock:
                apply(*args)
            self._changed(shard)
        return run

    def _changed(self, shard: str) -> None:
        if self.on_change is not None:
            self.on_change(shard)

    def start(self) -> "ShardSet":
        for member in self.members.values():
            member.client.start()
        return self

    def stop(self) -> None:
        for member in self.members.values():
            member.client.stop()

    def wait_live(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        return all(m.client.wait_live(max(0.0, deadline - time.monotonic())) for m in self.members.values())

    # ------------------------------------------------------------------ reads

    def health(self) -> list[ShardHealth]:
        """Each shard's connection and a few counts, in the directory's order."""
        out = []
        for name, member in self.members.items():
            status: ConnectionStatus = member.client.status
            with member.lock:
                open_inquiries = len(member.mirror.inquiries)
                online = sum(1 for a in member.mirror.agents.values() if a.status != "offline")
            out.append(ShardHealth(name, status.state, status.since, status.endpoint, status.active_since,
                                   open_inquiries, online, status.detail if status.state != "live" else ""))
        return out

    def inquiries(self) -> dict[str, tuple[str, p.InquiryRecord]]:
        """Open inquiries of every shard: id -> (shard, record)."""
        merged: dict[str, tuple[str, p.InquiryRecord]] = {}
        for name, member in self.members.items():
            with member.lock:
                merged.update((i, (name, r)) for i, r in member.mirror.inquiries.items())
        return merged

    def agents(self) -> dict[str, tuple[str, p.AgentRecord]]:
        """Agents of every shard: id -> (shard, record)."""
        merged: dict[str, tuple[str, p.AgentRecord]] = {}
        for name, member in self.members.items():
            with member.lock:
                merged.update((a, (name, r)) for a, r in member.mirror.agents.items())
        return merged

    # ------------------------------------------------------------------ commands

    def client_for_shop(self, shop: str) -> BrokerClient:
        """The client of the shard that serves ``shop`` (DirectoryError if none does)."""
        return self.members[self.directory.shard_of(shop).name].client
