"""genai_telemetry.log_records: the same OTLP log records as the SDK for the same `emit` calls.

Both loggers get the same calls (context, severities, string/map/list bodies, event names,
attribute values of every kind, the count limit); the official OTLP encoder must encode what each
exported to equal messages, observed timestamps aside. The one intended difference (a None
attribute is left out) is asserted on its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider as SDKLoggerProvider
from opentelemetry.sdk._logs import LogRecordLimits
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from genai_telemetry import otlp
from genai_telemetry.export import ExportQueue
from genai_telemetry.log_records import LoggerProvider, LogRecord

RESOURCE = Resource.create({"service.name": "rag-api"})
# The log record limits, over generous global ones: both must follow the log record ones.
LIMITS = LogRecordLimits(
    max_attributes=100, max_attribute_length=100,
    max_log_record_attributes=4, max_log_record_attribute_length=3,
)  # fmt: skip
SPAN = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False, TraceFlags(1))


def _ours() -> tuple[LoggerProvider, InMemoryLogRecordExporter]:
    exporter = InMemoryLogRecordExporter()
    queue = ExportQueue[LogRecord](exporter, what="logs", max_queue=100, batch=10, delay_s=60)
    return LoggerProvider(RESOURCE, queue, LIMITS), exporter


def _sdk() -> tuple[SDKLoggerProvider, InMemoryLogRecordExporter]:
    exporter = InMemoryLogRecordExporter()
    provider = SDKLoggerProvider(resource=RESOURCE, log_record_limits=LIMITS)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider, exporter


def _script(provider: Any) -> None:
    logger = provider.get_logger("demo_app", "1.0", schema_url="https://opentelemetry.io/s/1")
    logger.emit(
        timestamp=1_700_000_000_000_000_000,
        context=set_span_in_context(NonRecordingSpan(SPAN)),
        severity_number=SeverityNumber.WARN,
        severity_text="WARNING",
        body="chat_failed",
        attributes={"request_id": "r-1", "status": 502, "ok": False, "reason": "Bad Gateway"},
    )
    logger.emit(body={"k": "v", "n": [1, 2]}, event_name="gen_ai.evaluation.result")
    logger.emit(body=["a", 1], attributes={f"a{i}": i for i in range(6)})  # 2 over the limit
    logger.emit(body=None, severity_number=SeverityNumber.INFO, attributes={"m": {"x": (1,)}})


def _normalised(records: Any) -> ExportLogsServiceRequest:
    message = encode_logs(records)
    for resource_logs in message.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                record.observed_time_unix_nano = 0
    return message


@pytest.mark.filterwarnings("ignore::UserWarning")  # the SDK warns about the dropped attributes
def test_the_same_calls_export_the_same_records_as_the_sdk() -> None:
    (sdk, sdk_records), (ours, our_records) = _sdk(), _ours()
    _script(sdk)
    _script(ours)
    assert ours.force_flush()
    expected, got = sdk_records.get_finished_logs(), our_records.get_finished_logs()
    assert len(expected) == len(got) == 4
    assert _normalised(got) == _normalised(expected)
    assert got[0].log_record.trace_id == SPAN.trace_id and got[2].dropped_attributes == 2
    assert got[0].log_record.attributes["reason"] == "Bad"  # the log record length limit
    # Our encoder reads our records as the official encoder does.
    assert ExportLogsServiceRequest.FromString(otlp.LogEncoder().encode(got)) == encode_logs(got)


def test_a_none_attribute_is_left_out() -> None:
    provider, exporter = _ours()
    provider.get_logger("demo_app").emit(body="x", attributes={"model": None, "route": "rt"})
    provider.force_flush()
    (record,) = exporter.get_finished_logs()
    assert record.log_record.attributes == {"route": "rt"}
    assert record.dropped_attributes == 0
