"""The shared Qt row model replays the row engine's operations as a well-behaved model."""
from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from supervisor.common.rowmodel import KeyRole, RowModel
from supervisor.common.rows import TableState


class ValueModel(RowModel):
    """Two columns: the key and its value."""

    def cell(self, record, column: str, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return str(record[column])
        return None


def model_over(records: dict, hot=()) -> tuple[TableState, ValueModel]:
    table = TableState(records, {"id": lambda r: r["id"], "v": lambda r: r["v"]}, "v", hot=hot)
    table.reset()
    return table, ValueModel(table, ["id", "v"])


def shown(model: RowModel) -> list:
    return [model.index(r, 0).data(KeyRole) for r in range(model.rowCount())]


def test_inserts_and_removals_become_row_signals(qtmodeltester):
    records = {k: {"id": k, "v": v} for k, v in [("a", 1), ("c", 3)]}
    table, model = model_over(records)
    qtmodeltester.check(model)
    inserted, removed, resets = [], [], []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(True))
    records["b"] = {"id": "b", "v": 2}
    records["d"] = {"id": "d", "v": 4}
    table.touch(["b", "d"])
    del records["a"]
    table.touch(["a"])
    model.flush()
    assert inserted == [(1, 1), (3, 3)] and removed == [(0, 0)] and not resets
    assert shown(model) == ["b", "c", "d"] == table.rows
    qtmodeltester.check(model)


def test_a_changed_record_repaints_its_row_only():
    records = {k: {"id": k, "v": v} for k, v in [("a", 1), ("b", 2), ("c", 3)]}
    table, model = model_over(records)
    changed = []
    model.dataChanged.connect(lambda first, last, _roles=(): changed.append((first.row(), last.row())))
    records["b"] = {"id": "b", "v": 2}
    table.touch(["b"])
    model.flush()
    assert changed == [(1, 1)]


def test_a_filter_keeps_the_selection_on_its_record(qtmodeltester):
    records = {k: {"id": k, "v": v} for k, v in [("a", 1), ("b", 2), ("c", 3), ("d", 4)]}
    table, model = model_over(records)
    on_c = QPersistentModelIndex(model.index(2, 0))
    table.set_filter(lambda r: r["v"] != 2)
    model.flush()
    assert shown(model) == ["a", "c", "d"]
    assert on_c.row() == 1 and on_c.data(KeyRole) == "c", "the index followed its row"
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert shown(model) == ["d", "c", "a"]
    assert on_c.row() == 1
    qtmodeltester.check(model)


def test_a_snapshot_resets_the_model():
    records = {"a": {"id": "a", "v": 1}}
    table, model = model_over(records)
    resets = []
    model.modelReset.connect(lambda: resets.append(True))
    records.clear()
    records.update({k: {"id": k, "v": v} for k, v in [("x", 2), ("y", 1)]})
    table.reset()
    model.flush()
    assert resets == [True] and shown(model) == ["y", "x"]


@pytest.mark.parametrize("seed", range(5))
def test_random_changes_leave_the_model_showing_the_table(qtmodeltester, seed):
    rng = random.Random(seed)
    records: dict = {}
    table, model = model_over(records)
    qtmodeltester.check(model)
    for _ in range(30):
        keys = []
        for _ in range(rng.randint(1, 12)):
            key = rng.randrange(40)
            if key in records and rng.random() < 0.4:
                del records[key]
            else:
                records[key] = {"id": key, "v": rng.randrange(10)}
            keys.append(key)
        table.touch(keys)
        if rng.random() < 0.1:
            table.set_filter(None if rng.random() < 0.5 else (lambda r: r["v"] % 2 == 0))
        model.flush()
        assert shown(model) == table.rows
