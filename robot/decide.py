"""The robot's decision for one customer message: answer it, or hand it to a person.

:class:`Robot` is pure apart from the order lookup it is given: no clock, no
sockets, no logging. The same message, shop, customer and context always get
the same :class:`Decision`, and a message of any content gets one without
raising. The rules, in order (docs/robot.md says why):

1. unreadable (empty, too long, binary, foreign script, mojibake): escalate ``bad-input``;
2. complaint or anger (a lexicon term, the classifier's top intent, or a
   complaint probability over ``complaint_threshold``): escalate ``complaint``
   to the complaint desk with the intent's priority bump;
3. asks for a person (a lexicon term or the top intent): escalate ``human-request``;
4. after a robot answer, "that did not help" (lexicon): escalate ``not-helped``;
5. top probability under ``confidence_threshold``: escalate ``low-confidence``
   (unless the robot asked for an order number and this message gives one);
6. an intent the robot does not answer (pre-sales, out of scope): escalate with its reason;
7. the intent the robot just answered, asked again: escalate ``not-helped``;
8. an order question naming an order the lookup does not find (or that is
   another customer's): escalate ``order-not-found``; a person can search
   other systems and the robot must not guess or reveal; a lookup that
   raises: escalate ``lookup-failed``;
9. otherwise answer, with the order's status when one was named.

Urgent wording adds ``urgent_priority_bump`` to any escalation.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from robot.answers import Answers
from robot.knowledge import DEFAULT_DIRECTORY, Knowledge, Settings, load_knowledge
from robot.lexicon import Lexicon
from robot.nlu import IntentModel, Prediction
from robot.orders import CsvOrderBook, OrderLookup, find_order_id
from robot.text import language, screen

__all__ = ["Context", "Decision", "Robot"]

#: the demo orders' file name inside a knowledge-base directory
ORDERS_FILE = "orders.csv"
_COMPLAINT = "complaint"
_HUMAN_REQUEST = "human_request"
#: the language of a message too broken to tell
_DEFAULT_LANGUAGE = "zh"


@dataclass(frozen=True, slots=True)
class Context:
    """What the robot said earlier in the inquiry; pass ``Decision.context`` with the next message."""

    #: the intent the robot last answered, None before any answer
    previous_intent: str | None = None
    #: that answer asked for the order number
    awaiting_order_id: bool = False
    #: the language answered in, for a next message that has none (a bare order number)
    lang: str | None = None


#: a first message
NO_CONTEXT = Context()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one customer message."""

    action: Literal["answer", "escalate"]
    #: the understood intent; None when the message could not be read
    intent: str | None
    #: the classifier's probability for ``intent`` (0 when not classified)
    confidence: float
    #: ``zh`` or ``en``: the language answered in
    lang: str
    #: the text to send the customer for ``answer``, else None
    answer: str | None
    #: for ``escalate``: the desk (skill) the inquiry should wait for, the
    #: reason code (knowledge.ESCALATION_REASONS), what to add to its priority,
    #: and the note the robot sends the customer while handing over
    skill: str | None
    reason: str | None
    priority_bump: int
    handover: str | None
    #: one line on why, for the transcript, the log and the agent
    detail: str
    #: the order number found in the message, if any
    order_id: str | None
    #: pass this with the customer's next message in the same inquiry
    context: Context

    def as_json(self) -> dict:
        """The ``grabdesk robot ask --json`` object."""
        result = {"intent": self.intent, "confidence": round(self.confidence, 4), "action": self.action}
        if self.action == "answer":
            result["answer"] = self.answer
        else:
            result.update(skill=self.skill, reason=self.reason, priority_bump=self.priority_bump)
        return result


