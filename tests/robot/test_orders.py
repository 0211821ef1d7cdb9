"""Order numbers in messages, and the demo order book."""
from __future__ import annotations

import tomllib

import pytest

from robot.knowledge import DEFAULT_DIRECTORY, KnowledgeError
from robot.orders import COLUMNS, CsvOrderBook, find_order_id

FLOOR = DEFAULT_DIRECTORY.parent / "demo" / "floor.toml"


@pytest.mark.parametrize("text, found", [
    ("订单381920374651829304到哪了", "381920374651829304"),
    ("order #281736450912 please", "281736450912"),
    ("my order is 381920374651829304.", "381920374651829304"),
    ("电话13912345678帮我改地址", None),          # a mobile number, 11 digits
    ("运单号SF1234567890123", None),              # a tracking number glued to its carrier
    ("12345678901234567890123 too long", None),
    ("满300减50", None),
])
def test_order_ids_are_runs_of_12_to_20_digits_standing_alone(text, found):
    assert find_order_id(text) == found


def test_the_demo_orders_cover_every_demo_shop(robot):
    shops = {shop["id"] for shop in tomllib.loads(FLOOR.read_text(encoding="utf-8"))["shops"]}
    ids = robot.orders.order_ids()
    assert len(ids) >= 200
    assert {robot.orders.lookup(None, order_id).shop for order_id in ids} == shops


def test_lookup_is_limited_to_the_shop(robot):
    order_id = robot.orders.order_ids("jd-outlet")[0]
    assert robot.orders.lookup("jd-outlet", order_id).order_id == order_id
    assert robot.orders.lookup("tmall-flagship", order_id) is None
    assert robot.orders.lookup("jd-outlet", "999999999999") is None


def _write(path, *rows):
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("row, says", [
    ("381920374651829304,tmall-flagship,c1,lost,,,", "status 'lost'"),
    ("381920374651829304,tmall-flagship,c1,shipped,SF,,2026-11-14", "tracking_no is empty"),
    ("381920374651829304,tmall-flagship,c1,shipped,UPS,1Z999,2026-11-14", "carrier 'UPS'"),
    ("12345,tmall-flagship,c1,unpaid,,,", "not 12 to 20 digits"),
    ("381920374651829304,tmall-flagship,c1", "expected 7 columns"),
])
def test_a_bad_order_row_names_the_line(tmp_path, knowledge, row, says):
    path = tmp_path / "orders.csv"
    _write(path, row)
    with pytest.raises(KnowledgeError, match="line 2") as raised:
        CsvOrderBook.load(path, knowledge)
    assert says in str(raised.value)


def test_a_wrong_header_or_missing_file(tmp_path, knowledge):
    path = tmp_path / "orders.csv"
    path.write_text("id,shop\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="header"):
        CsvOrderBook.load(path, knowledge)
    with pytest.raises(KnowledgeError, match="missing"):
        CsvOrderBook.load(tmp_path / "none.csv", knowledge)
