"""``grabdesk robot`` through the real entry point (``python -m grabdesk``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from robot_helpers import edit


ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


def grabdesk(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "grabdesk", "robot", *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=TIMEOUT_S)


def _one_sentence_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr


def test_ask_json_answers_and_escalations():
    answered = grabdesk("ask", "我的快递到哪了", "--shop", "tmall-flagship", "--json")
    assert answered.returncode == 0, answered.stderr
    decision = json.loads(answered.stdout)
    assert list(decision) == ["intent", "confidence", "action", "answer"]
    assert (decision["intent"], decision["action"]) == ("order_status", "answer")
    escalated = json.loads(grabdesk("ask", "我要投诉", "--json").stdout)
    assert (escalated["action"], escalated["skill"], escalated["reason"]) == ("escalate", "complaint", "complaint")
    assert "answer" not in escalated


def test_eval_prints_accuracy_and_a_confusion_table():
    done = grabdesk("eval", "assets/robot/eval.csv")
    assert done.returncode == 0, done.stderr
    assert "intent accuracy" in done.stdout and "missed escalations: 0" in done.stdout
    assert "labelled \\ decided" in done.stdout


def test_mistakes_are_one_sentence_and_exit_2(tmp_path, kb_copy):
    _one_sentence_error(grabdesk("eval", str(tmp_path / "missing.csv")), "does not exist")
    bad = tmp_path / "bad.csv"
    bad.write_text("question\nhello\n", encoding="utf-8")
    _one_sentence_error(grabdesk("eval", str(bad)), "text column")
    edit(kb_copy / "intents" / "invoice.toml", "{shop_name}的订单", "{shopname}的订单")
    _one_sentence_error(grabdesk("ask", "hi", "--knowledge", str(kb_copy)), "invoice.toml", "{shopname}")
    _one_sentence_error(grabdesk("ask", "hi", "--shop", "no-such-shop"), "unknown shop")


def test_no_action_prints_help_and_exits_2():
    done = grabdesk()
    assert done.returncode == 2 and "ask" in done.stderr and "eval" in done.stderr