class Robot:
    """Understands and decides; build once (it trains its model), then call :meth:`decide`."""

    def __init__(self, knowledge: Knowledge, orders: OrderLookup, *,
                 model: IntentModel | None = None, settings: Settings | None = None):
        """``model`` defaults to one trained now on the knowledge base's examples;
        ``settings`` to the knowledge base's ``[decision]`` table."""
        self.knowledge = knowledge
        self.settings = settings or knowledge.settings
        self.orders = orders
        self.model = model or IntentModel.train(knowledge.training_examples())
        if set(self.model.labels) != set(knowledge.intents):
            raise ValueError(f"the model knows intents {sorted(self.model.labels)}, "
                             f"the knowledge base {sorted(knowledge.intents)}")
        self._answers = Answers(knowledge)
        self._lexicons = {name: Lexicon(terms) for name, terms in knowledge.lexicons.items()}
        # intents whose probability says which desk a "give me a person" is about
        self._topic_intents = tuple(name for name, intent in knowledge.intents.items()
                                    if intent.escalate in (None, "pre-sales"))

    @classmethod
    def from_directory(cls, directory: str | Path = DEFAULT_DIRECTORY, **settings_overrides) -> Robot:
        """A robot over a knowledge-base directory and its demo ``orders.csv``.

        Keyword arguments replace settings (e.g. ``confidence_threshold=0.5``).
        Raises :class:`~robot.knowledge.KnowledgeError` for a bad directory.
        """
        knowledge = load_knowledge(directory)
        orders = CsvOrderBook.load(Path(directory) / ORDERS_FILE, knowledge)
        settings = replace(knowledge.settings, **settings_overrides) if settings_overrides else None
        return cls(knowledge, orders, settings=settings)

    def decide(self, text: str, *, shop: str | None = None, customer: str | None = None,
               context: Context = NO_CONTEXT) -> Decision:
        """Decide one customer message; never raises for any ``text``.

        ``shop`` picks the shop's answers and limits order lookups to it;
        ``customer``, when given, must own a looked-up order (nobody reads
        another's order); ``context`` is the previous decision's ``context``.
        """
        settings = self.settings
        screened = screen(text, settings.max_message_chars)
        if screened.problem is not None:
            return self._escalate(None, 0.0, context.lang or _DEFAULT_LANGUAGE, "bad-input",
                                  self._context_skill(context) or settings.fallback_skill, 0,
                                  f"message {screened.problem}", None)
        folded = screened.text
        lang = language(folded, context.lang or _DEFAULT_LANGUAGE)
        prediction = self.model.predict(folded)
        order_id = find_order_id(folded)
        urgent = self._lexicons["urgent"].search(folded)

        def escalate(intent: str, reason: str, skill: str, priority_bump: int, why: str) -> Decision:
            if urgent:
                priority_bump += settings.urgent_priority_bump
                why += f"; urgent ({urgent!r})"
            return self._escalate(intent, prediction.probability(intent), lang, reason, skill,
                                  priority_bump, why, order_id)

        term = self._lexicons["complaint"].search(folded)
        p_complaint = prediction.probability(_COMPLAINT)
        if term or prediction.intent == _COMPLAINT or p_complaint >= settings.complaint_threshold:
            why = f"complaint wording ({term!r})" if term else f"complaint probability {p_complaint:.2f}"
            intent = self.knowledge.intents[_COMPLAINT]
            return escalate(_COMPLAINT, "complaint", intent.skill, intent.priority_bump, why)

        term = self._lexicons["human_request"].search(folded)
        if term or prediction.intent == _HUMAN_REQUEST:
            skill = (self._hinted_skill(prediction) or self._context_skill(context)
                     or self.knowledge.intents[_HUMAN_REQUEST].skill)
            why = f"asked for a person ({term!r})" if term else "asked for a person"
            return escalate(_HUMAN_REQUEST, "human-request", skill, 0, why)

        if context.previous_intent is not None:
            term = self._lexicons["not_helped"].search(folded)
            if term:
                return escalate(prediction.intent, "not-helped",
                                self._context_skill(context) or settings.fallback_skill,
                                settings.not_helped_priority_bump,
                                f"said the answer to {context.previous_intent} did not help ({term!r})")

        name = prediction.intent
        sure = prediction.confidence >= settings.confidence_threshold
        # the customer is giving the order number the robot asked for: "381920374651829304"
        # alone says nothing to the classifier, so the question is the one asked before
        giving_order_id = (context.awaiting_order_id and order_id is not None
                           and context.previous_intent in self.knowledge.intents
                           and not (sure and self.knowledge.intents[name].uses_orders))
        if giving_order_id:
            name = context.previous_intent
        elif not sure:
            return escalate(name, "low-confidence", self.knowledge.intents[name].skill, 0,
                            f"best guess {name} at {prediction.confidence:.2f} is under "
                            f"{settings.confidence_threshold:.2f}")
        intent = self.knowledge.intents[name]
        confidence = prediction.probability(name)

        if intent.escalate is not None:
            return escalate(name, intent.escalate, intent.skill, intent.priority_bump,
                            f"{name} is for a person")
        if name == context.previous_intent and intent.escalate_on_repeat and not giving_order_id:
            return escalate(name, "not-helped", intent.skill, settings.not_helped_priority_bump,
                            f"asked {name} again after the robot's answer")

        if intent.uses_orders and order_id:
            try:
                order = self.orders.lookup(shop, order_id)
            except Exception as exc:  # an order system that is down must not take the robot with it
                return escalate(name, "lookup-failed", intent.skill, 0,
                                f"order lookup failed: {type(exc).__name__}: {exc}")
            if order is None or (customer is not None and order.customer != customer):
                return escalate(name, "order-not-found", intent.skill, 0,
                                f"order {order_id} not found for shop {shop or '(any)'}"
                                + (f" and customer {customer}" if customer is not None else ""))
            answer = self._answers.order_answer(intent, lang, shop, order)
            next_context = Context(previous_intent=name, lang=lang)
            detail = f"answered {name} for order {order_id} ({order.status})"
        else:
            answer = self._answers.answer(intent, lang, shop)
            next_context = Context(previous_intent=name, awaiting_order_id=intent.uses_orders, lang=lang)
            detail = f"answered {name}"
        return Decision(action="answer", intent=name, confidence=confidence, lang=lang, answer=answer,
                        skill=None, reason=None, priority_bump=0, handover=None, detail=detail,
                        order_id=order_id, context=next_context)

    def _escalate(self, intent: str | None, confidence: float, lang: str, reason: str, skill: str,
                  priority_bump: int, detail: str, order_id: str | None) -> Decision:
        return Decision(action="escalate", intent=intent, confidence=confidence, lang=lang, answer=None,
                        skill=skill, reason=reason, priority_bump=priority_bump,
                        handover=self._answers.handover(lang), detail=detail, order_id=order_id,
                        context=NO_CONTEXT)

    def _context_skill(self, context: Context) -> str | None:
        intent = self.knowledge.intents.get(context.previous_intent) if context.previous_intent else None
        return intent.skill if intent else None

    def _hinted_skill(self, prediction: Prediction) -> str | None:
        best = max(self._topic_intents, key=prediction.probability)
        if prediction.probability(best) >= self.settings.skill_hint_threshold:
            return self.knowledge.intents[best].skill
        return None
