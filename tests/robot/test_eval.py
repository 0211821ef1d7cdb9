"""The held-out labelled set: kept apart from training, and what the robot scores on it."""
from __future__ import annotations

from collections import Counter

import pytest

from robot.evaluation import MUST_ESCALATE, LabelledSetError, evaluate, read_labelled
from robot.knowledge import DEFAULT_DIRECTORY

EVAL = DEFAULT_DIRECTORY / "eval.csv"
TARGET_ACCURACY = 0.90


@pytest.fixture(scope="module")
def questions(knowledge):
    return read_labelled(EVAL, knowledge.intents)


@pytest.fixture(scope="module")
def result(robot, questions):
    return evaluate(robot, questions)


def test_the_set_is_large_balanced_and_bilingual(questions, knowledge):
    assert len(questions) >= 240
    per_intent = Counter(q.intent for q in questions)
    assert set(per_intent) == set(knowledge.intents)
    assert max(per_intent.values()) - min(per_intent.values()) <= 4
    per_lang = Counter(q.lang for q in questions)
    assert set(per_lang) == {"zh", "en"} and abs(per_lang["zh"] - per_lang["en"]) <= len(questions) // 10


def test_no_question_is_a_training_example(questions, knowledge):
    taught = {text.strip().casefold() for text, _ in knowledge.training_examples()}
    copied = [q.text for q in questions if q.text.strip().casefold() in taught]
    assert copied == []


def test_intent_accuracy_meets_the_target(result):
    print(f"\nintent accuracy on {EVAL.name}: {result.accuracy:.3f} ({result.correct}/{result.total}), "
          + ", ".join(f"{lang} {right}/{total}" for lang, (right, total) in sorted(result.by_lang.items())))
    assert result.accuracy >= TARGET_ACCURACY


def test_every_human_request_and_complaint_reaches_a_person(result, questions):
    assert sum(q.intent in MUST_ESCALATE for q in questions) >= 40
    assert [(q.line, q.text, d.action, d.skill) for q, d in result.missed_escalations] == []


@pytest.mark.parametrize("content, says", [
    ("", "empty"),
    ("question,label\nhi,greeting\n", "no text column"),
    ("text,intent,mood\nhi,greeting,happy\n", "unknown column"),
    ("text,intent\nhi,greeting,extra\n", "line 2"),
    ("text,intent\nhi,smalltalk\n", "unknown intent 'smalltalk'"),
    ("text,intent\n", "no questions"),
])
def test_a_bad_labelled_file_is_one_clear_error(tmp_path, knowledge, content, says):
    path = tmp_path / "set.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelledSetError) as raised:
        read_labelled(path, knowledge.intents)
    assert says in str(raised.value) and str(path) in str(raised.value)


def test_lang_and_shop_columns_are_optional(tmp_path, knowledge):
    path = tmp_path / "set.csv"
    path.write_text("intent,text\ngreeting,hi\n", encoding="utf-8")
    (question,) = read_labelled(path, knowledge.intents)
    assert (question.text, question.intent, question.shop) == ("hi", "greeting", None)
