"""The shared row engine (both windows' tables): plain Python, no Qt."""
from __future__ import annotations

import random

import pytest

from supervisor.common.rows import MAX_OPS, Insert, Remove, Reset, Sync, TableState, diff_rows


def replay(rows: list, ops: list, target: list) -> list:
    """What a model does with the operations (sync: adopt the target)."""
    rows = list(rows)
    for op in ops:
        if isinstance(op, (Sync, Reset)):
            rows = list(target)
        elif isinstance(op, Insert):
            rows.insert(op.row, op.key)
        else:
            assert isinstance(op, Remove)
            assert rows[op.row] == op.key, "a removal names the row it removes"
            del rows[op.row]
    return rows


def table(records: dict, sort_by="v", descending=False, hot=()):
    return TableState(records, {"v": lambda r: r["v"], "id": lambda r: r["id"]}, sort_by,
                      descending=descending, hot=hot)


def test_insertions_land_in_sorted_place_and_the_log_replays_them():
    records = {k: {"id": k, "v": v} for k, v in [("a", 5), ("b", 1), ("c", 3)]}
    t = table(records)
    t.reset()
    assert t.rows == ["b", "c", "a"]
    ops, _ = t.take()
    assert ops == [Reset()]
    records["d"] = {"id": "d", "v": 2}
    records["e"] = {"id": "e", "v": 9}
    t.touch(["d", "e"])
    ops, dirty = t.take()
    assert t.rows == ["b", "d", "c", "a", "e"]
    assert replay(["b", "c", "a"], ops, t.rows) == t.rows
    assert not dirty


def test_descending_order_and_position_lookup():
    records = {k: {"id": k, "v": v} for k, v in [("a", 5), ("b", 1), ("c", 3)]}
    t = table(records, descending=True)
    t.reset()
    assert t.rows == ["a", "c", "b"]
    records["d"] = {"id": "d", "v": 4}
    t.touch(["d"])
    assert t.rows == ["a", "d", "c", "b"]
    assert [t.position(k) for k in "adcb"] == [0, 1, 2, 3]
    assert t.position("zz") is None


def test_hot_key_change_keeps_place_until_a_resort():
    records = {k: {"id": k, "v": v} for k, v in [("a", 1), ("b", 2), ("c", 3)]}
    t = table(records, hot=("v",))
    t.reset()
    t.take()
    records["a"]["v"] = 10  # "a" now sorts last, but stays put: no live re-sort
    t.touch(["a"])
    ops, dirty = t.take()
    assert ops == [] and dirty == {"a"}
    assert t.rows == ["a", "b", "c"]
    assert t.position("a") == 0, "found by its stored key even though its value moved"
    assert not t.resort_if_due(now=1.0, interval_s=5.0)
    assert t.resort_if_due(now=6.0, interval_s=5.0)
    assert t.rows == ["b", "c", "a"]
    ops, _ = t.take()
    assert ops == [Sync()]


def test_filter_membership_follows_changes():
    records = {k: {"id": k, "v": v} for k, v in [("a", 1), ("b", 2), ("c", 3)]}
    t = table(records)
    t.reset()
    t.set_filter(lambda r: r["v"] % 2 == 1)
    assert t.rows == ["a", "c"]
    t.take()
    records["b"]["v"] = 5  # now matches
    records["a"]["v"] = 4  # no longer matches
    t.touch(["a", "b"])
    ops, _ = t.take()
    assert t.rows == ["c", "b"]
    assert replay(["a", "c"], ops, t.rows) == ["c", "b"]
    del records["c"]
    t.touch(["c"])
    assert t.rows == ["b"]


def test_a_flood_of_operations_becomes_one_sync():
    records: dict = {}
    t = table(records)
    t.reset()
    t.take()
    for i in range(MAX_OPS + 10):
        records[i] = {"id": i, "v": i}
    t.touch(list(records))
    ops, _ = t.take()
    assert ops == [Sync()]
    assert len(t.rows) == MAX_OPS + 10


@pytest.mark.parametrize("seed", range(20))
def test_random_changes_replay_to_the_same_rows(seed):
    rng = random.Random(seed)
    records = {i: {"id": i, "v": rng.randint(0, 50)} for i in range(200)}
    t = table(records, descending=bool(seed % 2))
    t.reset()
    model_rows = list(t.rows)
    t.take()
    next_id = 200
    for _ in range(30):
        touched = []
        for _ in range(rng.randint(1, 15)):
            action = rng.random()
            if action < 0.4:
                records[next_id] = {"id": next_id, "v": rng.randint(0, 50)}
                touched.append(next_id)
                next_id += 1
            elif action < 0.7 and records:
                k = rng.choice(list(records))
                del records[k]
                touched.append(k)
            elif records:
                k = rng.choice(list(records))
                records[k]["v"] = rng.randint(0, 50)
                touched.append(k)
        t.touch(touched)
        ops, _ = t.take()
        model_rows = replay(model_rows, ops, t.rows)
        assert model_rows == t.rows
        assert set(t.rows) == set(records)


@pytest.mark.parametrize("seed", range(30))
def test_diff_rows_turns_old_into_new(seed):
    rng = random.Random(seed)
    universe = list(range(40))
    old = rng.sample(universe, rng.randint(0, 30))
    new = rng.sample(universe, rng.randint(0, 30))
    if seed % 3 == 0:  # same relative order: no layout change needed
        new = [k for k in universe if k in set(new)]
        old = [k for k in universe if k in set(old)]
    removals, order, insertions = diff_rows(old, new)
    rows = list(old)
    for first, last in removals:
        del rows[first:last + 1]
    if order is not None:
        assert sorted(order) == sorted(rows)
        rows = list(order)
    for row, keys in insertions:
        rows[row:row] = keys
    assert rows == new
    if seed % 3 == 0:
        assert order is None
