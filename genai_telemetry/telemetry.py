"""rag-api telemetry: metrics (Prometheus scrape), traces and logs (OTLP), redaction.

`Telemetry.build()` wires one app instance's providers; `Telemetry.operation()` wraps one GenAI
operation in its span + duration metric so every operation is recorded the same way;
`Telemetry.event()` emits a semconv event (an OTLP log record with an event name) parented to
the span it is about. Spans and events carry the schema URL of the semconv version followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TextIO

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from genai_telemetry import __version__
from genai_telemetry import semconv as sc
from genai_telemetry.config import TelemetrySettings, sdk_disabled
from genai_telemetry.log_records import Logger, LoggerProvider
from genai_telemetry.logs import OTLPSink, build_logger, build_logger_provider
from genai_telemetry.metrics import Metrics
from genai_telemetry.redaction import redact, redact_attributes
from genai_telemetry.spans import TracerProvider
from genai_telemetry.tracing import (
    INSTRUMENTATION_NAME,
    NOT_SCANNED,
    build_resource,
    build_tracer_provider,
    sampled_trace_hex,
)

__all__ = ["REQUEST_DEADLINE", "Metrics", "OperationState", "Telemetry"]

# Event-loop time by which the current request must be answered (REQUEST_TIMEOUT_SECONDS, set by
# the chat routes). An operation cancelled once it has passed ran out of time: error_type
# `timeout`, as the caller's 504 says, not the `_OTHER` of a client that went away.
REQUEST_DEADLINE: ContextVar[float | None] = ContextVar("request_deadline", default=None)
# Operations that also get a duration per name: gen_ai.invoke_agent.duration and
# gen_ai.execute_tool.duration.
_PER_NAME = frozenset((sc.OP_INVOKE_AGENT, sc.OP_EXECUTE_TOOL))
# What the exception event repeats of its model call's span, so a log query needs no trace.
_EXCEPTION_EVENT_SPAN_ATTRIBUTES = (sc.A_OPERATION_NAME, sc.A_PROVIDER_NAME, sc.A_REQUEST_MODEL)
_DEADLINE_SLACK_S = 0.01  # the loop may run a timer up to its clock resolution early


@dataclass
class OperationState:
    """Handle given to the body of `Telemetry.operation()`."""

    span: trace.Span
    started: float
    error_type: str | None = None  # set to force a failure without raising

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def set(self, key: str, value: Any) -> None:
        if value is not None:
            self.span.set_attribute(key, value)


@dataclass
class Telemetry:
    settings: TelemetrySettings
    metrics: Metrics
    tracer: trace.Tracer
    log: Any
    tracer_provider: TracerProvider | None = None
    logger_provider: LoggerProvider | None = None
    otlp_sink: OTLPSink | None = None
    event_logger: Logger | None = None
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def build(
        cls,
        settings: TelemetrySettings,
        *,
        models: Iterable[str] = (),
        providers: Iterable[str] = (),
        span_exporter: SpanExporter | None = None,
        log_exporter: LogRecordExporter | None = None,
        log_stream: TextIO | None = None,
    ) -> Telemetry:
        metrics = Metrics(models, providers, enabled=settings.telemetry_enabled)
        # OTEL_SDK_DISABLED (the spec's switch for traces and logs): metrics stay.
        if not settings.telemetry_enabled or sdk_disabled(settings.environ):
            sink = OTLPSink(None)
            log = build_logger(settings, sink, log_stream)
            return cls(settings, metrics, trace.NoOpTracer(), log, otlp_sink=sink)
        resource = build_resource(settings)
        tracer_provider = build_tracer_provider(settings, resource, span_exporter)
        logger_provider = build_logger_provider(settings, resource, log_exporter)
        sink = OTLPSink(logger_provider)
        log = build_logger(settings, sink, log_stream)
        tracer = tracer_provider.get_tracer(
            INSTRUMENTATION_NAME, __version__, schema_url=sc.SCHEMA_URL
        )
        events = (
            logger_provider.get_logger(INSTRUMENTATION_NAME, __version__, sc.SCHEMA_URL)
            if logger_provider is not None
            else None
        )
        return cls(settings, metrics, tracer, log, tracer_provider, logger_provider, sink, events)

    @property
    def capture_content(self) -> bool:
        return self.settings.capture_message_content

    @property
    def capture_retrieval_documents(self) -> bool:
        return self.settings.capture_retrieval_documents

    def event(
        self,
        name: str,
        attributes: Mapping[str, Any],
        parent: trace.SpanContext | None,
        severity: SeverityNumber = SeverityNumber.INFO,
    ) -> None:
        """A semconv event: an OTLP log record named `name` (also its body, so a Loki line
        reads as the event), parented to the span `parent`, attributes redacted as on spans
        and None values left out. OTLP only (no stdout line); a no-op without OTLP logs."""
        if self.event_logger is None or self._closed:
            return
        with contextlib.suppress(Exception):  # never let telemetry break the caller
            self.event_logger.emit(
                span_context=parent if parent is not None and parent.is_valid else None,
                severity_number=severity,
                severity_text=severity.name,
                body=name,
                attributes=_redacted(attributes),
                event_name=name,
            )

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Flush and stop exporters, bounded in time even when the backend hangs."""
        if self._closed:
            return
        self._closed = True
        if self.otlp_sink is not None:
            self.otlp_sink.close()

        def _stop() -> None:
            for provider in (self.tracer_provider, self.logger_provider):
                if provider is not None:
                    with contextlib.suppress(Exception):
                        provider.shutdown()

        worker = threading.Thread(target=_stop, name="telemetry-shutdown", daemon=True)
        worker.start()
        worker.join(timeout_s)

    @contextmanager
    def operation(
        self,
        operation: str,
        target: str,
        *,
        provider: str,
        model: str = "",
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        model_call: bool = False,
    ) -> Iterator[OperationState]:
        """Span `"{operation} {target}"` + one duration observation (error_type "" on success).

        Any exception marks the span ERROR with `error.type` (a ProviderError's `error_type`,
        otherwise the exception's fully qualified type); the metric label is the bounded
        contract value.
        """
        attrs: dict[str, Any] = {sc.A_OPERATION_NAME: operation, sc.A_PROVIDER_NAME: provider}
        if model:
            attrs[sc.A_REQUEST_MODEL] = model
        if attributes:
            attrs.update({k: v for k, v in attributes.items() if v is not None})
        gauge = self.metrics.active_gauge(provider, model) if model_call else None
        # start_span + attach rather than start_as_current_span: the same span and context,
        # without two nested generator-based context managers per operation.
        span = self.tracer.start_span(f"{operation} {target}".strip(), kind=kind, attributes=attrs)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            state = OperationState(span, time.perf_counter())
            if gauge is not None and self.metrics.enabled:
                gauge.inc()
            error: BaseException | None = None
            try:
                yield state
            except BaseException as exc:
                error = exc
                raise
            finally:
                if gauge is not None and self.metrics.enabled:
                    gauge.dec()
                metric_error = state.error_type or ""
                if error is not None:
                    span_error, metric_error = _classify(error)
                    span.set_attribute(sc.A_ERROR_TYPE, span_error)
                    span.set_status(Status(StatusCode.ERROR, redact(str(error))[:500]))
                    if not isinstance(error, asyncio.CancelledError):
                        span.record_exception(error, escaped=True)
                        if model_call:
                            self._exception_event(error, span_error, attrs, span)
                elif state.error_type:
                    span.set_attribute(sc.A_ERROR_TYPE, state.error_type)
                    span.set_status(Status(StatusCode.ERROR, state.error_type))
                trace_id = sampled_trace_hex(span)
                elapsed = state.elapsed
                self.metrics.observe_operation(
                    operation, provider, model, metric_error, elapsed, trace_id
                )
                if operation in _PER_NAME:
                    self._observe_named(operation, target, attrs, metric_error, trace_id, elapsed)
        finally:
            otel_context.detach(token)
            span.end()

    def _exception_event(
        self, error: BaseException, error_type: str, attrs: Mapping[str, Any], span: trace.Span
    ) -> None:
        """gen_ai.client.operation.exception (v1.41.0: SHOULD on a failed model call, WARN),
        parented to the call's span, with the span's operation, provider, model and error.type
        (the spec allows the span's attributes). The stack trace stays on the span's exception
        event: one per failure is enough."""
        attributes = {
            sc.A_EXCEPTION_TYPE: exception_type(error),
            sc.A_EXCEPTION_MESSAGE: redact(str(error))[:500] or None,  # as the span status
            sc.A_ERROR_TYPE: error_type,
            **{k: attrs.get(k) for k in _EXCEPTION_EVENT_SPAN_ATTRIBUTES},
        }
        context = span.get_span_context()
        self.event(sc.EVENT_OPERATION_EXCEPTION, attributes, context, SeverityNumber.WARN)

    def _observe_named(
        self,
        operation: str,
        target: str,
        attrs: Mapping[str, Any],
        error_type: str,
        trace_id: str | None,
        seconds: float,
    ) -> None:
        """The per-agent and per-tool duration (v1.41.0's operation metric names neither)."""
        if operation == sc.OP_INVOKE_AGENT:
            agent = str(attrs.get(sc.A_AGENT_NAME, target))
            self.metrics.observe_agent(agent, error_type, seconds, trace_id)
            return
        self.metrics.observe_tool(
            str(attrs.get(sc.A_TOOL_NAME, target)),
            str(attrs.get(sc.A_TOOL_TYPE, "")),
            str(attrs.get(sc.A_AGENT_NAME, "")),
            error_type,
            seconds,
            trace_id,
        )


