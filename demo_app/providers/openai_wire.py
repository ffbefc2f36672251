"""The OpenAI wire format the OpenAI-compatible provider reads: JSON bodies and SSE events,
usage objects, `Retry-After`, error details. Pure functions (no HTTP), so they are tested on
their own.

Every answer an upstream sends passes through here before anything else reads it. Whatever the
format does not allow (invalid or non-finite JSON, nesting beyond the parser's reach, a field of
the wrong type, a string that is no Unicode text, a token count that is no bounded non-negative
integer) raises `MalformedResponse` naming the field and what is wrong with it; the provider
turns that into a `ProviderError` of type `_OTHER` (→ 502 `provider_other`). The message names
fields and types, never string values (they may echo anything), and numbers only as numbers.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from demo_app.providers.base import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    Usage,
    estimate_prompt_tokens,
    estimate_tokens,
    unicode_problem,
)

MAX_ERROR_DETAIL_CHARS = 200
# The most tokens one count may claim: 10x the largest context window on offer (10M tokens).
# A bigger count is no usage but garbage, and it would be priced into the cost counter for good.
MAX_TOKENS = 100_000_000


class MalformedResponse(ValueError):
    """The upstream's answer breaks the wire format; the message says where and how."""


# --- JSON -----------------------------------------------------------------------------------------
def _no_constant(name: str) -> Any:
    raise MalformedResponse(f"non-finite number {name} in JSON")


def loads(raw: bytes | str) -> dict[str, Any]:
    """A JSON object, strictly: no NaN/Infinity, no nesting deeper than the parser can take."""
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except MalformedResponse:
        raise
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply") from None
    except ValueError:  # JSONDecodeError, invalid UTF-8, an integer of thousands of digits
        raise MalformedResponse("not valid JSON") from None
    if not isinstance(data, dict):
        raise MalformedResponse(f"JSON {_kind(data)} where an object belongs")
    return data


# --- typed fields (None and absent read as empty) -----------------------------------------------
def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def mapping(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(f"{where}{key} must be an object, got {_kind(value)}")
    return value


def items(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"{where}{key} must be an array, got {_kind(value)}")
    return value


def objects(obj: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    rows = items(obj, key, where)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MalformedResponse(f"{where}{key}[{i}] must be an object, got {_kind(row)}")
    return rows


def text(obj: dict[str, Any], key: str, where: str) -> str:
    """A string field; it must be Unicode text, or every later serialization of it fails."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedResponse(f"{where}{key} must be a string, got {_kind(value)}")
    if problem := unicode_problem(value):
        raise MalformedResponse(f"{where}{key} is {problem}")
    return value


def count(obj: dict[str, Any], key: str, where: str) -> int | None:
    """A token count: an integer (an integral number counts) in [0, MAX_TOKENS], or None."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = f"{value:g}" if isinstance(value, float) else _kind(value)
        raise MalformedResponse(f"{where}{key} must be an integer, got {shown}")
    if not 0 <= value <= MAX_TOKENS:
        raise MalformedResponse(f"{where}{key} must be in [0, {MAX_TOKENS}], got {value:.6g}")
    return value


# --- answers ------------------------------------------------------------------------------------
def usage_of(raw: Any, req: ChatRequest, answer: str, where: str = "usage") -> Usage:
    """Usage from an OpenAI usage object, or an estimate when the server sent none."""
    if raw is None or raw == {}:
        return Usage(
            input_tokens=estimate_prompt_tokens(req.messages), output_tokens=estimate_tokens(answer)
        )
    if not isinstance(raw, dict):
        raise MalformedResponse(f"{where} must be an object, got {_kind(raw)}")
    prompt = count(raw, "prompt_tokens", f"{where}.") or 0
    completion = count(raw, "completion_tokens", f"{where}.") or 0
    prompt_details = mapping(raw, "prompt_tokens_details", f"{where}.")
    completion_details = mapping(raw, "completion_tokens_details", f"{where}.")
    cached = count(prompt_details, "cached_tokens", f"{where}.prompt_tokens_details.") or 0
    reasoning = (
        count(completion_details, "reasoning_tokens", f"{where}.completion_tokens_details.") or 0
    )
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        cached_input_tokens=min(cached, prompt),
        reasoning_tokens=min(reasoning, completion),
    )


def chat_result(data: dict[str, Any], req: ChatRequest) -> ChatResult:
    """A non-streamed chat completion body."""
    pieces: list[str] = []
    finish: list[str] = []
    for i, choice in enumerate(objects(data, "choices", "")):
        where = f"choices[{i}]."
        pieces.append(text(mapping(choice, "message", where), "content", f"{where}message."))
        finish.append(text(choice, "finish_reason", where) or "stop")
    answer = "".join(pieces)
    return ChatResult(
        text=answer,
        response_model=text(data, "model", "") or req.model,
        response_id=text(data, "id", ""),
        finish_reasons=finish or ["stop"],
        usage=usage_of(data.get("usage"), req, answer),
        time_to_first_chunk_s=None,
    )


@dataclass
class StreamEvent:
    """What one SSE `data:` event of a streamed completion carries."""

    error: str | None = None  # the upstream's own error event: its detail ("" when it has none)
    response_id: str = ""
    response_model: str = ""
    usage: dict[str, Any] | None = None  # read by usage_of once the stream ends
    pieces: list[str] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)


