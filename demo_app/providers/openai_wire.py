"""The OpenAI wire format the OpenAI-compatible provider reads: usage objects, `Retry-After`,
error details. Pure functions (no HTTP), so they are tested on their own."""

from __future__ import annotations

import email.utils
import time
from typing import Any

from demo_app.providers.base import ChatRequest, Usage, estimate_prompt_tokens, estimate_tokens

MAX_ERROR_DETAIL_CHARS = 200


def error_detail(error: Any) -> str:
    if isinstance(error, dict):
        error = error.get("message") or error.get("type") or ""
    return str(error or "")[:MAX_ERROR_DETAIL_CHARS]


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def usage_of(raw: Any, req: ChatRequest, text: str) -> Usage:
    """Usage from an OpenAI usage object, or an estimate when the server sent none."""
    if not raw:
        return Usage(
            input_tokens=estimate_prompt_tokens(req.messages), output_tokens=estimate_tokens(text)
        )
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        cached_input_tokens=min(cached, prompt),
        reasoning_tokens=min(reasoning, completion),
    )