def _redacted(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Event attributes without None values, redacted like span attributes (what the span
    policy leaves alone, tracing.NOT_SCANNED, is left alone here too)."""
    kept = {k: v for k, v in attributes.items() if v is not None}
    scanned = redact_attributes({k: v for k, v in kept.items() if k not in NOT_SCANNED})
    return {**kept, **scanned}


def _classify(error: BaseException) -> tuple[str, str]:
    """(span error.type, bounded metric error_type) of an exception."""
    error_type = getattr(error, "error_type", None)
    if isinstance(error_type, str) and error_type in sc.ERROR_TYPES and error_type:
        return error_type, error_type
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return sc.ERROR_TIMEOUT, sc.ERROR_TIMEOUT
    if isinstance(error, asyncio.CancelledError):
        return (sc.ERROR_TIMEOUT, sc.ERROR_TIMEOUT) if _past_deadline() else ("cancelled", sc.OTHER)
    return exception_type(error), sc.OTHER


def exception_type(error: BaseException) -> str:
    """The exception's fully qualified type (builtins unqualified): the `exception.type` of the
    span's exception event, and what util-genai sets as `error.type`."""
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "", None) else f"{module}.{cls.__qualname__}"


def _past_deadline() -> bool:
    deadline = REQUEST_DEADLINE.get()
    if deadline is None:
        return False
    try:
        return asyncio.get_running_loop().time() >= deadline - _DEADLINE_SLACK_S
    except RuntimeError:  # no running loop
        return False
