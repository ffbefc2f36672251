"""genai_telemetry.export.ExportQueue: bounded, ordered, survives its exporter, flushes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from genai_telemetry.export import ExportQueue


class Recorder:
    """An exporter that records batches; `gate` (when set) holds an export until released."""

    def __init__(self, fail_first: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail_first = fail_first
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.exported = threading.Event()
        self.shut = False

    def export(self, batch: Sequence[int]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("collector said no")
        self.batches.append(list(batch))
        self.exported.set()

    def shutdown(self) -> None:
        self.shut = True

    @property
    def items(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


def _queue(exporter: Recorder, **kwargs: object) -> ExportQueue[int]:
    options: dict = {"what": "items", "max_queue": 8, "batch": 3, "delay_s": 60.0, **kwargs}
    return ExportQueue[int](exporter, **options)


def test_flush_exports_everything_in_order_in_batches_after_prepare() -> None:
    exporter = Recorder()
    queue = _queue(exporter, batch=100, prepare=lambda i: i * 10)
    for i in range(5):
        queue.push(i)
    assert queue.force_flush()
    assert exporter.items == [0, 10, 20, 30, 40]


def test_a_full_batch_wakes_the_worker_before_the_delay() -> None:
    exporter = Recorder()
    queue = _queue(exporter)
    for i in range(3):
        queue.push(i)
    assert exporter.entered.wait(10), "a full batch waited for the 60-s delay"
    queue.shutdown()
    assert exporter.items == [0, 1, 2]


def test_half_a_queue_wakes_the_worker_when_a_batch_would_fill_it() -> None:
    """Woken only once the queue is full, the worker would find it full: every item pushed
    before it ran would be dropped (a burst into OTEL_BLRP_MAX_QUEUE_SIZE=64 lost log records)."""
    exporter = Recorder()
    queue = _queue(exporter, max_queue=8, batch=8)
    for i in range(4):
        queue.push(i)
    assert exporter.entered.wait(10), "half a queue waited for the 60-s delay"
    queue.shutdown()
    assert exporter.items == [0, 1, 2, 3]


def test_woken_by_a_full_batch_it_exports_full_batches_only() -> None:
    """As the SDK's batch processors: a wake-up by a full batch sends no small remainder (one
    HTTP request each); the remainder goes with the next batch, the timer or a flush."""
    exporter = Recorder()
    queue = _queue(exporter)
    with queue._export_lock:  # the worker, woken at the third item, waits here for all five
        for i in range(5):
            queue.push(i)
    assert exporter.exported.wait(10)
    with queue._export_lock:  # held by the worker until its drain ends: no waiting on a clock
        assert exporter.batches == [[0, 1, 2]]
    queue.push(5)  # a full batch again
    deadline = time.monotonic() + 10
    while len(exporter.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert exporter.batches == [[0, 1, 2], [3, 4, 5]]
    queue.push(6)
    assert queue.force_flush()
    assert exporter.items == list(range(7))


def test_a_queue_of_less_than_two_batches_exports_everything_when_woken() -> None:
    exporter = Recorder()
    queue = _queue(exporter, max_queue=5, batch=3)  # a remainder would fill it and drop items
    with queue._export_lock:
        for i in range(5):
            queue.push(i)
    assert exporter.exported.wait(10)
    with queue._export_lock:  # the worker's drain has ended
        assert exporter.batches == [[0, 1, 2], [3, 4]]
    queue.shutdown()


def test_the_timer_exports_everything_queued() -> None:
    exporter = Recorder()
    queue = _queue(exporter, batch=100, delay_s=0.05)
    for i in range(5):
        queue.push(i)
    assert exporter.exported.wait(10)
    assert exporter.items == [0, 1, 2, 3, 4]
    queue.shutdown()


def test_a_full_queue_drops_new_items_and_counts_them(caplog: pytest.LogCaptureFixture) -> None:
    exporter = Recorder()
    exporter.gate = threading.Event()
    queue = _queue(exporter, max_queue=4, batch=4)
    for i in range(4):
        queue.push(i)
    assert exporter.entered.wait(10)  # the worker holds [0..3] in a hanging export
    for i in range(4, 12):
        queue.push(i)
    assert queue.dropped == 4  # 4..7 queued, 8..11 dropped
    assert "dropping new items" in caplog.text
    exporter.gate.set()
    assert queue.force_flush()
    assert exporter.items == list(range(8))


def test_the_worker_survives_a_failing_exporter() -> None:
    exporter = Recorder(fail_first=True)
    queue = _queue(exporter)  # batch 3, delay 60 s: only a full batch wakes the worker
    for i in range(3):
        queue.push(i)
    assert exporter.entered.wait(10)
    for i in range(3, 6):
        queue.push(i)
    # The worker itself (no flush from here) exports the next full batch after the failure.
    assert exporter.exported.wait(10), "the worker died with the failed export"
    assert exporter.items == [3, 4, 5]  # the failed batch is gone


def test_shutdown_exports_what_is_queued_and_stops() -> None:
    exporter = Recorder()
    queue = _queue(exporter)
    queue.push(1)
    queue.shutdown()
    assert exporter.items == [1] and exporter.shut
    queue.push(2)
    assert queue.force_flush() and exporter.items == [1]


def test_a_flush_behind_a_hanging_export_gives_up_at_its_deadline() -> None:
    exporter = Recorder()
    exporter.gate = threading.Event()
    queue = _queue(exporter)
    for i in range(3):
        queue.push(i)
    assert exporter.entered.wait(10)  # the worker hangs in its export, holding the lock
    queue.push(3)
    assert not queue.force_flush(timeout_millis=50)
    exporter.gate.set()
    assert queue.force_flush()
    assert exporter.items == [0, 1, 2, 3]


class FileExporter:
    """Appends each exported item to a file (visible across a fork)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def export(self, batch: Sequence[int]) -> None:
        with self.path.open("a") as out:
            out.writelines(f"{os.getpid()} {item}\n" for item in batch)

    def shutdown(self) -> None:
        return None


def _child(queue: ExportQueue[int], path: Path) -> None:
    for i in range(3):
        queue.push(i)
    # No flush here: the child's own worker must export them (within its 20-ms delay); the
    # child waits for them in the file, and the parent says what is missing if they never come.
    mine = f"{os.getpid()} "
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count(mine) >= 3:
            return
        time.sleep(0.01)


def test_a_forked_child_exports_with_its_own_worker(tmp_path: Path) -> None:
    path = tmp_path / "exported"
    queue = ExportQueue[int](FileExporter(path), what="items", max_queue=8, batch=8, delay_s=0.02)
    queue.push(99)  # queued in the parent when it forks: the child must not export it again
    child = multiprocessing.get_context("fork").Process(target=_child, args=(queue, path))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    lines = path.read_text().splitlines() if path.exists() else []
    from_child = [line.split()[1] for line in lines if line.split()[0] == str(child.pid)]
    assert from_child == ["0", "1", "2"]
    assert queue.force_flush() and path.read_text().count(" 99\n") == 1
