"""The status bar's active-broker label: shown only for a broker of an active/standby set."""
from __future__ import annotations

import time

from broker.wire.client import ConnectionStatus
from supervisor.console.active_broker import ActiveBrokerLabel


def test_hidden_for_a_broker_without_a_standby(qtbot):
    label = ActiveBrokerLabel()
    qtbot.addWidget(label)
    label.set_status(ConnectionStatus("live", time.time(), endpoint="tcp://127.0.0.1:5570"))
    assert label.isHidden()


def test_names_the_active_broker_its_shard_and_the_takeover_time(qtbot):
    label = ActiveBrokerLabel()
    qtbot.addWidget(label)
    took_over = time.mktime((2026, 11, 11, 21, 4, 17, 0, 0, -1))
    label.set_status(ConnectionStatus("live", time.time(), endpoint="tcp://10.0.0.2:5570", shard="east",
                                      active_since=took_over, failovers=1, failover_at=took_over + 2))
    assert not label.isHidden()
    assert label.text() == "Broker tcp://10.0.0.2:5570 · shard east · active since 21:04:17"
    assert "1 time(s), last at 21:04:19" in label.toolTip()
    label.set_status(ConnectionStatus("live", time.time(), endpoint="tcp://127.0.0.1:5570"))
    assert label.isHidden(), "still shown after moving to a broker without a standby"
