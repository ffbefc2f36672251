"""genai_telemetry.instrumented: the wrapper is the unit, so an in-process fake provider is its
input; spans come from the SDK's in-memory exporter, metrics from the wrapper's registry."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from genai_telemetry import semconv as sc
from genai_telemetry.client import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    ModelInfo,
    ProviderError,
    StreamChunk,
    Usage,
)
from genai_telemetry.config import ExportSchedule
from genai_telemetry.instrumented import InstrumentedClient, current_labels, request_scope
from genai_telemetry.pricing import ModelPrice, PriceTable
from genai_telemetry.telemetry import Telemetry

EMAIL = "jane.doe@example.com"
PRICED = "priced-chat"
UNPRICED = "unpriced-chat"
EMBED = "embed-small"


SMALL_QUEUE = ExportSchedule(max_queue=64, batch=64)


@dataclass
class Settings:
    """The attributes of genai_telemetry.config.TelemetrySettings (no OTLP endpoints)."""

    capture_message_content: bool = False
    capture_retrieval_documents: bool = False
    telemetry_enabled: bool = True
    service_name: str = "unit"
    service_version: str = "0"
    deployment_environment: str = "test"
    otlp_traces_endpoint: str | None = None
    otlp_logs_endpoint: str | None = None
    otlp_timeout_s: float = 1.0
    span_export: ExportSchedule = SMALL_QUEUE
    log_export: ExportSchedule = SMALL_QUEUE
    log_level: str = "info"
    environ: Mapping[str, str] = field(default_factory=dict)


class FakeProvider:
    """A provider whose answers are fixed: what the wrapper records is then known exactly."""

    name = "fake"
    default_chat_model = PRICED
    default_embedding_model = EMBED

    def __init__(self, fail: ProviderError | None = None) -> None:
        self.fail = fail
        self.requests: list[ChatRequest] = []

    def models(self) -> Mapping[str, ModelInfo]:
        return {
            PRICED: ModelInfo(PRICED, "openai", "chat", 1000, 100, server_address="api.test",
                              server_port=443, response_model=PRICED + "-2025-01-01"),
            UNPRICED: ModelInfo(UNPRICED, "ollama", "chat", 1000, 100),
            EMBED: ModelInfo(EMBED, "openai", "embeddings", 1000, 0),
        }  # fmt: skip

    async def chat(self, req: ChatRequest) -> ChatResult:
        self.requests.append(req)
        if self.fail is not None:
            raise self.fail
        usage = Usage(100, 20, cached_input_tokens=40, reasoning_tokens=5)
        return ChatResult(f"answer for {EMAIL}", req.model, f"resp {EMAIL}", ["stop"], usage)

    async def stream(self, req: ChatRequest) -> AsyncIterator[StreamChunk]:
        self.requests.append(req)
        for word in ("one ", "two ", "three"):
            yield StreamChunk(word)
        yield StreamChunk("", Usage(10, 3), ["stop"], "resp-1", req.model)

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbeddingResult:
        return EmbeddingResult([[0.1, 0.2, 0.3]], Usage(7, 0), model or EMBED)

    async def aclose(self) -> None:
        return None


PRICES = PriceTable(
    {
        PRICED: ModelPrice(Decimal("0.001"), Decimal("0.002")),
        EMBED: ModelPrice(Decimal("0.0001"), Decimal("0")),
    }
)


@dataclass
class Rig:
    client: InstrumentedClient
    provider: FakeProvider
    telemetry: Telemetry
    spans: InMemorySpanExporter
    log: io.StringIO

    def finished(self) -> dict[str, object]:
        assert self.telemetry.tracer_provider is not None
        self.telemetry.tracer_provider.force_flush()
        return {s.name: s for s in self.spans.get_finished_spans()}

    def sample(self, name: str, **labels: str) -> float | None:
        return self.telemetry.metrics.registry.get_sample_value(name, labels)


def rig(*, capture: bool = False, fail: ProviderError | None = None) -> Rig:
    spans, log = InMemorySpanExporter(), io.StringIO()
    provider = FakeProvider(fail)
    telemetry = Telemetry.build(
        Settings(capture_message_content=capture),
        models=provider.models(),
        providers={m.provider for m in provider.models().values()},
        span_exporter=spans,
        log_stream=log,
    )
    return Rig(InstrumentedClient(provider, telemetry, PRICES), provider, telemetry, spans, log)


def request(model: str = PRICED, **kw: object) -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": f"hi {EMAIL}"}], **kw)  # type: ignore[arg-type]


def test_chat_span_carries_request_response_usage_cost_and_scope() -> None:
    r = rig()

    async def call() -> object:
        with request_scope(feature="search", user_tier="pro", conversation_id="conv-1"):
            return await r.client.chat(request(max_tokens=50, temperature=0.5))

    call_result = asyncio.run(call())
    span = r.finished()[f"chat {PRICED}"]
    assert span.kind is SpanKind.CLIENT
    expected_cost = 100 * 0.001 + 20 * 0.002
    assert dict(span.attributes) == {
        sc.A_OPERATION_NAME: "chat",
        sc.A_PROVIDER_NAME: "openai",
        sc.A_REQUEST_MODEL: PRICED,
        sc.A_MAX_TOKENS: 50,
        sc.A_TEMPERATURE: 0.5,
        sc.A_CONVERSATION_ID: "conv-1",
        sc.A_SERVER_ADDRESS: "api.test",
        sc.A_SERVER_PORT: 443,
        sc.A_RESPONSE_MODEL: PRICED,
        sc.A_RESPONSE_ID: "resp [REDACTED:email]",
        sc.A_FINISH_REASONS: ("stop",),
        sc.A_INPUT_TOKENS: 100,
        sc.A_OUTPUT_TOKENS: 20,
        sc.A_USAGE_CACHE_READ_INPUT_TOKENS: 40,
        sc.A_USAGE_REASONING_OUTPUT_TOKENS: 5,
        sc.A_LLM_COST_USD: pytest.approx(expected_cost),
    }, "no gen_ai.request.stream on a non-streamed call, no content without capture"
    assert call_result.cost_usd == pytest.approx(expected_cost)  # type: ignore[attr-defined]
    assert call_result.response_id == "resp [REDACTED:email]"  # type: ignore[attr-defined]
    assert call_result.span_context == span.context  # type: ignore[attr-defined]
    labels = {sc.L_PROVIDER: "openai", sc.L_MODEL: PRICED}
    assert r.sample(sc.LLM_COST, **labels, feature="search", user_tier="pro") == pytest.approx(
        expected_cost
    )
    for token_type, tokens in (("input", 100), ("output", 20)):
        assert r.sample(
            sc.GENAI_TOKEN_USAGE + "_sum", **labels, gen_ai_operation_name="chat",
            gen_ai_token_type=token_type,
        ) == tokens  # fmt: skip
    assert r.sample(
        sc.GENAI_OPERATION_DURATION + "_count", **labels, gen_ai_operation_name="chat",
        error_type="",
    ) == 1  # fmt: skip
    assert r.sample(sc.LLM_ACTIVE_REQUESTS, **labels) == 0


def test_stream_forwards_chunks_and_times_them() -> None:
    r = rig()
    received: list[str] = []

    async def on_chunk(text: str) -> None:
        received.append(text)

    result = asyncio.run(r.client.stream(request(stream=True), on_chunk)).result
    assert received == ["one ", "two ", "three"] and result.text == "one two three"
    span = r.finished()[f"chat {PRICED}"]
    assert span.attributes[sc.A_STREAM] is True
    assert span.attributes[sc.A_TIME_TO_FIRST_CHUNK] >= 0
    labels = {sc.L_OPERATION: "chat", sc.L_PROVIDER: "openai", sc.L_MODEL: PRICED}
    assert r.sample(sc.GENAI_TIME_TO_FIRST_CHUNK + "_count", **labels) == 1
    # Three text chunks: two gaps after the first; the final usage chunk carries no text.
    assert r.sample(sc.GENAI_TIME_PER_OUTPUT_CHUNK + "_count", **labels) == 2


def test_embeddings_span_tokens_and_cost() -> None:
    r = rig()
    call = asyncio.run(r.client.embed(["question"]))
    span = r.finished()[f"embeddings {EMBED}"]
    assert span.kind is SpanKind.CLIENT
    assert span.attributes[sc.A_OPERATION_NAME] == "embeddings"
    assert span.attributes[sc.A_EMBEDDINGS_DIMENSION_COUNT] == 3
    assert span.attributes[sc.A_INPUT_TOKENS] == 7
    assert call.cost_usd == pytest.approx(7 * 0.0001)
    labels = {sc.L_OPERATION: "embeddings", sc.L_PROVIDER: "openai", sc.L_MODEL: EMBED}
    assert r.sample(sc.GENAI_TOKEN_USAGE + "_sum", **labels, gen_ai_token_type="input") == 7
    assert r.sample(sc.GENAI_TOKEN_USAGE + "_count", **labels, gen_ai_token_type="output") is None


def test_unpriced_model_counts_tokens_and_warns_once() -> None:
    r = rig()

    async def twice() -> list[float | None]:
        return [(await r.client.chat(request(UNPRICED))).cost_usd for _ in range(2)]

    assert asyncio.run(twice()) == [None, None], "never a silent $0"
    assert r.sample(sc.LLM_UNPRICED_TOKENS, gen_ai_request_model=UNPRICED) == 2 * 120
    assert sc.A_LLM_COST_USD not in r.finished()[f"chat {UNPRICED}"].attributes
    warnings = [json.loads(line) for line in r.log.getvalue().splitlines() if line]
    assert [w["event"] for w in warnings].count("model_unpriced") == 1


def test_provider_error_marks_span_and_metric_and_propagates() -> None:
    r = rig(fail=ProviderError("upstream 503", error_type=sc.ERROR_SERVER, status_code=503))
    with pytest.raises(ProviderError):
        asyncio.run(r.client.chat(request()))
    span = r.finished()[f"chat {PRICED}"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.A_ERROR_TYPE] == sc.ERROR_SERVER
    labels = {sc.L_PROVIDER: "openai", sc.L_MODEL: PRICED}
    assert r.sample(
        sc.GENAI_OPERATION_DURATION + "_count", **labels, gen_ai_operation_name="chat",
        error_type=sc.ERROR_SERVER,
    ) == 1  # fmt: skip
    assert r.sample(sc.LLM_ACTIVE_REQUESTS, **labels) == 0, "the in-flight gauge comes back"
    assert r.sample(sc.LLM_COST, **labels, feature="_OTHER", user_tier="_OTHER") is None


def test_content_capture_is_opt_in_and_redacted_at_the_source() -> None:
    r = rig(capture=True)
    asyncio.run(r.client.chat(request()))
    attrs = r.finished()[f"chat {PRICED}"].attributes
    inputs = json.loads(attrs[sc.A_INPUT_MESSAGES])
    outputs = json.loads(attrs[sc.A_OUTPUT_MESSAGES])
    assert inputs == [
        {"role": "user", "parts": [{"type": "text", "content": "hi [REDACTED:email]"}]}
    ]
    assert outputs[0]["role"] == "assistant" and EMAIL not in json.dumps(outputs)


def test_request_scope_nests_restores_and_reaches_tasks() -> None:
    assert current_labels().feature is None
    seen: list[str | None] = []

    async def child() -> None:
        seen.append(current_labels().user_tier)

    async def main() -> None:
        with request_scope(feature="chat", user_tier="free"):
            with request_scope(feature="search"):
                assert current_labels().feature == "search"
                assert current_labels().user_tier is None, "a scope replaces, never merges"
            assert current_labels().feature == "chat"
            await asyncio.create_task(child())

    asyncio.run(main())
    assert seen == ["free"]
    assert current_labels().feature is None


def test_calls_outside_a_scope_bound_labels_to_other() -> None:
    r = rig()
    asyncio.run(r.client.chat(request()))
    labels = {sc.L_PROVIDER: "openai", sc.L_MODEL: PRICED}
    assert r.sample(sc.LLM_COST, **labels, feature="_OTHER", user_tier="_OTHER") is not None
    assert sc.A_CONVERSATION_ID not in r.finished()[f"chat {PRICED}"].attributes


def test_catalog_is_the_providers() -> None:
    client = rig().client
    assert client.chat_models() == [PRICED, UNPRICED]
    assert client.provider_of(UNPRICED) == "ollama"
    assert client.provider_of("nope") == sc.OTHER


def test_the_pipeline_leaves_model_call_telemetry_to_the_client() -> None:
    """demo_app/pipeline.py calls the instrumented client; it records no chat/embeddings
    operation, token usage, cost or stream timing itself (names it would need for that)."""
    import ast

    from harness import ROOT

    tree = ast.parse((ROOT / "demo_app" / "pipeline.py").read_text())
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    model_call_telemetry = {
        "OP_CHAT", "OP_EMBEDDINGS", "observe_tokens", "add_cost", "add_unpriced",
        "consume_stream", "observe_ttfc", "active_gauge", "A_INPUT_MESSAGES", "A_RESPONSE_MODEL",
    }  # fmt: skip
    assert names & model_call_telemetry == set()
    assert {"InstrumentedClient", "request_scope"} <= names


def test_a_request_seed_is_recorded_only_when_the_request_sets_one() -> None:
    """gen_ai.request.seed is conditionally required "if the request includes a seed" (v1.41.0
    inference span); the OpenAI-compatible provider sends it, so the span names it."""
    r = rig()
    asyncio.run(r.client.chat(request(seed=1234)))
    seeded = r.finished()[f"chat {PRICED}"].attributes
    assert seeded[sc.A_SEED] == 1234
    r = rig()
    asyncio.run(r.client.chat(request()))
    assert sc.A_SEED not in r.finished()[f"chat {PRICED}"].attributes


class VendorSDKError(Exception):
    """An exception of some client library (not a ProviderError, not a builtin)."""


def test_error_type_of_an_unexpected_exception_is_its_exception_type() -> None:
    """error.type is "the canonical name of exception"; util-genai 1.3b0 sets it to the fully
    qualified type, the `exception.type` of the span's exception event, so the two agree."""
    r = rig(fail=VendorSDKError("boom"))  # type: ignore[arg-type]
    with pytest.raises(VendorSDKError):
        asyncio.run(r.client.chat(request()))
    span = r.finished()[f"chat {PRICED}"]
    (event,) = [e for e in span.events if e.name == "exception"]
    assert span.attributes[sc.A_ERROR_TYPE] == f"{__name__}.VendorSDKError"
    assert span.attributes[sc.A_ERROR_TYPE] == event.attributes["exception.type"]
    r = rig(fail=ValueError("bad"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        asyncio.run(r.client.chat(request()))
    assert r.finished()[f"chat {PRICED}"].attributes[sc.A_ERROR_TYPE] == "ValueError"
