"""What the routes share: the app state, OpenAPI error responses, the API key and its rate
limit, and bearer-token checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response, Security
from fastapi.security import HTTPBearer

from demo_app.api.errors import APIError
from demo_app.api.jsonbody import StrictJsonRoute
from demo_app.api.schemas import ErrorResponse
from demo_app.api.state import AppState


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation can answer (all ErrorResponse)."""
    return {code: {"model": ErrorResponse} for code in codes}


def state_of(request: Request) -> AppState:
    return request.app.state.rag


def _one_api_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="X-API-Key",
            max_length=256,
            description="API key; its tier (API_KEYS) sets the rate limit. Unknown/none: free.",
        ),
    ] = None,
) -> str | None:
    """The key, refused when sent twice: a proxy that counts or authenticates the last one and
    an app that reads the first would not agree on who is calling."""
    if len(request.headers.getlist("x-api-key")) > 1:
        reason = "sent more than once: send one key"
        raise APIError(422, "validation_error", [{"field": "X-API-Key", "reason": reason}])
    return key


# The caller's API key: its tier (API_KEYS) sets the rate limit and the cost label. Optional:
# without one (or with an unknown one) the request is served at the lowest tier.
ApiKey = Annotated[str | None, Depends(_one_api_key)]


def check_rate(state: AppState, request: Request, tier: str) -> None:
    """One token of `tier`'s rate limit per request and client host; 429 (and a log line) when
    the bucket is empty."""
    if not state.settings.rate_limit_enabled:
        return
    host = request.client.host if request.client else "unknown"
    decision = state.limiter.check(tier, host)
    if not decision.allowed:
        state.telemetry.log.info(
            "rate_limited", user_tier=decision.tier, retry_after_s=decision.retry_after_s
        )
        raise APIError(
            429,
            "rate_limited",
            [{"field": "X-API-Key", "reason": f"rate limit of tier {decision.tier} exceeded"}],
            {"Retry-After": str(decision.retry_after_s)},
        )


# --- bearer credentials --------------------------------------------------------------------------
def _require_bearer(request: Request, token: str | None) -> None:
    """401 without a bearer credential or with two (a proxy in front may check or log the other
    one), 403 with a wrong one (constant-time comparison)."""
    if not token:  # routes are not even mounted then; defence in depth
        raise APIError(404, "not_found", [{"field": "path", "reason": "Not Found"}])
    headers = request.headers.getlist("authorization")
    scheme, _, presented = (headers[0] if headers else "").partition(" ")
    reason = "missing bearer token"
    if len(headers) > 1:
        scheme, reason = "", "sent more than once: send one credential"
    if scheme.lower() != "bearer" or not presented.strip():
        raise APIError(
            401,
            "unauthorized",
            [{"field": "Authorization", "reason": reason}],
            {"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise APIError(403, "forbidden", [{"field": "Authorization", "reason": "invalid token"}])


# Declared for OpenAPI (security schemes); the checks above do the work, with our error shape.
_ADMIN_SCHEME = HTTPBearer(auto_error=False, scheme_name="adminToken", description="ADMIN_TOKEN")
_WEBHOOK_SCHEME = HTTPBearer(
    auto_error=False, scheme_name="alertsWebhookToken", description="ALERTS_WEBHOOK_TOKEN"
)


def require_admin(request: Request, _: Annotated[Any, Security(_ADMIN_SCHEME)] = None) -> AppState:
    state = state_of(request)
    _require_bearer(request, state.settings.admin_token)
    return state


def require_webhook(
    request: Request, _: Annotated[Any, Security(_WEBHOOK_SCHEME)] = None
) -> AppState:
    state = state_of(request)
    _require_bearer(request, state.settings.alerts_webhook_token)
    return state


AdminState = Annotated[AppState, Depends(require_admin)]
WebhookState = Annotated[AppState, Depends(require_webhook)]


_BEARER_CHECKS = (require_admin, require_webhook)


class BearerFirstRoute(StrictJsonRoute):
    """Runs a route's bearer check before FastAPI reads the body, which it decodes before any
    dependency: without this, a caller with no token got 422 for malformed JSON, learning
    about the body before being asked who it is. The dependency still runs (and gives the
    route its state); the check is a constant-time compare, cheap to do twice. The body is then
    parsed strictly, as every route's (StrictJsonRoute)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        checks = [d.call for d in self.dependant.dependencies if d.call in _BEARER_CHECKS]
        if not checks:
            return handler

        async def checked(request: Request) -> Response:
            for check in checks:
                check(request)
            return await handler(request)

        return checked
