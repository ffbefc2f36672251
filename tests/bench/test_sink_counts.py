"""The counting sink (harness.otlp_receiver --no-decode) counts what an app sent: spans, log
records (with and without trace id), histogram observations once per cumulative series."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from harness.otlp_receiver import OTLPReceiver

CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA


@pytest.fixture
def sink() -> Iterator[OTLPReceiver]:
    receiver = OTLPReceiver("ok", decode=False)  # not started: _record is called directly
    yield receiver
    receiver.stop()


def _histogram(name: str, temporality: int, counts: dict[str, int]) -> bytes:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add()
    metric.name = name
    metric.histogram.aggregation_temporality = temporality
    for route, count in counts.items():
        point = metric.histogram.data_points.add(count=count, start_time_unix_nano=1)
        point.attributes.append(KeyValue(key="http.route", value=AnyValue(string_value=route)))
    return request.SerializeToString()


def test_spans_and_log_records_are_counted(sink: OTLPReceiver) -> None:
    traces = ExportTraceServiceRequest()
    spans = traces.resource_spans.add().scope_spans.add().spans
    for i in range(3):
        span = spans.add(name=f"s{i}")
        span.attributes.append(KeyValue(key="k", value=AnyValue(int_value=i)))
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    records.add(trace_id=b"\x01" * 16)
    records.add()
    sink._record("/v1/traces", traces.SerializeToString())
    sink._record("/v1/logs", logs.SerializeToString())
    sink._record("/v1/traces", b"not a protobuf \xff\xff")  # counted as an export, no items
    items = sink.stats()["items"]
    assert items["spans"] == 3 and items["span_attributes"] == 3
    assert items["logs"] == 2 and items["logs_with_trace"] == 1
    assert sink.stats()["requests"] == {"/v1/traces": 2, "/v1/logs": 1}


def test_cumulative_series_count_once_and_delta_points_add_up(sink: OTLPReceiver) -> None:
    sink._record("/v1/metrics", _histogram("d", CUMULATIVE, {"/a": 3, "/b": 1}))
    sink._record("/v1/metrics", _histogram("d", CUMULATIVE, {"/a": 5, "/b": 1}))
    assert sink.stats()["items"]["observations"] == 6
    sink._record("/v1/metrics", _histogram("e", DELTA, {"/a": 2}))
    sink._record("/v1/metrics", _histogram("e", DELTA, {"/a": 4}))
    assert sink.stats()["items"]["observations"] == 12
