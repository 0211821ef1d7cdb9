"""Alerts in the console: acknowledge (the broker records who and when), filter, and the sound switch."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSettings

from broker.wire import protocol as p
from supervisor.console import alert_bar

from helpers import agent_spec
from console_helpers import DEADLINE_MS, cell, floor


def _raise(broker, kind: str, severity: str, key: str, params: dict, **links) -> None:
    broker.core.raise_alert(kind, severity, key, params, **links)


def test_acknowledge_the_selected_alert_and_filter_to_open_ones(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    _raise(broker, "uneven_grabbing", "warning", "uneven_grabbing",
           {"group": "g1", "gini": "0.70", "threshold": "0.50"}, group="g1")
    _raise(broker, "coverage_gap", "warning", "coverage_gap",
           {"skill": "pre_sales", "hour": "20:00", "rostered": 3, "required": 9}, skill="pre_sales")
    qtbot.waitUntil(lambda: window.alerts.model.rowCount() == 2, timeout=DEADLINE_MS)
    model, view = window.alerts.model, window.alerts.view
    gini_row = next(r for r in range(2) if model.record_at(r).kind == "uneven_grabbing")
    view.selectionModel().select(model.index(gini_row, 0),
                                 QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    window.alert_bar.ack_button.click()
    alert_id = model.record_at(gini_row).id
    qtbot.waitUntil(lambda: window.state.alerts_by_id[alert_id].acked_by == "boss", timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: cell(window, "alerts", alert_id, "acked") == "✓ boss", timeout=DEADLINE_MS)
    assert "Alert acknowledged" in window.last_result.text()
    window.alert_bar.only_open.setChecked(True)
    window.refresh()
    assert window.alerts.model.rowCount() == 1
    assert window.alerts.model.record_at(0).kind == "coverage_gap"
    window.alert_bar.only_open.setChecked(False)
    window.alert_bar.text.setText("pre_sales")
    window.refresh()
    assert [window.alerts.model.record_at(r).kind for r in range(window.alerts.model.rowCount())] == ["coverage_gap"]


def test_the_alert_text_is_readable_beside_its_kind(broker, open_console, qtbot):
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    _raise(broker, "uneven_grabbing", "warning", "uneven_grabbing",
           {"group": "g1", "gini": "0.70", "threshold": "0.50"}, group="g1")
    qtbot.waitUntil(lambda: window.alerts.model.rowCount() == 1, timeout=DEADLINE_MS)
    view, model = window.alerts.view, window.alerts.model
    kind_col = model.column_of("kind")
    metrics = view.fontMetrics()
    assert view.columnWidth(kind_col) >= metrics.horizontalAdvance(model.index(0, kind_col).data()) + 8


def test_a_new_critical_alert_chimes_only_when_sound_is_on(broker, open_console, qtbot, monkeypatch):
    played = []
    monkeypatch.setattr(alert_bar, "play_chime", lambda: played.append(1))
    floor(broker, agent_spec("a1", group="g1"))
    window = open_console(broker)
    assert not window.alert_bar.sound.isChecked(), "off by default"
    _raise(broker, "no_eligible_agent", "critical", "no_eligible_agent",
           {"queued": 1, "skill": "pre_sales", "language": "ja", "channel": "chat", "shop": "s1"}, skill="pre_sales")
    qtbot.waitUntil(lambda: window.alerts.model.rowCount() == 1, timeout=DEADLINE_MS)
    window.refresh()
    assert played == []
    window.alert_bar.sound.setChecked(True)
    assert QSettings().value(alert_bar.SOUND_SETTING, False, type=bool), "the choice is remembered"
    _raise(broker, "no_eligible_agent", "critical", "no_eligible_agent",
           {"queued": 2, "skill": "pre_sales", "language": "ja", "channel": "chat", "shop": "s1"}, skill="pre_sales")
    qtbot.waitUntil(lambda: window.alerts.model.rowCount() == 2, timeout=DEADLINE_MS)
    window.refresh()
    assert played == [1]
    window.refresh()
    assert played == [1], "once per alert"


def test_the_chime_is_a_playable_wav(qapp, tmp_path, monkeypatch):
    import wave
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with wave.open(str(alert_bar.chime_path())) as chime:
        assert chime.getnchannels() == 1 and chime.getnframes() > 1000
