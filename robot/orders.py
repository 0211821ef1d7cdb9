"""Orders: finding an order number in a message, and looking the order up.

The robot asks :class:`OrderLookup`, a one-method interface, so the broker
side can put the shop's real order system behind it. :class:`CsvOrderBook`
is the demo implementation over ``assets/robot/orders.csv``.

An order number is a run of :data:`ORDER_ID_DIGITS` digits (Tmall's are 18
or 19, JD's 12) not glued to a letter or another digit: an 11-digit mobile
number is not one, nor are the digits of a tracking number such as
``SF1234567890123``. The first such run in a message is used.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from robot.knowledge import Knowledge, KnowledgeError

__all__ = ["COLUMNS", "ORDER_ID_DIGITS", "CsvOrderBook", "Order", "OrderLookup", "find_order_id"]

ORDER_ID_DIGITS = (12, 20)
_ORDER_ID = re.compile(r"(?<![0-9A-Za-z])\d{%d,%d}(?!\d)" % ORDER_ID_DIGITS)
#: orders.csv's header
COLUMNS = ("order_id", "shop", "customer", "status", "carrier", "tracking_no", "eta")


@dataclass(frozen=True, slots=True)
class Order:
    """One order as the robot may tell its customer about it."""

    order_id: str
    shop: str
    customer: str
    #: a key of ``[statuses]`` in robot.toml (``in_transit``, ``delivered``, ...)
    status: str
    #: a key of ``[carriers]`` in robot.toml, empty before shipping
    carrier: str
    tracking_no: str
    #: expected delivery date (ISO), or the delivery date once delivered
    eta: str


class OrderLookup(Protocol):
    """Where the robot finds orders."""

    def lookup(self, shop: str | None, order_id: str) -> Order | None:
        """The order with this number in this shop, or None.

        ``shop`` None means any shop: only for offline tools such as
        ``grabdesk robot ask`` without ``--shop``; a live inquiry always has one.
        """


def find_order_id(folded: str) -> str | None:
    """The first order number in a folded message (:func:`robot.text.fold`), or None."""
    found = _ORDER_ID.search(folded)
    return found.group(0) if found else None


class CsvOrderBook:
    """Demo orders from a CSV file with the :data:`COLUMNS` header."""

    def __init__(self, orders: Iterable[Order]):
        self._orders = {order.order_id: order for order in orders}

    @classmethod
    def load(cls, path: str | Path, knowledge: Knowledge) -> CsvOrderBook:
        """Read and check every row against the knowledge base's statuses and carriers."""
        path = Path(path)
        try:
            with path.open(encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
        except FileNotFoundError:
            raise KnowledgeError(f"orders file {path} is missing") from None
        except OSError as exc:
            raise KnowledgeError(f"cannot read orders file {path}: {exc.strerror}") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise KnowledgeError(f"{path} is not a readable UTF-8 CSV file ({exc})") from None
        if not rows or tuple(rows[0]) != COLUMNS:
            raise KnowledgeError(f"{path}: the header must be {','.join(COLUMNS)}")
        orders: dict[str, Order] = {}
        for line, row in enumerate(rows[1:], start=2):
            if len(row) != len(COLUMNS):
                raise KnowledgeError(f"{path} line {line}: expected {len(COLUMNS)} columns, got {len(row)}")
            order = Order(*(value.strip() for value in row))
            _check_order(order, knowledge, f"{path} line {line}")
            if order.order_id in orders:
                raise KnowledgeError(f"{path} line {line}: order {order.order_id} is listed twice")
            orders[order.order_id] = order
        return cls(orders.values())

    def lookup(self, shop: str | None, order_id: str) -> Order | None:
        order = self._orders.get(order_id)
        if order is None or (shop is not None and order.shop != shop):
            return None
        return order

    def order_ids(self, shop: str | None = None) -> list[str]:
        """Every order number (of one shop), e.g. for a simulator to ask about real orders."""
        return [o.order_id for o in self._orders.values() if shop is None or o.shop == shop]


def _check_order(order: Order, knowledge: Knowledge, where: str) -> None:
    if not _ORDER_ID.fullmatch(order.order_id):
        raise KnowledgeError(f"{where}: order_id {order.order_id!r} is not {ORDER_ID_DIGITS[0]} to "
                             f"{ORDER_ID_DIGITS[1]} digits, so no message could ever name it")
    if not order.shop:
        raise KnowledgeError(f"{where}: shop is empty")
    status = knowledge.statuses.get(order.status)
    if status is None:
        raise KnowledgeError(f"{where}: status {order.status!r} is not in robot.toml [statuses] "
                             f"({', '.join(knowledge.statuses)})")
    if order.carrier and order.carrier not in knowledge.carriers:
        raise KnowledgeError(f"{where}: carrier {order.carrier!r} is not in robot.toml [carriers]")
    for field in sorted(status.fields_used()):
        if not getattr(order, field):
            raise KnowledgeError(f"{where}: {field} is empty but status {order.status} says it")
