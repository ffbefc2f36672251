"""HTTP routes: chat (JSON and SSE), health and metrics. Operator routes (Alertmanager webhook,
fault injection) are in demo_app/api/admin.py."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from demo_app.api import feedback
from demo_app.api.deps import ApiKey, check_rate, errors, state_of
from demo_app.api.errors import (
    CLIENT_CLOSED_REQUEST,
    APIError,
    field_error,
    provider_error,
    request_id_of,
)
from demo_app.api.identity import bind_identity
from demo_app.api.jsonbody import StrictJsonRoute
from demo_app.api.schemas import ChatRequestBody, ChatResponse
from demo_app.api.state import AppState
from demo_app.pipeline import Answer, ChatInput
from demo_app.providers.base import ProviderError
from demo_app.ratelimit import effective_tier
from genai_telemetry import semconv as sc
from genai_telemetry.telemetry import REQUEST_DEADLINE
from genai_telemetry.tracing import current_ids

ERRORS = errors(413, 422, 429, 502, 503, 504)  # the chat routes

router = APIRouter(route_class=StrictJsonRoute)  # request bodies: demo_app/api/jsonbody.py
router.include_router(feedback.router)  # POST /v1/feedback (demo_app/api/feedback.py)


# --- chat ----------------------------------------------------------------------------------------


def _prepare(
    request: Request, body: ChatRequestBody, api_key: str | None, *, stream: bool
) -> tuple[AppState, ChatInput]:
    state = state_of(request)
    if not state.ready or state.pipeline is None:
        raise APIError(503, "not_ready", [{"field": "service", "reason": "corpus not indexed yet"}])
    pipeline = state.pipeline
    model = body.model or state.settings.llm_default_model
    allowed = pipeline.chat_models()
    if model not in allowed:
        raise field_error("model", f"unknown model {model[:64]!r}; allowed: {', '.join(allowed)}")
    granted = state.settings.api_keys.get(api_key) if api_key else None
    tier = effective_tier(granted, body.user_tier)
    bind_identity(body.user, body.conversation_id, api_key, known_key=granted is not None)
    check_rate(state, request, tier)
    return state, ChatInput(
        question=body.question,
        model=model,
        feature=body.feature,
        user_tier=tier,
        conversation_id=body.conversation_id,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        stream=stream,
    )


def _timed_out(state: AppState) -> ProviderError:
    """What a request that outlived REQUEST_TIMEOUT_SECONDS fails with (→ 504, like a provider
    that is too slow: the fault `latency_multiplier`/`extra_ttft_seconds` simulate)."""
    limit = state.settings.request_timeout_s
    return ProviderError(
        f"no answer within REQUEST_TIMEOUT_SECONDS={limit:g}", error_type=sc.ERROR_TIMEOUT
    )


def _response_payload(request: Request, answer: Answer) -> dict[str, Any]:
    payload = answer.payload()
    payload["request_id"] = request_id_of(request) or ""
    payload["trace_id"] = current_ids()[0]
    return payload


def _log_answer(state: AppState, inp: ChatInput, answer: Answer, started: float) -> None:
    fields: dict[str, Any] = {
        "route": answer.route,
        "model": answer.model,
        "provider": answer.provider,
        "feature": sc.bounded(inp.feature, sc.FEATURES),
        "user_tier": sc.bounded(inp.user_tier, sc.USER_TIERS),
        "stream": inp.stream,
        "input_tokens": answer.usage.input_tokens,
        "output_tokens": answer.usage.output_tokens,
        "cost_usd": answer.cost_usd,
        "cache_hit": answer.cache_hit,
        "documents": len(answer.sources),
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if answer.evaluation:
        fields["faithfulness"] = answer.evaluation.get("faithfulness")
    if state.telemetry.capture_content:  # redacted by the log pipeline
        fields["question"] = inp.question
        fields["answer"] = answer.text
    state.telemetry.log.info("chat_answered", **fields)
    state.answered.remember_current(answer.route, answer.model, answer.sources)  # for feedback


def _log_failure(state: AppState, inp: ChatInput, exc: BaseException) -> None:
    if isinstance(exc, ProviderError):
        state.telemetry.log.warning(
            "chat_failed",
            model=inp.model,
            error_type=exc.error_type,
            status_code=exc.status_code,
            error=exc.message,
        )
    else:
        state.telemetry.log.error(
            "chat_failed",
            model=inp.model,
            error_type=sc.OTHER,
            error_class=type(exc).__qualname__,
            error=str(exc)[:500],
        )


@router.post(
    "/v1/chat",
    response_model=ChatResponse,
    responses=ERRORS,
    summary="Answer a question (JSON)",
)
async def chat(request: Request, body: ChatRequestBody, api_key: ApiKey) -> JSONResponse:
    started = time.perf_counter()
    state, inp = _prepare(request, body, api_key, stream=False)
    assert state.pipeline is not None
    deadline = asyncio.get_running_loop().time() + state.settings.request_timeout_s
    REQUEST_DEADLINE.set(deadline)  # this request's task and context only
    try:
        async with asyncio.timeout_at(deadline):
            answer = await state.pipeline.run(inp)
    except TimeoutError:
        exc = _timed_out(state)
        _log_failure(state, inp, exc)
        raise provider_error(exc) from None
    except ProviderError as exc:
        _log_failure(state, inp, exc)
        raise provider_error(exc) from None
    except Exception as exc:
        _log_failure(state, inp, exc)
        raise
    _log_answer(state, inp, answer, started)
    return JSONResponse(_response_payload(request, answer))


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _sse_error(exc: BaseException, request_id: str) -> bytes:
    """The stream's last event when it fails after its first chunk."""
    error_type = getattr(exc, "error_type", sc.OTHER)
    message = getattr(exc, "message", "internal error")
    return _sse("error", {"error_type": error_type, "message": message, "request_id": request_id})


