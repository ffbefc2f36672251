"""The simulated provider: catalog, determinism, token accounting, grounded answers, streaming,
faults acting inside the provider, and a latency model that fits the SLO thresholds.

Latency is checked on the provider's plan (what it WOULD sleep), not by timing real sleeps,
except one lower-bound check that sleeping actually happens when latency_scale > 0.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from demo_app.evaluation import evaluate
from demo_app.faults import FaultProfile, FaultStore
from demo_app.providers import (
    ChatRequest,
    LLMProvider,
    ProviderError,
    build_messages,
    build_provider,
)
from demo_app.providers.base import (
    SYSTEM_PROMPT,
    Usage,
    estimate_prompt_tokens,
    estimate_tokens,
)
from demo_app.providers.simulated import CatalogError, SimulatedProvider, load_catalog
from demo_app.retrieval import Retriever
from genai_telemetry import semconv

QUESTION = "What is time to first token and how do I measure it?"
EXPECTED_CATALOG = {
    "gpt-4o-mini": ("openai", "chat"),
    "gpt-4.1": ("openai", "chat"),
    "claude-sonnet-4": ("anthropic", "chat"),
    "gemini-2.5-flash": ("gcp.gemini", "chat"),
    "llama-3.1-8b-local": ("ollama", "chat"),
    "text-embedding-3-small": ("openai", "embeddings"),
}


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    return Retriever.from_corpus()


def provider(**kwargs: object) -> SimulatedProvider:
    options: dict[str, object] = {"latency_scale": 0.0}
    options.update(kwargs)
    return SimulatedProvider(**options)  # type: ignore[arg-type]


def rag_request(retriever: Retriever, question: str = QUESTION, **kwargs: object) -> ChatRequest:
    context = retriever.search(question)
    options: dict[str, object] = {"model": "gpt-4o-mini"}
    options.update(kwargs)
    return ChatRequest(
        messages=build_messages(question, context),
        context=context,
        **options,  # type: ignore[arg-type]
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def stream_all(p: SimulatedProvider, req: ChatRequest) -> list:
    return [chunk async for chunk in p.stream(req)]


def test_catalog_matches_the_contract() -> None:
    p = provider()
    assert isinstance(p, LLMProvider)
    assert {name: (m.provider, m.kind) for name, m in p.models().items()} == EXPECTED_CATALOG
    assert p.default_chat_model == "gpt-4o-mini"
    assert p.default_embedding_model == "text-embedding-3-small"
    assert p.name == "simulated"


def test_build_provider_factory() -> None:
    p = build_provider("simulated", seed=3, latency_scale=0)
    assert isinstance(p, SimulatedProvider) and p.seed == 3
    with pytest.raises(ValueError, match=r"LLM_PROVIDER.*simulated, openai_compatible"):
        build_provider("bedrock")
    with pytest.raises(ValueError, match="SIM_LATENCY_SCALE"):
        build_provider("simulated", latency_scale=-1)


def test_same_question_and_seed_give_the_same_answer(retriever: Retriever) -> None:
    req = rag_request(retriever, seed=42)
    first, second = run(provider(seed=7).chat(req)), run(provider(seed=7).chat(req))
    assert first.text == second.text and first.usage == second.usage
    assert first.response_id != second.response_id  # ids are unique per call


def test_different_seeds_or_questions_vary(retriever: Retriever) -> None:
    req = rag_request(retriever)
    usages = {run(provider(seed=s).chat(req)).usage.output_tokens for s in range(8)}
    assert len(usages) > 1
    other = rag_request(retriever, "How do burn rate alerts work?")
    assert run(provider().chat(other)).text != run(provider().chat(req)).text


def test_token_accounting(retriever: Retriever) -> None:
    req = rag_request(retriever)
    for model in ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash"):
        req.model = model
        usage = run(provider().chat(req)).usage
        assert usage.input_tokens == estimate_prompt_tokens(req.messages)
        assert 60 <= usage.output_tokens <= 400
        assert 0 <= usage.cached_input_tokens < usage.input_tokens
    req.model = "llama-3.1-8b-local"
    usage = run(provider().chat(req)).usage
    assert usage.cached_input_tokens == 0 and usage.reasoning_tokens == 0


def test_prompt_cache_and_reasoning_show_up_across_questions(retriever: Retriever) -> None:
    questions = [f"How do I monitor token usage and cost, case {n}?" for n in range(30)]
    p = provider()
    cached = reasoning_claude = reasoning_gpt = 0
    for question in questions:
        req = rag_request(retriever, question)
        cached += run(p.chat(req)).usage.cached_input_tokens > 0
        req.model = "claude-sonnet-4"
        claude = run(p.chat(req)).usage
        assert 0 < claude.reasoning_tokens < claude.output_tokens
        reasoning_claude += claude.reasoning_tokens
        req.model = "gpt-4.1"
        reasoning_gpt += run(p.chat(req)).usage.reasoning_tokens
    assert 10 <= cached <= 29  # the prefix cache is warm ~70 % of the time
    assert reasoning_claude > 0 and reasoning_gpt == 0


def test_max_tokens_caps_output_with_finish_reason_length(retriever: Retriever) -> None:
    result = run(provider().chat(rag_request(retriever, max_tokens=20)))
    assert result.usage.output_tokens == 20
    assert result.finish_reasons == ["length"]
    assert len(result.text) <= 20 * 4 + 200  # one sentence may overshoot the budget


def test_answer_is_composed_from_the_context_and_cites_it(retriever: Retriever) -> None:
    req = rag_request(retriever)
    result = run(provider().chat(req))
    assert result.finish_reasons == ["stop"]
    assert result.response_model == "gpt-4o-mini-2024-07-18"
    context_text = " ".join(doc.text for doc in req.context)
    sentences = [s.strip() for s in re.split(r"\s*\[\d+\]\s*", result.text) if s.strip()]
    assert sentences and all(s in context_text for s in sentences)
    assert "time to first token" in result.text.lower()
    quality = evaluate(QUESTION, result.text, req.context)
    assert quality.faithfulness.value == 1.0 and quality.faithfulness.label == "pass"


def test_without_context_the_answer_is_hedged_and_ungrounded() -> None:
    question = "What is the capital of France?"
    req = ChatRequest(model="gpt-4o-mini", messages=build_messages(question))
    result = run(provider().chat(req))
    assert result.text
    assert any(w in result.text for w in ("could not find", "do not cover", "no matching"))
    assert evaluate(question, result.text, []).faithfulness.value == 0.0


def test_stream_matches_chat_and_ends_with_usage(retriever: Retriever) -> None:
    req = rag_request(retriever, seed=1)
    p = provider()
    expected = run(p.chat(req))
    req.stream = True
    chunks = run(stream_all(p, req))
    *deltas, final = chunks
    assert len(deltas) > 10 and not any(c.is_final for c in deltas)
    assert "".join(c.text for c in deltas) == expected.text
    assert final.is_final and final.usage == expected.usage
    assert final.finish_reasons == ["stop"]
    assert final.response_model == "gpt-4o-mini-2024-07-18"
    assert final.response_id and all(c.response_id == final.response_id for c in deltas)


def test_output_token_multiplier_scales_output(retriever: Retriever) -> None:
    req = rag_request(retriever)
    base = run(provider().chat(req)).usage.output_tokens
    spiked = provider(faults=FaultStore(FaultProfile(output_token_multiplier=5)))
    assert run(spiked.chat(req)).usage.output_tokens == pytest.approx(base * 5, abs=3)
    capped = run(spiked.chat(rag_request(retriever, max_tokens=300)))
    assert capped.usage.output_tokens == 300 and capped.finish_reasons == ["length"]


def test_rate_limit_fault_raises_rate_limited(retriever: Retriever) -> None:
    p = provider(faults=FaultStore(FaultProfile(rate_limit_rate=1.0)))
    with pytest.raises(ProviderError) as info:
        run(p.chat(rag_request(retriever)))
    assert info.value.error_type == semconv.ERROR_RATE_LIMITED
    assert info.value.status_code == 429 and info.value.retry_after_s == 1.0
    with pytest.raises(ProviderError) as info:
        run(stream_all(p, rag_request(retriever, stream=True)))
    assert info.value.error_type == semconv.ERROR_RATE_LIMITED


def test_error_fault_raises_server_error_before_any_chunk(retriever: Retriever) -> None:
    p = provider(faults=FaultStore(FaultProfile(error_rate=1.0)))
    received: list[str] = []

    async def consume() -> None:
        async for chunk in p.stream(rag_request(retriever, stream=True)):
            received.append(chunk.text)

    with pytest.raises(ProviderError) as info:
        run(consume())
    assert info.value.error_type == semconv.ERROR_SERVER and info.value.status_code == 500
    assert received == []
    # Embeddings stay available: failures land on the chat operation the SLOs watch.
    assert run(p.embed(["tokens"])).vectors


def test_fault_rates_are_probabilities_and_can_be_cleared(retriever: Retriever) -> None:
    store = FaultStore(FaultProfile(error_rate=0.3, rate_limit_rate=0.2))
    p = provider(faults=store, seed=5)
    req = rag_request(retriever)
    outcomes: dict[str, int] = {"ok": 0, semconv.ERROR_SERVER: 0, semconv.ERROR_RATE_LIMITED: 0}
    for _ in range(400):
        try:
            run(p.chat(req))
            outcomes["ok"] += 1
        except ProviderError as exc:
            outcomes[exc.error_type] += 1
    # Expected 200 / 120 / 80; bounds are ~5 sigma wide.
    assert 150 <= outcomes["ok"] <= 250
    assert 80 <= outcomes[semconv.ERROR_SERVER] <= 160
    assert 45 <= outcomes[semconv.ERROR_RATE_LIMITED] <= 115
    store.reset()
    assert all(run(p.chat(req)).text for _ in range(20))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _planned(profile: FaultProfile, model: str, retriever: Retriever) -> tuple[list, list]:
    p = provider(latency_scale=1.0)
    ttfts, totals = [], []
    for n in range(400):
        plan = p.plan(
            rag_request(retriever, f"How do I track tokens and cost {n}?", model=model), profile
        )
        ttfts.append(plan.ttft_s)
        totals.append(plan.ttft_s + plan.generation_s)
    return ttfts, totals


@pytest.mark.parametrize(
    "model", sorted(m for m, (_, k) in EXPECTED_CATALOG.items() if k == "chat")
)
def test_healthy_latency_meets_the_slo_thresholds(model: str, retriever: Retriever) -> None:
    ttfts, totals = _planned(FaultProfile(), model, retriever)
    assert _percentile(ttfts, 0.5) >= 0.2 and _percentile(ttfts, 0.95) <= 0.8
    assert 0.8 <= _percentile(totals, 0.95) <= 3.0  # SLO threshold 5.12 s
    assert max(ttfts) < 1.28


def test_latency_faults_break_the_slo_thresholds(retriever: Retriever) -> None:
    _, slow_totals = _planned(FaultProfile(latency_multiplier=4), "gpt-4o-mini", retriever)
    assert _percentile(slow_totals, 0.95) > 5.12
    assert sum(t > 5.12 for t in slow_totals) / len(slow_totals) > 0.05  # latency SLO burns
    ttfts, _ = _planned(FaultProfile(extra_ttft_seconds=1.5), "gpt-4o-mini", retriever)
    assert min(ttfts) > 1.28  # every streamed request misses the TTFT threshold


def test_latency_scale_actually_sleeps(retriever: Retriever) -> None:
    p = provider(latency_scale=0.05, faults=FaultStore(FaultProfile(extra_ttft_seconds=2.0)))

    async def first_chunk_delay() -> float:
        started = time.monotonic()
        async for _chunk in p.stream(rag_request(retriever, stream=True)):
            return time.monotonic() - started
        raise AssertionError("no chunk")

    # extra TTFT 2 s x scale 0.05 = at least 0.1 s before the first chunk (lower bound only).
    assert run(first_chunk_delay()) >= 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "gpt-9"}, "unknown chat model 'gpt-9'; allowed: claude-sonnet-4"),
        ({"model": "text-embedding-3-small"}, "unknown chat model"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": 3.0}, "temperature"),
    ],
)
def test_bad_requests_are_client_errors(kwargs: dict, message: str) -> None:
    options = {"model": "gpt-4o-mini", "messages": build_messages("hi"), **kwargs}
    with pytest.raises(ProviderError) as info:
        run(provider().chat(ChatRequest(**options)))
    assert info.value.error_type == semconv.ERROR_CLIENT
    assert message in info.value.message


def test_prompt_larger_than_the_context_window_is_rejected() -> None:
    huge = "tokens " * 600_000  # ~1M tokens > 128k window of gpt-4o-mini
    req = ChatRequest(model="gpt-4o-mini", messages=build_messages(huge))
    with pytest.raises(ProviderError, match="exceeds the context window") as info:
        run(provider().chat(req))
    assert info.value.status_code == 400


def test_embeddings_are_deterministic_and_normalised() -> None:
    p = provider()
    result = run(p.embed(["prompt caching saves cost", "rate limits"]))
    again = run(p.embed(["prompt caching saves cost"]))
    assert result.vectors[0] == again.vectors[0]
    assert result.vectors[0] != result.vectors[1]
    assert sum(v * v for v in result.vectors[0]) == pytest.approx(1.0, abs=1e-4)
    assert result.usage.input_tokens > 0 and result.usage.output_tokens == 0
    assert result.model == "text-embedding-3-small"
    with pytest.raises(ProviderError, match="unknown embeddings model"):
        run(p.embed(["x"], model="gpt-4o-mini"))


def test_malformed_catalog_is_rejected_naming_the_model(tmp_path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "default_chat_model: m\ndefault_embedding_model: m\nmodels:\n"
        "  m: {provider: openai, kind: chat, context_window: 10, max_output_tokens: 5,\n"
        "      colour: red}\n"
    )
    with pytest.raises(CatalogError, match=r"models\.m: unknown field 'colour'"):
        load_catalog(path)


# --- the shared types of providers/base.py ------------------------------------------------------
def test_usage_subsets_are_validated() -> None:
    usage = Usage(input_tokens=100, output_tokens=50, cached_input_tokens=100, reasoning_tokens=50)
    assert usage.total_tokens == 150
    with pytest.raises(ValueError, match="cached_input_tokens"):
        Usage(input_tokens=10, output_tokens=0, cached_input_tokens=11)
    with pytest.raises(ValueError, match="reasoning_tokens"):
        Usage(input_tokens=10, output_tokens=5, reasoning_tokens=6)
    with pytest.raises(ValueError, match="input_tokens"):
        Usage(input_tokens=-1, output_tokens=0)


def test_provider_error_keeps_error_type_bounded() -> None:
    error = ProviderError("boom", error_type=semconv.ERROR_TIMEOUT)
    assert (error.error_type, error.status_code, error.retry_after_s) == ("timeout", None, None)
    assert ProviderError("x", error_type="weird").error_type == semconv.OTHER
    assert ProviderError("x", error_type="").error_type == semconv.OTHER


def test_build_messages_puts_the_stable_prefix_first_and_the_question_last(
    retriever: Retriever,
) -> None:
    context = retriever.search(QUESTION)
    messages = build_messages(QUESTION, context)
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert messages[1]["role"] == "system" and messages[1]["content"].startswith("Context:\n[1] ")
    assert messages[-1] == {"role": "user", "content": QUESTION}
    assert ChatRequest(model="m", messages=messages).question == QUESTION
    assert len(build_messages(QUESTION)) == 2  # no empty context block


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("x" * 400) == 100
