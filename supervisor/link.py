"""The Qt side of a broker connection: client callbacks become GUI-thread signals.

``BrokerLink`` owns a ``BrokerClient`` (whose I/O thread owns the sockets)
and a ``Mirror`` that is only ever touched on the GUI thread: the client's
callbacks re-emit their payload through queued signals, and the slots apply
it here. Widgets read the mirror and repaint on their own timers; they never
wait on the network. The link decides nothing: commands go to the broker and
its verdict comes back through ``request``'s callback.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from broker import protocol as p
from broker.client import BrokerClient, ConnectionStatus, CurveKeys
from broker.config import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from broker.mirror import Mirror

log = logging.getLogger(__name__)


@dataclass
class LinkSettings:
    command_endpoint: str = DEFAULT_COMMAND_ENDPOINT
    events_endpoint: str = DEFAULT_EVENTS_ENDPOINT
    #: CurveZMQ key files (see docs/security.md); all three or none
    server_key: str = ""
    public_key: str = ""
    secret_key: str = ""

    def curve(self) -> CurveKeys | None:
        if not (self.server_key or self.public_key or self.secret_key):
            return None
        from broker.keys import load_client_keys  # only needed with Curve
        return load_client_keys(Path(self.server_key), Path(self.public_key), Path(self.secret_key))


class BrokerLink(QObject):
    #: a snapshot replaced the mirror's content
    reset = Signal()
    #: events were applied to the mirror (list[p.Event])
    changed = Signal(list)
    #: connection state changed (ConnectionStatus)
    status_changed = Signal(object)

    # cross-thread hops: emitted on the client's I/O thread, handled on ours
    _reset_in = Signal(object, object)
    _events_in = Signal(object)
    _status_in = Signal(object)
    _reply_in = Signal(object, object)

    def __init__(self, settings: LinkSettings, role: str, who: str,
                 streams: Iterable[str] | None = None, name: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.mirror = Mirror()
        self.status = ConnectionStatus("connecting", 0.0)
        queued = Qt.ConnectionType.QueuedConnection
        self._reset_in.connect(self._apply_reset, queued)
        self._events_in.connect(self._apply_events, queued)
        self._status_in.connect(self._apply_status, queued)
        self._reply_in.connect(self._deliver_reply, queued)
        self.client = BrokerClient(
            settings.command_endpoint, settings.events_endpoint, role, who, streams=streams,
            on_reset=lambda records, end: self._reset_in.emit(records, end),
            on_events=lambda events: self._events_in.emit(events),
            on_status=lambda status: self._status_in.emit(status),
            curve=settings.curve(), name=name)

    @property
    def who(self) -> str:
        return self.client.who

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    @property
    def live(self) -> bool:
        return self.status.state == "live"

    def request(self, cls: type[p.Command], on_reply: Callable[[object], None] | None = None,
                timeout_s: float | None = None, **fields) -> p.Command:
        """Send a command; ``on_reply`` gets the reply or the exception, on the GUI thread."""
        cmd = self.client.command(cls, **fields)
        future = self.client.request(cmd, timeout_s)
        if on_reply is not None:
            future.add_done_callback(lambda f: self._reply_in.emit(on_reply, f))
        return cmd

    @Slot(object, object)
    def _apply_reset(self, records, end) -> None:
        self.mirror.reset(records, end)
        self.reset.emit()

    @Slot(object)
    def _apply_events(self, events) -> None:
        self.mirror.apply(events)
        self.changed.emit(events)

    @Slot(object)
    def _apply_status(self, status: ConnectionStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    @Slot(object, object)
    def _deliver_reply(self, on_reply, future: Future) -> None:
        try:
            result = future.result()
        except Exception as exc:  # refusals, time-outs, lost connections all reach the UI
            result = exc
        try:
            on_reply(result)
        except Exception:
            log.exception("reply handler failed")
