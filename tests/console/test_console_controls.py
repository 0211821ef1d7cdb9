"""The floor's switches from the console: shop mode, agent status and quality, against a real broker."""
from __future__ import annotations

import pytest

from supervisor.common import i18n

from helpers import agent_spec
from console_helpers import DEADLINE_MS, cell, floor


@pytest.fixture
def chinese(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.install("zh_CN")
    yield
    i18n.install("en")


def test_shop_mode_set_to_hybrid_with_its_delay(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    dialog = window.open_shop_mode_dialog("s1")
    assert dialog.mode.currentData() == "grab"
    assert not dialog.delay.isEnabled(), "the delay means something only in hybrid mode"
    dialog.mode.setCurrentIndex(dialog.mode.findData("hybrid"))
    assert dialog.delay.isEnabled()
    dialog.delay.setValue(45)
    dialog.reason.setText("Double 11 peak")
    with qtbot.waitSignal(dialog.finished, timeout=DEADLINE_MS):
        dialog.apply()
    shop = broker.core.shops["s1"]
    assert (shop.mode, shop.hybrid_after_s) == ("hybrid", 45.0)
    qtbot.waitUntil(lambda: window.state.mirror.shops["s1"].mode == "hybrid", timeout=DEADLINE_MS)
    assert "Mode of shop s1 changed" in window.last_result.text()
    qtbot.waitUntil(lambda: any(e.kind == "set_mode" and e.reason == "Double 11 peak"
                                for e in window.state.audit_by_seq.values()), timeout=DEADLINE_MS)


def test_refused_mode_change_shows_the_reason_in_chinese(broker, open_console, qtbot, chinese):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    dialog = window.open_shop_mode_dialog("s1")
    dialog.mode.setCurrentIndex(dialog.mode.findData("hybrid"))
    dialog.delay.setValue(0)  # the broker wants a delay above zero
    dialog.apply()
    qtbot.waitUntil(lambda: "混合模式延迟必须在" in dialog.status.text(), timeout=DEADLINE_MS)
    assert dialog.isVisible(), "a refusal keeps the dialog open for correction"
    assert broker.core.shops["s1"].mode == "grab"


def test_agent_set_on_break_and_quality_changed(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    dialog = window.open_agent_state_dialog("a1")
    assert dialog.status_box.currentData() == "online"
    dialog.status_box.setCurrentIndex(dialog.status_box.findData("break"))
    dialog.quality.setValue(70.0)
    with qtbot.waitSignal(dialog.finished, timeout=DEADLINE_MS):
        dialog.apply()
    agent = broker.core.agents["a1"]
    assert (agent.status, agent.quality, agent.tier) == ("break", 70.0, "bronze")
    qtbot.waitUntil(lambda: cell(window, "agents", "a1", "tier") == "bronze", timeout=DEADLINE_MS)


def test_refused_quality_shows_the_reason_in_chinese_and_changes_nothing(broker, open_console, qtbot, chinese):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    dialog = window.open_agent_state_dialog("a1")
    dialog.quality.setValue(150.0)
    dialog.apply()
    qtbot.waitUntil(lambda: "质量分必须在 0 到 100 之间" in dialog.status.text(), timeout=DEADLINE_MS)
    assert broker.core.agents["a1"].quality == 95.0
    assert dialog.quality.value() == 95.0, "the dialog shows what the broker still has"
    assert window.last_result.text() == "a1 的质量分修改被拒绝：质量分必须在 0 到 100 之间", \
        "the status message and the broker's reason, both in Chinese"
