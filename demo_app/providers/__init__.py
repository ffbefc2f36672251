"""LLM providers behind one interface (see `base.py`).

`build_provider()` is the factory the app uses:

    provider = build_provider("simulated", seed=0, latency_scale=1.0, faults=store)
    provider = build_provider("openai_compatible", environ=os.environ)

`simulated` is offline and deterministic; `openai_compatible` speaks real HTTP to any
OpenAI-compatible `/chat/completions` + `/embeddings` API (configured from `OPENAI_*` env).
"""

from __future__ import annotations

from collections.abc import Mapping

from demo_app.faults import FaultStore
from demo_app.providers.base import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    LLMProvider,
    ModelInfo,
    ProviderError,
    StreamChunk,
    Usage,
    build_messages,
    estimate_tokens,
)

PROVIDER_KINDS = ("simulated", "openai_compatible")

__all__ = [
    "PROVIDER_KINDS",
    "ChatRequest",
    "ChatResult",
    "EmbeddingResult",
    "LLMProvider",
    "ModelInfo",
    "ProviderError",
    "StreamChunk",
    "Usage",
    "build_messages",
    "build_provider",
    "estimate_tokens",
]


def build_provider(
    kind: str = "simulated",
    *,
    seed: int = 0,
    latency_scale: float = 1.0,
    faults: FaultStore | None = None,
    environ: Mapping[str, str] | None = None,
) -> LLMProvider:
    """Create the provider named by `kind` (the `LLM_PROVIDER` setting).

    simulated: `seed` (SIM_SEED), `latency_scale` (SIM_LATENCY_SCALE; 0 = never sleep) and
    `faults` (the app's FaultStore) apply. openai_compatible: configured from `environ`
    (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`, ... — see
    `OpenAICompatibleProvider.from_env`); faults do not apply to a real provider.
    Raises ValueError for an unknown kind or invalid settings (message names the setting).
    """
    if kind == "simulated":
        from demo_app.providers.simulated import SimulatedProvider

        return SimulatedProvider(seed=seed, latency_scale=latency_scale, faults=faults)
    if kind == "openai_compatible":
        from demo_app.providers.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider.from_env(environ or {})
    raise ValueError(
        f"LLM_PROVIDER: unknown provider {kind!r}; allowed: {', '.join(PROVIDER_KINDS)}"
    )
