"""Group commit on its own thread, so deciding and fsync overlap.

The loop hands each decided batch to ``Committer.submit`` and goes on
deciding. The committer writes every batch waiting for it in one transaction
(one fsync for all of them; the GIL is released while SQLite waits on the
disk), then wakes the loop through an inproc socket. Only then does the loop
send those batches' replies and publish their events: a client never hears of
a decision that is not durable, and a disk that needs milliseconds per fsync
costs latency, not throughput.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

import zmq

log = logging.getLogger(__name__)


class CommitFailed(RuntimeError):
    pass


class Committer:
    def __init__(self, store, ctx: zmq.Context):
        self.store = store
        self.endpoint = f"inproc://grabdesk-committed-{uuid.uuid4().hex[:8]}"
        #: the loop's end: readable when batches became durable
        self.signal = ctx.socket(zmq.PAIR)
        self.signal.bind(self.endpoint)
        self._notify = ctx.socket(zmq.PAIR)
        self._notify.connect(self.endpoint)
        self._cond = threading.Condition()
        self._queue: list[tuple[int, object]] = []
        self._closing = False
        #: highest batch number that is durable (read by the loop)
        self.committed = 0
        self.error: BaseException | None = None
        self.transactions = 0
        self.commit_s = 0.0
        self._thread = threading.Thread(target=self._run, name="committer", daemon=True)
        self._thread.start()

    def submit(self, batch_no: int, changes) -> None:
        with self._cond:
            self._queue.append((batch_no, changes))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue and self._closing:
                    break
                batch, self._queue = self._queue, []
            t0 = time.perf_counter()
            try:
                self.store.write_many([changes for _, changes in batch])
            except BaseException as exc:  # the loop must stop: its state is ahead of the disk
                log.critical("commit failed; nothing of these %d batches was sent: %s", len(batch), exc)
                self.error = exc
                self._wake()
                return
            self.commit_s += time.perf_counter() - t0
            self.transactions += 1
            self.committed = batch[-1][0]
            self._wake()
        self._notify.close(linger=0)

    def _wake(self) -> None:
        try:
            self._notify.send(b"", zmq.NOBLOCK)
        except zmq.Again:
            pass  # the loop has an unread wake-up already

    def drain_signal(self) -> None:
        while True:
            try:
                self.signal.recv(zmq.NOBLOCK)
            except zmq.Again:
                return

    def close(self, timeout_s: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("committer did not finish within %s s", timeout_s)
        self.signal.close(linger=0)
