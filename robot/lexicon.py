"""Strong-signal word lists (``lexicon.toml``) as one compiled pattern each."""
from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Lexicon"]


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class Lexicon:
    """Finds the first of a list of terms in a folded message, case-insensitively.

    A term that starts or ends with a Latin letter or digit must not continue
    a longer word there: "sue" is not in "issue", 12315 is not inside an
    order number. The pattern itself is a plain alternation, which ``re``
    scans by first character (a message of 2,000 characters in microseconds,
    where a look-behind in front of every term took milliseconds); the word
    edges are checked on each candidate.
    """

    def __init__(self, terms: Iterable[str]):
        alternatives = sorted({r"\s+".join(map(re.escape, term.casefold().split()))
                               for term in terms if term.strip()}, key=len, reverse=True)
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def search(self, folded: str) -> str | None:
        """The term found in ``folded`` (output of :func:`robot.text.fold`), or None."""
        if self._pattern is None:
            return None
        text = folded.casefold()
        position = 0
        while found := self._pattern.search(text, position):
            start, end = found.span()
            inside_word = ((_ascii_alnum(text[start]) and start > 0 and _ascii_alnum(text[start - 1]))
                           or (_ascii_alnum(text[end - 1]) and end < len(text) and _ascii_alnum(text[end])))
            if not inside_word:
                return found.group(0)
            position = start + 1
        return None
