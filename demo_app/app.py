"""The rag-api FastAPI application factory: `create_app(settings=None)`.

Middleware order (outermost first): OpenTelemetry server span (`ServerSpanMiddleware`) →
`RequestContextMiddleware` (request_id, body-size limit, HTTP metric with trace_id exemplar,
access log) → FastAPI routing and exception handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TextIO

import structlog
from fastapi import FastAPI
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo_app import __version__
from demo_app.alerts import AlertStore
from demo_app.api import errors, openapi
from demo_app.api.routes import admin_router, alerts_router, router
from demo_app.api.state import AppState
from demo_app.cache import ResponseCache
from demo_app.config import ConfigError, Settings
from demo_app.faults import FaultProfile, FaultStore
from demo_app.pipeline import Pipeline
from demo_app.providers import build_provider
from demo_app.providers.base import LLMProvider
from demo_app.ratelimit import RateLimiter
from demo_app.versions import PromptVersion
from genai_telemetry import semconv as sc
from genai_telemetry.logs import install_stdlib_bridge
from genai_telemetry.pricing import PriceTable
from genai_telemetry.redaction import redact
from genai_telemetry.server_span import ServerSpanMiddleware, matched_route
from genai_telemetry.telemetry import Telemetry
from genai_telemetry.tracing import current_ids, sampled_trace_id

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
# Health and scrape endpoints: no server span, no access log line (they would drown the rest).
QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
ALERTS_ROUTE = "/v1/alerts"


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


class RequestContextMiddleware:
    """request_id + log context, body limit, HTTP duration metric (exemplar), access log."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: AppState = self.fastapi_app.state.rag
        settings = state.settings
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        # A caller's id is kept only if it is safe to echo into every log line and span.
        valid = _REQUEST_ID.match(incoming) and redact(incoming) == incoming
        request_id = incoming if valid else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        alerts = scope.get("path") == ALERTS_ROUTE
        limit = settings.alerts_max_body_bytes if alerts else settings.max_body_bytes
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = {"code": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _send_json(
                    send_wrapper,
                    413,
                    {
                        "error": "body_too_large",
                        "detail": [
                            {"field": "body", "reason": f"request body exceeds {limit} bytes"}
                        ],
                        "request_id": request_id,
                    },
                )
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:
            # Our own bug: answered here, inside the request's log context (request_id), with
            # the uniform error body; Starlette's outer handler would have neither.
            state.telemetry.log.error(
                "unhandled_exception", error_class=type(exc).__qualname__, error=str(exc)[:500]
            )
            if status["started"]:
                raise
            await _send_json(
                send_wrapper,
                500,
                {"error": "internal_error", "detail": [], "request_id": request_id},
            )
        finally:
            elapsed = time.perf_counter() - started
            route = matched_route(scope) or sc.OTHER
            extra: dict[str, Any] = {}
            state.telemetry.metrics.observe_http(
                scope.get("method", "GET"),
                route,
                status["code"],
                elapsed,
                sampled_trace_id(),
                scheme=scope.get("scheme", "http"),
                error=sys.exc_info()[1],  # what the request ends with (None when handled here)
            )
            write, suppressed = True, 0
            if alerts:  # a webhook flood must not crowd out other log records
                write, suppressed = state.alerts_log.take()
            if write and route not in QUIET_PATHS:
                if suppressed:
                    extra["suppressed_since_last"] = suppressed
                state.telemetry.log.info(
                    "http_request",
                    method=state.telemetry.metrics.method(scope.get("method", "")),
                    route=route,
                    status=status["code"],
                    duration_ms=round(elapsed * 1000, 1),
                    **extra,
                )
            structlog.contextvars.reset_contextvars(**tokens)


async def _send_json(send: Send, status: int, body: Mapping[str, Any]) -> None:
    import json

    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _build_retriever(state: AppState) -> Any:
    from demo_app.retrieval import Retriever

    return Retriever.from_corpus(faults=state.faults, seed=state.settings.sim_seed)


def create_app(
    settings: Settings | None = None,
    *,
    provider: LLMProvider | None = None,
    retriever: Any = None,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    log_stream: TextIO | None = None,
    configure_logging: bool = True,
) -> FastAPI:
    """Build the app. Keyword arguments inject parts for tests (defaults: from settings).

    `configure_logging` routes the process's stdlib logging (uvicorn, the OTel SDK) through
    this app's JSON log pipeline; in-process tests switch it off to leave pytest's alone.
    """
    settings = settings or Settings.from_env()
    faults = FaultStore(FaultProfile.from_env(settings.environ))
    if provider is None:
        provider = build_provider(
            settings.llm_provider,
            seed=settings.sim_seed,
            latency_scale=settings.sim_latency_scale,
            faults=faults,
            environ=settings.environ,
        )
    catalog = provider.models()
    chat_models = [n for n, m in catalog.items() if m.kind == "chat"]
    if settings.llm_default_model not in chat_models and not settings.environ.get(
        "LLM_DEFAULT_MODEL"
    ):
        # Not chosen explicitly: a real backend's own model (OPENAI_MODEL) is the default.
        settings = settings.replace(llm_default_model=provider.default_chat_model)
    if settings.llm_default_model not in chat_models:
        raise ConfigError(
            f"LLM_DEFAULT_MODEL={settings.llm_default_model!r}: not in the provider's catalog "
            f"({', '.join(sorted(chat_models))})"
        )
    version = PromptVersion.from_env(settings.environ)  # a bad value stops us before export starts
    telemetry = Telemetry.build(
        settings,
        models=catalog.keys(),
        providers={m.provider for m in catalog.values()},
        span_exporter=span_exporter,
        log_exporter=log_exporter,
        log_stream=log_stream,
    )
    telemetry.metrics.set_prompt_version(version.label)
    if configure_logging:
        install_stdlib_bridge(telemetry.log, settings.log_level)
    state = AppState(
        settings=settings,
        telemetry=telemetry,
        provider=provider,
        faults=faults,
        limiter=RateLimiter(settings.rate_limits, max_keys=settings.rate_limit_max_keys),
        alerts=AlertStore(capacity=100),
    )
    prices = PriceTable.load()
    cache: ResponseCache[Any] = ResponseCache(
        ttl_s=settings.cache_ttl_seconds if settings.cache_enabled else 0,
        max_entries=settings.cache_max_entries,
    )

    async def index_corpus() -> None:
        try:
            built = (
                retriever
                if retriever is not None
                else await asyncio.to_thread(_build_retriever, state)
            )
        except Exception as exc:
            state.startup_error = f"corpus indexing failed: {exc}"
            telemetry.log.error("startup_failed", error=state.startup_error)
            return
        state.retriever = built
        state.pipeline = Pipeline(
            provider=provider,
            retriever=built,
            prices=prices,
            cache=cache,
            telemetry=telemetry,
            top_k=settings.retrieval_top_k,
            version=version,
        )
        state.ready = True
        telemetry.log.info(
            "ready",
            documents=len(built),
            llm_provider=settings.llm_provider,
            default_model=settings.llm_default_model,
            prompt_version=version.name,
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        telemetry.log.info(
            "starting",
            service=settings.service_name,
            version=__version__,
            otlp_traces=bool(settings.otlp_traces_endpoint),
            otlp_logs=bool(settings.otlp_logs_endpoint),
            telemetry_enabled=settings.telemetry_enabled,
            capture_message_content=settings.capture_message_content,
            rate_limit_enabled=settings.rate_limit_enabled,
            admin_api=bool(settings.admin_token),
        )
        # Index in the background: /readyz says 503 until done, /healthz is up at once.
        task = asyncio.create_task(index_corpus())
        try:
            yield
        finally:
            task.cancel()
            for pending in list(state.background):
                pending.cancel()
            with contextlib.suppress(Exception):
                await provider.aclose()
            telemetry.log.info("stopping")
            await asyncio.to_thread(telemetry.shutdown)

    app = FastAPI(
        title="rag-api",
        version=__version__,
        description="Demo RAG service instrumented with the OpenTelemetry GenAI conventions.",
        lifespan=lifespan,
    )
    app.state.rag = state
    errors.install(app)
    openapi.install(app, chat_models)
    app.include_router(router)
    if settings.admin_token:
        app.include_router(admin_router)
    if settings.alerts_webhook_token:
        app.include_router(alerts_router)
    app.add_middleware(RequestContextMiddleware, fastapi_app=app)
    if (
        settings.telemetry_enabled
        and settings.fastapi_instrumentation
        and telemetry.tracer_provider is not None
    ):
        # The server span (stable HTTP conventions, http.route from the router's own match);
        # outermost, so the request's log lines, exemplars and GenAI spans sit in its trace.
        app.add_middleware(
            ServerSpanMiddleware, tracer=telemetry.tracer, excluded_paths=QUIET_PATHS
        )
    return app


__all__ = ["create_app", "current_ids"]
