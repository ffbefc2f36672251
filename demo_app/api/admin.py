"""Operator routes: the Alertmanager webhook and fault injection, each behind its own bearer
token (ALERTS_WEBHOOK_TOKEN, ADMIN_TOKEN; not mounted without it, see demo_app/app.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from demo_app.alerts import MAX_ALERTS, WebhookPayload, notification_summary
from demo_app.api.deps import AdminState, BearerFirstRoute, WebhookState, errors, state_of
from demo_app.api.errors import field_error
from demo_app.api.schemas import AlertsAccepted, FaultProfileBody
from demo_app.faults import FaultProfile, FaultProfileError

admin_router = APIRouter(prefix="/admin", route_class=BearerFirstRoute)
# mounted only when ALERTS_WEBHOOK_TOKEN is set
alerts_router = APIRouter(route_class=BearerFirstRoute)


# --- Alertmanager webhook ------------------------------------------------------------------------
@alerts_router.post(
    "/v1/alerts",
    response_model=AlertsAccepted,
    responses=errors(401, 403, 413, 422),
    summary=f"Alertmanager webhook (Bearer ALERTS_WEBHOOK_TOKEN; at most {MAX_ALERTS} alerts)",
)
async def receive_alerts(payload: WebhookPayload, state: WebhookState) -> dict[str, int]:
    entries = state.alerts.add(payload)
    write, suppressed = state.alerts_log.take()
    if write:
        fields = notification_summary(payload)
        if suppressed:
            fields["suppressed_since_last"] = suppressed
        state.telemetry.log.info("alerts_received", **fields)
    return {"accepted": len(entries)}


@alerts_router.get("/v1/alerts", responses=errors(422))
async def list_alerts(
    request: Request,
    receiver: str | None = Query(default=None, max_length=256),
    alertname: str | None = Query(default=None, max_length=256),
) -> dict[str, Any]:
    for name in ("receiver", "alertname"):  # the filter a reader meant, not the last one given
        if len(request.query_params.getlist(name)) > 1:
            raise field_error(name, "given more than once: give one value")
    state = state_of(request)
    return {
        "alerts": state.alerts.list(receiver=receiver, alertname=alertname),
        "received_total": state.alerts.received_total,
    }


# --- admin: fault injection ----------------------------------------------------------------------
@admin_router.get("/faults", responses=errors(401, 403))
async def get_faults(state: AdminState) -> dict[str, float]:
    return state.faults.get().to_dict()


@admin_router.put("/faults", responses=errors(401, 403, 413, 422))
async def put_faults(body: FaultProfileBody, state: AdminState) -> dict[str, float]:
    try:
        profile = FaultProfile.from_mapping(body.model_dump())
    except FaultProfileError as exc:
        raise field_error(exc.field, exc.reason) from None
    state.faults.set(profile)
    state.telemetry.log.warning("faults_updated", healthy=profile.is_healthy, **profile.to_dict())
    return profile.to_dict()
