"""The HTTP SERVER span of every request: an ASGI middleware, stable HTTP semantic conventions.

Why not the FastAPI instrumentation (opentelemetry-instrumentation-fastapi): it re-runs
Starlette's route matching over every route to name the span before the request starts, builds
both old and new convention attribute sets, wraps `receive`/`send` and decodes every header, even
when the span is not sampled; in rag-api that was the largest fixed cost per request after the
span exporter (docs/performance.md). Here the span starts with what the request line says and is
named and given `http.route` at the end, from the route the router itself matched (the template
the HTTP metric uses too: never the raw path). Same names and attributes as the instrumentation
with OTEL_SEMCONV_STABILITY_OPT_IN=http: span `{method} {route}` (`{method}` without a route,
`HTTP` for an unknown method), `http.request.method` (+ `_original`), `url.scheme`, `url.path`,
`url.query`, `http.route`, `http.response.status_code`, `error.type` and status ERROR on 5xx or
an exception, `network.protocol.version`, `server.address`/`server.port` (the ASGI server's),
`client.address`/`client.port`, `user_agent.original`, W3C trace context from the request
headers, and the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_{REQUEST,RESPONSE} header
capture. One difference: a sampler sees no `http.route` at span start.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceState,
)
from opentelemetry.util.http import (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
    get_custom_header_attributes,
    get_custom_headers,
    normalise_request_header_name,
    normalise_response_header_name,
    sanitize_method,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genai_telemetry.redaction import redact


class _HeaderGetter(Getter[list[tuple[bytes, bytes]]]):
    """W3C propagators read `traceparent`/`tracestate`/`baggage` from ASGI header pairs."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        values = [v.decode("latin-1") for k, v in carrier if k.lower() == wanted]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_GETTER = _HeaderGetter()


def _headers_map(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
    return out


def _without_secret_trace_state(ctx: Context) -> Context:
    """The caller's context minus the `tracestate` members that the redaction would change
    (`vendor=sk-proj-…`, `auth=<password>`): the trace state is copied onto every span of the
    request, exported as it is and passed on to the provider."""
    remote = trace.get_current_span(ctx).get_span_context()
    state = remote.trace_state
    if not state:
        return ctx
    kept = [(k, v) for k, v in state.items() if redact(f"{k}={v}") == f"{k}={v}"]
    if len(kept) == len(state):
        return ctx
    clean = SpanContext(remote.trace_id, remote.span_id, True, remote.trace_flags, TraceState(kept))
    return trace.set_span_in_context(NonRecordingSpan(clean), ctx)


def matched_route(scope: Scope) -> str | None:
    """The template of the route the router matched (set in the scope), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


class ServerSpanMiddleware:
    """ASGI middleware: one SERVER span per HTTP request outside `excluded_paths`."""

    def __init__(
        self, app: ASGIApp, tracer: trace.Tracer, excluded_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.excluded = frozenset(excluded_paths)
        self.capture_request = get_custom_headers(
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST
        )
        self.capture_response = get_custom_headers(
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE
        )
        self.sanitize = get_custom_headers(
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS
        )

    def _request_attributes(self, scope: Scope, method: str) -> dict[str, Any]:
        headers = scope.get("headers") or []
        attrs: dict[str, Any] = {
            "http.request.method": method,
            "url.scheme": scope.get("scheme", "http"),
            "url.path": scope.get("path", ""),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        if method != scope["method"]:
            attrs["http.request.method_original"] = scope["method"]
        query = scope.get("query_string")
        if query:
            attrs["url.query"] = query.decode("latin-1")
        for key, value in headers:
            if key == b"user-agent":
                attrs["user_agent.original"] = value.decode("latin-1")
        server = scope.get("server")
        if server:
            attrs["server.address"] = server[0]
            if server[1] is not None:
                attrs["server.port"] = server[1]
        client = scope.get("client")
        if client:
            attrs["client.address"], attrs["client.port"] = client[0], client[1]
        if self.capture_request:
            attrs.update(
                get_custom_header_attributes(
                    _headers_map(headers),
                    self.capture_request,
                    self.sanitize,
                    normalise_request_header_name,
                )
            )
        return attrs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.excluded:
            await self.app(scope, receive, send)
            return
        method = sanitize_method(scope["method"])
        parent = _without_secret_trace_state(
            propagate.extract(scope.get("headers") or [], getter=_GETTER)
        )
        span = self.tracer.start_span(
            "HTTP" if method == "_OTHER" else method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=self._request_attributes(scope, method),
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        status: list[int] = []

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if self.capture_response and span.is_recording():
                    span.set_attributes(
                        get_custom_header_attributes(
                            _headers_map(message.get("headers") or []),
                            self.capture_response,
                            self.sanitize,
                            normalise_response_header_name,
                        )
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as exc:
            if span.is_recording():
                span.record_exception(exc, escaped=True)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            if span.is_recording():
                self._finish(span, scope, method, status[0] if status else None)
            otel_context.detach(token)
            span.end()

    @staticmethod
    def _finish(span: trace.Span, scope: Scope, method: str, status: int | None) -> None:
        route = matched_route(scope)
        if route is not None:
            span.update_name(f"{'HTTP' if method == '_OTHER' else method} {route}")
        attrs: dict[str, Any] = {}
        if route is not None:
            attrs["http.route"] = route
        if status is not None:
            attrs["http.response.status_code"] = status
            if status >= 500:
                attrs["error.type"] = str(status)
                span.set_status(Status(StatusCode.ERROR))
        span.set_attributes(attrs)
