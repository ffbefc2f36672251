"""bench.inprocess: rag-api's telemetry in process, encoded and dropped, against telemetry off."""

from __future__ import annotations

from bench import inprocess


def test_on_encodes_every_request_and_off_exports_nothing() -> None:
    _, exporters = inprocess._app(False)
    assert exporters == []
    figures = inprocess.telemetry_us(requests=5, repeats=1)
    assert figures["on_us"] > 0 and figures["off_us"] > 0
    assert figures["telemetry_us"] == figures["on_us"] - figures["off_us"]
    # 6 spans and 5 log records of ~100-300 bytes each reach the encoders per request
    assert figures["otlp_bytes_per_request"] > 1_000, figures
