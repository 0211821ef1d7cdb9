"""Which rows a table shows, in which order: plain state that a Qt model mirrors.

The one row engine of both windows. A table is a filtered, sorted view of a
dict of records (the console's agents, inquiries, alerts and audit; the agent
window's pool and its own inquiries). Every change is recorded as an
operation (insert at a row, remove a row) that the Qt model
(``supervisor.common.rowmodel.RowModel``) replays with
``beginInsertRows``/``beginRemoveRows``, so a 20,000-row table follows 2,000
events a second in O(changes x log n) instead of being rebuilt or re-sorted.

The order is kept by a parallel list of sort keys taken when a row was
inserted or last sorted. Those stored keys never change in between, so the
list stays sorted and a row is found by bisection even when its record has
moved on. Columns whose value changes all the time ("hot": load, status...)
are therefore not live-sorted: a row keeps its place until the next explicit
or throttled re-sort (live-sorting a hot column of 20,000 rows through a
sort proxy cost 30-600 ms a refresh tick in the console's paint benchmark).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Hashable, Iterable, Mapping, TypeVar, Union

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

#: an operation log longer than this is replaced by one Sync (the model diffs)
MAX_OPS = 2_000
#: a hot sort column is re-sorted at most this often while its values change
RESORT_INTERVAL_S = 5.0



# ---------------------------------------------------------------------- operations

@dataclass(frozen=True, slots=True)
class Insert:
    """A row showing ``key`` appears at ``row`` (counted after the earlier operations)."""

    row: int
    key: Hashable


@dataclass(frozen=True, slots=True)
class Remove:
    """The row at ``row``, which shows ``key``, goes."""

    row: int
    key: Hashable


@dataclass(frozen=True, slots=True)
class Sync:
    """Too much changed to list (filter, sort, a flood): compare your rows with ``rows``."""


@dataclass(frozen=True, slots=True)
class Reset:
    """A new snapshot replaced every record: start over from ``rows``."""


#: what ``TableState.take`` hands the model, in order
Op = Union[Insert, Remove, Sync, Reset]
SYNC = Sync()
RESET = Reset()


class TableState(Generic[K, R]):
    """The keys of the records one table shows, filtered and in display order."""

    def __init__(self, records: Mapping[K, R], sort_keys: Mapping[str, Callable[[R], Any]],
                 sort_by: str, *, descending: bool = False, hot: Iterable[str] = ()):
        self.records = records
        self.sort_keys = dict(sort_keys)
        self.hot = frozenset(hot)
        self.sort_by = sort_by
        self.descending = descending
        #: predicate on a record; None shows every record
        self.match: Callable[[R], bool] | None = None
        self.rows: list[K] = []
        self._keys: list[tuple] = []
        self._key_of: dict[K, tuple] = {}
        self._ops: list[Op] = []
        self._dirty: set[K] = set()
        self._order_stale = False
        self.sorted_at = 0.0

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self._key_of

    def position(self, key: K) -> int | None:
        """The row showing ``key``, or None."""
        stored = self._key_of.get(key)
        return None if stored is None else self._bisect(stored)

    def take(self) -> tuple[list[Op], set[K]]:
        """Hand over the operations and the rows whose data changed since the last take."""
        ops, dirty = self._ops, self._dirty
        self._ops, self._dirty = [], set()
        return ops, dirty

    # ------------------------------------------------------------------ changing

    def touch(self, keys: Iterable[K]) -> None:
        """Records with these keys changed, appeared or went: update rows to match."""
        records = self.records
        match = self.match
        hot_sort = self.sort_by in self.hot
        for key in keys:
            record = records.get(key)
            shows = record is not None and (match is None or match(record))
            if key in self._key_of:
                if not shows:
                    self._remove(key)
                else:
                    self._dirty.add(key)
                    if hot_sort:
                        self._order_stale = True
            elif shows:
                self._insert(key, record)

    def reset(self) -> None:
        """Rebuild from the records after a snapshot; the model resets."""
        self._rebuild()
        self._ops = [RESET]
        self._dirty.clear()

    def set_filter(self, match: Callable[[R], bool] | None) -> None:
        self.match = match
        self._rebuild()
        self._sync()

    def sort(self, column: str, descending: bool, now: float = 0.0) -> None:
        if column not in self.sort_keys:
            raise KeyError(f"no sort key for column {column!r}")
        self.sort_by = column
        self.descending = descending
        self._rebuild()
        self.sorted_at = now
        self._sync()

    def resort_if_due(self, now: float, interval_s: float = RESORT_INTERVAL_S) -> bool:
        """Re-sort a hot column whose values changed, at most every ``interval_s``."""
        if not self._order_stale or now - self.sorted_at < interval_s:
            return False
        self.sort(self.sort_by, self.descending, now)
        return True

    # ------------------------------------------------------------------ internals

    def _full_key(self, key: K, record: R) -> tuple:
        return (self.sort_keys[self.sort_by](record), key)

    def _bisect(self, full_key: tuple) -> int:
        keys = self._keys
        lo, hi = 0, len(keys)
        if self.descending:
            while lo < hi:
                mid = (lo + hi) // 2
                if keys[mid] > full_key:
                    lo = mid + 1
                else:
                    hi = mid
        else:
            while lo < hi:
                mid = (lo + hi) // 2
                if keys[mid] < full_key:
                    lo = mid + 1
                else:
                    hi = mid
        return lo

    def _insert(self, key: K, record: R) -> None:
        full = self._full_key(key, record)
        row = self._bisect(full)
        self.rows.insert(row, key)
        self._keys.insert(row, full)
        self._key_of[key] = full
        self._log(Insert(row, key))

    def _remove(self, key: K) -> None:
        row = self._bisect(self._key_of.pop(key))
        del self.rows[row]
        del self._keys[row]
        self._dirty.discard(key)
        self._log(Remove(row, key))

    def _log(self, op: Op) -> None:
        ops = self._ops
        if ops and isinstance(ops[0], (Sync, Reset)):
            return  # the model compares whole lists anyway
        if len(ops) >= MAX_OPS:
            self._ops = [SYNC]
            return
        ops.append(op)

    def _sync(self) -> None:
        if not (self._ops and isinstance(self._ops[0], Reset)):
            self._ops = [SYNC]

    def _rebuild(self) -> None:
        match = self.match
        sort_key = self.sort_keys[self.sort_by]
        entries = sorted(((sort_key(r), k) for k, r in self.records.items()
                          if match is None or match(r)), reverse=self.descending)
        self._keys = entries
        self.rows = [k for _, k in entries]
        self._key_of = {full[1]: full for full in entries}
        self._order_stale = False


def diff_rows(old: list, new: list) -> tuple[list[tuple[int, int]], list | None, list[tuple[int, list]]]:
    """How to turn the row list ``old`` into ``new`` with row operations.

    Returns ``(removals, order, insertions)``: removals as ``(first, last)``
    ranges of ``old`` from the bottom up (so earlier ranges stay valid); then
    ``order``, the kept rows in their new order when it differs (a layout
    change) or None; then insertions as ``(row, keys)`` from the top down,
    each row counted in the final list.
    """
    new_set = set(new)
    removals: list[tuple[int, int]] = []
    start = None
    for i, key in enumerate(old):
        if key not in new_set:
            if start is None:
                start = i
        elif start is not None:
            removals.append((start, i - 1))
            start = None
    if start is not None:
        removals.append((start, len(old) - 1))
    removals.reverse()
    old_set = set(old)
    kept = [k for k in old if k in new_set]
    target = [k for k in new if k in old_set]
    order = target if kept != target else None
    insertions: list[tuple[int, list]] = []
    run: list = []
    run_start = 0
    for j, key in enumerate(new):
        if key not in old_set:
            if not run:
                run_start = j
            run.append(key)
        elif run:
            insertions.append((run_start, run))
            run = []
    if run:
        insertions.append((run_start, run))
    return removals, order, insertions
