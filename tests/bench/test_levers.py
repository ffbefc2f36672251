"""bench levers: it times the encoders on real rag-api request telemetry (no timing asserted)."""

from __future__ import annotations

import pytest

from bench import levers


def test_levers_time_the_encoders_on_real_request_telemetry() -> None:
    figures = levers.encoders(requests=5)
    # rag-api's steady chat: 6 spans and 5 records (2 log lines, 3 evaluation events; the
    # startup lines come on top once)
    assert figures["spans_per_request"] == pytest.approx(6.0)
    assert 5.0 <= figures["logs_per_request"] <= 5.8
    for key in ("official_span_us", "ours_span_us", "official_log_us", "ours_log_us"):
        assert figures[key] > 0, key
