"""Which broker of an active/standby set the console is talking to, and since when.

Shown in the status bar next to the connection badge, only when the broker
says it is one of a set (its welcome names a shard): "Broker
tcp://10.0.0.2:5570 · shard main · active since 21:04:17". The time is the
broker's takeover, so a supervisor sees at a glance that one happened. A
console following several shards (``--directory``) shows each shard's health
instead: "east ● live · west ● lost", the details in the tooltip.
"""
from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QWidget

from broker.wire.client import ConnectionStatus
from broker.wire.shards import ShardHealth


class ActiveBrokerLabel(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("activeBroker")
        self.setVisible(False)

    def set_status(self, status: ConnectionStatus) -> None:
        if not status.shard:
            self.setVisible(False)
            return
        text = self.tr("Broker %1 · shard %2").replace("%1", status.endpoint).replace("%2", status.shard)
        if status.active_since:
            text += self.tr(" · active since %1").replace(
                "%1", time.strftime("%H:%M:%S", time.localtime(status.active_since)))
        self.setText(text)
        tip = self.tr("The active broker of this shard; a standby takes over if it stops.")
        if status.failovers:
            tip += "\n" + self.tr("This console moved to another broker %1 time(s), last at %2.").replace(
                "%1", str(status.failovers)).replace("%2", time.strftime("%H:%M:%S",
                                                                       time.localtime(status.failover_at)))
        self.setToolTip(tip)
        self.setVisible(True)

    def set_shards(self, health: list[ShardHealth]) -> None:
        """Every shard's connection, for a console following several (ShardedLink)."""
        self.setText(" · ".join(self.tr("%1 ● %2").replace("%1", h.shard).replace("%2", h.state)
                                for h in health))
        lines = []
        for h in health:
            line = self.tr("%1: %2, broker %3, %4 open inquiries, %5 agents online").replace(
                "%1", h.shard).replace("%2", h.state).replace("%3", h.endpoint).replace(
                "%4", str(h.open_inquiries)).replace("%5", str(h.agents_online))
            if h.active_since:
                line += self.tr(", active since %1").replace(
                    "%1", time.strftime("%H:%M:%S", time.localtime(h.active_since)))
            lines.append(line)
        self.setToolTip("\n".join(lines))
        self.setVisible(True)
