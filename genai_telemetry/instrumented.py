"""An instrumented LLM client: wraps any `client.LLMProvider`, records every call it makes.

Modelled on opentelemetry-python-contrib's GenAI instrumentations (openai-v2, util-genai; openai-v2
is deprecated there, succeeded by opentelemetry-instrumentation-genai-openai in
opentelemetry-python-genai, which tests/ownapp uses): the instrumentation wraps the *client*,
never the business logic, so the app calls `InstrumentedClient.chat()` / `.stream()` /
`.embed()` where it would call its provider and writes no telemetry code around them. Per call:

- the CLIENT span `chat {model}` / `embeddings {model}`: `gen_ai.operation.name`,
  `gen_ai.provider.name`, `gen_ai.request.model`, request parameters (`max_tokens`,
  `temperature`, `seed`, `stream` — set only on streamed calls), `server.address`/`server.port`
  from the model catalog, `gen_ai.response.model`/`id`, finish reasons, token usage including
  cache-read and reasoning tokens, `gen_ai.embeddings.dimension.count`, `llm.cost_usd`, and with
  content capture on the input/output messages — every text redacted where it is set (the span
  policy does not scan `gen_ai.response.id` again, tracing.REDACTED_AT_SOURCE);
- `gen_ai.client.operation.duration` (error type on failure), the in-flight gauge,
  `gen_ai.client.token.usage`, the cost counter (genai_telemetry.pricing) or, for a model missing
  from the price table, unpriced tokens plus one `model_unpriced` warning per model;
- for streamed calls the time to first chunk and time per output chunk (`streaming`).

Why not opentelemetry-util-genai's TelemetryHandler itself: it records metrics through the OTel
metrics SDK, while this contract's metrics are Prometheus series with bounded labels, exemplars
and the cost/unpriced counters (docs/telemetry.md § Metrics); the span shape is the same.

Request-scoped labels. What the app knows and the client does not — the product feature, the
user tier, the conversation id — is set once per request with `request_scope()` (a
`contextvars.ContextVar`, the mechanism OTel context and baggage use): every instrumented call in
that scope, however deep, reads it, so the app never threads these values through its calls.
The values reach the cost counter (`feature`, `user_tier`, bounded to their allow-lists) and the
chat span (`gen_ai.conversation.id`). asyncio tasks started inside the scope inherit it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanContext, SpanKind

from genai_telemetry import semconv as sc
from genai_telemetry.client import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    LLMProvider,
    ModelInfo,
    Usage,
)
from genai_telemetry.pricing import PriceTable
from genai_telemetry.redaction import redact
from genai_telemetry.streaming import OnChunk, consume_stream
from genai_telemetry.telemetry import OperationState, Telemetry

__all__ = [
    "ChatCall",
    "EmbedCall",
    "InstrumentedClient",
    "RequestLabels",
    "current_labels",
    "request_scope",
]


# --- request scope -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestLabels:
    """What the app knows about the current request and the LLM client does not."""

    feature: str | None = None  # llm_cost_usd_total{feature}; bounded to semconv.FEATURES
    user_tier: str | None = None  # llm_cost_usd_total{user_tier}; bounded to USER_TIERS
    conversation_id: str | None = None  # gen_ai.conversation.id on chat spans


_NO_LABELS = RequestLabels()
_LABELS: ContextVar[RequestLabels | None] = ContextVar("genai_request_labels", default=None)


@contextmanager
def request_scope(
    *,
    feature: str | None = None,
    user_tier: str | None = None,
    conversation_id: str | None = None,
) -> Iterator[RequestLabels]:
    """Labels for every instrumented call made inside the `with` block (restored after it)."""
    labels = RequestLabels(feature, user_tier, conversation_id)
    token = _LABELS.set(labels)
    try:
        yield labels
    finally:
        _LABELS.reset(token)


def current_labels() -> RequestLabels:
    """The labels of the innermost `request_scope()` (all None outside any scope)."""
    return _LABELS.get() or _NO_LABELS


# --- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChatCall:
    """A finished chat call: the provider's result plus what the instrumentation derived."""

    result: ChatResult
    response_id: str | None  # redacted, as on the span ("" from the provider → None)
    cost_usd: float | None  # None when the model is unpriced
    span_context: SpanContext  # of the chat span: parent of events about the answer


