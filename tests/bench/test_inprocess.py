"""bench.inprocess: rag-api's telemetry in process, encoded and dropped, against telemetry off."""

from __future__ import annotations

import asyncio
import gc

from bench import inprocess


def test_on_encodes_spans_and_log_records_off_builds_no_exporter() -> None:
    assert inprocess._app(False)[1] == []
    app, (spans, logs) = inprocess._app(True)
    cpu_us, gc_us = asyncio.run(inprocess._cpu_us_per_request(app, requests=3))
    assert cpu_us > 0 and gc_us >= 0
    assert spans.cpu_s > 0 and logs.cpu_s > 0
    # both encoders ran, on every request (warm-up included): 6 spans and 5 records of
    # ~100-400 bytes each per /v1/chat
    assert spans.bytes > 23 * 500 and logs.bytes > 23 * 300, (spans.bytes, logs.bytes)


def test_the_figures_are_per_request_and_on_includes_the_encoding() -> None:
    figures = inprocess.telemetry_us(requests=5, repeats=1)
    assert set(figures) == {
        "on_us",
        "off_us",
        "telemetry_us",
        "otlp_bytes_per_request",
        "encoding_us",
        "gc_on_us",
        "gc_off_us",
    }
    assert figures["otlp_bytes_per_request"] > 1_000, figures
    assert 0 < figures["encoding_us"] < figures["on_us"], figures


def test_gc_cpu_counts_the_collector_passes_inside_the_block_only() -> None:
    gc.collect()
    with inprocess._gc_cpu() as inside:
        garbage = [[i] for i in range(200_000)]  # enough tracked objects for a few passes
        gc.collect()
    during = inside[0]
    assert during > 0
    del garbage
    gc.collect()  # outside the block: not counted
    assert inside[0] == during
    assert all(callback.__name__ != "on_pass" for callback in gc.callbacks)
