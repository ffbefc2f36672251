"""The rag-api FastAPI application factory: `create_app(settings=None)`.

Middleware order (outermost first): OpenTelemetry server span (`ServerSpanMiddleware`) →
`RequestContextMiddleware` (demo_app/middleware.py: request_id, body-size limit, HTTP metric with
trace_id exemplar, access log) → FastAPI routing and exception handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TextIO

from fastapi import FastAPI
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter

from demo_app import __version__
from demo_app.alerts import AlertStore
from demo_app.api import errors, openapi
from demo_app.api.admin import admin_router, alerts_router
from demo_app.api.routes import router
from demo_app.api.state import AppState
from demo_app.cache import ResponseCache
from demo_app.calculator import CalculatorTool
from demo_app.config import ConfigError, Settings
from demo_app.faults import FaultProfile, FaultStore
from demo_app.middleware import QUIET_PATHS, RequestContextMiddleware
from demo_app.pipeline import Pipeline
from demo_app.providers import build_provider
from demo_app.providers.base import LLMProvider
from demo_app.ratelimit import RateLimiter
from demo_app.versions import PromptVersion
from genai_telemetry.logs import install_stdlib_bridge
from genai_telemetry.pricing import PriceTable
from genai_telemetry.server_span import ServerSpanMiddleware
from genai_telemetry.telemetry import Telemetry
from genai_telemetry.tracing import current_ids

PipelineFor = Callable[..., Pipeline]  # Pipeline(retriever=...) once the retriever is built


def _build_retriever(state: AppState) -> Any:
    from demo_app.retrieval import Retriever

    return Retriever.from_corpus(faults=state.faults, seed=state.settings.sim_seed)


def _choose_model(settings: Settings, provider: LLMProvider) -> tuple[Settings, list[str]]:
    """Settings with the default model the provider serves, and its chat models."""
    chat_models = [n for n, m in provider.models().items() if m.kind == "chat"]
    chosen = settings.environ.get("LLM_DEFAULT_MODEL", "").strip()
    if settings.llm_default_model not in chat_models and not chosen:
        # Not chosen explicitly: a real backend's own model (OPENAI_MODEL) is the default.
        settings = settings.replace(llm_default_model=provider.default_chat_model)
    if settings.llm_default_model not in chat_models:
        raise ConfigError(
            f"LLM_DEFAULT_MODEL={settings.llm_default_model!r}: not in the provider's catalog "
            f"({', '.join(sorted(chat_models))})"
        )
    return settings, chat_models


async def _index_corpus(
    state: AppState, retriever: Any, pipeline_for: PipelineFor, version: PromptVersion
) -> None:
    """Build the retriever (unless given) and the pipeline on it; then /readyz says ready."""
    settings, telemetry = state.settings, state.telemetry
    try:
        built = (
            retriever if retriever is not None else await asyncio.to_thread(_build_retriever, state)
        )
    except Exception as exc:
        state.startup_error = f"corpus indexing failed: {exc}"
        telemetry.log.error("startup_failed", error=state.startup_error)
        return
    state.retriever = built
    state.pipeline = pipeline_for(retriever=built)
    state.ready = True
    telemetry.log.info(
        "ready",
        documents=len(built),
        llm_provider=settings.llm_provider,
        default_model=settings.llm_default_model,
        prompt_version=version.name,
    )


def _lifespan(
    state: AppState, retriever: Any, pipeline_for: PipelineFor, version: PromptVersion
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    settings, telemetry = state.settings, state.telemetry

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
        task = asyncio.create_task(_index_corpus(state, retriever, pipeline_for, version))
        try:
            yield
        finally:
            task.cancel()
            for pending in list(state.background):
                pending.cancel()
            with contextlib.suppress(Exception):
                await state.provider.aclose()
            telemetry.log.info("stopping")
            await asyncio.to_thread(telemetry.shutdown)

    return lifespan


def _mount(app: FastAPI, state: AppState, chat_models: list[str]) -> None:
    """Error handlers, OpenAPI, routers (operator ones only with their token) and middleware."""
    settings, telemetry = state.settings, state.telemetry
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
    settings, chat_models = _choose_model(settings, provider)
    version = PromptVersion.from_env(settings.environ)  # a bad value stops us before export starts
    prices = PriceTable.load()  # likewise a bad price table (`file:line: models.x.y: reason`)
    catalog = provider.models()
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
    pipeline_for = partial(
        Pipeline,
        provider=provider,
        prices=prices,
        cache=ResponseCache(
            ttl_s=settings.cache_ttl_seconds if settings.cache_enabled else 0,
            max_entries=settings.cache_max_entries,
        ),
        telemetry=telemetry,
        top_k=settings.retrieval_top_k,
        version=version,
        tool=CalculatorTool(faults, seed=settings.sim_seed),
    )
    app = FastAPI(
        title="rag-api",
        version=__version__,
        description="Demo RAG service instrumented with the OpenTelemetry GenAI conventions.",
        lifespan=_lifespan(state, retriever, pipeline_for, version),
        # No 307 to the slash-less path: Starlette builds its Location from the Host header,
        # so any caller could make the app redirect to a host of their choosing. 404 instead.
        redirect_slashes=False,
    )
    _mount(app, state, chat_models)
    return app


__all__ = ["QUIET_PATHS", "create_app", "current_ids"]