@dataclass(frozen=True)
class EmbedCall:
    result: EmbeddingResult
    cost_usd: float | None  # None when the model is unpriced


# --- the client ---------------------------------------------------------------------------------
class InstrumentedClient:
    """`provider` with telemetry: same catalog, and chat/stream/embed calls that record."""

    def __init__(self, provider: LLMProvider, telemetry: Telemetry, prices: PriceTable) -> None:
        self.provider = provider
        self.tel = telemetry
        self.prices = prices
        self._models: Mapping[str, ModelInfo] = provider.models()
        self._warned_unpriced: set[str] = set()

    # catalog ------------------------------------------------------------------------------------
    @property
    def default_chat_model(self) -> str:
        return self.provider.default_chat_model

    @property
    def default_embedding_model(self) -> str:
        return self.provider.default_embedding_model

    def models(self) -> Mapping[str, ModelInfo]:
        return self._models

    def chat_models(self) -> list[str]:
        return sorted(n for n, m in self._models.items() if m.kind == "chat")

    def provider_of(self, model: str) -> str:
        """`gen_ai.provider.name` of `model` (`_OTHER` for a model outside the catalog)."""
        info = self._models.get(model)
        return info.provider if info is not None else sc.OTHER

    def _server(self, model: str) -> dict[str, Any]:
        """server.address/server.port of calls to `model` (none for in-process models)."""
        info = self._models.get(model)
        if info is None or info.server_address is None:
            return {}
        return {sc.A_SERVER_ADDRESS: info.server_address, sc.A_SERVER_PORT: info.server_port}

    # calls --------------------------------------------------------------------------------------
    async def chat(self, req: ChatRequest) -> ChatCall:
        """A non-streamed completion, recorded. Raises what the provider raises."""
        return await self._chat(req, None)

    async def stream(self, req: ChatRequest, on_chunk: OnChunk) -> ChatCall:
        """A streamed completion: each text chunk goes to `on_chunk` as it arrives (inside the
        chat span); the stream is returned as one result. Raises what the provider raises."""
        return await self._chat(req, on_chunk)

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbedCall:
        """Embeddings for `texts` (the provider's default model when None), recorded."""
        model = model or self.provider.default_embedding_model
        provider = self.provider_of(model)
        with self.tel.operation(
            sc.OP_EMBEDDINGS,
            model,
            provider=provider,
            model=model,
            kind=SpanKind.CLIENT,
            attributes=self._server(model),
            model_call=True,
        ) as op:
            result = await self.provider.embed(texts, model)
            op.set(sc.A_INPUT_TOKENS, result.usage.input_tokens)
            op.set(sc.A_RESPONSE_MODEL, result.model)
            op.set(sc.A_EMBEDDINGS_DIMENSION_COUNT, len(result.vectors[0]) if result.vectors else 0)
        self.tel.metrics.observe_tokens(
            sc.OP_EMBEDDINGS, provider, model, result.usage.input_tokens, 0
        )
        return EmbedCall(result, self._charge(provider, model, result.usage))

    async def _chat(self, req: ChatRequest, on_chunk: OnChunk | None) -> ChatCall:
        model = req.model
        provider = self.provider_of(model)
        attributes = {
            sc.A_MAX_TOKENS: req.max_tokens,
            sc.A_TEMPERATURE: req.temperature,
            sc.A_SEED: req.seed,
            # Set if and only if the request streams (spec); None is left out.
            sc.A_STREAM: True if on_chunk is not None else None,
            sc.A_CONVERSATION_ID: current_labels().conversation_id,
            **self._server(model),
        }
        with self.tel.operation(
            sc.OP_CHAT,
            model,
            provider=provider,
            model=model,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            model_call=True,
        ) as op:
            if self.tel.capture_content:
                op.set(sc.A_INPUT_MESSAGES, messages_json(req.messages))
            if on_chunk is None:
                result = await self.provider.chat(req)
            else:
                result = await consume_stream(
                    self.provider.stream(req),
                    op=op,
                    metrics=self.tel.metrics,
                    provider=provider,
                    model=model,
                    on_chunk=on_chunk,
                )
            response_id = self._record_response(op, result)
            cost = self._charge(provider, model, result.usage)
            op.set(sc.A_LLM_COST_USD, cost)
        usage = result.usage
        self.tel.metrics.observe_tokens(
            sc.OP_CHAT, provider, model, usage.input_tokens, usage.output_tokens
        )
        return ChatCall(result, response_id, cost, op.span.get_span_context())

    def _record_response(self, op: OperationState, result: ChatResult) -> str | None:
        """The response attributes of a chat span; returns the redacted response id."""
        usage = result.usage
        response_id = redact(result.response_id) if result.response_id else None
        op.set(sc.A_RESPONSE_MODEL, result.response_model or None)
        op.set(sc.A_RESPONSE_ID, response_id)
        op.set(sc.A_FINISH_REASONS, list(result.finish_reasons))
        op.set(sc.A_INPUT_TOKENS, usage.input_tokens)
        op.set(sc.A_OUTPUT_TOKENS, usage.output_tokens)
        op.set(sc.A_USAGE_CACHE_READ_INPUT_TOKENS, usage.cached_input_tokens)
        op.set(sc.A_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_tokens)
        if self.tel.capture_content:
            op.set(sc.A_OUTPUT_MESSAGES, output_messages_json(result))
        return response_id

    def _charge(self, provider: str, model: str, usage: Usage) -> float | None:
        """Cost of one call → llm_cost_usd_total, or unpriced tokens + one warning per model."""
        cost = self.prices.cost(model, usage)
        if cost is None:
            self.tel.metrics.add_unpriced(model, usage.total_tokens)
            if model not in self._warned_unpriced:
                self._warned_unpriced.add(model)
                self.tel.log.warning(
                    "model_unpriced",
                    model=model,
                    provider=provider,
                    detail="model missing from the price table; tokens are counted in "
                    + sc.LLM_UNPRICED_TOKENS,
                )
            return None
        labels = current_labels()
        self.tel.metrics.add_cost(provider, model, labels.feature, labels.user_tier, cost)
        return cost

    async def aclose(self) -> None:
        await self.provider.aclose()


