"""bench.inprocess: rag-api's telemetry in process, encoded and dropped, against telemetry off."""

from __future__ import annotations

import asyncio

from bench import inprocess


def test_on_encodes_spans_and_log_records_off_builds_no_exporter() -> None:
    assert inprocess._app(False)[1] == []
    app, (spans, logs) = inprocess._app(True)
    assert asyncio.run(inprocess._cpu_us_per_request(app, requests=3)) > 0
    # both encoders ran, on every request (warm-up included): 6 spans and 5 records of
    # ~100-400 bytes each per /v1/chat
    assert spans.bytes > 23 * 500 and logs.bytes > 23 * 300, (spans.bytes, logs.bytes)


def test_the_figures_are_per_request_and_on_includes_the_encoding() -> None:
    figures = inprocess.telemetry_us(requests=5, repeats=1)
    assert set(figures) == {"on_us", "off_us", "telemetry_us", "otlp_bytes_per_request"}
    assert figures["otlp_bytes_per_request"] > 1_000, figures
