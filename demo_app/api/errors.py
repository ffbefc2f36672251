"""Uniform JSON errors: {"error", "detail": [{"field", "reason"}], "request_id"}.

Bad input is always 4xx naming the field and the reason; only our own bugs are 500.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from demo_app.api.jsonbody import BodyError
from demo_app.providers.base import ProviderError
from genai_telemetry import semconv as sc
from genai_telemetry.redaction import redact

# Provider failures → our status (the availability SLO burns on these, not on our own 429).
PROVIDER_STATUS = {
    sc.ERROR_SERVER: 502,
    sc.ERROR_TIMEOUT: 504,
    sc.ERROR_RATE_LIMITED: 503,
    sc.ERROR_CLIENT: 502,
    sc.OTHER: 502,
}


class APIError(Exception):
    """An error answered as JSON with a status, an error code and field details."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail or []
        self.headers = headers or {}


def field_error(field: str, reason: str, status: int = 422) -> APIError:
    return APIError(status, "validation_error", [{"field": field, "reason": reason}])


# Upstream statuses that mean "this request cannot be served as asked" (too many tokens, prompt
# beyond the context window, unknown model): the caller's problem → 422, not an outage.
CLIENT_FAULT_STATUSES = frozenset({400, 404, 413, 422})
# The caller hung up before its body arrived: nginx's and Prometheus' "client closed request".
# Nothing reaches the caller; the status keeps it apart from bad input in the access log and the
# HTTP metric (a 4xx: not the server's error).
CLIENT_CLOSED_REQUEST = 499


def provider_error(exc: ProviderError) -> APIError:
    if exc.error_type == sc.ERROR_CLIENT and exc.status_code in CLIENT_FAULT_STATUSES:
        return APIError(
            422, "provider_rejected_request", [{"field": "model", "reason": exc.message}]
        )
    headers = {}
    if exc.error_type == sc.ERROR_RATE_LIMITED:
        retry = exc.retry_after_s
        if retry is None or not math.isfinite(retry):  # any provider's hint: inf has no ceil
            retry = 1.0
        headers["Retry-After"] = str(max(1, math.ceil(retry)))
    return APIError(
        PROVIDER_STATUS.get(exc.error_type, 502),
        f"provider_{exc.error_type.strip('_').lower()}",
        [{"field": "model", "reason": exc.message}],
        headers,
    )


def request_id_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def _body(request: Request, error: str, detail: list[dict[str, str]]) -> dict[str, Any]:
    # A reason may quote the caller's value (an unknown model) and a field its key (an unknown
    # field): the error body is a sink like the logs, through the same redaction.
    clean = [{k: redact(v) for k, v in d.items()} for d in detail]
    return {"error": error, "detail": clean, "request_id": request_id_of(request)}


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    # An empty key ({"": 1}) must still be named: render it as "".
    return ".".join(p if p != "" else '""' for p in parts) if parts else "body"


def _reason(err: dict[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        # json's message without its position ("Invalid control character at"); FastAPI puts
        # the position in the location instead: ("body", 15).
        ctx, loc = err.get("ctx") or {}, err.get("loc") or ()
        what = str(ctx.get("error", "cannot parse the body")).removesuffix(" at")
        where = f" after {loc[1]} characters" if len(loc) > 1 and isinstance(loc[1], int) else ""
        return f"malformed JSON: {what}{where}"
    if err.get("type") == "extra_forbidden":
        return "unknown field"
    msg = str(err.get("msg", "invalid value"))
    return msg[:300]


def _unparseable(cause: BaseException | None) -> list[dict[str, str]]:
    """The 422 detail of a body FastAPI could not parse (its 400 with the parser's error)."""
    if isinstance(cause, BodyError) and cause.paths:  # duplicate keys, each named
        return [{"field": _loc_to_field(("body", *p)), "reason": cause.reason} for p in cause.paths]
    if isinstance(cause, BodyError):
        return [{"field": "body", "reason": f"malformed JSON: {cause.reason}"}]
    return [{"field": "body", "reason": _unparseable_reason(cause)}]


def _unparseable_reason(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "malformed JSON: the body is not valid UTF-8"
    if isinstance(cause, RecursionError):
        return "malformed JSON: nested too deeply"
    if isinstance(cause, ValueError):
        if "integer string conversion" in str(cause):  # not Python's advice to raise its limit
            return f"malformed JSON: a number has more than {sys.get_int_max_str_digits()} digits"
        return f"malformed JSON: {str(cause)[:200]}"
    return "malformed JSON: cannot parse the body"


def _not_json(request: Request) -> dict[str, str]:
    """A body sent without a JSON Content-Type: FastAPI leaves it unread, and pydantic's own
    complaint ("a valid dictionary") would not say why."""
    given = request.headers.get("content-type")
    got = f"got {given[:64]!r}" if given else "none given"
    return {"field": "Content-Type", "reason": f"must be application/json ({got})"}


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (asked of the router itself)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in sc.HTTP_METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(
            _body(request, exc.error, exc.detail), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        for err in exc.errors():
            loc = err.get("loc", ())
            if len(loc) == 1 and loc[0] == "body" and isinstance(exc.body, bytes):
                detail.append(_not_json(request))  # bytes: FastAPI did not read them as JSON
            elif err.get("type") == "json_invalid" or (len(loc) == 1 and loc[0] == "body"):
                detail.append({"field": "body", "reason": _reason(err)})
            else:
                detail.append({"field": _loc_to_field(loc), "reason": _reason(err)})
        return JSONResponse(_body(request, "validation_error", detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (not UTF-8, nested too deep, a number too
            # long to convert): the same 422 as any other malformed body.
            detail = _unparseable(exc.__cause__)
            return JSONResponse(_body(request, "validation_error", detail), status_code=422)
        names = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        error = names.get(exc.status_code, "http_error")
        reason = str(exc.detail) if exc.detail else error
        field = {413: "body", 405: "method"}.get(exc.status_code, "path")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods; a path may have several routes.
            headers["Allow"] = _allowed_methods(request)
        return JSONResponse(
            _body(request, error, [{"field": field, "reason": reason}]),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        state = getattr(request.app.state, "rag", None)
        if state is not None:
            # Starlette runs this handler outside the request's log context: name the request.
            state.telemetry.log.error(
                "unhandled_exception",
                request_id=request_id_of(request),
                error_class=type(exc).__qualname__,
                error=str(exc)[:500],
            )
        return JSONResponse(_body(request, "internal_error", []), status_code=500)
