"""Measuring the robot on labelled questions: accuracy, a confusion table, missed escalations.

A labelled set is a CSV file with a header and the columns ``text,intent``
plus optional ``lang`` and ``shop``; ``assets/robot/eval.csv`` is the
held-out set, written apart from the training examples.
"""
from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from robot.decide import Decision, Robot

__all__ = ["MUST_ESCALATE", "Evaluation", "Labelled", "LabelledSetError", "confusion_table", "evaluate",
           "read_labelled"]

REQUIRED_COLUMNS = ("text", "intent")
OPTIONAL_COLUMNS = ("lang", "shop")
#: labelled intent -> the desk it must reach (None: any desk, as long as a person gets it)
MUST_ESCALATE = {"human_request": None, "complaint": "complaint"}
#: the confusion table's name for "not classified" (bad input)
UNREAD = "(unread)"


class LabelledSetError(ValueError):
    """A labelled CSV file cannot be used; the message names the file (and line)."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled question."""

    text: str
    intent: str
    lang: str
    shop: str | None
    line: int


@dataclass
class Evaluation:
    """What :func:`evaluate` found."""

    total: int = 0
    correct: int = 0
    #: (labelled intent, decided intent) -> count
    confusion: Counter = field(default_factory=Counter)
    #: lang -> [correct, total]
    by_lang: dict[str, list[int]] = field(default_factory=dict)
    #: human requests and complaints the robot answered (or sent to the wrong desk)
    missed_escalations: list[tuple[Labelled, Decision]] = field(default_factory=list)
    #: every question the decided intent got wrong
    mistakes: list[tuple[Labelled, Decision]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def wrong_answers(self) -> int:
        """Mistakes the robot answered (the customer got an answer to another question)."""
        return sum(decision.action == "answer" for _, decision in self.mistakes)


def read_labelled(path: str | Path, known_intents: Iterable[str]) -> list[Labelled]:
    """Read a labelled CSV file; raise :class:`LabelledSetError` naming the file and line."""
    path = Path(path)
    known = set(known_intents)
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise LabelledSetError(f"labelled file {path} does not exist") from None
    except IsADirectoryError:
        raise LabelledSetError(f"labelled file {path} is a directory") from None
    except OSError as exc:
        raise LabelledSetError(f"cannot read labelled file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LabelledSetError(f"{path} is not a UTF-8 CSV file ({exc})") from None
    if not rows:
        raise LabelledSetError(f"{path} is empty; expected a header with text,intent[,lang][,shop]")
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise LabelledSetError(f"{path}: the header has no {missing[0]} column "
                               f"(expected text,intent[,lang][,shop], got {','.join(header)})")
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise LabelledSetError(f"{path}: unknown column {unknown[0]!r} (expected text,intent[,lang][,shop])")
    questions = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise LabelledSetError(f"{path} line {line}: expected {len(header)} columns, got {len(row)}")
        cells = dict(zip(header, row))
        intent = cells["intent"].strip()
        if intent not in known:
            raise LabelledSetError(f"{path} line {line}: unknown intent {intent!r} "
                                   f"(known: {', '.join(sorted(known))})")
        lang = cells.get("lang", "").strip() or "?"
        questions.append(Labelled(text=cells["text"], intent=intent, lang=lang,
                                  shop=cells.get("shop", "").strip() or None, line=line))
    if not questions:
        raise LabelledSetError(f"{path} has a header but no questions")
    return questions


def evaluate(robot: Robot, questions: Sequence[Labelled]) -> Evaluation:
    """Decide every question as a first message and compare with its label."""
    result = Evaluation()
    for question in questions:
        decision = robot.decide(question.text, shop=question.shop)
        decided = decision.intent or UNREAD
        right = decided == question.intent
        result.total += 1
        result.correct += right
        result.confusion[question.intent, decided] += 1
        tally = result.by_lang.setdefault(question.lang, [0, 0])
        tally[0] += right
        tally[1] += 1
        if not right:
            result.mistakes.append((question, decision))
        if question.intent in MUST_ESCALATE:
            desk = MUST_ESCALATE[question.intent]
            if decision.action != "escalate" or (desk is not None and decision.skill != desk):
                result.missed_escalations.append((question, decision))
    return result


def confusion_table(evaluation: Evaluation) -> str:
    """Rows: labelled intent; columns: decided intent (abbreviated); last column: recall."""
    labels = sorted({label for label, _ in evaluation.confusion})
    decided = sorted({d for _, d in evaluation.confusion} - set(labels))
    columns = labels + decided
    corner = "labelled \\ decided"
    width = max(len(label) for label in columns + [corner])
    short = [column[:6] for column in columns]
    lines = [f"{corner:<{width}} " + " ".join(f"{s:>6}" for s in short) + "  recall"]
    for label in labels:
        counts = [evaluation.confusion.get((label, column), 0) for column in columns]
        total = sum(counts)
        recall = evaluation.confusion.get((label, label), 0) / total if total else 0.0
        cells = " ".join(f"{count:>6}" if count else f"{'.':>6}" for count in counts)
        lines.append(f"{label:<{width}} {cells}  {recall:6.2f}")
    return "\n".join(lines)
