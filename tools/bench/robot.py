"""``grabdesk bench robot``: how well and how fast the robot first line decides.

In-process and single-threaded, no broker: load the knowledge base, train the
intent model (``train_s``), measure the held-out labelled set
(``assets/robot/eval.csv``: ``intent_accuracy``, ``missed_escalations``), then
decide every question ``--passes`` times, timing each message-to-decision
call (``p50_ms``, ``p99_ms``) and the whole loop (``answers_per_s``, which
counts every decision, answers and escalations alike). For scale it also
times scikit-learn's own ``Pipeline.predict_proba`` per message
(``pipeline_p50_ms``), which the robot's scoring path replaces, and a
message of the largest accepted size (``longest_message_ms``).

``ok`` says whether every target held: accuracy, no missed escalation,
throughput and p99.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from tools.bench.race_results import percentile
from grabdesk.cli import positive_int

TARGET_ACCURACY = 0.90
TARGET_ANSWERS_PER_S = 500.0
TARGET_P99_MS = 20.0
#: decisions of the largest accepted message, for its median
LONGEST_MESSAGE_REPEATS = 20


def add_arguments(parser) -> None:
    from robot.knowledge import DEFAULT_DIRECTORY

    parser.add_argument("--passes", type=positive_int, default=5,
                        help="timed passes over the labelled questions (default 5)")
    parser.add_argument("--knowledge", metavar="DIR", default=str(DEFAULT_DIRECTORY),
                        help="knowledge-base directory (default: assets/robot)")
    parser.add_argument("--eval", metavar="FILE", default=None,
                        help="labelled CSV file (default: eval.csv in the knowledge base)")


def run(args) -> dict:
    from robot.decide import Robot
    from robot.evaluation import evaluate, read_labelled
    from robot.knowledge import load_knowledge
    from robot.nlu import IntentModel
    from robot.orders import CsvOrderBook

    started = time.perf_counter()
    knowledge = load_knowledge(args.knowledge)
    orders = CsvOrderBook.load(Path(args.knowledge) / "orders.csv", knowledge)
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    model = IntentModel.train(knowledge.training_examples())
    train_s = time.perf_counter() - started
    robot = Robot(knowledge, orders, model=model)

    questions = read_labelled(args.eval or Path(args.knowledge) / "eval.csv", knowledge.intents)
    quality = evaluate(robot, questions)  # also the warm-up pass

    latencies_ms = []
    started = time.perf_counter()
    for _ in range(args.passes):
        for question in questions:
            t0 = time.perf_counter_ns()
            robot.decide(question.text, shop=question.shop)
            latencies_ms.append((time.perf_counter_ns() - t0) / 1e6)
    elapsed_s = time.perf_counter() - started
    latencies_ms.sort()

    pipeline_ms = []
    for question in questions:
        t0 = time.perf_counter_ns()
        model.predict_with_pipeline([question.text])
        pipeline_ms.append((time.perf_counter_ns() - t0) / 1e6)

    longest = ("我的订单到哪了 " * knowledge.settings.max_message_chars)[:knowledge.settings.max_message_chars]
    longest_ms = []
    for _ in range(LONGEST_MESSAGE_REPEATS):
        t0 = time.perf_counter_ns()
        robot.decide(longest)
        longest_ms.append((time.perf_counter_ns() - t0) / 1e6)

    answers_per_s = len(latencies_ms) / elapsed_s
    p99_ms = percentile(latencies_ms, 99, is_sorted=True)
    missed = len(quality.missed_escalations)
    return {
        "ok": (quality.accuracy >= TARGET_ACCURACY and missed == 0
               and answers_per_s >= TARGET_ANSWERS_PER_S and p99_ms <= TARGET_P99_MS),
        "questions": quality.total,
        "intent_accuracy": round(quality.accuracy, 4),
        "accuracy_by_lang": {lang: round(right / total, 4)
                             for lang, (right, total) in sorted(quality.by_lang.items())},
        "missed_escalations": missed,
        "wrong_answers": quality.wrong_answers,
        "decisions": len(latencies_ms),
        "answers_per_s": round(answers_per_s, 1),
        "p50_ms": round(percentile(latencies_ms, 50, is_sorted=True), 4),
        "p99_ms": round(p99_ms, 4),
        "max_ms": round(latencies_ms[-1], 4),
        "pipeline_p50_ms": round(statistics.median(pipeline_ms), 4),
        "longest_message_ms": round(statistics.median(longest_ms), 4),
        "train_s": round(train_s, 3),
        "load_s": round(load_s, 3),
        "training_examples": len(knowledge.training_examples()),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
