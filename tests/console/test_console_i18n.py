"""Language: the Language menu switches the whole console between English and 简体中文."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt

from supervisor.common import i18n
from supervisor.console.settings import ConsoleSettings
from supervisor.console.window import MainWindow
from supervisor.common.link import BrokerLink, LinkSettings

from console_helpers import agent, snapshot


@pytest.fixture
def english_after(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # compiled .qm files go here
    yield
    i18n.install("en")


def test_every_console_string_is_translated():
    tree = ET.parse(i18n.ASSETS_I18N / "console_zh_CN.ts")
    unfinished = [m.findtext("source") for m in tree.iter("message")
                  if m.find("translation").get("type") in ("unfinished", "obsolete")
                  or not m.findtext("translation")]
    assert unfinished == []


def test_language_menu_retranslates_the_window(qtbot, isolated_settings, english_after):
    link = BrokerLink(LinkSettings("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), "supervisor", "boss")
    snapshot(link.mirror, agent("a1"))
    window = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(window)
    window.state.reset()
    window.refresh()
    header = window.agents.model.headerData(5, Qt.Orientation.Horizontal)
    assert header == "Held / cap"
    window.language_actions["zh_CN"].trigger()
    # Qt posts LanguageChange to every widget; each retranslates itself
    qtbot.waitUntil(lambda: window.agents.model.headerData(5, Qt.Orientation.Horizontal) == "持有 / 上限",
                    timeout=2_000)
    assert window.docks["queue"].windowTitle() == "队列"
    assert window.agents.model.index(0, window.agents.model.column_of("status")).data() == "在线"
    assert window.chart.depth_plot.getAxis("left").labelText == "排队"
    assert i18n.chosen_language() == "zh_CN", "the choice is remembered"
    window.language_actions["en"].trigger()
    qtbot.waitUntil(lambda: window.agents.model.headerData(5, Qt.Orientation.Horizontal) == "Held / cap",
                    timeout=2_000)
    assert window.file_menu.title() == "&File"
    window.close()


def test_the_new_views_follow_the_language_menu(qtbot, isolated_settings, english_after):  # noqa: F811
    link = BrokerLink(LinkSettings("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), "supervisor", "boss")
    window = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(window)
    window.language_actions["zh_CN"].trigger()
    qtbot.waitUntil(lambda: window.grabs.button.text() == "查看抢单", timeout=2_000)
    assert window.alert_bar.ack_button.text() == "确认"
    assert window.skills.period.itemText(0) == "最近一小时"
    assert window.wallboard.titles["queue"].text() == "排队"
    assert window.docks["skills"].windowTitle() == "谁擅长什么"
    window.close()
