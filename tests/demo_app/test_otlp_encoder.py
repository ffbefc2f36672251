"""genai_telemetry.otlp: the span and log encoders write what the official encoders write.

Both encode the same SDK spans (every Span field and AnyValue type, two resources, two scopes,
remote and local parents, events, links, status, dropped counts); the bytes must parse to equal
ExportTraceServiceRequest messages. The attribute cache must never mix up values that compare
equal across types (True == 1) nor keep more than its bound.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from genai_telemetry import otlp

REMOTE = SpanContext(
    0x4BF92F3577B34DA6A3CE929D0E0E4736,
    0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(1),
    trace_state=TraceState([("vendor", "v1"), ("other", "x")]),
)


def _spans(n: int = 3) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    for service in ("rag-api", "other"):
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "service.version": "1.2"}),
            span_limits=SpanLimits(max_span_attributes=12, max_events=1, max_links=1),
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app = provider.get_tracer("demo_app", "0.1", schema_url="https://opentelemetry.io/s/1.30")
        lib = provider.get_tracer("lib", attributes={"scope.attr": "a"})
        for i in range(n):
            parent = set_span_in_context(NonRecordingSpan(REMOTE))
            with app.start_as_current_span(
                "POST /v1/chat", context=parent, kind=SpanKind.SERVER
            ) as server:
                server.set_attributes({"http.route": "/v1/chat", "http.response.status_code": 200})
                with lib.start_as_current_span(
                    f"chat gpt-{i}",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "s": "x" * (200 if i else 3),  # long strings are not cached
                        "empty": "",
                        "flag": True,
                        "one": 1,  # equal to True, but an int
                        "neg": -5,
                        "big": 2**62,
                        "f": 0.25,
                        "strs": ("a", "b"),
                        "ints": [1, 2, 3],
                        "bools": [True, False],
                        "floats": [1.5],
                        "n": i,
                        "dropped": "beyond the 12-attribute limit",
                    },
                    links=[],
                ) as chat:
                    chat.add_event("first", {"k": "v", "score": 0.5})
                    chat.add_event("second (dropped: 1 event max)")
                    chat.add_link(server.get_span_context(), {"why": "test"})
                    chat.add_link(REMOTE)  # dropped: 1 link max
                    chat.set_status(Status(StatusCode.ERROR, "provider said no"))
                for kind in (SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER):
                    app.start_span(f"k{kind.value}", kind=kind).end()
    return list(exporter.get_finished_spans())


def _decoded(data: bytes) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest.FromString(data)


def test_encoding_equals_the_official_encoders() -> None:
    spans = _spans()
    encoder = otlp.SpanEncoder()
    official = _decoded(encode_spans(spans).SerializeToString())
    assert len(official.resource_spans) == 2
    assert {len(rs.scope_spans) for rs in official.resource_spans} == {2}
    assert _decoded(encoder.encode(spans)) == official
    # Second pass: every short scalar pair now comes from the cache.
    assert _decoded(encoder.encode(spans)) == official


def test_cached_pairs_keep_their_type() -> None:
    spans = _spans(1)
    encoder = otlp.SpanEncoder()
    encoder.encode(spans)
    chat = next(
        s
        for rs in _decoded(encoder.encode(spans)).resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
        if s.name.startswith("chat")
    )
    values = {kv.key: kv.value for kv in chat.attributes}
    assert values["flag"].WhichOneof("value") == "bool_value"
    assert values["one"].WhichOneof("value") == "int_value"
    # the same key with equal values of other types, each from the cache the second time
    for _ in range(2):
        for value in (True, 1, "1", 1.0, False, 0):
            encoded = encoder._attributes(0x4A, {"x": value})
            assert encoded == otlp._field(0x4A, otlp._key_value("x", value)), value


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otlp, "_CACHE_MAX", 5)
    spans = _spans(4)
    encoder = otlp.SpanEncoder()
    official = _decoded(encode_spans(spans).SerializeToString())
    for _ in range(3):
        assert _decoded(encoder.encode(spans)) == official
        assert len(encoder._pairs) <= 5
        assert len(encoder._strings) <= 5  # span and event names


def test_an_unencodable_value_is_skipped_like_the_official_encoder() -> None:
    spans = _spans(1)
    span = spans[0]
    bad = ReadableSpan(
        name=span.name,
        context=span.context,
        resource=span.resource,
        attributes={"ok": "yes", "huge": 2**70},
        instrumentation_scope=span.instrumentation_scope,
        start_time=1,
        end_time=2,
    )
    decoded = _decoded(otlp.SpanEncoder().encode([bad]))
    (only,) = decoded.resource_spans[0].scope_spans[0].spans
    assert [kv.key for kv in only.attributes] == ["ok"]


def _log_records() -> list[Any]:
    exporter = InMemoryLogRecordExporter()
    records = []
    for service in ("rag-api", "other"):
        provider = LoggerProvider(
            resource=Resource.create({"service.name": service}),
            log_record_limits=LogRecordLimits(max_attributes=4),
        )
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        for scope in ("demo_app", "lib"):
            logger = provider.get_logger(scope, "1.0", schema_url="https://opentelemetry.io/s/1")
            ctx = set_span_in_context(NonRecordingSpan(REMOTE))
            logger.emit(
                timestamp=1_700_000_000_000_000_000,
                context=ctx,
                severity_number=SeverityNumber.WARN,
                severity_text="WARNING",
                body="chat_failed",
                attributes={"request_id": "r-1", "status": 502, "ok": False, "cost": 0.5},
            )
            logger.emit(body={"k": "v", "n": [1, 2]}, event_name="gen_ai.event", attributes={})
            logger.emit(body=None, severity_number=SeverityNumber.INFO)
            logger.emit(body=["a", 1], attributes={f"a{i}": i for i in range(6)})  # 2 dropped
        provider.force_flush()
    records.extend(exporter.get_finished_logs())
    return records


@pytest.mark.filterwarnings("ignore::UserWarning")  # the SDK warns about the dropped attributes
def test_log_encoding_equals_the_official_encoders() -> None:
    records = _log_records()
    official = ExportLogsServiceRequest.FromString(encode_logs(records).SerializeToString())
    assert len(official.resource_logs) == 2
    assert any(
        r.trace_id for rl in official.resource_logs for sl in rl.scope_logs for r in sl.log_records
    )
    encoder = otlp.LogEncoder()
    for _ in range(2):
        assert ExportLogsServiceRequest.FromString(encoder.encode(records)) == official


def test_a_none_valued_log_attribute_is_left_out() -> None:
    """The SDK keeps a None log attribute; OTLP has no value for it, so the encoder leaves the
    key out (an empty AnyValue would decode as a key without a value)."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "rag-api"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("demo_app").emit(body="x", attributes={"model": None, "route": "tool"})
    provider.force_flush()
    decoded = ExportLogsServiceRequest.FromString(
        otlp.LogEncoder().encode(exporter.get_finished_logs())
    )
    (record,) = decoded.resource_logs[0].scope_logs[0].log_records
    assert {kv.key: kv.value.string_value for kv in record.attributes} == {"route": "tool"}