def stream_event(payload: str) -> StreamEvent:
    """One `data:` payload of a streamed completion (not `[DONE]`)."""
    event = loads(payload)
    if event.get("error"):
        return StreamEvent(error=error_detail(event["error"]))
    usage = event.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise MalformedResponse(f"usage must be an object, got {_kind(usage)}")
    parsed = StreamEvent(
        response_id=text(event, "id", ""), response_model=text(event, "model", ""), usage=usage
    )
    for i, choice in enumerate(objects(event, "choices", "")):
        where = f"choices[{i}]."
        piece = text(mapping(choice, "delta", where), "content", f"{where}delta.")
        if piece:
            parsed.pieces.append(piece)
        if reason := text(choice, "finish_reason", where):
            parsed.finish_reasons.append(reason)
    return parsed


def embedding_result(
    data: dict[str, Any], texts: Sequence[str], default_model: str
) -> EmbeddingResult:
    """An embeddings body: one vector of finite numbers per input, in input order."""
    rows = objects(data, "data", "")
    if len(rows) != len(texts):
        raise MalformedResponse(f"data has {len(rows)} vectors for {len(texts)} inputs")
    vectors: list[list[float] | None] = [None] * len(rows)
    for i, row in enumerate(rows):
        index = count(row, "index", f"data[{i}].")
        index = i if index is None else index
        if index >= len(rows) or vectors[index] is not None:
            raise MalformedResponse(f"data[{i}].index {index} is out of range or repeated")
        vectors[index] = _vector(items(row, "embedding", f"data[{i}]."), f"data[{i}].embedding")
    prompt = count(mapping(data, "usage", ""), "prompt_tokens", "usage.")
    if prompt is None:
        prompt = sum(estimate_tokens(t) for t in texts)
    return EmbeddingResult(
        vectors=[v for v in vectors if v is not None],
        usage=Usage(input_tokens=prompt, output_tokens=0),
        model=text(data, "model", "") or default_model,
    )


def _vector(values: list[Any], where: str) -> list[float]:
    for j, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise MalformedResponse(f"{where}[{j}] must be a finite number, got {_kind(x)}")
    return [float(x) for x in values]


# --- errors and back-off ------------------------------------------------------------------------
def error_detail(error: Any) -> str:
    """The message of an upstream error object, as text that can be served again (a lone
    surrogate is written as its escape) and short; anything but text is dropped."""
    if isinstance(error, dict):
        error = error.get("message") or error.get("type")
    if not isinstance(error, str):
        return ""
    detail = error[:MAX_ERROR_DETAIL_CHARS]
    return detail.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "inf" or "nan" parse as floats, yet are no delay: as invalid as "soon"
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
