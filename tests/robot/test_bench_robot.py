"""``grabdesk bench robot`` prints the figures docs/robot.md reports."""
from __future__ import annotations

import json

from grabdesk.cli import main


def test_bench_robot_prints_one_json_object(capsys):
    code = main(["bench", "robot", "--json", "--passes", "1"])
    out, _ = capsys.readouterr()
    result = json.loads(out)
    for key in ("intent_accuracy", "missed_escalations", "answers_per_s", "p50_ms", "p99_ms", "train_s",
                "questions"):
        assert key in result
    assert result["questions"] >= 240 and result["decisions"] == result["questions"]
    assert result["missed_escalations"] == 0
    assert code == (0 if result["ok"] else 1)
