"""Customer messages for simulations, from the knowledge base's phrasing families.

Each intent file has ``[phrasing]`` templates per language with ``{slots}``
filled from ``slots.toml``, and ``{order_id}`` from the caller (a real order
number makes the robot's lookup succeed; None makes one up). Noise then does
what thumbs on a phone keyboard do: a dropped, doubled or swapped character,
shouting punctuation, a missing capital. Order numbers are left intact so a
message names the order it was given.

The templates are not training examples: a simulator's messages test the
robot rather than repeat what it was taught.
"""
from __future__ import annotations

import functools
import random
import string

from robot.knowledge import LANGUAGES, ORDER_ID_SLOT, Knowledge, load_knowledge

__all__ = ["DEFAULT_NOISE", "Phrasebook", "sample"]

#: chance of each noise step; 0.3 makes about half the messages imperfect
DEFAULT_NOISE = 0.3
#: digits of a made-up Tmall-style order number
MADE_UP_ORDER_ID_DIGITS = 18
_ENDINGS = {"zh": ("？？", "!!", "。。。", "😭", "🙏", "啊啊"), "en": ("??", "!!", "...", " 🙏", " pls")}


class Phrasebook:
    """Samples customer messages per intent and language from one knowledge base."""

    def __init__(self, knowledge: Knowledge):
        self._knowledge = knowledge
        self._formatter = string.Formatter()

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self._knowledge.intents)

    def sample(self, rng: random.Random, intent: str, lang: str, *, order_id: str | None = None,
               noise: float = DEFAULT_NOISE) -> str:
        """One message of ``intent`` in ``lang`` (``zh`` or ``en``); ValueError for an unknown one."""
        found = self._knowledge.intents.get(intent)
        if found is None:
            raise ValueError(f"unknown intent {intent!r} (known: {', '.join(self._knowledge.intents)})")
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
        template = rng.choice(found.phrasing[lang])
        if order_id is None:
            order_id = str(rng.randrange(10 ** (MADE_UP_ORDER_ID_DIGITS - 1), 10 ** MADE_UP_ORDER_ID_DIGITS))
        values = {ORDER_ID_SLOT: order_id}
        for _, slot, _, _ in self._formatter.parse(template):
            if slot and slot not in values:
                values[slot] = rng.choice(self._knowledge.slots[slot][lang])
        return _with_noise(rng, template.format_map(values), lang, noise, protected=order_id)


def _with_noise(rng: random.Random, text: str, lang: str, noise: float, protected: str) -> str:
    start = text.find(protected)
    keep = range(start, start + len(protected)) if start >= 0 else range(0)
    positions = [i for i in range(len(text) - 1) if i not in keep and i + 1 not in keep
                 and not text[i].isspace()]
    if positions and rng.random() < noise:
        i = rng.choice(positions)
        typo = rng.randrange(3)
        if typo == 0:
            text = text[:i] + text[i + 1:]  # dropped
        elif typo == 1:
            text = text[:i] + text[i] + text[i:]  # doubled
        else:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2:]  # swapped
    if rng.random() < noise:
        text = text.rstrip("?？!！.。") + rng.choice(_ENDINGS[lang])
    if lang == "en" and rng.random() < noise:
        text = text[:1].upper() + text[1:] if text[:1].islower() else text.lower()
    return text


@functools.cache
def _default_phrasebook() -> Phrasebook:
    return Phrasebook(load_knowledge())


def sample(rng: random.Random, intent: str, lang: str, *, order_id: str | None = None,
           noise: float = DEFAULT_NOISE) -> str:
    """:meth:`Phrasebook.sample` over the default knowledge base (``assets/robot``), loaded once."""
    return _default_phrasebook().sample(rng, intent, lang, order_id=order_id, noise=noise)
