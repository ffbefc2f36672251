"""POST /v1/feedback: an end user's verdict on an earlier answer (thumbs or a 0..1 score).

Recorded three ways (docs/telemetry.md § User feedback): the counter `llm_user_feedback_total`
(with the judged answer's model, route and retrieval quality from the recent-answer index), a
`user_feedback` log line in the judged request's trace context (so its request_id and trace_id
find it in Loki next to the answer), and a `gen_ai.evaluation.result` event named
`user_feedback` parented to the judged request's span; the feedback call's own server span
carries the same evaluation attributes and a link to that span.

Only the tenant that asked (the same API key, or no known key for an anonymous answer) may judge
an answer, once: another tenant's ids are unknown to a caller, exactly like ids never seen (so
nothing tells it they exist), and a second feedback on one answer is a 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from fastapi import APIRouter, Request
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan
from pydantic import BaseModel, ConfigDict, Field

from demo_app.api.deps import ApiKey, check_rate, errors, state_of
from demo_app.api.errors import APIError, field_error, request_id_of
from demo_app.api.identity import tenant_of
from demo_app.api.jsonbody import StrictJsonRoute
from demo_app.api.state import AppState
from demo_app.feedback import AlreadyJudged, AnsweredRequest, sentiment
from demo_app.middleware import REQUEST_ID_PATTERN
from demo_app.ratelimit import effective_tier
from genai_telemetry import semconv as sc
from genai_telemetry.redaction import redact

MAX_COMMENT_CHARS = 1000
# W3C trace ids (request ids: the X-Request-ID values rag-api keeps, demo_app/middleware.py).
TRACE_ID_PATTERN = r"^[0-9a-f]{32}$"
# Exactly one of each pair, published in the schema; the route names the field when it is not.
_EXACTLY_ONE = {
    "allOf": [
        {"oneOf": [{"required": ["request_id"]}, {"required": ["trace_id"]}]},
        {"oneOf": [{"required": ["score"]}, {"required": ["thumbs"]}]},
    ]
}

router = APIRouter(route_class=StrictJsonRoute)


class FeedbackBody(BaseModel):
    """Strict, like the chat body. Fields are optional but never null: give exactly one of
    request_id / trace_id (from the chat response) and exactly one of score / thumbs."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_EXACTLY_ONE)

    request_id: str = Field(default=None, pattern=REQUEST_ID_PATTERN)  # type: ignore[assignment]
    trace_id: str = Field(default=None, pattern=TRACE_ID_PATTERN)  # type: ignore[assignment]
    score: float = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)  # type: ignore[assignment]
    thumbs: Literal["up", "down"] = Field(default=None)  # type: ignore[assignment]
    comment: str = Field(default=None, max_length=MAX_COMMENT_CHARS)  # type: ignore[assignment]


class FeedbackAccepted(BaseModel):
    feedback_id: str = Field(description="this call's request id (X-Request-ID)")
    request_known: bool = Field(
        description="the judged request is among the caller's recent answers (same API key; "
        "else counted as unknown)"
    )
    sentiment: Literal["positive", "neutral", "negative"]


def _exactly_one(body: FeedbackBody) -> None:
    if (body.request_id is None) == (body.trace_id is None):
        raise field_error("request_id", "give exactly one of request_id and trace_id")
    if (body.score is None) == (body.thumbs is None):
        raise field_error("score", "give exactly one of score and thumbs")


def _claim(state: AppState, body: FeedbackBody, api_key: str | None) -> AnsweredRequest | None:
    """The caller's own answer the body names, now judged (None: unknown to this caller); 409
    naming the id's field when this caller already judged it."""
    known_key = bool(api_key) and api_key in state.settings.api_keys
    try:
        return state.answered.claim(tenant_of(api_key, known_key), body.request_id, body.trace_id)
    except AlreadyJudged:
        field = "request_id" if body.request_id is not None else "trace_id"
        reason = "feedback on this request is already recorded (one per answer)"
        raise APIError(409, "feedback_exists", [{"field": field, "reason": reason}]) from None


