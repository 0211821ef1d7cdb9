"""What simulated customers write: the robot knowledge base's phrasing families, with noise.

An arrival's skill (from the demand profile) picks what the customer asks
about (``INTENTS_BY_SKILL``: most questions on a Double 11 night are the
simple, repetitive ones), its language picks zh or en phrasing (other
languages write English), and :class:`robot.phrasing.Phrasebook` writes the
message with typos and shouting. A question about an order names a real
order of the arrival's shop from the knowledge base's ``orders.csv`` and
becomes that order's customer, so the robot's lookup finds it; a few name an
order that does not exist, as real customers do.

Every arrival draws from its own random stream (seeded by the plan's seed and
the arrival's number), so adding messages leaves the plan's arrivals as they
were for a seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from robot.decide import ORDERS_FILE
from robot.knowledge import DEFAULT_DIRECTORY, load_knowledge
from robot.orders import CsvOrderBook
from robot.phrasing import DEFAULT_NOISE, Phrasebook

#: skill -> intent -> weight: what a customer of that desk writes about
INTENTS_BY_SKILL: Mapping[str, Mapping[str, float]] = {
    "pre_sales": {"promotion": 0.40, "pre_sales": 0.35, "greeting": 0.05, "human_request": 0.10, "other": 0.10},
    "after_sales": {"return_refund": 0.60, "invoice": 0.30, "human_request": 0.10},
    "logistics": {"order_status": 0.60, "shipping_time": 0.25, "change_address": 0.15},
    "complaint": {"complaint": 1.0},
}
#: intents whose questions are about one order
ORDER_INTENTS = frozenset({"order_status", "shipping_time", "change_address", "return_refund", "invoice",
                           "complaint"})
#: share of order questions naming an order the shop does not have
UNKNOWN_ORDER_SHARE = 0.05


@dataclass(frozen=True)
class Message:
    text: str
    intent: str
    #: the customer who writes it: an order's owner when it names a real order
    customer: str


class MessageWriter:
    """Writes the first message of each simulated arrival."""

    def __init__(self, directory: str | Path = DEFAULT_DIRECTORY, seed: int = 0, noise: float = DEFAULT_NOISE):
        knowledge = load_knowledge(directory)
        self._phrasebook = Phrasebook(knowledge)
        self._orders = CsvOrderBook.load(Path(directory) / ORDERS_FILE, knowledge)
        self._seed = seed
        self._noise = noise
        self._by_shop: dict[str, list[str]] = {}

    def write(self, seq: int, skill: str, shop: str, language: str, customer: str) -> Message:
        """The message of arrival ``seq``; an unknown skill writes as pre-sales."""
        rng = random.Random(f"{self._seed}:message:{seq}")
        weights = INTENTS_BY_SKILL.get(skill, INTENTS_BY_SKILL["pre_sales"])
        intent = rng.choices(list(weights), weights=list(weights.values()))[0]
        lang = "zh" if language == "zh" else "en"
        order_id = None
        if intent in ORDER_INTENTS and rng.random() >= UNKNOWN_ORDER_SHARE:
            orders = self._orders_of(shop)
            if orders:
                order_id = rng.choice(orders)
                customer = self._orders.lookup(shop, order_id).customer  # type: ignore[union-attr]
        text = self._phrasebook.sample(rng, intent, lang, order_id=order_id, noise=self._noise)
        return Message(text=text, intent=intent, customer=customer)

    def _orders_of(self, shop: str) -> list[str]:
        found = self._by_shop.get(shop)
        if found is None:
            found = self._by_shop[shop] = sorted(self._orders.order_ids(shop))
        return found
