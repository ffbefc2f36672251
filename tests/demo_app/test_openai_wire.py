"""The OpenAI wire format as demo_app/providers/openai_wire.py reads it, through the
openai_compatible provider against a loopback fake that answers malformed on purpose.

Proves: every answer the format does not allow (non-finite or too deeply nested JSON, wrong field
types, lone surrogates, token counts that are no integer in [0, MAX_TOKENS]) is one ProviderError
of type `_OTHER` whose message names the problem, never another exception; upstream error details
stay servable text; a Retry-After that is no number of seconds is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from demo_app.api.errors import provider_error
from demo_app.providers import ChatRequest, ProviderError, build_messages
from demo_app.providers.openai_compatible import OpenAICompatibleProvider
from demo_app.providers.openai_wire import MAX_TOKENS, MalformedResponse, usage_of
from genai_telemetry import semconv
from harness.fake_openai import (
    COMPLETION_ID,
    FakeOpenAI,
    Raw,
    chunk,
    completion,
    embeddings,
    fake_openai_server,
)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


def request(stream: bool = False) -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=build_messages("Why?"), stream=stream)


def ask(fake: FakeOpenAI, kind: str = "chat") -> object:
    """One call of `kind` (chat, stream or embed) without retries; raises what it raises."""

    async def run() -> object:
        provider = OpenAICompatibleProvider(base_url=fake.url, max_retries=0, timeout_s=5.0)
        try:
            if kind == "chat":
                return await provider.chat(request())
            if kind == "embed":
                return await provider.embed(["a"])
            return [c async for c in provider.stream(request(stream=True))]
        finally:
            await provider.aclose()

    return asyncio.run(run())


INF = float("inf")
DEEP = b"[" * 100_000 + b"]" * 100_000  # beyond any recursion limit


def _chat_with(**changes: object) -> Raw:
    return Raw.of_json({**completion(), **changes})


def _embeddings_with(**changes: object) -> Raw:
    return Raw.of_json({**embeddings({"input": ["a"]}), **changes})


def _events(*events: object) -> Raw:
    return Raw.of_sse([chunk(COMPLETION_ID, {"content": "Hi"}, None), *events, "[DONE]"])


MALFORMED = [
    ("chat", _chat_with(usage={"prompt_tokens": INF}), "Infinity"),
    ("chat", _chat_with(usage={"prompt_tokens": 1e300}), "usage.prompt_tokens"),
    ("chat", _chat_with(usage={"completion_tokens": -1}), "usage.completion_tokens"),
    ("chat", _chat_with(usage={"prompt_tokens": 12.5}), "usage.prompt_tokens"),
    ("chat", _chat_with(usage={"prompt_tokens_details": {"cached_tokens": "8"}}), "cached_tokens"),
    ("chat", _chat_with(usage=[120]), "usage must be an object"),
    ("chat", Raw(b'{"choices": ' + DEEP + b"}"), "nested too deeply"),
    ("chat", _chat_with(choices=[{"message": {"content": "a\ud800"}}]), "message.content"),
    ("chat", _chat_with(choices="abc"), "choices must be an array"),
    ("chat", _chat_with(model=["gpt"]), "model must be a string"),
    ("chat", Raw.of_json([completion()]), "where an object belongs"),
    ("stream", _events(chunk(COMPLETION_ID, {"content": "\ud800"}, None)), "delta.content"),
    ("stream", _events({"choices": "abc"}), "choices must be an array"),
    ("stream", _events(DEEP.decode()), "nested too deeply"),
    ("stream", _events({"choices": [], "usage": {"prompt_tokens": 1e300}}), "prompt_tokens"),
    ("stream", _events({"choices": [{"delta": {"content": float("nan")}}]}), "NaN"),
    ("embed", _embeddings_with(usage={"prompt_tokens": INF}), "Infinity"),
    ("embed", Raw(b'{"data": [{"index": 0, "embedding": [1e400]}]}'), "embedding[0]"),
    ("embed", Raw(b'{"data": [{"index": 0, "embedding": [true]}]}'), "embedding[0]"),
    ("embed", Raw.of_json({"data": []}), "0 vectors for 1 inputs"),
]


@pytest.mark.parametrize(("kind", "answer", "named"), MALFORMED)
def test_malformed_answer_is_an_other_error_naming_the_problem(
    fake: FakeOpenAI, kind: str, answer: Raw, named: str
) -> None:
    fake.script = [answer]
    with pytest.raises(ProviderError) as info:
        ask(fake, kind)
    assert info.value.error_type == semconv.OTHER
    assert info.value.message.startswith("malformed "), info.value.message
    assert named in info.value.message, info.value.message


def test_token_counts_are_bounded_integers() -> None:
    req = request()
    assert usage_of({"prompt_tokens": 120.0, "completion_tokens": 4}, req, "").input_tokens == 120
    assert usage_of({"prompt_tokens": MAX_TOKENS}, req, "").input_tokens == MAX_TOKENS
    for bad in (MAX_TOKENS + 1, -1, True, "7", 1.5):
        with pytest.raises(MalformedResponse, match=r"usage\.prompt_tokens"):
            usage_of({"prompt_tokens": bad}, req, "")


def test_upstream_error_details_are_served_as_text(fake: FakeOpenAI) -> None:
    """An error message with a lone surrogate, or nested past the parser's reach, still makes
    the status's own error with a detail that can be written back as UTF-8."""
    fake.script = [
        Raw.of_json({"error": {"message": "bad \ud800"}}, 500),
        Raw(b'{"error": ' + DEEP + b"}", 500),
    ]
    for expected in ("bad \\ud800", '{"error": [[['):
        with pytest.raises(ProviderError) as info:
            ask(fake)
        assert info.value.error_type == semconv.ERROR_SERVER
        assert expected in info.value.message
        info.value.message.encode("utf-8")


@pytest.mark.parametrize("header", ["inf", "Infinity", "nan", "1e400"])
def test_a_retry_after_that_is_no_number_of_seconds_is_ignored(
    fake: FakeOpenAI, header: str
) -> None:
    """Such a header made a hint of inf, and the 503's Retry-After (math.ceil) an OverflowError.
    It is as invalid as "soon": the 429 stays rate_limited, with the default Retry-After."""
    fake.script = [Raw.of_json({"error": {"message": "slow down"}}, 429, {"Retry-After": header})]
    with pytest.raises(ProviderError) as info:
        ask(fake)
    assert info.value.error_type == semconv.ERROR_RATE_LIMITED
    assert info.value.retry_after_s is None
    mapped = provider_error(info.value)
    assert (mapped.status, mapped.headers["Retry-After"]) == (503, "1")


def test_any_providers_infinite_retry_hint_maps_to_the_default() -> None:
    error = ProviderError("busy", error_type=semconv.ERROR_RATE_LIMITED, retry_after_s=INF)
    assert provider_error(error).headers["Retry-After"] == "1"
