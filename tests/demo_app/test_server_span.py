"""genai_telemetry.server_span against the FastAPI instrumentation it replaces: the same
requests through both must give the same span names, kinds, parents, attributes and status
(stable HTTP conventions), in process, with no exporter."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI, HTTPException, Response
from fastapi.testclient import TestClient
from opentelemetry.instrumentation import _semconv
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from genai_telemetry.redaction import secret_header_attribute
from genai_telemetry.server_span import ServerSpanMiddleware
from genai_telemetry.tracing import RedactingSpanProcessor

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("POST", "/v1/items/42?q=1&token=x", {"traceparent": TRACEPARENT, "user-agent": "ua/1"}),
    ("GET", "/v1/items/7", {"host": "api.example:8443"}),
    ("GET", "/nowhere", {}),  # 404: no route, span named after the method alone
    ("BREW", "/v1/items/1", {}),  # unknown method on a real route: 405, "HTTP {route}"
    ("GET", "/v1/broken", {}),  # 503 from the handler: status ERROR, error.type "503"
    ("GET", "/healthz", {}),  # excluded: no span
]


def _app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/v1/items/{item_id}", methods=["GET", "POST"])
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/v1/broken")
    async def broken() -> None:
        raise HTTPException(503, "down")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _spans(instrument: Callable[[FastAPI, TracerProvider], None]) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app()
    instrument(app, provider)
    with TestClient(app) as client:
        for method, url, headers in REQUESTS:
            client.request(method, url, headers=headers)
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


@pytest.fixture
def stable_http_semconv(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The instrumentation reads OTEL_SEMCONV_STABILITY_OPT_IN once per process."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    stability = _semconv._OpenTelemetrySemanticConventionStability
    monkeypatch.setattr(stability, "_initialized", False)
    monkeypatch.setattr(stability, "_OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING", {})
    yield


def _official(app: FastAPI, provider: TracerProvider) -> None:
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/healthz$", exclude_spans=["receive", "send"]
    )


def _ours(app: FastAPI, provider: TracerProvider) -> None:
    tracer = provider.get_tracer("test")
    app.add_middleware(ServerSpanMiddleware, tracer=tracer, excluded_paths={"/healthz"})


def _view(span: ReadableSpan) -> tuple[object, ...]:
    return (
        span.name,
        span.kind,
        span.parent.span_id if span.parent else None,
        span.context.trace_id if span.parent else None,
        dict(span.attributes or {}),
        span.status.status_code,
    )


def test_server_spans_match_the_fastapi_instrumentation(stable_http_semconv: None) -> None:
    ours = _spans(_ours)
    official = _spans(_official)
    assert len(ours) == len(REQUESTS) - 1, [s.name for s in ours]
    assert [_view(s) for s in ours] == [_view(s) for s in official]
    names = [s.name for s in ours]
    assert names == [
        "POST /v1/items/{item_id}",
        "GET /v1/items/{item_id}",
        "GET",
        "HTTP /v1/items/{item_id}",
        "GET /v1/broken",
    ]
    assert ours[0].context.trace_id == int(TRACEPARENT.split("-")[1], 16)
    assert ours[4].attributes["error.type"] == "503"


def test_header_capture_follows_the_instrumentation_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "x-tenant")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", "content-type")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app()
    _ours(app, provider)
    with TestClient(app) as client:
        client.get("/v1/items/3", headers={"X-Tenant": "blue"})
    (span,) = exporter.get_finished_spans()
    assert span.attributes["http.request.header.x_tenant"] == ("blue",)
    assert span.attributes["http.response.header.content_type"] == ("application/json",)


# Credential headers with no recognisable value shape: only their names can give them away.
CREDENTIAL_HEADERS = {
    "X-Auth-Token": "plain-auth-token-1",
    "X-Amz-Security-Token": "plain-amz-token-2",
    "X-Goog-Api-Key": "plain-goog-key-3",
    "OpenAI-Api-Key": "plain-openai-key-4",
    "Authorization": "plain-authorization-5",
    "Cookie": "plain-cookie-6",
    "X-CSRF-Token": "plain-csrf-7",
}


def test_credential_headers_are_dropped_before_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """Header capture of everything (".*"): any request or response header named like a
    credential (`redaction.secret_name`) is dropped by the redacting span processor."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", ".*")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RedactingSpanProcessor(SimpleSpanProcessor(exporter)))
    app = FastAPI()

    @app.get("/login")
    async def login() -> Response:
        headers = {"Set-Cookie": "sid=plain-cookie-8", "X-Session-Token": "plain-session-9"}
        return Response("{}", media_type="application/json", headers=headers)

    _ours(app, provider)
    with TestClient(app) as client:
        client.get("/login", headers={**CREDENTIAL_HEADERS, "X-Tenant": "blue"})
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["http.request.header.x_tenant"] == ("blue",)  # capture is really on
    assert attributes["http.response.header.content_type"] == ("application/json",)
    assert "plain-" not in repr(attributes), attributes


def test_secret_looking_trace_state_members_are_dropped_at_the_door() -> None:
    """The caller's tracestate is copied onto every span and exported as it is: members the
    redaction would change are dropped; the trace, the parent and the other members stay."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {}

    _ours(app, provider)
    key = "sk-" + "proj-" + "A1b2C3d4" * 5  # key-shaped, not a real key
    headers = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": f"vendor={key},auth=password123,congo=t61rcWkgMzE",
    }
    with TestClient(app) as client:
        client.get("/x", headers=headers)
    (span,) = exporter.get_finished_spans()
    assert span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert span.parent is not None and span.parent.span_id == 0xB7AD6B7169203331
    assert list(span.context.trace_state.items()) == [("congo", "t61rcWkgMzE")]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("http.request.header.x_auth_token", True),
        ("http.response.header.set_cookie", True),
        ("http.request.header.openai_api_key", True),
        ("rpc.grpc.request.metadata.x-api-key", True),
        ("http.request.header.content_type", False),
        ("http.request.header.x_ratelimit_remaining_tokens", False),
        ("http.request.header.sec_websocket_key", False),
        ("http.request.header.idempotency_key", False),
        ("http.request.header.x_functions_key", True),
        ("http.request.header.ocp_apim_subscription_key", True),
        ("http.request.header.authentication", True),
        ("http.request.header.x_honeycomb_team", True),
        ("http.request.header.x_upstream_creds", True),
        ("rpc.request.metadata.X-Functions-Key", True),
        ("http.request.header.x_request_id", False),
        ("http.request.header.x_tenant", False),
        ("gen_ai.usage.input_tokens", False),
        ("session.id", False),  # not a header: scanned like any attribute, not dropped
    ],
)
def test_secret_header_attribute(key: str, secret: bool) -> None:
    assert secret_header_attribute(key) is secret


def test_an_exception_marks_the_span_error_with_its_class() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    _ours(app, provider)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    (span,) = exporter.get_finished_spans()
    assert span.attributes["error.type"] == "RuntimeError"
    assert span.status.is_ok is False
    assert [e.name for e in span.events] == ["exception"]
