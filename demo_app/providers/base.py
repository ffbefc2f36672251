"""Prompt building and the model catalog shared by rag-api's providers.

The provider interface itself (requests, results, usage, errors, the `LLMProvider` protocol) is
`genai_telemetry.client`, re-exported here for the providers' convenience.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from demo_app.corpus import RetrievedDoc
from genai_telemetry import semconv
from genai_telemetry.client import (
    PROVIDER_ERROR_TYPES,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    LLMProvider,
    Message,
    ModelInfo,
    ModelKind,
    ProviderError,
    StreamChunk,
    Usage,
)

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with BPE tokenizers
MESSAGE_OVERHEAD_TOKENS = 4  # role + separators per chat message, as OpenAI's chat format adds

SYSTEM_PROMPT = (
    "You are the operations assistant of an LLM platform team. Answer the user's question "
    "using only the numbered context passages. Cite passages by their number in square "
    "brackets. If the context does not contain the answer, say that you do not know instead "
    "of guessing. Keep answers short, factual and free of personal data."
)


def unicode_problem(text: str) -> str | None:
    """Why `text` is no Unicode text (JSON may escape a lone surrogate), or None when it is:
    kept, such a string breaks every later serialization of it (a response, an attribute)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"not valid Unicode text (a lone surrogate at index {error.start})"
    return None


def estimate_tokens(text: str) -> int:
    """Rough token count of `text` (~4 characters per token, at least 1 for non-empty text)."""
    if not text:
        return 0
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """Rough token count of a chat prompt: content tokens plus a per-message overhead."""
    return sum(estimate_tokens(m.get("content", "")) + MESSAGE_OVERHEAD_TOKENS for m in messages)


def format_context(context: Sequence[RetrievedDoc]) -> str:
    """The context block of the prompt: numbered passages with their titles."""
    return "\n\n".join(f"[{i}] {doc.title}\n{doc.text}" for i, doc in enumerate(context, 1))


def build_messages(question: str, context: Sequence[RetrievedDoc] = ()) -> list[Message]:
    """The chat prompt for a RAG answer: system prompt, context (if any), then the question.

    The system prompt comes first and never changes, so providers with prompt caching can
    serve it from cache; the question is always the last user message.
    """
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    if context:
        messages.append({"role": "system", "content": "Context:\n" + format_context(context)})
    messages.append({"role": "user", "content": question})
    return messages


@dataclass
class ModelCatalog:
    """A provider's models by name; `get` raises a client_error ProviderError listing them."""

    models: dict[str, ModelInfo] = field(default_factory=dict)

    def get(self, name: str, kind: ModelKind) -> ModelInfo:
        info = self.models.get(name)
        if info is None or info.kind != kind:
            allowed = ", ".join(sorted(n for n, m in self.models.items() if m.kind == kind))
            raise ProviderError(
                f"unknown {kind} model {name!r}; allowed: {allowed}",
                error_type=semconv.ERROR_CLIENT,
                status_code=404,
            )
        return info


__all__ = [
    "PROVIDER_ERROR_TYPES",
    "ChatRequest",
    "ChatResult",
    "EmbeddingResult",
    "LLMProvider",
    "Message",
    "ModelInfo",
    "ModelKind",
    "ProviderError",
    "StreamChunk",
    "Usage",
]
