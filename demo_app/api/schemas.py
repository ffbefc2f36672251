"""Request and response bodies of the rag-api (pydantic; unknown request fields are rejected)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from demo_app.api.jsontypes import integral
from demo_app.faults import KNOB_BOUNDS

MAX_QUESTION_CHARS = 4000


class ChatRequestBody(BaseModel):
    """POST /v1/chat and /v1/chat/stream. Strict: the API rejects what its schema rejects
    ("5" is not an integer, false is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # The pattern (some non-whitespace) is what the validator below checks, published.
    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, json_schema_extra={"pattern": r"\S"}
    )
    model: str | None = Field(default=None, min_length=1, max_length=128)
    # Free-form but bounded: metrics map values outside the allow-list to `_OTHER`.
    feature: str | None = Field(default=None, max_length=64)
    # Can only LOWER the tier the API key grants (X-API-Key, API_KEYS); other values are ignored.
    user_tier: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=128)
    # The end user the request is for (like OpenAI's `user`): stored only as a pseudonym, on logs
    # and spans (demo_app/api/identity.py), never on metrics.
    user: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Your end user's id; logged and traced only as a pseudonym (u-…).",
    )
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)

    # JSON Schema's integer includes 256.0 (a validator here keeps the published minimum).
    _max_tokens = field_validator("max_tokens", mode="before")(integral)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must contain non-whitespace characters")
        return value


class Source(BaseModel):
    id: str
    title: str
    score: float


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int


class EvaluationOut(BaseModel):
    faithfulness: float
    answer_relevancy: float
    context_relevancy: float


class CacheOut(BaseModel):
    hit: bool
    saved_usd: float


class ChatResponse(BaseModel):
    answer: str
    route: Literal["retrieval", "tool", "guardrail"]
    sources: list[Source]
    model: str | None = Field(description="model that answered; null on the calculator path")
    provider: str | None
    usage: UsageOut
    cost_usd: float | None = Field(
        description="USD charged for this request; 0 on a cache hit; null when unpriced"
    )
    cache: CacheOut
    evaluation: EvaluationOut | None = Field(description="null on the calculator path")
    finish_reasons: list[str]
    request_id: str
    trace_id: str | None


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorResponse(BaseModel):
    error: str
    detail: list[ErrorDetail] = Field(default_factory=list)
    request_id: str | None = None


class AlertsAccepted(BaseModel):
    accepted: int


def _knob(name: str, default: float) -> Any:
    # Bounds are published in the schema but checked by FaultProfile, whose message names both.
    low, high = KNOB_BOUNDS[name]
    return Field(
        default=default, allow_inf_nan=False, json_schema_extra={"minimum": low, "maximum": high}
    )


class FaultProfileBody(BaseModel):
    """PUT /admin/faults: the FULL profile; omitted knobs reset to their defaults. Bounds:
    demo_app/faults.py KNOB_BOUNDS (out of range → 422 naming the knob and its bounds)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    error_rate: float = _knob("error_rate", 0.0)
    rate_limit_rate: float = _knob("rate_limit_rate", 0.0)
    latency_multiplier: float = _knob("latency_multiplier", 1.0)
    extra_ttft_seconds: float = _knob("extra_ttft_seconds", 0.0)
    output_token_multiplier: float = _knob("output_token_multiplier", 1.0)
    retrieval_degradation: float = _knob("retrieval_degradation", 0.0)
    tool_error_rate: float = _knob("tool_error_rate", 0.0)
