"""``grabdesk bench arbitration`` as a reviewer runs it: one JSON object with the
issue's keys, from a real broker process, audited afterwards.

Tiny and short (10 agents, half-second phases): this checks the benchmark's
output and its audit, not the broker's speed.
"""
from __future__ import annotations

import json
import subprocess
import sys

REQUIRED = ("grabs_per_s", "wins_per_s", "p50_ms", "p99_ms", "offered_per_s", "double_owners",
            "lost_inquiries", "agents", "inquiries", "max_loop_stall_ms", "broker_cpu_us_per_grab")


def test_a_repeated_run_prints_the_median_run_and_lists_every_run():
    out = subprocess.run(
        [sys.executable, "-m", "grabdesk", "bench", "arbitration", "--json", "--agents", "10",
         "--duration-s", "0.5", "--repeat", "3"],
        capture_output=True, text=True, timeout=180, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert all(key in result for key in REQUIRED), [k for k in REQUIRED if k not in result]
    assert result["agents"] == 10
    assert (result["double_owners"], result["lost_inquiries"], result["ok"]) == (0, 0, True)
    assert result["grabs_per_s"] > 0 and result["wins_per_s"] > 0
    # the issue: the intake keeps up so that at least half the grabs can win
    assert result["win_share"] >= 0.5
    runs = result["runs"]
    assert len(runs) == 3
    assert sorted(r["grabs_per_s"] for r in runs)[1] == result["grabs_per_s"]


def test_the_curve_run_reports_what_curve_costs():
    out = subprocess.run(
        [sys.executable, "-m", "grabdesk", "bench", "arbitration", "--json", "--curve", "--agents", "10",
         "--duration-s", "0.5"],
        capture_output=True, text=True, timeout=180, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["curve"] is True and result["ok"] is True
    assert result["plain_grabs_per_s"] > 0 and result["grabs_per_s"] > 0
    expected = round(100.0 * (1 - result["grabs_per_s"] / result["plain_grabs_per_s"]), 1)
    assert result["curve_cost_pct"] == expected
    assert "curve_broker_cpu_cost_pct" in result
