"""The robot first line in a lab run: the real robot deciding, through the arbiter's robot calls.

With a policy's ``robot`` on, every shop sends new inquiries to the robot
first (the arbiter's ``robot`` state). Customers write their first message
as the simulator's do (``tools.simulate.messages``: the knowledge base's
phrasing families with noise, order questions naming the customer's own demo
order); :class:`robot.decide.Robot` decides each one ``DECISION_S`` after it
arrives, and the lab calls the arbiter's ``robot_answer`` or
``robot_escalate``, as ``grabdesk robot serve`` would. An answered customer
is unhappy with probability ``UNHAPPY_SHARE`` and writes so ``FOLLOW_UP_S``
later (the robot then hands over, ``not-helped``); the others stay silent and
the arbiter resolves the inquiry after its ``robot_await_s``. These two
numbers are assumptions, stated in docs/robot.md beside the figures.
"""
from __future__ import annotations

import random

from broker.arbiter.core import Arbiter
from broker.wire import protocol as p
from robot.decide import NO_CONTEXT, Context, Robot
from robot.transcripts import latest_customer_text
from tools.simulate.messages import MessageWriter

#: the robot's identity in a lab run
LAB_ROBOT = "lab-robot"
#: floor seconds from a customer's line to the robot's decision (the service decides in
#: milliseconds; a second covers the network and the broker's commit)
DECISION_S = 1.0
#: share of answered customers who say the answer did not help, and when they write it
UNHAPPY_SHARE = 0.15
FOLLOW_UP_S = 45.0
#: what an unhappy customer writes (the robot's "did not help" lexicon recognises both)
UNHAPPY_LINES = {"zh": "没用，还是没解决", "en": "that did not help"}


class LabRobot:
    """The robot and the customers' messages for one lab run (seeded)."""

    def __init__(self, core: Arbiter, seed: int):
        self.core = core
        self.robot = Robot.from_directory()
        self.writer = MessageWriter(seed=seed)
        self.rng = random.Random(f"{seed}:lab:robot")
        self.decision_s = DECISION_S
        self.contexts: dict[str, Context] = {}
        self.langs: dict[str, str] = {}
        self.counts = {"answered": 0, "escalated": 0, "follow_ups": 0}
        # the lab has no connections: the robot's lease never runs out, its decisions come in time
        core.robot_seen(LAB_ROBOT)

    def first_message(self, arrival) -> tuple[str, str]:
        """(message, customer) of a new arrival."""
        written = self.writer.write(arrival.seq, arrival.skill, arrival.shop, arrival.language, arrival.customer)
        self.langs[arrival.id] = "zh" if arrival.language == "zh" else "en"
        return written.text, written.customer

    def decide(self, inquiry_id: str) -> str | None:
        """Decide the inquiry's latest customer lines; "answer", "escalate", or None if it left the robot."""
        core = self.core
        inq = core.inquiries.get(inquiry_id)
        transcript = core.transcript(inquiry_id)
        if inq is None or inq.state != "robot" or inq.robot_answered_at is not None or transcript is None:
            return None
        core.robot_seen(LAB_ROBOT)
        text = latest_customer_text(transcript)
        shop = inq.shop if inq.shop in self.robot.knowledge.shops else None
        decision = self.robot.decide(text, shop=shop, customer=inq.customer or None,
                                     context=self.contexts.get(inquiry_id, NO_CONTEXT))
        self.contexts[inquiry_id] = decision.context
        if decision.action == "answer":
            intent = self.robot.knowledge.intents.get(decision.intent or "")
            core.robot_answer(LAB_ROBOT, inquiry_id, decision.answer or "",
                              intent.skill if intent is not None else "")
            self.counts["answered"] += 1
            return "answer"
        core.robot_escalate(LAB_ROBOT, inquiry_id, decision.skill or self.robot.settings.fallback_skill,
                            decision.reason or "bad-input", min(decision.priority_bump, p.MAX_PRIORITY_BUMP),
                            (decision.handover or "")[:p.MAX_TEXT_CHARS])
        self.counts["escalated"] += 1
        self.contexts.pop(inquiry_id, None)
        return "escalate"

    def follow_up(self, inquiry_id: str) -> float | None:
        """Floor seconds until an unhappy customer writes again, or None: they are content."""
        return FOLLOW_UP_S if self.rng.random() < UNHAPPY_SHARE else None

    def write_again(self, inquiry_id: str) -> None:
        self.counts["follow_ups"] += 1
        self.core.customer_message(inquiry_id, UNHAPPY_LINES[self.langs.get(inquiry_id, "zh")], "customer")