def _judged_context(judged: AnsweredRequest | None) -> Any:
    """The OTel context a feedback's log line is written in: the judged request's span when
    known, else none. Never a trace the caller merely named: it may be another tenant's."""
    if judged is not None and judged.span is not None:
        return trace.set_span_in_context(NonRecordingSpan(judged.span))
    return otel_context.Context()


@contextmanager
def _attached(ctx: Any) -> Iterator[None]:
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def _evaluation(body: FeedbackBody, mood: str, known: bool) -> dict[str, Any]:
    value = body.score if body.score is not None else (1.0 if body.thumbs == "up" else 0.0)
    return {
        sc.A_EVALUATION_NAME: sc.EVALUATION_USER_FEEDBACK,
        sc.A_EVALUATION_SCORE_VALUE: value,
        sc.A_EVALUATION_SCORE_LABEL: mood,
        sc.A_LLM_FEEDBACK_KIND: sc.FEEDBACK_THUMBS if body.thumbs else sc.FEEDBACK_SCORE,
        sc.A_LLM_FEEDBACK_REQUEST_KNOWN: known,
    }


def _on_own_span(evaluation: dict[str, Any], judged: AnsweredRequest | None) -> None:
    """The feedback call's server span: the evaluation attributes, linked to the judged span."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes(evaluation)
    if judged is not None and judged.span is not None and judged.span.is_valid:
        span.add_link(judged.span, {sc.A_EVALUATION_NAME: sc.EVALUATION_USER_FEEDBACK})


def _log(
    state: AppState,
    request: Request,
    body: FeedbackBody,
    judged: AnsweredRequest | None,
    fields: dict[str, Any],
) -> None:
    ids: dict[str, Any] = {"feedback_id": request_id_of(request)}
    if judged is not None:
        ids["request_id"] = judged.request_id
    else:
        # The caller's ids, redacted like any text (a known request's ids are the app's own).
        ids["request_id"] = redact(body.request_id) if body.request_id else None
        if body.trace_id is not None:
            ids["named_trace_id"] = redact(body.trace_id)
    with _attached(_judged_context(judged)):
        kept = {k: v for k, v in fields.items() if v is not None}
        state.telemetry.log.info("user_feedback", **ids, **kept)


@router.post(
    "/v1/feedback",
    response_model=FeedbackAccepted,
    responses=errors(409, 413, 422, 429),
    summary="Record an end user's feedback on an earlier answer (thumbs or a 0..1 score)",
)
async def post_feedback(request: Request, body: FeedbackBody, api_key: ApiKey) -> Any:
    state = state_of(request)
    _exactly_one(body)
    # The caller's tier, rate-limited like a chat request (one token per feedback).
    tier = effective_tier(state.settings.api_keys.get(api_key or ""), None)
    check_rate(state, request, tier)
    judged = _claim(state, body, api_key)
    known = judged is not None
    mood = sentiment(body.score, body.thumbs)
    kind = sc.FEEDBACK_THUMBS if body.thumbs else sc.FEEDBACK_SCORE
    model, route, quality = (judged.model, judged.route, judged.quality) if judged else ("", "", "")
    state.telemetry.metrics.add_feedback(kind, mood, model, route, quality, known)
    evaluation = _evaluation(body, mood, known)
    _on_own_span(evaluation, judged)
    comment = redact(body.comment) if body.comment else None  # the one redaction path
    if judged is not None and judged.span is not None:
        state.telemetry.event(
            sc.EVENT_EVALUATION_RESULT,
            {**evaluation, sc.A_EVALUATION_EXPLANATION: comment},
            judged.span,
        )
    fields = {
        "request_known": known,
        "feedback_kind": kind,
        "sentiment": mood,
        "score": evaluation[sc.A_EVALUATION_SCORE_VALUE],
        "model": model or None,
        "route": route or None,
        "retrieval_quality": quality or None,
        "user_tier": tier,
        "comment": comment,
    }
    _log(state, request, body, judged, fields)
    return {"feedback_id": request_id_of(request) or "", "request_known": known, "sentiment": mood}
