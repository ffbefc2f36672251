"""The LLM client interface the instrumentation wraps: data types and the `LLMProvider` protocol.

This module has no web or telemetry code. Providers (the app's: demo_app/providers/) implement
the protocol; `genai_telemetry.instrumented` wraps one and turns what it returns into metrics,
spans and logs, so everything telemetry needs is here:

- `ModelInfo` — one catalog entry. `provider` is the `gen_ai.provider.name` value
  (`openai`, `anthropic`, `gcp.gemini`, `ollama`), NOT the `LLM_PROVIDER` backend name;
  `server_address`/`server_port` are the `server.*` attributes of calls to it (the host and
  port the model is reached at; None for a model served in-process, as the simulated ones are).
- `Usage` — token counts. Semantics follow OpenAI's usage object:
  * `input_tokens` counts ALL prompt tokens; `cached_input_tokens` is a SUBSET of them
    (prompt-cache reads), so uncached input = input_tokens - cached_input_tokens.
  * `output_tokens` counts ALL completion tokens; `reasoning_tokens` is a SUBSET of them
    (OpenAI's `completion_tokens` includes `completion_tokens_details.reasoning_tokens`), so
    visible text tokens = output_tokens - reasoning_tokens.
  The metric `gen_ai.client.token.usage` therefore records `input_tokens` / `output_tokens` as is.
- `ChatRequest` / `ChatResult` / `StreamChunk` — one chat call, non-streamed or streamed. A
  stream always ends with exactly one chunk whose `is_final` is true; it carries `usage`,
  `finish_reasons`, `response_id`, `response_model` (and may carry text too).
- `EmbeddingResult` — vectors plus input-token usage.
- `ProviderError` — every provider failure, already classified into the contract's
  `error_type` values (`timeout`, `rate_limited`, `server_error`, `client_error`, `_OTHER`).
  Messages never contain credentials.

Latency of simulated calls is part of the provider (it sleeps), so wall-clock timing taken by the
caller around `chat()` / the stream is the operation duration, and the moment the first chunk
is received is the time to first chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from genai_telemetry import semconv

ModelKind = Literal["chat", "embeddings"]
Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}

# Provider error types a ProviderError may carry (the contract's error_type values minus "").
PROVIDER_ERROR_TYPES: tuple[str, ...] = tuple(t for t in semconv.ERROR_TYPES if t)


@dataclass(frozen=True)
class ModelInfo:
    """One model of a provider's catalog.

    Latency model (used by the simulated provider; informational for real ones):
    time to first chunk = base_latency_s + ttft_s; each further output token adds
    per_output_token_s. See `SimulatedProvider` for jitter and scaling.
    """

    name: str
    provider: str  # gen_ai.provider.name
    kind: ModelKind
    context_window: int
    max_output_tokens: int
    base_latency_s: float = 0.1
    per_output_token_s: float = 0.005
    ttft_s: float = 0.2
    reasoning_share: float = 0.0  # simulated: share of output tokens that are reasoning tokens
    supports_prompt_cache: bool = False  # simulated: repeated system prompt is read from cache
    response_model: str = ""  # gen_ai.response.model the provider answers with ("" = name)
    server_address: str | None = None  # server.address of calls (None: in-process, no server)
    server_port: int | None = None  # server.port (set whenever server_address is)

    def __post_init__(self) -> None:
        if self.kind not in ("chat", "embeddings"):
            raise ValueError(f"model {self.name!r}: kind must be 'chat' or 'embeddings'")
        if self.context_window <= 0 or self.max_output_tokens < 0:
            raise ValueError(f"model {self.name!r}: context_window/max_output_tokens invalid")
        if min(self.base_latency_s, self.per_output_token_s, self.ttft_s) < 0:
            raise ValueError(f"model {self.name!r}: latency parameters must be >= 0")
        if not 0.0 <= self.reasoning_share < 1.0:
            raise ValueError(f"model {self.name!r}: reasoning_share must be in [0, 1)")
        if (self.server_address is None) != (self.server_port is None):
            raise ValueError(f"model {self.name!r}: server_address and server_port go together")
        if self.server_port is not None and not (
            isinstance(self.server_port, int) and 0 < self.server_port < 65536
        ):
            raise ValueError(f"model {self.name!r}: server_port must be a port number")
        if not self.response_model:
            object.__setattr__(self, "response_model", self.name)


@dataclass
class Usage:
    """Token usage of one call (see the module docstring for the subset semantics)."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0  # subset of input_tokens
    reasoning_tokens: int = 0  # subset of output_tokens

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"):
            if getattr(self, name) < 0:
                raise ValueError(f"usage.{name} must be >= 0")
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError("usage.cached_input_tokens must not exceed input_tokens")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError("usage.reasoning_tokens must not exceed output_tokens")

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ChatRequest:
    """One chat completion request.

    `context` holds the retrieved passages the prompt was built from; real providers only see
    `messages` (use `build_messages` to put the passages into them), the simulated provider
    composes its answer from `context` and the last user message (the question).
    """

    model: str
    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = False
    seed: int | None = None
    context: Sequence[Any] = ()  # the app's retrieved passages (simulated provider)

    @property
    def question(self) -> str:
        """The content of the last user message ("" when there is none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content", "")
        return ""


@dataclass
class ChatResult:
    """A finished (non-streamed) chat completion."""

    text: str
    response_model: str
    response_id: str
    finish_reasons: list[str]
    usage: Usage
    time_to_first_chunk_s: float | None = None  # None for non-streamed calls


@dataclass
class StreamChunk:
    """One streamed delta. The last chunk of every stream has `is_final` true and the usage."""

    text: str
    usage: Usage | None = None
    finish_reasons: list[str] | None = None
    response_id: str | None = None
    response_model: str | None = None

    @property
    def is_final(self) -> bool:
        return self.usage is not None


@dataclass
class EmbeddingResult:
    """Vectors for a batch of texts; `usage.output_tokens` is always 0."""

    vectors: list[list[float]]
    usage: Usage
    model: str


class ProviderError(Exception):
    """A provider call failed. `error_type` is one of `PROVIDER_ERROR_TYPES`.

    `status_code` is the upstream HTTP status when there was one; `retry_after_s` is the
    provider's back-off hint (rate limits). The message never contains credentials.
    """

    def __init__(
        self,
        message: str,
        *,
        error_type: str,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        if error_type not in PROVIDER_ERROR_TYPES:
            error_type = semconv.OTHER
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.status_code = status_code
        self.retry_after_s = retry_after_s

    def __repr__(self) -> str:
        return (
            f"ProviderError({self.message!r}, error_type={self.error_type!r}, "
            f"status_code={self.status_code!r}, retry_after_s={self.retry_after_s!r})"
        )


@runtime_checkable
class LLMProvider(Protocol):
    """What the pipeline needs from an LLM backend (simulated or OpenAI-compatible)."""

    name: str  # backend name: "simulated" | "openai_compatible"
    default_chat_model: str
    default_embedding_model: str

    def models(self) -> Mapping[str, ModelInfo]:
        """All models this provider serves, by request model name."""
        ...

    async def chat(self, req: ChatRequest) -> ChatResult:
        """A non-streamed completion. Raises ProviderError."""
        ...

    def stream(self, req: ChatRequest) -> AsyncIterator[StreamChunk]:
        """A streamed completion (async generator). Raises ProviderError before or during."""
        ...

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbeddingResult:
        """Embeddings for `texts` (default model when None). Raises ProviderError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