def messages_json(messages: Sequence[Mapping[str, str]]) -> str:
    """gen_ai.input.messages in the semconv's parts shape, redacted at the source."""
    return json.dumps([_message(m) for m in messages], ensure_ascii=False)


def output_messages_json(result: ChatResult) -> str:
    """gen_ai.output.messages: the answer as one assistant message (one choice) in the parts
    shape, redacted, with the `finish_reason` the output-message schema requires."""
    message = _message({"role": "assistant", "content": result.text})
    reason = result.finish_reasons[0] if result.finish_reasons else ""
    message["finish_reason"] = output_finish_reason(reason)
    return json.dumps([message], ensure_ascii=False)


def output_finish_reason(reason: str) -> str:
    """A provider's finish reason as an output message's `finish_reason`, mapped the way the
    official OpenAI instrumentation maps it (opentelemetry-instrumentation-genai-openai 1.3b0):
    `tool_calls`/`function_call` → `tool_call`, none given → `error`; others as they are."""
    if reason in ("tool_calls", "function_call"):
        return "tool_call"
    return reason or "error"


def _message(m: Mapping[str, str]) -> dict[str, Any]:
    return {
        "role": m.get("role", "user"),
        "parts": [{"type": "text", "content": redact(m.get("content", ""))}],
    }
