"""Simulated customers write from the knowledge base's phrasing families: deterministic per
arrival, in the arrival's language, and an order question names a real order of the shop
whose customer is the one writing, so the robot's lookup finds it."""
from __future__ import annotations

import re
from pathlib import Path

from robot.decide import ORDERS_FILE, Robot
from robot.knowledge import DEFAULT_DIRECTORY, load_knowledge
from robot.orders import CsvOrderBook
from tools.simulate.messages import INTENTS_BY_SKILL, MessageWriter

SHOPS = ("tmall-flagship", "jd-outlet", "global-store")


def test_messages_are_seeded_per_arrival():
    a, b = MessageWriter(seed=7), MessageWriter(seed=7)
    assert [a.write(n, "logistics", "jd-outlet", "zh", "c").text for n in range(20)] == \
        [b.write(n, "logistics", "jd-outlet", "zh", "c").text for n in range(20)]
    assert MessageWriter(seed=8).write(3, "logistics", "jd-outlet", "zh", "c") != a.write(3, "logistics",
                                                                                         "jd-outlet", "zh", "c")


def test_order_questions_name_the_customers_own_order_and_the_robot_finds_it():
    orders = CsvOrderBook.load(Path(DEFAULT_DIRECTORY) / ORDERS_FILE, load_knowledge())
    robot = Robot.from_directory()
    writer = MessageWriter(seed=1)
    named = answered = 0
    for n in range(300):
        shop = SHOPS[n % 3]
        message = writer.write(n, "logistics", shop, "zh" if n % 4 else "en", "cust-nobody")
        assert message.intent in INTENTS_BY_SKILL["logistics"]
        for order_id in re.findall(r"\d{15,20}", message.text):
            order = orders.lookup(shop, order_id)
            if order is not None:
                named += 1
                assert order.customer == message.customer
                decision = robot.decide(message.text, shop=shop, customer=message.customer)
                answered += decision.action == "answer"
    assert named > 50
    assert answered > named // 2, f"the robot answered {answered} of {named} questions naming a real order"


def test_every_skill_writes_and_other_languages_write_english():
    writer = MessageWriter(seed=2)
    for skill in (*INTENTS_BY_SKILL, "unknown_skill"):
        message = writer.write(1, skill, "global-store", "ja", "c")
        assert message.text and not re.search(r"[\u3040-\u30ff]", message.text)
