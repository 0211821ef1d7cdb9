"""The robot's knowledge base: load ``assets/robot/`` and refuse what would fail later.

The knowledge base is data an operations person edits without code:

* ``robot.toml``: decision settings, the handover text, order statuses and carriers;
* ``lexicon.toml``: strong-signal word lists (complaint, human_request, not_helped, urgent);
* ``slots.toml``: slot values for the phrasing families;
* ``intents/NAME.toml``: one intent each: the desk it escalates to, example
  messages (zh and en), its answer(s) with placeholders, phrasing families;
* ``shops/SHOP.toml``: a shop's name and its own wording of some answers.

Every problem found is a :class:`KnowledgeError` whose message is one sentence
naming the file and the key, so ``grabdesk robot`` can print it as it is.
Loading does not import scikit-learn: a broken file is reported at once.
"""
from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "ANSWER_PLACEHOLDERS", "DEFAULT_DIRECTORY", "ESCALATION_REASONS", "INTENT_REASONS",
    "LANGUAGES", "LEXICONS", "ORDER_ANSWER_PLACEHOLDERS", "ORDER_ID_SLOT", "PROGRESS_PLACEHOLDERS",
    "REQUIRED_INTENTS", "SKILLS", "Intent", "Knowledge", "KnowledgeError", "Settings",
    "Shop", "Status", "load_knowledge", "placeholders",
]

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "assets" / "robot"

LANGUAGES = ("zh", "en")
#: the desks an escalation can go to (the demo floor's skill groups)
SKILLS = ("pre_sales", "after_sales", "logistics", "complaint")
#: intents the decision rules and the issue name; more may be added as data
REQUIRED_INTENTS = (
    "order_status", "shipping_time", "return_refund", "promotion", "change_address", "invoice",
    "human_request", "complaint", "pre_sales",
)
#: why the robot handed an inquiry over (``Decision.reason``)
ESCALATION_REASONS = (
    "low-confidence", "human-request", "complaint", "not-helped", "pre-sales", "out-of-scope",
    "bad-input", "order-not-found", "lookup-failed",
)
#: the reasons an intent file may name in ``escalate = "..."``
INTENT_REASONS = ("human-request", "complaint", "pre-sales", "out-of-scope")
LEXICONS = ("complaint", "human_request", "not_helped", "urgent")

#: what each kind of text may say in braces
ANSWER_PLACEHOLDERS = frozenset({"shop_name"})
ORDER_ANSWER_PLACEHOLDERS = frozenset({"shop_name", "order_id", "status", "progress"})
PROGRESS_PLACEHOLDERS = frozenset({"order_id", "carrier", "tracking_no", "eta"})
#: filled by the phrasing sampler's caller rather than from slots.toml
ORDER_ID_SLOT = "order_id"

#: settings name -> (type, lowest allowed, highest allowed)
_SETTING_BOUNDS: dict[str, tuple[type, float, float]] = {
    "confidence_threshold": (float, 0.0, 1.0),
    "complaint_threshold": (float, 0.0, 1.0),
    "skill_hint_threshold": (float, 0.0, 1.0),
    "max_message_chars": (int, 1, 1_000_000),
    "urgent_priority_bump": (int, 0, 10),
    "not_helped_priority_bump": (int, 0, 10),
}


class KnowledgeError(ValueError):
    """The knowledge base (or an asset read with it) is unusable; the message names file and key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The decision's thresholds and limits (``[decision]`` in robot.toml)."""

    confidence_threshold: float
    complaint_threshold: float
    skill_hint_threshold: float
    max_message_chars: int
    fallback_skill: str
    urgent_priority_bump: int
    not_helped_priority_bump: int


@dataclass(frozen=True, slots=True)
class Intent:
    """One intent: what customers write, what the robot answers, where it escalates."""

    name: str
    skill: str
    #: None: the robot answers; else the reason code it escalates with
    escalate: str | None
    priority_bump: int
    #: asking the same thing again right after the answer means it did not help
    escalate_on_repeat: bool
    examples: Mapping[str, tuple[str, ...]]
    #: language -> answer text (empty for intents that escalate)
    answer: Mapping[str, str]
    #: language -> answer once the order is found (empty: the intent uses no orders)
    order_answer: Mapping[str, str]
    phrasing: Mapping[str, tuple[str, ...]]

    @property
    def uses_orders(self) -> bool:
        return bool(self.order_answer)


