"""Message text before understanding: what the robot refuses to read, and one normal form.

Customers type on phones with Chinese input methods: full-width letters and
digits (ＯＫ, １２３), curly apostrophes, zero-width characters pasted from
elsewhere. :func:`fold` maps all of that to one form so the lexicons, the
order-number pattern and the classifier see the same text; :func:`model_form`
is what the classifier is trained on and predicts from.

:func:`screen` decides whether a message can be read at all. A message that
cannot (empty, too long, binary, mostly in a script the robot has no examples
for, mojibake) is not classified: a person reads it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Screened", "fold", "language", "model_form", "screen"]

#: categories no typed text contains: controls, surrogates, private use, unassigned
_UNREADABLE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
#: a message whose letters are more than this share in scripts other than
#: Han and Latin is one the classifier has never seen the like of
FOREIGN_SCRIPT_MAX_SHARE = 0.3
#: Latin letters beyond ASCII (é, Ã, ...): a few are names and loan words;
#: many are UTF-8 read as Latin-1 (mojibake)
ACCENTED_LATIN_MAX_SHARE = 0.3
ACCENTED_LATIN_MIN_COUNT = 3
#: runs of this many digits (order, phone and tracking numbers) are one token
#: to the classifier: their digits say nothing about the intent
MASKED_DIGIT_RUN = 6

_DIGIT_RUN = re.compile(r"\d{%d,}" % MASKED_DIGIT_RUN)
_SPACES = re.compile(r"\s+")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_ASCII_DIGIT = re.compile(r"[0-9]")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")
# the controls a typed message never has (tab, newline and return it may)
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_HAN = re.compile(f"[{_HAN_RANGES}]")
_ASCII_OR_HAN = re.compile(f"[\x00-\x7f{_HAN_RANGES}]+")
# the format characters that pasting and input methods leave in chat text: soft
# hyphen, zero-width space and joiners, direction marks, word joiner, BOM.
# They would split a lexicon term or an order number without being seen.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# NFKC leaves typographic quotes alone; lexicons are written with ASCII ones
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True, slots=True)
class Screened:
    """A message after :func:`screen`: its folded text, or why it cannot be read."""

    text: str
    #: None when the message can be read; else a phrase for the log and the agent
    problem: str | None


def fold(text: str) -> str:
    """Full-width to ASCII (NFKC), typographic quotes to ASCII, invisible characters removed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return text if text.isascii() else _INVISIBLE.sub("", text)


def model_form(text: str) -> str:
    """What the classifier sees: folded, lower case, long digit runs masked, spaces collapsed."""
    text = _DIGIT_RUN.sub("#", fold(text).lower())
    return _SPACES.sub(" ", text).strip()


def language(folded: str, default: str) -> str:
    """``zh`` if the message has any Chinese character, ``en`` if it has Latin letters, else ``default``.

    A customer who mixes in Chinese reads it ("where is my 快递"), so the
    answer is in Chinese; a bare order number is in the conversation's language.
    """
    if _HAN.search(folded):
        return "zh"
    return "en" if _LATIN_LETTER.search(folded) else default


def screen(text: object, max_chars: int) -> Screened:
    """Fold a message and say whether the robot may read it; never raises."""
    if not isinstance(text, str):
        return Screened("", f"is not text ({type(text).__name__})")
    # the limit is checked before any per-character work, so a huge message costs nothing
    if len(text) > max_chars:
        return Screened("", f"is {len(text)} characters long (limit {max_chars})")
    folded = fold(text)
    if len(folded) > max_chars:  # NFKC may expand a few characters manyfold
        return Screened("", f"is {len(folded)} characters long once normalised (limit {max_chars})")
    if not folded.strip():
        return Screened(folded, "is empty")
    if _ASCII_CONTROL.search(folded):
        return Screened(folded, "contains control characters (binary data?)")
    if folded.isascii():
        problem = None if _ASCII_ALNUM.search(folded) else "has no letters or digits"
    else:
        problem = _unreadable(folded)
    return Screened(folded, problem)


def _unreadable(folded: str) -> str | None:
    han = len(_HAN.findall(folded))
    latin = len(_LATIN_LETTER.findall(folded))
    digits = len(_ASCII_DIGIT.findall(folded))
    accented = foreign = 0
    # what is left after ASCII and Han: punctuation, emoji, other scripts, garbage
    for ch in _ASCII_OR_HAN.sub("", folded):
        if unicodedata.category(ch) in _UNREADABLE_CATEGORIES or ch == "\ufffd":
            return "contains control or undecodable characters (binary data?)"
        if ch.isdigit():
            digits += 1
        elif not ch.isalpha():
            continue
        elif unicodedata.name(ch, "").startswith("LATIN"):
            latin += 1
            accented += 1
        else:
            foreign += 1
    letters = han + latin + foreign
    if letters + digits == 0:
        return "has no letters or digits"
    if foreign > FOREIGN_SCRIPT_MAX_SHARE * letters:
        return "is mostly in a script other than Chinese or Latin"
    if accented >= ACCENTED_LATIN_MIN_COUNT and accented > ACCENTED_LATIN_MAX_SHARE * latin:
        return "looks garbled (many accented Latin letters: text decoded with the wrong encoding?)"
    return None
