"""Bounding an inquiry's transcript: pure functions, no state.

A transcript keeps the customer's first message (what the inquiry is about)
and the latest lines; when the total text would exceed the broker's bound,
the oldest lines after the first are dropped and counted in ``dropped``, and a
single line longer than its own bound is cut with a marker.
"""
from __future__ import annotations

import msgspec

from broker.wire.protocol import TranscriptLine, TranscriptRecord

#: appended to a line cut to its bound, so a reader knows text is missing
CUT_MARKER = " […]"


def bounded_line(at: float, who: str, text: str, line_chars: int) -> TranscriptLine:
    """One line, cut to ``line_chars`` characters (marker included) if longer."""
    if len(text) > line_chars:
        text = text[:max(0, line_chars - len(CUT_MARKER))] + CUT_MARKER
    return TranscriptLine(at, who, text)


def appended(transcript: TranscriptRecord, line: TranscriptLine, max_chars: int,
             robot: str = "") -> TranscriptRecord:
    """A new record: ``transcript`` with ``line`` at its end, within ``max_chars`` of text.

    Records are published as they are, so the old one is left unchanged."""
    lines = [*transcript.lines, line]
    dropped = transcript.dropped
    total = sum(len(each.text) for each in lines)
    while total > max_chars and len(lines) > 2:
        total -= len(lines.pop(1).text)
        dropped += 1
    return msgspec.structs.replace(transcript, lines=lines, dropped=dropped, robot=robot)