@dataclass(frozen=True, slots=True)
class Shop:
    """A shop's name and its own answers: intent -> language -> text."""

    id: str
    name: Mapping[str, str]
    answers: Mapping[str, Mapping[str, str]]
    order_answers: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Status:
    """An order status: its label and the sentence saying where the order is."""

    label: Mapping[str, str]
    progress: Mapping[str, str]

    def fields_used(self) -> frozenset[str]:
        """The order fields its progress sentences need."""
        return frozenset().union(*(placeholders(text) for text in self.progress.values()))


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything the robot knows, validated; built by :func:`load_knowledge`."""

    directory: Path
    settings: Settings
    intents: Mapping[str, Intent]
    shops: Mapping[str, Shop]
    default_shop_name: Mapping[str, str]
    handover: Mapping[str, str]
    statuses: Mapping[str, Status]
    carriers: Mapping[str, Mapping[str, str]]
    lexicons: Mapping[str, tuple[str, ...]]
    slots: Mapping[str, Mapping[str, tuple[str, ...]]]

    def training_examples(self) -> list[tuple[str, str]]:
        """(text, intent) for every example of every intent and language."""
        return [(text, intent.name) for intent in self.intents.values()
                for lang in LANGUAGES for text in intent.examples[lang]]


def placeholders(text: str) -> set[str]:
    """The ``{names}`` in an answer template (raises ValueError on a malformed one)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def load_knowledge(directory: str | Path = DEFAULT_DIRECTORY) -> Knowledge:
    """Read and validate a knowledge-base directory; raise :class:`KnowledgeError` on any problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError(f"knowledge base {directory} is not a directory")
    robot = _File(directory / "robot.toml")
    robot.no_unknown_keys(robot.data, ("decision", "handover", "default_shop", "statuses", "carriers"))
    settings = _settings(robot)
    statuses = _statuses(robot)
    carriers = {code: robot.texts(table, f"carriers.{code}", frozenset())
                for code, table in robot.table(robot.data, "carriers").items()}
    handover = robot.texts(robot.data.get("handover"), "handover", frozenset())
    default_shop_name = robot.texts(robot.table(robot.data, "default_shop").get("name"),
                                    "default_shop.name", frozenset())

    lexicon = _File(directory / "lexicon.toml")
    lexicons = {}
    for name in LEXICONS:
        per_lang = lexicon.text_lists(lexicon.data.get(name), name)
        lexicons[name] = tuple(term for lang in LANGUAGES for term in per_lang[lang])
    lexicon.no_unknown_keys(lexicon.data, LEXICONS)

    slots_file = _File(directory / "slots.toml")
    slots = {name: slots_file.text_lists(table, name, allow_empty_text=True)
             for name, table in slots_file.data.items()}

    intent_paths = sorted((directory / "intents").glob("*.toml"))
    intents = {path.stem: _intent(_File(path), set(slots)) for path in intent_paths}
    missing = [name for name in REQUIRED_INTENTS if name not in intents]
    if missing:
        raise KnowledgeError(f"{directory / 'intents'}: no file for intent {missing[0]} "
                             f"(expected {missing[0]}.toml)")
    _no_conflicting_examples(intents, directory / "intents")

    shops = {path.stem: _shop(_File(path), intents)
             for path in sorted((directory / "shops").glob("*.toml"))}
    return Knowledge(
        directory=directory, settings=settings, intents=MappingProxyType(intents),
        shops=MappingProxyType(shops), default_shop_name=default_shop_name, handover=handover,
        statuses=MappingProxyType(statuses), carriers=MappingProxyType(carriers),
        lexicons=MappingProxyType(lexicons), slots=MappingProxyType(slots),
    )


class _File:
    """One TOML file and the checks that name it and the key in their messages."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KnowledgeError(f"knowledge base file {path} is missing") from None
        except OSError as exc:
            raise KnowledgeError(f"cannot read knowledge base file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise KnowledgeError(f"{path} is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise KnowledgeError(f"{path} is not valid TOML: {exc}") from None

    def fail(self, key: str, problem: str) -> KnowledgeError:
        return KnowledgeError(f"{self.path}: {key} {problem}")

    def table(self, parent: Mapping, key: str) -> dict:
        value = parent.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "is missing or not a table")
        return value

    def texts(self, value, key: str, allowed: frozenset[str] | None = None) -> Mapping[str, str]:
        """A ``{zh = "...", en = "..."}`` table: both languages, non-empty, known placeholders."""
        if not isinstance(value, dict):
            raise self.fail(key, "is missing or not a table of zh and en texts")
        self.no_unknown_keys(value, LANGUAGES, key)
        texts = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{key}.{lang}", "is missing or empty")
            if allowed is not None:
                self.check_placeholders(text, f"{key}.{lang}", allowed)
            texts[lang] = text
        return MappingProxyType(texts)

    def text_lists(self, value, key: str, allow_empty_text: bool = False) -> Mapping[str, tuple[str, ...]]:
        """A ``{zh = [...], en = [...]}`` table of non-empty lists of strings."""
        if not isinstance(value, dict):
            raise self.fail(key, "is missing or not a table of zh and en lists")
        self.no_unknown_keys(value, LANGUAGES, key)
        lists = {}
        for lang in LANGUAGES:
            items = value.get(lang)
            if not isinstance(items, list) or not items:
                raise self.fail(f"{key}.{lang}", "is missing or not a non-empty list")
            for item in items:
                if not isinstance(item, str) or (not allow_empty_text and not item.strip()):
                    raise self.fail(f"{key}.{lang}", f"has an entry that is not a non-empty string: {item!r}")
            lists[lang] = tuple(items)
        return MappingProxyType(lists)

    def check_placeholders(self, text: str, key: str, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise self.fail(key, f"has a malformed placeholder ({exc}); write a literal brace as {{{{ or }}}}") from None
        for _, field, spec, conversion in parsed:
            if field is None:
                continue
            if field not in allowed or spec or conversion:
                raise self.fail(key, f"uses unknown placeholder {{{field}}} "
                                     f"(allowed here: {', '.join('{%s}' % a for a in sorted(allowed))})")

    def no_unknown_keys(self, table: Mapping, known: Iterable[str], within: str = "") -> None:
        """Refuse a misspelt key rather than ignore it (``within`` is the enclosing table's key)."""
        known = set(known)
        for key in table:
            if key not in known:
                raise self.fail(f"{within}.{key}" if within else key,
                                f"is not a known key (known here: {', '.join(sorted(known))})")


def _settings(robot: _File) -> Settings:
    table = robot.table(robot.data, "decision")
    robot.no_unknown_keys(table, [*_SETTING_BOUNDS, "fallback_skill"], "decision")
    values = {}
    for name, (kind, low, high) in _SETTING_BOUNDS.items():
        value = table.get(name)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise robot.fail(f"decision.{name}", f"is missing or not {'a number' if kind is float else 'an integer'}")
        if not low <= value <= high:
            raise robot.fail(f"decision.{name}", f"must be between {low:g} and {high:g}, not {value}")
        values[name] = value
    fallback = table.get("fallback_skill")
    if fallback not in SKILLS:
        raise robot.fail("decision.fallback_skill", f"must be one of {', '.join(SKILLS)}, not {fallback!r}")
    return Settings(fallback_skill=fallback, **values)


def _statuses(robot: _File) -> dict[str, Status]:
    statuses = {}
    for code, table in robot.table(robot.data, "statuses").items():
        if not isinstance(table, dict):
            raise robot.fail(f"statuses.{code}", "is not a table")
        robot.no_unknown_keys(table, ("label", "progress"), f"statuses.{code}")
        statuses[code] = Status(
            label=robot.texts(table.get("label"), f"statuses.{code}.label", frozenset()),
            progress=robot.texts(table.get("progress"), f"statuses.{code}.progress", PROGRESS_PLACEHOLDERS),
        )
    return statuses


_INTENT_KEYS = ("skill", "escalate", "priority_bump", "escalate_on_repeat", "examples", "answer",
                "order_answer", "phrasing")


def _intent(file: _File, slot_names: set[str]) -> Intent:
    data = file.data
    file.no_unknown_keys(data, _INTENT_KEYS)
    skill = data.get("skill")
    if skill not in SKILLS:
        raise file.fail("skill", f"must be one of {', '.join(SKILLS)}, not {skill!r}")
    escalate = data.get("escalate")
    if escalate is not None and escalate not in INTENT_REASONS:
        raise file.fail("escalate", f"must be one of {', '.join(INTENT_REASONS)}, not {escalate!r}")
    priority_bump = data.get("priority_bump", 0)
    if not isinstance(priority_bump, int) or isinstance(priority_bump, bool) or not 0 <= priority_bump <= 10:
        raise file.fail("priority_bump", f"must be an integer from 0 to 10, not {priority_bump!r}")
    repeat = data.get("escalate_on_repeat", True)
    if not isinstance(repeat, bool):
        raise file.fail("escalate_on_repeat", "must be true or false")
    examples = file.text_lists(data.get("examples"), "examples")
    if escalate is None:
        if "answer" not in data:
            raise file.fail("answer", "is missing: an intent without `escalate` needs an answer in zh and en")
        answer = file.texts(data["answer"], "answer", ANSWER_PLACEHOLDERS)
        order_answer = (file.texts(data["order_answer"], "order_answer", ORDER_ANSWER_PLACEHOLDERS)
                        if "order_answer" in data else MappingProxyType({}))
    else:
        for key in ("answer", "order_answer"):
            if key in data:
                raise file.fail(key, f"is never said: the intent escalates ({escalate}); remove it or `escalate`")
        answer = order_answer = MappingProxyType({})
    phrasing = file.text_lists(data.get("phrasing"), "phrasing")
    for lang in LANGUAGES:
        for template in phrasing[lang]:
            file.check_placeholders(template, f"phrasing.{lang}", slot_names | {ORDER_ID_SLOT})
    return Intent(name=file.path.stem, skill=skill, escalate=escalate, priority_bump=priority_bump,
                  escalate_on_repeat=repeat, examples=examples, answer=answer,
                  order_answer=order_answer, phrasing=phrasing)


def _no_conflicting_examples(intents: Mapping[str, Intent], where: Path) -> None:
    # the same text taught as two intents makes the model guess; say which
    first_seen: dict[str, str] = {}
    for intent in intents.values():
        for lang in LANGUAGES:
            for text in intent.examples[lang]:
                key = text.strip().casefold()
                other = first_seen.setdefault(key, intent.name)
                if other != intent.name:
                    raise KnowledgeError(f"{where}: example {text!r} is in both {other}.toml and "
                                         f"{intent.name}.toml")


def _shop(file: _File, intents: Mapping[str, Intent]) -> Shop:
    data = file.data
    file.no_unknown_keys(data, ("name", "answers", "order_answers"))
    name = file.texts(data.get("name"), "name", frozenset())
    overrides = {}
    for key, allowed in (("answers", ANSWER_PLACEHOLDERS), ("order_answers", ORDER_ANSWER_PLACEHOLDERS)):
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise file.fail(key, "is not a table")
        per_intent = {}
        for intent_name, texts in table.items():
            intent = intents.get(intent_name)
            if intent is None:
                raise file.fail(f"{key}.{intent_name}", f"names unknown intent {intent_name!r} "
                                                        f"(known: {', '.join(sorted(intents))})")
            if intent.escalate is not None or (key == "order_answers" and not intent.uses_orders):
                raise file.fail(f"{key}.{intent_name}", "overrides an answer the intent never gives")
            per_intent[intent_name] = _partial_texts(file, texts, f"{key}.{intent_name}", allowed)
        overrides[key] = MappingProxyType(per_intent)
    return Shop(id=file.path.stem, name=name, answers=overrides["answers"],
                order_answers=overrides["order_answers"])


def _partial_texts(file: _File, value, key: str, allowed: frozenset[str]) -> Mapping[str, str]:
    # an override may reword one language only; the other keeps the general answer
    if not isinstance(value, dict) or not value:
        raise file.fail(key, "is not a table of zh and/or en texts")
    file.no_unknown_keys(value, LANGUAGES, key)
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise file.fail(f"{key}.{lang}", "is empty or not a string")
        file.check_placeholders(text, f"{key}.{lang}", allowed)
    return MappingProxyType(dict(value))
