"""bench levers: it times the encoders on real rag-api request telemetry (no timing asserted)."""

from __future__ import annotations

import io
import json

import prometheus_client
import pytest

from bench import histogram_lever, levers, pipeline_lever
from demo_app.config import Settings
from genai_telemetry import logs, metrics, tracing
from genai_telemetry.histogram import Histogram


def test_levers_time_the_encoders_on_real_request_telemetry() -> None:
    figures = levers.encoders(requests=5)
    # rag-api's steady chat: 6 spans and 5 records (2 log lines, 3 evaluation events; the
    # startup lines come on top once)
    assert figures["spans_per_request"] == pytest.approx(6.0)
    assert 5.0 <= figures["logs_per_request"] <= 5.8
    for key in ("official_span_us", "ours_span_us", "official_log_us", "ours_log_us"):
        assert figures[key] > 0, key


def test_levers_time_the_precheck_with_and_without_the_clean_cache() -> None:
    figures = levers.precheck(requests=3)
    assert figures["uncached_us"] > 0 and figures["cached_us"] > 0
    # the "uncached" side really scans: nothing is remembered while it runs
    with levers.no_clean_cache():
        from genai_telemetry import redaction_precheck

        assert not redaction_precheck.may_need_redaction("a value seen once")
        assert "a value seen once" not in redaction_precheck._known_clean


def test_levers_time_both_log_chains_and_they_write_the_same_lines() -> None:
    figures = levers.log_lines()
    assert figures["structlog_default_us"] > 0 and figures["ours_us"] > 0
    (before, before_out), (ours, ours_out) = levers.log_chains()
    levers.write_lines(before)
    levers.write_lines(ours)

    def lines(out: io.StringIO) -> list[dict[str, object]]:
        return [{**json.loads(x), "timestamp": "-"} for x in out.getvalue().splitlines()]

    assert lines(before_out) == lines(ours_out)
    assert len(lines(ours_out)) == len(levers._LINES)


def test_levers_time_both_span_and_log_pipelines_and_ours_exports_everything() -> None:
    figures = pipeline_lever.pipeline(requests=5, repeat=1)
    assert figures["sdk_us"] > 0 and figures["ours_us"] > 0

    class Count(pipeline_lever._Drop):
        items = 0

        def export(self, batch: object) -> None:
            Count.items += len(batch)  # type: ignore[arg-type]

    settings = Settings.from_env({})
    resource = tracing.build_resource(settings)
    tracer = tracing.build_tracer_provider(settings, resource, Count())  # type: ignore[arg-type]
    logger = logs.build_logger_provider(settings, resource, Count())  # type: ignore[arg-type]
    assert logger is not None
    pipeline_lever._one_request(tracer.get_tracer("t"), logger.get_logger("t"))
    assert tracer.force_flush() and logger.force_flush()
    assert Count.items == 6 + 5  # what the timed side handles is really exported


def test_levers_replay_one_real_chat_s_histogram_calls_on_both_histograms() -> None:
    figures = histogram_lever.per_request(number=2)
    # a steady chat: http 1, operations 5, agents 2, tokens 3, retrieval 2, evaluation 3
    assert figures["observations_on_app"] == 16
    assert figures["observations_replayed_lib"] == figures["observations_replayed_ours"] == 16
    assert figures["lib_us"] > 0 and figures["ours_us"] > 0
    template = metrics.Metrics()
    lib, ours = histogram_lever._metrics(template, True), histogram_lever._metrics(template, False)
    for row in metrics.INSTRUMENTS:
        if row.kind == "histogram":  # each side times the histogram it names
            assert type(getattr(lib, row.attr)) is prometheus_client.Histogram, row.attr
            assert type(getattr(ours, row.attr)) is Histogram, row.attr
    observation = histogram_lever.per_observation(values=5, number=1)
    assert all(v > 0 for v in observation.values()) and len(observation) == 4
