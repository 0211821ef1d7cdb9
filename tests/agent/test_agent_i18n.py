"""Every text the agent window shows has its zh_CN translation (the .ts is kept by hand)."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from supervisor.common import i18n

ROOT = Path(__file__).resolve().parents[2]


def _messages(path: Path) -> dict[tuple[str, str], str | None]:
    tree = ET.parse(path)
    return {(ctx.findtext("name"), m.findtext("source")): m.findtext("translation")
            for ctx in tree.iter("context") for m in ctx.iter("message")}


def test_every_agent_window_string_is_translated(tmp_path):
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    scanned = tmp_path / "agent.ts"
    sources = sorted(str(p) for p in (ROOT / "supervisor" / "agentwin").glob("*.py"))
    subprocess.run([str(lupdate), *sources, "-ts", str(scanned)], check=True, capture_output=True)
    kept = _messages(i18n.ASSETS_I18N / "agent_zh_CN.ts")
    missing = [key for key in _messages(scanned) if not kept.get(key)]
    assert missing == []