async def _put_chunk(queue: asyncio.Queue[tuple[str, Any]], text: str) -> None:
    await queue.put(("chunk", text))


async def _until_disconnect(request: Request) -> None:
    """Returns once the client has gone (its body is read: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _first_unless_gone(
    request: Request, first: Awaitable[tuple[str, Any]], producer: asyncio.Task[None]
) -> tuple[str, Any] | None:
    """The stream's first item, or None when the caller leaves before it: nothing was sent, so
    the 200 a later send would record is not what happened (and the model call is released)."""
    waiter = asyncio.ensure_future(first)
    gone = asyncio.ensure_future(_until_disconnect(request))
    try:
        await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if waiter.done():
        return waiter.result()
    waiter.cancel()
    producer.cancel()
    return None


@router.post(
    "/v1/chat/stream",
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
    summary="Answer a question as Server-Sent Events (chunk…, then done or error)",
)
async def chat_stream(request: Request, body: ChatRequestBody, api_key: ApiKey) -> Response:
    started = time.perf_counter()
    state, inp = _prepare(request, body, api_key, stream=True)
    pipeline = state.pipeline
    assert pipeline is not None
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=256)
    request_id = request_id_of(request) or ""
    on_chunk = functools.partial(_put_chunk, queue)

    async def produce() -> None:
        # Runs as its own task in the request's context (server span, request_id), so every
        # span and log line of the pipeline stays in one task and one trace.
        try:
            answer = await pipeline.run(inp, on_chunk)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            _log_failure(state, inp, exc)
            await queue.put(("error", exc))
            return
        _log_answer(state, inp, answer, started)
        payload = answer.payload()
        payload["request_id"] = request_id
        payload["trace_id"] = current_ids()[0]
        await queue.put(("done", payload))

    deadline = asyncio.get_running_loop().time() + state.settings.request_timeout_s
    REQUEST_DEADLINE.set(deadline)  # copied into the producer task's context below
    task = asyncio.create_task(produce())
    state.background.add(task)
    task.add_done_callback(state.background.discard)

    async def next_item() -> tuple[str, Any]:
        try:
            async with asyncio.timeout_at(deadline):
                return await queue.get()
        except TimeoutError:
            task.cancel()
            exc = _timed_out(state)
            _log_failure(state, inp, exc)
            return ("error", exc)

    first = await _first_unless_gone(request, next_item(), task)
    if first is None:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    if first[0] == "error":
        # Nothing was sent yet: answer with a proper HTTP status (the availability SLO counts it).
        exc = first[1]
        if isinstance(exc, ProviderError):
            raise provider_error(exc)
        raise APIError(500, "internal_error")

    async def events() -> AsyncIterator[bytes]:
        item = first
        try:
            while True:
                kind, value = item
                if kind == "chunk":
                    yield _sse("chunk", {"text": value})
                    # Let the loop see a client that hung up: chunks already queued (a cached
                    # answer, a provider's burst) were otherwise all written in one step to a
                    # closed socket, asyncio logging a warning for each (200 from one request).
                    await asyncio.sleep(0)
                elif kind == "done":
                    yield _sse("done", value)
                    return
                else:
                    yield _sse_error(value, request_id)
                    return
                item = await next_item()
        finally:
            if not task.done():
                task.cancel()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --- health and metrics --------------------------------------------------------------------------
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "corpus not indexed yet (or indexing failed)"}},
)
async def readyz(request: Request) -> JSONResponse:
    state = state_of(request)
    if state.ready:
        return JSONResponse({"status": "ready", "documents": len(state.retriever)})
    body = {"status": "starting"}
    if state.startup_error:
        body = {"status": "failed", "error": state.startup_error}
    return JSONResponse(body, status_code=503)


# HEAD as GET for load balancers and probes that check with it (RFC 9110: a GET resource should
# answer HEAD); out of the OpenAPI schema, where it would repeat GET's operation id.
for _path, _probe in (("/healthz", healthz), ("/readyz", readyz)):
    router.add_api_route(_path, _probe, methods=["HEAD"], include_in_schema=False)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text; OpenMetrics with exemplars when Accept asks for it",
            "content": {"text/plain": {}, "application/openmetrics-text": {}},
        }
    },
)
async def metrics(request: Request) -> Response:
    body, content_type = state_of(request).telemetry.metrics.render(request.headers.get("accept"))
    return Response(body, media_type=content_type)
