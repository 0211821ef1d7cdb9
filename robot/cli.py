"""``grabdesk robot``: the robot first line, offline.

Examples::

    grabdesk robot ask "我的快递到哪了" --shop tmall-flagship
    grabdesk robot ask "where is order 383131075115634477" --shop tmall-flagship --json
    grabdesk robot eval assets/robot/eval.csv
    grabdesk robot serve --who robot-1

``ask`` decides one message with the same code the robot service runs;
``eval`` measures a labelled CSV file (``text,intent[,lang][,shop]``);
``serve`` runs the robot against a broker (robot/serve.py). A
mistake (a missing or malformed file, a broken knowledge base, an unknown
shop) is one sentence on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from robot.knowledge import DEFAULT_DIRECTORY, KnowledgeError

EXIT_OK = 0
EXIT_USAGE = 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``robot`` and its actions on the dispatcher's subparsers."""
    parser = subparsers.add_parser(
        "robot", help="the robot first line: answer or hand over customer messages",
        description="Understand customer messages (zh, en) and answer them or hand them to a person. "
                    "docs/robot.md describes the knowledge base and the decision rules.")
    actions = parser.add_subparsers(dest="robot_action", metavar="ACTION")

    ask = actions.add_parser("ask", help="decide one message",
                             description="Decide one customer message as the robot would, and print it.")
    ask.add_argument("text", metavar="TEXT", help="what the customer wrote")
    ask.add_argument("--shop", metavar="SHOP", help="the shop asked (its answers and orders); default: none")
    ask.add_argument("--customer", metavar="ID",
                     help="the customer asking: a looked-up order must be theirs (default: not checked)")
    ask.add_argument("--json", action="store_true",
                     help="print one JSON object: intent, confidence, action, then answer, "
                          "or skill, reason, priority_bump")

    evaluate = actions.add_parser("eval", help="measure accuracy on labelled questions",
                                  description="Decide every question of a labelled CSV file "
                                              "(text,intent[,lang][,shop]) and print the intent accuracy, "
                                              "missed escalations and a confusion table.")
    evaluate.add_argument("file", metavar="FILE", help="the labelled CSV file, e.g. assets/robot/eval.csv")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--mistakes", action="store_true", help="also list every misunderstood question")

    from robot.serve import add_serve_parser

    add_serve_parser(actions)
    for action in (ask, evaluate):
        action.add_argument("--knowledge", metavar="DIR", default=str(DEFAULT_DIRECTORY),
                            help="knowledge-base directory (default: assets/robot)")
    parser.set_defaults(func=run, robot_parser=parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; return the exit status."""
    if args.robot_action is None:
        args.robot_parser.print_help(sys.stderr)
        return EXIT_USAGE
    from robot.evaluation import LabelledSetError

    if args.robot_action == "serve":
        from robot.serve import run_serve

        return run_serve(args)
    try:
        return _ask(args) if args.robot_action == "ask" else _evaluate(args)
    except (KnowledgeError, LabelledSetError) as exc:
        print(f"grabdesk robot {args.robot_action}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _ask(args: argparse.Namespace) -> int:
    from robot.decide import Robot

    robot = Robot.from_directory(args.knowledge)
    if args.shop is not None and args.shop not in robot.knowledge.shops:
        raise KnowledgeError(f"unknown shop {args.shop!r} (shops in the knowledge base: "
                             f"{', '.join(robot.knowledge.shops)})")
    decision = robot.decide(args.text, shop=args.shop, customer=args.customer)
    if args.json:
        print(json.dumps(decision.as_json(), ensure_ascii=False))
        return EXIT_OK
    print(f"intent      {decision.intent or '(not read)'} (confidence {decision.confidence:.2f})")
    if decision.action == "answer":
        print("action      answer")
        print(f"answer      {decision.answer}")
    else:
        print(f"action      escalate to {decision.skill} (reason {decision.reason}, "
              f"priority +{decision.priority_bump})")
        print(f"why         {decision.detail}")
        print(f"says        {decision.handover}")
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from robot.decide import Robot
    from robot.evaluation import confusion_table, evaluate, read_labelled
    from robot.knowledge import load_knowledge

    # read the file before training, so a wrong path fails at once
    questions = read_labelled(args.file, load_knowledge(args.knowledge).intents)
    result = evaluate(Robot.from_directory(args.knowledge), questions)
    by_lang = {lang: round(right / total, 4) for lang, (right, total) in sorted(result.by_lang.items())}
    if args.json:
        confusion: dict[str, dict[str, int]] = {}
        for (label, decided), count in sorted(result.confusion.items()):
            confusion.setdefault(label, {})[decided] = count
        print(json.dumps({"questions": result.total, "intent_accuracy": round(result.accuracy, 4),
                          "correct": result.correct, "by_lang": by_lang,
                          "missed_escalations": len(result.missed_escalations),
                          "wrong_answers": result.wrong_answers, "confusion": confusion},
                         ensure_ascii=False))
        return EXIT_OK
    langs = ", ".join(f"{lang} {accuracy:.3f}" for lang, accuracy in by_lang.items())
    print(f"{result.total} questions: intent accuracy {result.accuracy:.3f} "
          f"({result.correct}/{result.total}; {langs})")
    print(f"missed escalations: {len(result.missed_escalations)} "
          "(human requests and complaints the robot kept or sent to the wrong desk)")
    print(f"wrong answers: {result.wrong_answers} (answered as another intent)\n")
    print(confusion_table(result))
    for title, rows in (("missed escalations", result.missed_escalations),
                        ("misunderstood", result.mistakes if args.mistakes else [])):
        if rows:
            print(f"\n{title}:")
            for question, decision in rows:
                print(f"  line {question.line}: {question.intent} -> {decision.intent} "
                      f"({decision.action}, {decision.confidence:.2f}): {question.text}")
    return EXIT_OK
