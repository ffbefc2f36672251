"""The simulated provider (default, offline, no keys): realistic, deterministic, fault-injectable.

Catalog: `catalog.yaml` next to this module (models, gen_ai.provider.name, context window,
latency model; see the file's comments). Prices live in the price table, not here.

Determinism: the answer text and the usage of a chat call depend only on (provider seed,
request seed, model, question, context ids, max_tokens, temperature), through a
`random.Random` seeded from a SHA-256 digest — never Python's salted `hash()`. Latency jitter,
response ids and fault draws come from a separate per-call stream (seeded by the provider
seed, so a fresh provider replays the same sequence).

Tokens (CHARS_PER_TOKEN ≈ 4):
- input = estimate over all messages (system prompt + context + question) + per-message overhead;
- cached input (models with `supports_prompt_cache`): the first system message — the fixed
  system prompt — when the simulated prefix cache is warm (deterministic draw, ~70 %);
- output = triangular(60, 400, mode 150) × `output_token_multiplier`, capped by max_tokens and
  the model's max output (finish reason "length" when capped, else "stop");
- reasoning (models with `reasoning_share`) ≈ that share of the output, a subset of it.

Answer: sentences of the context passages ranked by overlap with the question's content words,
in passage order, each followed by its citation ("[2]"), within ~4 × visible output tokens
characters. With no context the answer is a hedged generic text that is not grounded in
anything (so faithfulness is low), as a model answering without retrieval would do.

Latency (`latency_scale` = SIM_LATENCY_SCALE; 0 = never sleep; every term is multiplied by it,
including `extra_ttft_seconds`, so fast test runs stay fast):

    ttft       = (base_latency_s + ttft_s × U(0.7, 1.5)) × latency_multiplier + extra_ttft_seconds
    generation = per_output_token_s × output_tokens × U(0.85, 1.2) × latency_multiplier

`chat()` sleeps ttft + generation; `stream()` sleeps ttft before the first chunk and spreads the
generation time over the remaining chunks (one word per chunk).

Faults (FaultStore): one uniform draw per chat call; below `rate_limit_rate` → ProviderError
(rate_limited, 429, retry_after_s=1) after the base latency; below rate_limit_rate + error_rate
→ ProviderError(server_error, 500) after the time to first chunk. Error and rate-limit faults
hit chat calls only (embeddings stay available, so failures show up on the `chat` operation the
SLOs watch); `latency_multiplier` slows embeddings too.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import threading
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from demo_app.faults import FaultProfile, FaultStore
from demo_app.providers.base import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD_TOKENS,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    ModelCatalog,
    ModelInfo,
    ProviderError,
    StreamChunk,
    Usage,
    estimate_prompt_tokens,
    estimate_tokens,
)
from demo_app.retrieval import tokenize
from genai_telemetry import semconv

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")

OUTPUT_TOKENS_MIN, OUTPUT_TOKENS_MODE, OUTPUT_TOKENS_MAX = 60, 150, 400
PROMPT_CACHE_WARM_PROBABILITY = 0.7
RATE_LIMIT_RETRY_AFTER_S = 1.0
EMBEDDING_DIMENSIONS = 64
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD_CHUNK = re.compile(r"\S+\s*")

_NO_CONTEXT_OPENERS = (
    "I could not find this in the knowledge base, so this is general guidance only.",
    "The available documents do not cover this question directly.",
    "There is no matching passage in the knowledge base for this question.",
)
_NO_CONTEXT_BODY = (
    "In most systems the answer depends on the provider, the workload and the configuration.",
    "It is usually best to start with the defaults and adjust them after measuring.",
    "Many teams settle on a compromise between speed, cost and accuracy.",
    "Check the vendor documentation for the current limits and recommendations.",
    "Small experiments in a staging environment tend to reveal the trade-offs quickly.",
    "Results vary a lot between versions, so re-check the numbers after each upgrade.",
)


class CatalogError(ValueError):
    """The catalog file is malformed (message names the file and the model)."""


def load_catalog(path: Path | str | None = None) -> tuple[dict[str, ModelInfo], str, str]:
    """Read the catalog: (models by name, default chat model, default embedding model)."""
    path = Path(path) if path is not None else CATALOG_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read catalog: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), dict):
        raise CatalogError(f"{path}: expected a mapping with 'models'")
    allowed = set(ModelInfo.__dataclass_fields__) - {"name"}
    models: dict[str, ModelInfo] = {}
    for name, card in raw["models"].items():
        if not isinstance(card, dict):
            raise CatalogError(f"{path}: models.{name}: expected a mapping")
        unknown = sorted(set(card) - allowed)
        if unknown:
            raise CatalogError(f"{path}: models.{name}: unknown field {unknown[0]!r}")
        try:
            models[str(name)] = ModelInfo(name=str(name), **card)
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"{path}: models.{name}: {exc}") from None
    defaults = []
    for key, kind in (("default_chat_model", "chat"), ("default_embedding_model", "embeddings")):
        value = raw.get(key)
        if value not in models or models[value].kind != kind:
            raise CatalogError(f"{path}: {key} must name a {kind} model of the catalog")
        defaults.append(value)
    return models, defaults[0], defaults[1]


def _digest_seed(*parts: object) -> int:
    text = "\x1f".join(repr(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@dataclass
class CallPlan:
    """Everything about one simulated chat call, decided before any sleeping."""

    text: str
    usage: Usage
    finish_reason: str
    response_model: str
    ttft_s: float
    generation_s: float


class SimulatedProvider:
    """Offline provider implementing `LLMProvider` (see the module docstring)."""

    name = "simulated"

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_scale: float = 1.0,
        faults: FaultStore | None = None,
    ) -> None:
        if latency_scale < 0:
            raise ValueError("SIM_LATENCY_SCALE: must be >= 0")
        models, self.default_chat_model, self.default_embedding_model = load_catalog()
        self._catalog = ModelCatalog(models)
        self.seed = seed
        self.latency_scale = float(latency_scale)
        self.faults = faults or FaultStore()
        self._call_rng = random.Random(_digest_seed("calls", seed))
        self._lock = threading.Lock()

    # --- LLMProvider --------------------------------------------------------------------------
    def models(self) -> Mapping[str, ModelInfo]:
        return MappingProxyType(self._catalog.models)

    async def chat(self, req: ChatRequest) -> ChatResult:
        plan = await self._start(req)
        await self._sleep(plan.ttft_s + plan.generation_s)
        return ChatResult(
            text=plan.text,
            response_model=plan.response_model,
            response_id=self._response_id(),
            finish_reasons=[plan.finish_reason],
            usage=plan.usage,
            time_to_first_chunk_s=None,
        )

    async def stream(self, req: ChatRequest) -> AsyncIterator[StreamChunk]:
        plan = await self._start(req)
        response_id = self._response_id()
        await self._sleep(plan.ttft_s)
        pieces = _WORD_CHUNK.findall(plan.text) or [""]
        per_piece = plan.generation_s / len(pieces)
        for index, piece in enumerate(pieces):
            if index:
                await self._sleep(per_piece)
            yield StreamChunk(text=piece, response_id=response_id)
        await self._sleep(per_piece)
        yield StreamChunk(
            text="",
            usage=plan.usage,
            finish_reasons=[plan.finish_reason],
            response_id=response_id,
            response_model=plan.response_model,
        )

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbeddingResult:
        info = self._catalog.get(model or self.default_embedding_model, "embeddings")
        if not texts:
            raise ProviderError(
                "embeddings input must not be empty",
                error_type=semconv.ERROR_CLIENT,
                status_code=400,
            )
        profile = self.faults.get()
        jitter = self._uniform(0.7, 1.5)
        await self._sleep((info.base_latency_s + info.ttft_s * jitter) * profile.latency_multiplier)
        return EmbeddingResult(
            vectors=[_hashed_embedding(text) for text in texts],
            usage=Usage(input_tokens=sum(estimate_tokens(t) for t in texts), output_tokens=0),
            model=info.response_model,
        )

    async def aclose(self) -> None:
        return None

    # --- internals --------------------------------------------------------------------------
    async def _start(self, req: ChatRequest) -> CallPlan:
        """Validate, draw faults (raising after a realistic delay), and plan the call."""
        info = self._catalog.get(req.model, "chat")
        _validate(req, info)
        profile = self.faults.get()
        draw = self._uniform(0.0, 1.0)
        plan = self.plan(req, profile)
        if draw < profile.rate_limit_rate:
            await self._sleep(info.base_latency_s * profile.latency_multiplier)
            raise ProviderError(
                f"simulated {info.provider} rate limit for model {info.name}",
                error_type=semconv.ERROR_RATE_LIMITED,
                status_code=429,
                retry_after_s=RATE_LIMIT_RETRY_AFTER_S,
            )
        if draw < profile.rate_limit_rate + profile.error_rate:
            await self._sleep(plan.ttft_s)
            raise ProviderError(
                f"simulated {info.provider} server error for model {info.name}",
                error_type=semconv.ERROR_SERVER,
                status_code=500,
            )
        return plan

    def plan(self, req: ChatRequest, profile: FaultProfile | None = None) -> CallPlan:
        """The deterministic content and usage of a call plus its (jittered) latency."""
        info = self._catalog.get(req.model, "chat")
        profile = profile or FaultProfile()
        rng = random.Random(
            _digest_seed(
                self.seed,
                req.seed,
                info.name,
                " ".join(req.question.split()).lower(),
                [doc.id for doc in req.context],
                req.max_tokens,
                req.temperature,
            )
        )
        input_tokens = estimate_prompt_tokens(req.messages)
        cached = 0
        first = req.messages[0] if req.messages else {}
        warm = rng.random() < PROMPT_CACHE_WARM_PROBABILITY
        if info.supports_prompt_cache and warm and first.get("role") == "system":
            prefix = estimate_tokens(first.get("content", "")) + MESSAGE_OVERHEAD_TOKENS
            cached = min(input_tokens, prefix)
        wanted = rng.triangular(OUTPUT_TOKENS_MIN, OUTPUT_TOKENS_MAX, OUTPUT_TOKENS_MODE)
        output_tokens = max(1, round(wanted * profile.output_token_multiplier))
        limit = min(req.max_tokens or info.max_output_tokens, info.max_output_tokens)
        finish_reason = "stop"
        if output_tokens > limit:
            output_tokens, finish_reason = limit, "length"
        reasoning = 0
        if info.reasoning_share > 0:
            share = info.reasoning_share * rng.uniform(0.6, 1.4)
            reasoning = min(output_tokens - 1, int(output_tokens * share))
        visible = output_tokens - reasoning
        text = _compose_answer(req, rng, visible * CHARS_PER_TOKEN)
        ttft = info.base_latency_s + info.ttft_s * self._uniform(0.7, 1.5)
        generation = info.per_output_token_s * output_tokens * self._uniform(0.85, 1.2)
        multiplier = profile.latency_multiplier
        return CallPlan(
            text=text,
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached,
                reasoning_tokens=reasoning,
            ),
            finish_reason=finish_reason,
            response_model=info.response_model,
            ttft_s=ttft * multiplier + profile.extra_ttft_seconds,
            generation_s=generation * multiplier,
        )

    def _uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._call_rng.uniform(low, high)

    def _response_id(self) -> str:
        return f"chatcmpl-sim-{uuid.uuid4().hex[:24]}"

    async def _sleep(self, seconds: float) -> None:
        delay = seconds * self.latency_scale
        if delay > 0:
            await asyncio.sleep(delay)


def _validate(req: ChatRequest, info: ModelInfo) -> None:
    def fail(message: str) -> ProviderError:
        return ProviderError(message, error_type=semconv.ERROR_CLIENT, status_code=400)

    if not req.messages:
        raise fail("messages must not be empty")
    if req.max_tokens is not None and req.max_tokens < 1:
        raise fail("max_tokens must be >= 1")
    if req.temperature is not None and not 0.0 <= req.temperature <= 2.0:
        raise fail("temperature must be between 0 and 2")
    prompt_tokens = estimate_prompt_tokens(req.messages)
    if prompt_tokens > info.context_window:
        raise fail(
            f"prompt of ~{prompt_tokens} tokens exceeds the context window of {info.name} "
            f"({info.context_window} tokens)"
        )


def _compose_answer(req: ChatRequest, rng: random.Random, budget_chars: int) -> str:
    """Answer text: the question-relevant context sentences (cited), or a hedged non-answer."""
    question_terms = set(tokenize(req.question))
    noise = max(0.0, req.temperature or 0.0)
    candidates: list[tuple[float, int, int, str]] = []  # (-score, doc#, sentence#, text)
    for doc_index, doc in enumerate(req.context):
        for sent_index, sentence in enumerate(_SENTENCE_SPLIT.split(doc.text)):
            overlap = len(question_terms & set(tokenize(sentence)))
            score = overlap + 0.3 * doc.score - 0.05 * sent_index + noise * rng.random()
            candidates.append((-score, doc_index, sent_index, sentence.strip()))
    if not candidates:
        return _hedged_answer(rng, budget_chars)
    candidates.sort()
    chosen: list[tuple[int, int, str]] = []
    used = 0
    for _neg, doc_index, sent_index, sentence in candidates:
        if chosen and used + len(sentence) > budget_chars:
            continue
        chosen.append((doc_index, sent_index, sentence))
        used += len(sentence) + 5
    chosen.sort()
    return " ".join(f"{sentence} [{doc_index + 1}]" for doc_index, _s, sentence in chosen)


def _hedged_answer(rng: random.Random, budget_chars: int) -> str:
    parts = [rng.choice(_NO_CONTEXT_OPENERS)]
    body = list(_NO_CONTEXT_BODY)
    rng.shuffle(body)
    for sentence in body:
        if len(" ".join(parts)) + len(sentence) > max(budget_chars, 120):
            break
        parts.append(sentence)
    return " ".join(parts)


def _hashed_embedding(text: str) -> list[float]:
    """A small deterministic bag-of-words vector (feature hashing, L2-normalised)."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for token in tokenize(text):
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        index = int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSIONS
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = sum(v * v for v in vector) ** 0.5
    return [round(v / norm, 6) for v in vector] if norm else vector
