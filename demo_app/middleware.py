"""RequestContextMiddleware: request_id + log context, body-size limit, the HTTP duration metric
(trace_id exemplar), the access log, and the uniform 500 for our own bugs."""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo_app.api.state import AppState
from genai_telemetry import semconv as sc
from genai_telemetry.redaction import redact
from genai_telemetry.server_span import matched_route
from genai_telemetry.tracing import sampled_trace_id

# The X-Request-ID values kept from the caller (POST /v1/feedback accepts the same shape).
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
# Health and scrape endpoints: no server span, no access log line (they would drown the rest).
QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
ALERTS_ROUTE = "/v1/alerts"


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


def request_id_from(raw_headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID if it is safe to echo into every log line and span, else new.
    Sent twice, neither is kept: a proxy in front logs one, the app would log another."""
    given = [value for name, value in raw_headers if name == b"x-request-id"]
    incoming = given[0].decode("latin-1") if len(given) == 1 else ""
    valid = _REQUEST_ID.match(incoming) and redact(incoming) == incoming
    return incoming if valid else uuid.uuid4().hex


@dataclass
class _Exchange:
    """One request as the middleware sees it: its id, body limit and the response status."""

    request_id: str
    limit: int
    send: Send
    status: int = 500
    started: bool = False
    received: int = 0

    async def send_wrapper(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            message["headers"] = [
                *message.get("headers", []),
                (b"x-request-id", self.request_id.encode()),
            ]
        await self.send(message)

    def receiving(self, receive: Receive) -> Receive:
        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        return receive_wrapper

    async def error(self, status: int, error: str, detail: list[dict[str, str]]) -> None:
        body = {"error": error, "detail": detail, "request_id": self.request_id}
        await send_json(self.send_wrapper, status, body)


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
        raw_headers = scope.get("headers") or []
        headers = dict(raw_headers)
        alerts = scope.get("path") == ALERTS_ROUTE
        limit = state.settings.alerts_max_body_bytes if alerts else state.settings.max_body_bytes
        ex = _Exchange(request_id_from(raw_headers), limit, send)
        scope.setdefault("state", {})["request_id"] = ex.request_id
        tokens = structlog.contextvars.bind_contextvars(request_id=ex.request_id)
        started = time.perf_counter()
        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                reason = f"request body exceeds {limit} bytes"
                await ex.error(413, "body_too_large", [{"field": "body", "reason": reason}])
            else:
                await self.app(scope, ex.receiving(receive), ex.send_wrapper)
        except Exception as exc:
            # Our own bug: answered here, inside the request's log context (request_id), with
            # the uniform error body; Starlette's outer handler would have neither.
            state.telemetry.log.error(
                "unhandled_exception", error_class=type(exc).__qualname__, error=str(exc)[:500]
            )
            if ex.started:
                raise
            await ex.error(500, "internal_error", [])
        finally:
            # what the request ends with (None when handled here)
            error = sys.exc_info()[1]
            _record(state, scope, ex.status, time.perf_counter() - started, alerts, error)
            structlog.contextvars.reset_contextvars(**tokens)


def _record(
    state: AppState,
    scope: Scope,
    status: int,
    elapsed: float,
    alerts: bool,
    error: BaseException | None,
) -> None:
    """The HTTP duration metric and the access log line of one request."""
    route = matched_route(scope) or sc.OTHER
    metrics = state.telemetry.metrics
    metrics.observe_http(
        scope.get("method", "GET"),
        route,
        status,
        elapsed,
        sampled_trace_id(),
        scheme=scope.get("scheme", "http"),
        error=error,
    )
    write, suppressed = True, 0
    if alerts:  # a webhook flood must not crowd out other log records
        write, suppressed = state.alerts_log.take()
    if not write or route in QUIET_PATHS:
        return
    extra: dict[str, Any] = {"suppressed_since_last": suppressed} if suppressed else {}
    state.telemetry.log.info(
        "http_request",
        method=metrics.method(scope.get("method", "")),
        route=route,
        status=status,
        duration_ms=round(elapsed * 1000, 1),
        **extra,
    )


async def send_json(send: Send, status: int, body: Mapping[str, Any]) -> None:
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
