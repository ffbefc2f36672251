"""Traces: a per-app tracer provider, OTLP/HTTP export that never blocks requests, redaction.

Export runs in the export queue's worker thread (genai_telemetry/export.py) with a bounded
queue (spans are dropped, not queued without bound, when the backend is down) and a short
per-export timeout. Every span passes `redact_span` before it reaches the exporter, so a secret
that slipped into an attribute, event or status message (including ones set by an HTTP
instrumentation, such as `user_agent.original`) never leaves the process.
`RedactingSpanProcessor` applies the same redaction to an SDK TracerProvider's spans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import sampling as sdk_sampling
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import Status

from genai_telemetry import semconv as sc
from genai_telemetry.config import TelemetrySettings
from genai_telemetry.export import ExportQueue
from genai_telemetry.redaction import (
    may_need_redaction,
    redact,
    redact_attributes,
    redact_query,
    secret_header_attribute,
)
from genai_telemetry.spans import Span, TracerProvider

INSTRUMENTATION_NAME = "demo_app"


def build_resource(settings: TelemetrySettings) -> Resource:
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


# Attribute values that cannot carry user input: enum-like values our code sets from bounded
# sets (operation, provider, agent, tool, feature, tier, evaluation names and labels, our error
# classification) and what the HTTP instrumentation derives from the protocol (method bounded
# to the known ones, scheme, protocol version). They are not scanned; every other string
# attribute is (the request path and query, http.route (the raw path for host-routed apps),
# user agent, host, conversation id, message content, exception messages, ...). Non-string
# values are never scanned.
SAFE_ATTRIBUTES = frozenset(
    {
        sc.A_OPERATION_NAME,
        sc.A_PROVIDER_NAME,
        sc.A_AGENT_NAME,
        sc.A_TOOL_NAME,
        sc.A_TOOL_TYPE,
        sc.A_LLM_FEATURE,
        sc.A_LLM_USER_TIER,
        sc.A_EVALUATION_NAME,
        sc.A_EVALUATION_SCORE_LABEL,
        sc.A_ERROR_TYPE,
        "http.request.method",
        "url.scheme",
        "network.protocol.version",
    }
)


# Values our own code redacts when it sets them (demo_app/pipeline.py): message content,
# retrieved document ids and provider response ids. Scanning them again on end would find
# their ":" or digits and force a copy of nearly every span.
REDACTED_AT_SOURCE = frozenset(
    {sc.A_INPUT_MESSAGES, sc.A_OUTPUT_MESSAGES, sc.A_RETRIEVAL_DOCUMENTS, sc.A_RESPONSE_ID}
)
# Attributes the redaction precheck (spans) and the GenAI events leave alone.
NOT_SCANNED = SAFE_ATTRIBUTES | REDACTED_AT_SOURCE

# The query parameters rag-api defines (demo_app/api/admin.py; a test compares this with
# /openapi.json). Any other parameter's value is dropped from the server span whatever it looks
# like: `?auth=<token>` must not reach Tempo.
KNOWN_QUERY_PARAMS = frozenset({"receiver", "alertname"})
# Attributes holding a query string, or a URL or target that may end in one.
_QUERY_ATTRIBUTES = frozenset({"url.query"})
_URL_ATTRIBUTES = frozenset({"url.full", "http.url", "http.target"})


def _sanitize_url(value: str) -> str:
    path, sep, query = value.partition("?")
    return redact(path) + sep + redact_query(query, KNOWN_QUERY_PARAMS)


def _sanitize(key: str, value: object) -> object:
    if isinstance(value, str):
        if key in _QUERY_ATTRIBUTES:
            return redact_query(value, KNOWN_QUERY_PARAMS)
        if key in _URL_ATTRIBUTES:
            return _sanitize_url(value)
    return value


def _is_sensitive_key(key: str) -> bool:
    # Header capture (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*) must never carry credentials:
    # every request and response header named like one is dropped, whatever the variables list.
    return secret_header_attribute(key)


def _drop_sensitive(attributes: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in attributes.items() if not _is_sensitive_key(k)}


# How the precheck treats an attribute key (keys are few and repeat: classified once each).
_SKIP, _SCAN, _URLISH, _SENSITIVE = "skip", "scan", "url", "sensitive"
_KEY_KIND_CACHE_SIZE = 1024
_key_kinds: dict[str, str] = {}


def _key_kind(key: str) -> str:
    kind = _key_kinds.get(key)
    if kind is not None:
        return kind
    if key in NOT_SCANNED:
        kind = _SKIP
    elif _is_sensitive_key(key):
        kind = _SENSITIVE
    elif key in _QUERY_ATTRIBUTES or key in _URL_ATTRIBUTES:
        kind = _URLISH
    else:
        kind = _SCAN
    if len(_key_kinds) < _KEY_KIND_CACHE_SIZE:  # header capture could bring many names
        _key_kinds[key] = kind
    return kind


def _clean(attributes: Mapping[str, object] | None) -> bool:
    """True when redaction would leave `attributes` exactly as they are."""
    if not attributes:
        return True
    kinds = _key_kinds
    for key, value in attributes.items():
        kind = kinds.get(key) or _key_kind(key)
        if kind is _SKIP:
            continue
        if kind is _SENSITIVE:
            return False
        if kind is _URLISH and _sanitize(key, value) != value:
            return False
        if isinstance(value, str):
            if may_need_redaction(value):
                return False
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, str) and may_need_redaction(item):
                    return False
    return True


class RedactingSpanProcessor(SpanProcessor):
    """Hands every ended span to the wrapped processor with secrets redacted.

    A cheap precheck (`may_need_redaction` over the name, status message and every string
    attribute and event attribute not in SAFE_ATTRIBUTES or REDACTED_AT_SOURCE) proves most
    spans clean; those are
    passed on as they are. Any other span is copied with every string redacted and sensitive
    header attributes dropped.
    """

    def __init__(self, delegate: SpanProcessor) -> None:
        self._delegate = delegate

    def on_start(self, span: object, parent_context: Context | None = None) -> None:
        self._delegate.on_start(span, parent_context)  # type: ignore[arg-type]

    def on_end(self, span: ReadableSpan) -> None:
        self._delegate.on_end(redact_span(span))

    def shutdown(self) -> None:
        self._delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._delegate.force_flush(timeout_millis)


def redact_span(span: ReadableSpan) -> ReadableSpan:
    """`span` itself when redaction would change nothing (most spans), else a redacted copy."""
    return span if _span_is_clean(span) else _redacted_copy(span)


def _span_is_clean(span: ReadableSpan) -> bool:
    if may_need_redaction(span.name):
        return False
    description = span.status.description
    if description and may_need_redaction(description):
        return False
    if not _clean(span.attributes):
        return False
    return all(_clean(event.attributes) for event in span.events)


def _redacted_copy(span: ReadableSpan) -> ReadableSpan:
    kept = _drop_sensitive(dict(span.attributes or {}))
    attributes = redact_attributes(
        {k: v for k, v in kept.items() if k not in _QUERY_ATTRIBUTES | _URL_ATTRIBUTES}
    )
    attributes.update(
        (k, _sanitize(k, v)) for k, v in kept.items() if k in _QUERY_ATTRIBUTES | _URL_ATTRIBUTES
    )
    events = [
        Event(e.name, redact_attributes(_drop_sensitive(dict(e.attributes or {}))), e.timestamp)
        for e in span.events
    ]
    status = span.status
    if status.description:
        status = Status(status.status_code, redact(status.description))
    return ReadableSpan(
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


def build_tracer_provider(
    settings: TelemetrySettings, resource: Resource, exporter: SpanExporter | None = None
) -> TracerProvider:
    """The app's tracer provider (genai_telemetry/spans.py; sampler from OTEL_TRACES_SAMPLER):
    ended sampled spans go through `redact_span` to the exporter in the export thread."""
    if exporter is None and settings.otlp_traces_endpoint:
        from genai_telemetry.otlp import FastOTLPSpanExporter

        exporter = FastOTLPSpanExporter(
            endpoint=settings.otlp_traces_endpoint, timeout=settings.otlp_timeout_s
        )
    queue = None
    if exporter is not None:
        queue = ExportQueue[Span].for_schedule(
            exporter, settings.span_export, what="spans", prepare=redact_span
        )
    sampler = sampler_from_env(settings.environ)
    return TracerProvider(resource, sampler=sampler, queue=queue)


def current_ids() -> tuple[str | None, str | None]:
    """(trace_id, span_id) of the current span as lowercase hex, or (None, None)."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def sampled_trace_hex(span: trace.Span) -> str | None:
    """The span's trace id as 32 hex digits if the span is sampled, else None (exemplars must
    point at stored traces); rag-api's spans carry it, formatted once per trace."""
    if span.__class__ is Span:
        return span.sampled_trace_hex  # type: ignore[attr-defined]
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid and ctx.trace_flags.sampled else None


