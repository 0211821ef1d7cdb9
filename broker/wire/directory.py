"""The shard directory: which shard serves which shop, and where its brokers listen.

A TOML file every part of a sharded platform reads (brokers, consoles, agent
windows, the simulator, the robot)::

    [shards.east]
    command = ["tcp://east-a:5570", "tcp://east-b:5570"]   # the shard's active/standby brokers
    events = ["tcp://east-a:5571", "tcp://east-b:5571"]    # same order
    shops = ["tmall-flagship", "jd-outlet"]

    [shards.west]
    command = "tcp://west-a:5570,tcp://west-b:5570"         # a comma-separated string works too
    events = "tcp://west-a:5571,tcp://west-b:5571"
    shops = ["pdd-store"]

A shop belongs to exactly one shard; a shop named twice, a shard without
brokers, or a lookup of a shard or shop the file does not have is a
``DirectoryError`` with one sentence saying which.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from broker.wire.client import pair_endpoints


class DirectoryError(ValueError):
    """The directory cannot be used; the message names the file and what is wrong."""


class _ShardEntry(msgspec.Struct, forbid_unknown_fields=True):
    command: str | list[str]
    events: str | list[str]
    shops: list[str] = []


class _File(msgspec.Struct, forbid_unknown_fields=True):
    shards: dict[str, _ShardEntry] = {}


@dataclass(frozen=True)
class Shard:
    name: str
    #: (command, events) per broker of the shard, in the order given
    endpoints: tuple[tuple[str, str], ...]
    shops: tuple[str, ...]

    @property
    def command_endpoints(self) -> list[str]:
        return [c for c, _e in self.endpoints]

    @property
    def events_endpoints(self) -> list[str]:
        return [e for _c, e in self.endpoints]


@dataclass(frozen=True)
class Directory:
    source: str
    shards: dict[str, Shard]

    def shard(self, name: str) -> Shard:
        try:
            return self.shards[name]
        except KeyError:
            raise DirectoryError(f"{self.source}: unknown shard {name!r} (it has "
                                 f"{', '.join(sorted(self.shards)) or 'none'})") from None

    def shard_of(self, shop: str) -> Shard:
        for shard in self.shards.values():
            if shop in shard.shops:
                return shard
        raise DirectoryError(f"{self.source}: shop {shop!r} is in no shard")


def parse_directory(text: bytes | str, source: str = "directory") -> Directory:
    try:
        raw = msgspec.toml.decode(text, type=_File)
    except msgspec.ValidationError as exc:
        raise DirectoryError(f"{source}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise DirectoryError(f"{source}: not valid TOML: {exc}") from None
    if not raw.shards:
        raise DirectoryError(f"{source}: no [shards.NAME] tables")
    owner: dict[str, str] = {}
    shards: dict[str, Shard] = {}
    for name, entry in raw.shards.items():
        try:
            endpoints = pair_endpoints(entry.command, entry.events)
        except ValueError as exc:
            raise DirectoryError(f"{source}: shard {name!r}: {exc}") from None
        for shop in entry.shops:
            if shop in owner:
                where = "twice in shard " + repr(name) if owner[shop] == name else \
                    f"in shard {owner[shop]!r} and in shard {name!r}"
                raise DirectoryError(f"{source}: shop {shop!r} is named {where}; a shop belongs to one shard")
            owner[shop] = name
        shards[name] = Shard(name, tuple(endpoints), tuple(entry.shops))
    return Directory(source, shards)


def load_directory(path: str | Path) -> Directory:
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DirectoryError(f"cannot read the shard directory {path}: {exc.strerror}") from None
    return parse_directory(text, str(path))
