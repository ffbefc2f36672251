"""The simulated provider (default, offline). STUB: interface only, implementation follows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from demo_app.faults import FaultStore
from demo_app.providers.base import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    ModelInfo,
    StreamChunk,
)

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")


class SimulatedProvider:
    name = "simulated"
    default_chat_model = "gpt-4o-mini"
    default_embedding_model = "text-embedding-3-small"

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_scale: float = 1.0,
        faults: FaultStore | None = None,
        catalog_path: Path | str | None = None,
    ) -> None:
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