def sampled_trace_id() -> str | None:
    """The current span's trace id if it is sampled (see `sampled_trace_hex`)."""
    return sampled_trace_hex(trace.get_current_span())


_DEFAULT_SAMPLER = "parentbased_always_on"
_SAMPLERS: dict[str, Callable[[float], sdk_sampling.Sampler]] = {
    "always_on": lambda _: sdk_sampling.ALWAYS_ON,
    "always_off": lambda _: sdk_sampling.ALWAYS_OFF,
    "traceidratio": sdk_sampling.TraceIdRatioBased,
    "parentbased_always_off": lambda _: sdk_sampling.DEFAULT_OFF,
    "parentbased_traceidratio": sdk_sampling.ParentBasedTraceIdRatio,
}


def sampler_from_env(environ: Mapping[str, str]) -> sdk_sampling.Sampler | None:
    """The SDK's sampler for OTEL_TRACES_SAMPLER/_ARG (the SDK's names), or None for the
    default `parentbased_always_on` (decided in line, without a sampler call). A name or rate
    the SDK would only warn about is an error naming the variable: a typo must not silently
    sample everything."""
    name = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() or _DEFAULT_SAMPLER
    if name == _DEFAULT_SAMPLER:
        return None
    if name not in _SAMPLERS:
        known = ", ".join(sorted({_DEFAULT_SAMPLER, *_SAMPLERS}))
        raise ValueError(f"OTEL_TRACES_SAMPLER={name!r}: unknown sampler (one of: {known})")
    raw = environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip() or "1.0"
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"OTEL_TRACES_SAMPLER_ARG={raw!r}: a sampling ratio from 0 to 1")
    return _SAMPLERS[name](rate)
