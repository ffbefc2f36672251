"""OpenAI-compatible HTTP provider. STUB: interface only, implementation follows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from demo_app.providers.base import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    ModelInfo,
    StreamChunk,
)


class OpenAICompatibleProvider:
    name = "openai_compatible"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        model: str = "gpt-4o-mini",
        embedding_model: str = "text-embedding-3-small",
        provider_name: str = "openai",
        timeout_s: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        raise NotImplementedError

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OpenAICompatibleProvider:
        raise NotImplementedError

    def models(self) -> Mapping[str, ModelInfo]:
        raise NotImplementedError

    async def chat(self, req: ChatRequest) -> ChatResult:
        raise NotImplementedError

    async def stream(self, req: ChatRequest) -> AsyncIterator[StreamChunk]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def embed(self, texts: Sequence[str], model: str | None = None) -> EmbeddingResult:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None
