"""A provider for any OpenAI-compatible API (OpenAI, Ollama, vLLM, LiteLLM proxy, ...) over httpx.

Endpoints: `POST {base_url}/chat/completions` (plain JSON, or SSE when streaming) and
`POST {base_url}/embeddings`. `base_url` includes the version prefix, e.g.
`https://api.openai.com/v1` or Ollama's `http://localhost:11434/v1`.

Usage is read from the response: `prompt_tokens` → input, `completion_tokens` → output,
`prompt_tokens_details.cached_tokens` → cached input (subset), and
`completion_tokens_details.reasoning_tokens` → reasoning (subset). Streaming requests ask for
`stream_options: {"include_usage": true}`, so the last SSE event carries the usage. A server
that sends no usage at all gets an estimate (~4 characters per token) instead of zeros.

Retries: up to `max_retries` extra attempts on 429, 5xx, timeouts and connection errors, with
exponential backoff and full jitter (delay = U(0, min(backoff_max_s, backoff_base_s × 2^n)));
a `Retry-After` header (seconds or HTTP date) replaces the jittered delay, capped at
`retry_after_max_s`. Streams are retried only until the response status arrives; a stream that
breaks after it started is reported, never silently replayed. `retry_count` counts the retries
this provider made (for tests and diagnostics).

Failures → `ProviderError.error_type`: timeout → `timeout`, 429 → `rate_limited`,
5xx → `server_error`, other 4xx → `client_error`, anything else (connection refused, malformed
response, ...) → `_OTHER`. Every answer is read through `openai_wire`, which checks it against
the wire format first (JSON without NaN/Infinity, field types, Unicode text, token counts as
integers in [0, MAX_TOKENS]); what breaks it is `_OTHER` with a message naming the field.
The API key is sent only in the Authorization header; it never appears in an error message,
log line or repr (messages are scrubbed of it and of anything that looks like a key or bearer
token, then pass genai_telemetry.redaction like every other sink).

Configuration from the environment (`from_env`):

| variable | default | meaning |
|---|---|---|
| OPENAI_BASE_URL | https://api.openai.com/v1 | API root including /v1 |
| OPENAI_API_KEY | (none) | bearer token; optional for local servers such as Ollama |
| OPENAI_MODEL | gpt-4o-mini | the chat model served (request model name) |
| OPENAI_EMBEDDING_MODEL | text-embedding-3-small | the embeddings model |
| OPENAI_PROVIDER_NAME | openai (ollama when the URL uses port 11434) | gen_ai.provider.name |
| OPENAI_TIMEOUT_SECONDS | 30 | per-attempt timeout (connect, and each read) |
| OPENAI_MAX_RETRIES | 2 | extra attempts after the first |
| OPENAI_CONTEXT_WINDOW | 128000 | context window reported in the model card |
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from demo_app.envcheck import http_url
from demo_app.providers import openai_wire as wire
from demo_app.providers.base import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    ModelCatalog,
    ModelInfo,
    ProviderError,
    StreamChunk,
)
from genai_telemetry import semconv
from genai_telemetry.redaction import redact

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_KEYLIKE = re.compile(r"(?i)\b(?:sk|pk|rk)-[A-Za-z0-9_\-*]{6,}|bearer\s+\S+")


class OpenAICompatibleProvider:
    """`LLMProvider` speaking the OpenAI chat-completions and embeddings HTTP API."""

    name = "openai_compatible"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        model: str = "gpt-4o-mini",
        embedding_model: str = "text-embedding-3-small",
        provider_name: str = "openai",
        timeout_s: float = 30.0,
        max_retries: int = 2,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        retry_after_max_s: float = 30.0,
        context_window: int = 128_000,
        max_output_tokens: int = 16_384,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.server_address, self.server_port = _server_of(base_url)
        if not 0 < timeout_s < math.inf:  # nan and inf too: an unbounded wait is a hang
            raise ValueError("OPENAI_TIMEOUT_SECONDS: must be a finite number > 0")
        if context_window < 1:
            raise ValueError("OPENAI_CONTEXT_WINDOW: must be >= 1")
        if max_retries < 0:
            raise ValueError("OPENAI_MAX_RETRIES: must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.default_chat_model = model
        self.default_embedding_model = embedding_model
        self.provider_name = provider_name
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.retry_count = 0
        self._api_key = api_key or None
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._catalog = ModelCatalog(
            {
                model: self._model_info(model, "chat", context_window, max_output_tokens),
                embedding_model: self._model_info(embedding_model, "embeddings", 8191, 0),
            }
        )
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        )

    def _model_info(
        self, name: str, kind: Literal["chat", "embeddings"], window: int, max_output: int
    ) -> ModelInfo:
        return ModelInfo(
            name=name,
            provider=self.provider_name,
            kind=kind,
            context_window=window,
            max_output_tokens=max_output,
            server_address=self.server_address,
            server_port=self.server_port,
        )

    def __repr__(self) -> str:  # never show the key
        return (
            f"OpenAICompatibleProvider(base_url={self.base_url!r}, "
            f"model={self.default_chat_model!r}, api_key={'set' if self._api_key else 'unset'})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OpenAICompatibleProvider:
        """Build from `OPENAI_*` variables (see the module docstring). Raises ValueError."""

        def number(name: str, default: str, kind: type[int] | type[float]) -> Any:
            raw = environ.get(name, "").strip() or default
            try:
                return kind(raw)
            except ValueError:
                raise ValueError(f"{name}: must be a number, got {raw!r}") from None

        base_url = environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL
        try:
            default_provider = "ollama" if urlsplit(base_url).port == 11434 else "openai"
        except ValueError:  # a bad port; the constructor names the variable
            default_provider = "openai"
        return cls(
            base_url=base_url,
            api_key=environ.get("OPENAI_API_KEY", "").strip() or None,
            model=environ.get("OPENAI_MODEL", "").strip() or "gpt-4o-mini",
            embedding_model=environ.get("OPENAI_EMBEDDING_MODEL", "").strip()
            or "text-embedding-3-small",
            provider_name=environ.get("OPENAI_PROVIDER_NAME", "").strip() or default_provider,
            timeout_s=number("OPENAI_TIMEOUT_SECONDS", "30", float),
            max_retries=number("OPENAI_MAX_RETRIES", "2", int),
            context_window=number("OPENAI_CONTEXT_WINDOW", "128000", int),
        )

    # --- LLMProvider --------------------------------------------------------------------------
    def models(self) -> Mapping[str, ModelInfo]:
        return MappingProxyType(self._catalog.models)

    async def chat(self, req: ChatRequest) -> ChatResult:
        self._catalog.get(req.model, "chat")
        response = await self._send(self._chat_body(req, stream=False), "chat/completions")
        with self._malformed("chat response"):
            return wire.chat_result(wire.loads(response.content), req)

    async def stream(self, req: ChatRequest) -> AsyncIterator[StreamChunk]:
        self._catalog.get(req.model, "chat")
        response = await self._send(
            self._chat_body(req, stream=True), "chat/completions", stream=True
        )
        text_parts: list[str] = []
        finish: list[str] = []
        usage_raw: Any = None
        response_id = ""
        response_model = req.model
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, blank separators
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                with self._malformed("stream event"):
                    event = wire.stream_event(payload)
                if event.error is not None:
                    raise self._error(f"provider error in stream: {event.error}", semconv.OTHER)
                response_id = event.response_id or response_id
                response_model = event.response_model or response_model
                usage_raw = event.usage or usage_raw
                finish.extend(event.finish_reasons)
                for piece in event.pieces:
                    text_parts.append(piece)
                    yield StreamChunk(text=piece, response_id=response_id or None)
        except httpx.TimeoutException:
            raise self._error(
                f"stream stalled for more than {self.timeout_s:g}s", semconv.ERROR_TIMEOUT
            ) from None
        except httpx.HTTPError as exc:
            raise self._error(f"stream broken: {type(exc).__name__}", semconv.OTHER) from None
        finally:
            await response.aclose()
        with self._malformed("usage in stream"):
            usage = wire.usage_of(usage_raw, req, "".join(text_parts))
        yield StreamChunk(
            text="",
            usage=usage,
            finish_reasons=finish or ["stop"],
            response_id=response_id,
            response_model=response_model,
        )

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbeddingResult:
        info = self._catalog.get(model or self.default_embedding_model, "embeddings")
        response = await self._send({"model": info.name, "input": list(texts)}, "embeddings")
        with self._malformed("embeddings response"):
            return wire.embedding_result(wire.loads(response.content), texts, info.name)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP with retries ----------------------------------------------------------------------
    def _chat_body(self, req: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": req.model, "messages": list(req.messages)}
        if req.max_tokens is not None:
            body["max_tokens"] = req.max_tokens
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if req.seed is not None:
            body["seed"] = req.seed
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def _send(
        self, body: dict[str, Any], path: str, *, stream: bool = False
    ) -> httpx.Response:
        """POST with bounded retries; returns a 2xx response (open, when streaming)."""
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                request = self._client.build_request("POST", path, json=body)
                response = await self._client.send(request, stream=stream)
            except httpx.TimeoutException:
                error = self._error(
                    f"no response within {self.timeout_s:g}s", semconv.ERROR_TIMEOUT
                )
            except httpx.HTTPError as exc:
                error = self._error(f"connection failed: {type(exc).__name__}", semconv.OTHER)
            else:
                if response.status_code < 400:
                    return response
                error, retry_after = await self._status_error(response)
            retryable = (
                error.status_code is None or error.status_code == 429 or (error.status_code >= 500)
            )
            if not retryable or attempt >= self.max_retries:
                raise error
            attempt += 1
            self.retry_count += 1
            await self._sleep(self._delay(attempt, retry_after))

    async def _status_error(self, response: httpx.Response) -> tuple[ProviderError, float | None]:
        try:
            raw = await response.aread()
        except httpx.HTTPError:
            raw = b""
        finally:
            await response.aclose()
        status = response.status_code
        try:
            detail = wire.error_detail(wire.loads(raw).get("error"))
        except wire.MalformedResponse:  # not the JSON error object: its first bytes as text
            detail = raw[: wire.MAX_ERROR_DETAIL_CHARS].decode("utf-8", "replace").strip()
        retry_after = wire.parse_retry_after(response.headers.get("retry-after"))
        if status == 429:
            error_type = semconv.ERROR_RATE_LIMITED
        elif status >= 500:
            error_type = semconv.ERROR_SERVER
        elif status >= 400:
            error_type = semconv.ERROR_CLIENT
        else:  # pragma: no cover - only called for >= 400
            error_type = semconv.OTHER
        message = f"HTTP {status} from provider" + (f": {detail}" if detail else "")
        error = self._error(message, error_type, status_code=status, retry_after_s=retry_after)
        return error, retry_after

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, cap)

    @contextmanager
    def _malformed(self, what: str) -> Iterator[None]:
        """The one place a malformed answer becomes an error: `_OTHER`, naming what was wrong."""
        try:
            yield
        except wire.MalformedResponse as exc:
            raise self._error(f"malformed {what}: {exc}", semconv.OTHER) from None

    def _error(
        self,
        message: str,
        error_type: str,
        *,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> ProviderError:
        return ProviderError(
            self._scrub(message),
            error_type=error_type,
            status_code=status_code,
            retry_after_s=retry_after_s,
        )

    def _scrub(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[REDACTED:api_key]")
        # Then the one redaction path: an upstream may echo anything (an email, a password=).
        return redact(_KEYLIKE.sub("[REDACTED:api_key]", text))


def _server_of(base_url: str) -> tuple[str, int]:
    """server.address / server.port of every call: the API host, the port explicit or the
    scheme's default (the spec wants the port whenever the address is set). Raises
    ValueError naming OPENAI_BASE_URL, never showing it (the URL may hold user:password)."""
    return http_url("OPENAI_BASE_URL", base_url)
