"""The shard's lease in PostgreSQL: which broker is active, since when, at which epoch.

One row per shard (in the shard's schema, see pgstore.py): ``holder``,
``epoch``, ``expires_at`` and the endpoints the holder serves on. The active
renews it every ``ttl_s / RENEWALS_PER_TTL``; a standby takes it only once
it has expired, and a take always increments the epoch. Times are the
database's clock (``clock_timestamp()``), so the brokers' clocks never have
to agree. The epoch is what fences writes (pgstore.PgStore.write).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from broker.service.pgstore import StoreUnavailable, _one_line, address_of, connect

log = logging.getLogger(__name__)

#: the active renews this many times per lease period, so a renewal or two may
#: be late (a slow loop turn, a busy database) without losing the lease
RENEWALS_PER_TTL = 4


@dataclass(frozen=True)
class LeaseState:
    holder: str
    epoch: int
    expired: bool
    command_endpoint: str
    events_endpoint: str
    taken_at: datetime | None
    #: seconds left until it expires (negative once it has), by the database's clock
    remaining_s: float


class Lease:
    """One broker's handle on a shard's lease, on its own connection.

    Every method raises ``StoreUnavailable`` when PostgreSQL does not
    answer, and then reconnects on the next call.
    """

    def __init__(self, dsn: str, schema: str, shard: str, holder: str, ttl_s: float,
                 command_endpoint: str = "", events_endpoint: str = ""):
        from psycopg import sql

        self.dsn = dsn
        self.shard = shard
        self.holder = holder
        self.ttl_s = ttl_s
        self.command_endpoint = command_endpoint
        self.events_endpoint = events_endpoint
        #: the epoch this broker holds, or None
        self.epoch: int | None = None
        self._conn = None
        self._s = sql.Identifier(schema).as_string(None)

    def _db(self):
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.dsn)
            self._conn.execute(
                f"INSERT INTO {self._s}.lease VALUES (%s, '', 0, '-infinity', '-infinity', '', '') "
                "ON CONFLICT (shard) DO NOTHING", (self.shard,))
        return self._conn

    def _run(self, statement: str, args: tuple):
        import psycopg

        try:
            return self._db().execute(statement, args).fetchone()
        except psycopg.OperationalError as exc:
            self.close()
            raise StoreUnavailable(f"PostgreSQL at {address_of(self.dsn)}: {_one_line(exc)}") from exc

    def read(self) -> LeaseState:
        row = self._run(
            f"SELECT holder, epoch, expires_at < clock_timestamp(), command_endpoint, events_endpoint, "
            f"taken_at, EXTRACT(EPOCH FROM expires_at - clock_timestamp()) FROM {self._s}.lease "
            "WHERE shard = %s", (self.shard,))
        holder, epoch, expired, command, events, taken_at, remaining = row
        return LeaseState(holder, epoch, bool(expired), command, events,
                          taken_at if epoch else None, float(remaining) if remaining is not None else -1.0)

    def try_take(self) -> int | None:
        """Take the lease if it has expired (or is ours): the new epoch, or None if another holds it."""
        row = self._run(
            f"UPDATE {self._s}.lease SET holder = %s, epoch = epoch + 1, "
            "expires_at = clock_timestamp() + make_interval(secs => %s), taken_at = clock_timestamp(), "
            "command_endpoint = %s, events_endpoint = %s "
            "WHERE shard = %s AND (expires_at < clock_timestamp() OR holder = %s) RETURNING epoch",
            (self.holder, self.ttl_s, self.command_endpoint, self.events_endpoint, self.shard, self.holder))
        self.epoch = row[0] if row else None
        return self.epoch

    def renew(self) -> bool:
        """Extend the lease we hold; False if it has moved to another epoch (we must step down)."""
        if self.epoch is None:
            return False
        row = self._run(
            f"UPDATE {self._s}.lease SET expires_at = clock_timestamp() + make_interval(secs => %s) "
            "WHERE shard = %s AND epoch = %s RETURNING epoch", (self.ttl_s, self.shard, self.epoch))
        if row is None:
            self.epoch = None
            return False
        return True

    def release(self) -> None:
        """Let a standby take over at once (orderly shutdown); harmless if no longer ours."""
        if self.epoch is None:
            return
        try:
            self._run(f"UPDATE {self._s}.lease SET expires_at = '-infinity' WHERE shard = %s AND epoch = %s "
                      "RETURNING epoch", (self.shard, self.epoch))
        except StoreUnavailable as exc:
            log.warning("could not release the lease of shard %s (it expires by itself): %s", self.shard, exc)
        self.epoch = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection has nothing left to close cleanly
                pass
            self._conn = None
