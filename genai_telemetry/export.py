"""The export queue of ended spans and log records: bounded, never blocking the request path.

A request only appends to a deque (atomic under the GIL: no lock, no condition variable on the
request path) and, when a full batch (or half a queue) is waiting, sets an event. One daemon
thread per queue wakes on that event (and exports full batches) or every `delay_s` (and exports
everything), prepares each item (span redaction runs here, off the request path) and hands
batches to an OpenTelemetry exporter (`SpanExporter` / `LogRecordExporter`: the official
OTLP/HTTP ones with our encoder, or any test exporter).
A full queue drops new items and counts them; a failing or hanging exporter costs the worker
thread only, bounded by the exporter's own timeout (a flush or shutdown waits for it no longer
than its own deadline). A forked child process gets its own queue and worker.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from genai_telemetry.config import ExportSchedule

T = TypeVar("T")

# Named so the stdlib bridge (logs.StdlibBridge) keeps these records off the OTLP path: a
# message about dropped log records must not become one more log record to drop.
_logger = logging.getLogger("genai_telemetry.export")
_DROP_WARNING_INTERVAL_S = 30.0
_EXIT_TIMEOUT_S = 2.0


class Exporter(Protocol):
    def export(self, batch: Sequence[Any], /) -> Any: ...

    def shutdown(self) -> None: ...


class ExportQueue(Generic[T]):
    """Bounded FIFO of ended items + one worker thread exporting them in batches."""

    def __init__(
        self,
        exporter: Exporter,
        *,
        what: str,
        max_queue: int,
        batch: int,
        delay_s: float,
        prepare: Callable[[T], T] | None = None,
    ) -> None:
        self.exporter = exporter
        self.what = what
        self.max_queue = max(1, max_queue)
        self.batch = max(1, min(batch, self.max_queue))
        # The worker wakes by the time the queue is half full, even when a batch would fill it:
        # woken only once full, every item pushed before it runs would be dropped.
        self._wake_at = min(self.batch, max(1, self.max_queue // 2))
        self.delay_s = max(0.001, delay_s)
        self.prepare = prepare
        self.dropped = 0
        self._closed = False
        self._last_warning = 0.0
        self._start()
        # A forked child (gunicorn --preload, multiprocessing) inherits the queue but not the
        # worker thread: it gets a fresh queue and worker of its own. Weakly referenced, so the
        # registration does not keep a discarded queue (and its exporter) alive.
        after_fork = weakref.WeakMethod(self._start)
        os.register_at_fork(after_in_child=lambda: (start := after_fork()) and start())
        # At interpreter exit, export what is still queued (the SDK's providers do the same);
        # bounded, so an unreachable collector cannot hold the exit up for long.
        at_exit = weakref.WeakMethod(self.shutdown)
        atexit.register(lambda: (stop := at_exit()) and stop(_EXIT_TIMEOUT_S))

    def _start(self) -> None:
        """A new empty queue, lock and worker thread (at creation and in a forked child)."""
        self._queue: collections.deque[T] = collections.deque()
        self._wake = threading.Event()
        self._export_lock = threading.Lock()  # one export at a time, in order
        if not self._closed:
            self._worker = threading.Thread(target=self._run, name=f"otlp-{self.what}", daemon=True)
            self._worker.start()

    @classmethod
    def for_schedule(
        cls,
        exporter: Exporter,
        schedule: ExportSchedule,
        *,
        what: str,
        prepare: Callable[[T], T] | None = None,
    ) -> ExportQueue[T]:
        """A queue of one signal's settings (`TelemetrySettings.span_export` / `log_export`)."""
        return cls(
            exporter,
            what=what,
            max_queue=schedule.max_queue,
            batch=schedule.batch,
            delay_s=schedule.delay_ms / 1000,
            prepare=prepare,
        )

    def push(self, item: T) -> None:
        """Enqueue one ended item (request path: an append and two length checks)."""
        if self._closed:  # after shutdown: nothing would export it
            self.dropped += 1
            return
        queue = self._queue
        if len(queue) >= self.max_queue:
            self._drop()
            return
        queue.append(item)
        if len(queue) >= self._wake_at:
            self._wake.set()

    def _drop(self) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._last_warning >= _DROP_WARNING_INTERVAL_S:
            self._last_warning = now
            _logger.warning(
                "%s export queue full (%d): dropping new %s, %d dropped so far",
                self.what,
                self.max_queue,
                self.what,
                self.dropped,
            )

    def _run(self) -> None:
        while not self._closed:
            # As the SDK's batch processors: woken by a full batch, export full batches only
            # (the rest waits for the next batch or the timer: no small request per wake-up);
            # on the timer, everything queued.
            full = self._wake.wait(self.delay_s)
            self._wake.clear()
            self._drain(full_only=full and not self._closed)

    def _drain(self, deadline: float | None = None, *, full_only: bool = False) -> bool:
        """Export what is queued now, batch by batch (`full_only`: while a full batch is
        queued); False if the deadline passed first (including while another export, a
        hanging one, held the lock)."""
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._export_lock.acquire(timeout=wait):
            return False
        try:
            queue = self._queue
            # Full batches only while the queue has room for two: in a smaller one, waiting for
            # the next full batch would drop the items that arrive meanwhile.
            least = self.batch if full_only and 2 * self.batch <= self.max_queue else 1
            while len(queue) >= least:
                if deadline is not None and time.monotonic() > deadline:
                    return False
                items = [queue.popleft() for _ in range(min(self.batch, len(queue)))]
                self._export(items)
        finally:
            self._export_lock.release()
        return True

    def _export(self, items: list[T]) -> None:
        try:
            if self.prepare is not None:
                items = [self.prepare(item) for item in items]
            self.exporter.export(items)
        except Exception:  # the worker must survive any exporter failure
            _logger.exception("exporting %d %s failed", len(items), self.what)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is queued now, in the caller's thread; True when every batch was handed
        to the exporter in time (an exporter's own failure is logged, not returned)."""
        return self._drain(time.monotonic() + timeout_millis / 1000)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop accepting items, export what is queued (bounded), shut the exporter down."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._worker.join(timeout_s)
        self._drain(time.monotonic() + timeout_s)
        self.exporter.shutdown()
