"""Reading an inquiry's transcript as the robot does: pure, no broker types needed."""
from __future__ import annotations


def latest_customer_text(record) -> str:
    """The customer's lines since the robot last spoke, joined: what the robot decides on.

    ``record`` is a transcript (``broker.wire.protocol.TranscriptRecord``): lines with
    ``who`` and ``text``, oldest first."""
    lines: list[str] = []
    for line in reversed(record.lines):
        if line.who != "customer":
            break
        lines.append(line.text)
    return "\n".join(reversed(lines))
