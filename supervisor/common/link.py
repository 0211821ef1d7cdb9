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
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, ConnectionStatus, CurveKeys
from broker.wire.protocol import DEFAULT_COMMAND_ENDPOINT, DEFAULT_EVENTS_ENDPOINT
from broker.wire.mirror import Mirror

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
        from broker.wire.keyfiles import load_client_keys  # only needed with Curve
        return load_client_keys(Path(self.server_key), Path(self.public_key), Path(self.secret_key))

    @classmethod
    def of(cls, options) -> LinkSettings:
        """The link's part of any options object that names its fields alike (console settings, agent options)."""
        return cls(**{f.name: getattr(options, f.name) for f in fields(cls)})


class BrokerLink(QObject):
    #: a snapshot replaced the mirror's content
    reset = Signal()
    #: events were applied to the mirror (list[p.Event])
    changed = Signal(list)
    #: connection state changed (ConnectionStatus)
    status_changed = Signal(object)

    # cross-thread hops: emitted on the client's I/O thread, handled on ours
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
        self._events_in.connect(self._drain, queued)
        # Snapshots and event batches wait here, in arrival order, and one queued signal
        # drains them all, so a verdict's reply never queues behind a long line of event
        # signals on the GUI thread.
        self._inbox: deque = deque()
        self._inbox_lock = threading.Lock()
        self._drain_posted = False
        self._status_in.connect(self._apply_status, queued)
        self._reply_in.connect(self._deliver_reply, queued)
        self.client = BrokerClient(
            settings.command_endpoint, settings.events_endpoint, role, who, streams=streams,
            on_reset=lambda records, end: self._post(("reset", records, end)),
            on_events=lambda events: self._post(("events", events)),
            on_status=lambda status: self._status_in.emit(status),
            curve=settings.curve(), name=name)

    @property
    def who(self) -> str:
        return self.client.who

    @property
    def floor_clock(self):
        """The broker's clock as this link follows it (see broker.wire.floorclock)."""
        return self.client.floor_clock

    def floor_now(self) -> float:
        """The floor's time: what every wait, countdown and clock on screen is measured by."""
        return self.client.floor_now()

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

    def _post(self, item: tuple) -> None:
        """On the client's I/O thread: queue an item; post one drain if none is pending."""
        with self._inbox_lock:
            self._inbox.append(item)
            if self._drain_posted:
                return
            self._drain_posted = True
        self._events_in.emit(None)

    @Slot(object)
    def _drain(self, _unused=None) -> None:
        with self._inbox_lock:
            items = list(self._inbox)
            self._inbox.clear()
            self._drain_posted = False
        pending: list = []
        for item in items:
            if item[0] == "events":
                pending.extend(item[1])
                continue
            self._apply_events(pending)
            pending = []
            self.mirror.reset(item[1], item[2])
            self.reset.emit()
        self._apply_events(pending)

    def _apply_events(self, events: list) -> None:
        if events:
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
