"""rag-api's OTLP log records: the OpenTelemetry Logger call without the SDK's record machinery.

Why not the SDK's LoggerProvider: per record it builds an API `LogRecord`, wraps it in a
`ReadWriteLogRecord` (attribute validation into a `BoundedAttributes`), fans it out to
processors, and the batch processor copies it again into a `ReadableLogRecord` — three objects
and two attribute passes for a record whose attributes our own code has already made OTLP
values (logs.OTLPSink, Telemetry.event). Here `emit` builds one record and appends it to the
export queue (genai_telemetry/export.py).

A record has the fields an SDK `ReadableLogRecord` has (`log_record.body`, `.attributes`,
`.trace_id`, ..., `resource`, `instrumentation_scope`, `dropped_attributes`), so the OTLP
exporters and the SDK's test exporters take it as they are. Attribute values are cleaned as the
SDK cleans them and the limits are the SDK's (`OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT` and
`_VALUE_LENGTH_LIMIT`, else the `OTEL_ATTRIBUTE_*` ones; 128 attributes by default);
one difference: a None value is left out (the SDK sends an empty value), as docs/telemetry.md
promises for every log attribute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LogRecordLimits
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, TraceFlags

from genai_telemetry.attribute_values import PLAIN, clean_value, no_limit_as_max
from genai_telemetry.export import ExportQueue

__all__ = ["LogRecord", "Logger", "LoggerProvider"]


class LogRecord:
    """One emitted record; also its own `log_record` (the SDK's readable layout)."""

    __slots__ = (
        "attributes",
        "body",
        "dropped_attributes",
        "event_name",
        "instrumentation_scope",
        "observed_timestamp",
        "resource",
        "severity_number",
        "severity_text",
        "span_id",
        "timestamp",
        "trace_flags",
        "trace_id",
    )

    def __init__(
        self,
        timestamp: int | None,
        observed_timestamp: int,
        trace_id: int,
        span_id: int,
        trace_flags: TraceFlags,
        severity_text: str | None,
        severity_number: SeverityNumber | None,
        body: Any,
        attributes: dict[str, Any],
        event_name: str | None,
        dropped_attributes: int,
        resource: Resource,
        instrumentation_scope: InstrumentationScope,
    ) -> None:
        self.timestamp = timestamp
        self.observed_timestamp = observed_timestamp
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.severity_text = severity_text
        self.severity_number = severity_number
        self.body = body
        self.attributes = attributes
        self.event_name = event_name
        self.dropped_attributes = dropped_attributes
        self.resource = resource
        self.instrumentation_scope = instrumentation_scope

    @property
    def log_record(self) -> LogRecord:
        return self


class Logger:
    """Emits records of one instrumentation scope to the provider's sink."""

    def __init__(self, provider: LoggerProvider, scope: InstrumentationScope) -> None:
        self._provider = provider
        self._scope = scope

    def emit(
        self,
        *,
        timestamp: int | None = None,
        observed_timestamp: int | None = None,
        context: otel_context.Context | None = None,
        severity_number: SeverityNumber | None = None,
        severity_text: str | None = None,
        body: Any = None,
        attributes: Mapping[str, Any] | None = None,
        event_name: str | None = None,
        span_context: SpanContext | None = None,
    ) -> None:
        """The API's `emit`, plus `span_context`: rag-api's own shortcut to parent the record
        to a span it holds, without building a context for it (else `context`'s span, else
        the current one)."""
        if span_context is None:
            span_context = trace.get_current_span(context).get_span_context()
        provider = self._provider
        kept, dropped = _limited(attributes, provider.max_attributes, provider.max_length)
        self._provider.on_emit(
            LogRecord(
                timestamp,
                observed_timestamp or time.time_ns(),
                span_context.trace_id,
                span_context.span_id,
                span_context.trace_flags,
                severity_text,
                severity_number,
                body,
                kept,
                event_name,
                dropped,
                self._provider.resource,
                self._scope,
            )
        )


def _limited(
    attributes: Mapping[str, Any] | None, limit: int, max_length: int | None
) -> tuple[dict[str, Any], int]:
    """The attributes without None values or empty keys, cleaned as the SDK cleans them, at
    most `limit` of them (the last ones kept, as the SDK keeps them), and how many dropped."""
    if not attributes:
        return {}, 0
    kept: dict[str, Any] = {}
    for k, v in attributes.items():
        if v is None or not k:
            continue
        kind = v.__class__  # the common scalars need no cleaning (as in Span.set_attributes)
        if kind in PLAIN or (kind is str and max_length is None):
            kept[k] = v
        else:
            kept[k] = clean_value(v, max_length)
    if len(kept) <= limit:
        return kept, 0
    return dict(list(kept.items())[len(kept) - limit :]), len(kept) - limit


class LoggerProvider:
    """Loggers sharing a resource, the attribute limit and one export queue."""

    def __init__(
        self,
        resource: Resource,
        queue: ExportQueue[LogRecord],
        limits: LogRecordLimits | None = None,
    ) -> None:
        self.resource = resource
        self.queue = queue
        self.on_emit: Callable[[LogRecord], None] = queue.push
        limits = limits or LogRecordLimits()  # OTEL_LOGRECORD_ATTRIBUTE_* over OTEL_ATTRIBUTE_*
        self.max_attributes = no_limit_as_max(limits.max_log_record_attributes)
        self.max_length = limits.max_log_record_attribute_length

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.queue.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.queue.shutdown()

    def get_logger(
        self, name: str, version: str | None = None, schema_url: str | None = None
    ) -> Logger:
        return Logger(self, InstrumentationScope(name, version, schema_url))
