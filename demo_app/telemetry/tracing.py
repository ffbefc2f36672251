"""Traces: a per-app TracerProvider, OTLP/HTTP export that never blocks requests, redaction.

Export runs in the BatchSpanProcessor's worker thread with a bounded queue (spans are dropped,
not queued without bound, when the backend is down) and a short per-export timeout. Every span
passes `RedactingSpanProcessor` before it reaches the exporter, so a secret that slipped into an
attribute, event or status message (including ones set by the FastAPI instrumentation, such as
`user_agent.original`) never leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status

from demo_app.config import Settings
from demo_app.telemetry.redaction import SENSITIVE_HEADERS, redact, redact_attributes

INSTRUMENTATION_NAME = "demo_app"


def build_resource(settings: Settings) -> Resource:
    """service.name / service.version / deployment.environment.name; OTEL_RESOURCE_ATTRIBUTES
    may override the version and environment, OTEL_SERVICE_NAME the name (spec precedence)."""
    attrs: dict[str, str] = {
        "service.version": settings.service_version,
        "deployment.environment.name": settings.deployment_environment,
    }
    detected = OTELResourceDetector().detect().attributes
    attrs.update({k: str(v) for k, v in detected.items()})
    attrs["service.name"] = settings.service_name
    return Resource.create(attrs)


def _drop_sensitive(attributes: Mapping[str, object]) -> dict[str, object]:
    # Header capture (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*) must never carry credentials.
    return {
        k: v
        for k, v in attributes.items()
        if not any(k.lower().endswith("." + h.replace("-", "_")) for h in SENSITIVE_HEADERS)
    }


class RedactingSpanProcessor(SpanProcessor):
    """Hands a redacted copy of every ended span to the wrapped processor."""

    def __init__(self, delegate: SpanProcessor) -> None:
        self._delegate = delegate

    def on_start(self, span: object, parent_context: Context | None = None) -> None:
        self._delegate.on_start(span, parent_context)  # type: ignore[arg-type]

    def on_end(self, span: ReadableSpan) -> None:
        attributes = redact_attributes(_drop_sensitive(dict(span.attributes or {})))
        events = [
            Event(e.name, redact_attributes(_drop_sensitive(dict(e.attributes or {}))), e.timestamp)
            for e in span.events
        ]
        status = span.status
        if status.description:
            status = Status(status.status_code, redact(status.description))
        copy = ReadableSpan(
            name=redact(span.name),
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
        self._delegate.on_end(copy)

    def shutdown(self) -> None:
        self._delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._delegate.force_flush(timeout_millis)


def build_tracer_provider(
    settings: Settings, resource: Resource, exporter: SpanExporter | None = None
) -> TracerProvider:
    """The app's TracerProvider (sampler from OTEL_TRACES_SAMPLER, the SDK default)."""
    provider = TracerProvider(resource=resource)
    if exporter is None and settings.otlp_traces_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=settings.otlp_traces_endpoint, timeout=settings.otlp_timeout_s
        )
    if exporter is not None:
        batch = BatchSpanProcessor(
            exporter,
            max_queue_size=settings.otlp_queue_size,
            schedule_delay_millis=_env_int(settings, "OTEL_BSP_SCHEDULE_DELAY", 1000),
            max_export_batch_size=min(512, settings.otlp_queue_size),
            export_timeout_millis=settings.otlp_timeout_s * 1000,
        )
        provider.add_span_processor(RedactingSpanProcessor(batch))
    return provider


def _env_int(settings: Settings, name: str, default: int) -> int:
    raw = settings.environ.get(name, "")
    return int(raw) if raw.strip().isdigit() else default


def current_ids() -> tuple[str | None, str | None]:
    """(trace_id, span_id) of the current span as lowercase hex, or (None, None)."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def sampled_trace_id() -> str | None:
    """The current trace id if the trace is sampled (exemplars must point at stored traces)."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid or not ctx.trace_flags.sampled:
        return None
    return format(ctx.trace_id, "032x")
