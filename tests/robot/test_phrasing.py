"""Simulated customer messages from the phrasing families."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from robot import phrasing
from robot.knowledge import LANGUAGES
from robot.phrasing import Phrasebook

#: share of sampled messages the robot must understand: they are what the demo floor sends it
UNDERSTOOD_SHARE = 0.85


def test_every_intent_and_language_can_be_sampled(knowledge):
    book = Phrasebook(knowledge)
    rng = random.Random(7)
    for intent in knowledge.intents:
        for lang in LANGUAGES:
            text = book.sample(rng, intent, lang)
            assert text.strip() and "{" not in text


def test_the_same_seed_gives_the_same_messages():
    first = [phrasing.sample(random.Random(3), "order_status", "zh") for _ in range(5)]
    again = [phrasing.sample(random.Random(3), "order_status", "zh") for _ in range(5)]
    assert first == again


def test_a_given_order_number_survives_the_noise(knowledge):
    book = Phrasebook(knowledge)
    rng = random.Random(11)
    for _ in range(200):
        text = book.sample(rng, "order_status", rng.choice(LANGUAGES), order_id="381920374651829304", noise=1.0)
        if "381920374651829304"[:6] in text:
            assert "381920374651829304" in text


def test_the_robot_understands_what_the_simulator_sends(robot):
    book = Phrasebook(robot.knowledge)
    rng = random.Random(2026)
    understood = Counter()
    for _ in range(400):
        intent = rng.choice(book.intents)
        text = book.sample(rng, intent, rng.choice(LANGUAGES), order_id=rng.choice(robot.orders.order_ids()))
        understood[robot.decide(text).intent == intent] += 1
    share = understood[True] / 400
    print(f"\nsampled messages understood: {share:.3f}")
    assert share >= UNDERSTOOD_SHARE


def test_an_unknown_intent_or_language_is_a_value_error(knowledge):
    book = Phrasebook(knowledge)
    with pytest.raises(ValueError, match="unknown intent"):
        book.sample(random.Random(), "weather", "zh")
    with pytest.raises(ValueError, match="unknown language"):
        book.sample(random.Random(), "greeting", "fr")
