"""``grabdesk bench agent`` runs end to end (tiny load, few presses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_agent_prints_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "grabdesk", "bench", "agent", "--json", "--presses", "5",
         "--grabs-per-s", "300", "--load-agents", "20", "--load-processes", "1", "--synchronous", "NORMAL"],
        capture_output=True, text=True, timeout=90, env=env)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["presses"] == 5 and result["outcomes"] == {"won": 5}
    assert result["verdict_p50_ms"] > 0 and result["verdict_p99_ms"] >= result["verdict_p50_ms"]
    assert result["background_outcomes"].get("won", 0) > 0 and not result["load_failures"]
