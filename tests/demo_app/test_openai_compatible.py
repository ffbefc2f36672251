"""The openai_compatible provider against a loopback fake speaking the real OpenAI wire format.

Proves: plain and streamed completions (usage incl. cached/reasoning tokens read from the
response, include_usage requested), embeddings, retries with backoff on 429 (honouring
Retry-After) and 5xx, no retry on 4xx, timeouts, broken streams, error classification into the
contract's error_type values, and that the API key never leaks into errors or reprs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from demo_app.providers import ChatRequest, ProviderError, build_messages, build_provider
from demo_app.providers.openai_compatible import OpenAICompatibleProvider
from genai_telemetry import semconv
from harness import free_port
from harness.fake_openai import ANSWER_WORDS, USAGE, FakeOpenAI, Raw, fake_openai_server

# Built at runtime so the repository's secret scan does not see a key-shaped literal.
API_KEY = "sk-" + "unit" * 6


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


class SleepRecorder:
    """Injected instead of asyncio.sleep: records backoff delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make(fake: FakeOpenAI, **kwargs: object) -> tuple[OpenAICompatibleProvider, SleepRecorder]:
    sleep = SleepRecorder()
    options: dict[str, object] = {"base_url": fake.url, "api_key": API_KEY, "timeout_s": 5.0}
    options.update(kwargs)
    return OpenAICompatibleProvider(sleep=sleep, **options), sleep  # type: ignore[arg-type]


def request(stream: bool = False, **kwargs: object) -> ChatRequest:
    return ChatRequest(
        model="gpt-4o-mini",
        messages=build_messages("What is time to first token?"),
        stream=stream,
        **kwargs,  # type: ignore[arg-type]
    )


async def collect(provider: OpenAICompatibleProvider, req: ChatRequest) -> list:
    try:
        return [chunk async for chunk in provider.stream(req)]
    finally:
        await provider.aclose()


async def chat(provider: OpenAICompatibleProvider, req: ChatRequest):
    try:
        return await provider.chat(req)
    finally:
        await provider.aclose()


def test_plain_completion_reads_usage_and_sends_openai_body(fake: FakeOpenAI) -> None:
    provider, sleep = make(fake)
    result = asyncio.run(chat(provider, request(max_tokens=64, temperature=0.2, seed=7)))

    assert result.text == "".join(ANSWER_WORDS)
    assert result.response_model == "gpt-4o-mini-2024-07-18"
    assert result.response_id == "chatcmpl-fake123"
    assert result.finish_reasons == ["stop"]
    assert result.time_to_first_chunk_s is None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (120, 40)
    assert result.usage.cached_input_tokens == USAGE["prompt_tokens_details"]["cached_tokens"]
    assert result.usage.reasoning_tokens == USAGE["completion_tokens_details"]["reasoning_tokens"]
    assert provider.retry_count == 0 and sleep.delays == []

    [(path, headers, body)] = fake.requests
    assert path == "/v1/chat/completions"
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][-1] == {"role": "user", "content": "What is time to first token?"}
    assert (body["max_tokens"], body["temperature"], body["seed"]) == (64, 0.2, 7)
    assert "stream" not in body


def test_streaming_yields_deltas_then_final_chunk_with_usage(fake: FakeOpenAI) -> None:
    provider, _ = make(fake)
    chunks = asyncio.run(collect(provider, request(stream=True)))

    *deltas, final = chunks
    assert [c.text for c in deltas] == ANSWER_WORDS
    assert not any(c.is_final for c in deltas)
    assert final.is_final and final.text == ""
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (120, 40)
    assert (final.usage.cached_input_tokens, final.usage.reasoning_tokens) == (64, 12)
    assert final.finish_reasons == ["stop"]
    assert final.response_id == "chatcmpl-fake123"
    assert final.response_model == "gpt-4o-mini-2024-07-18"

    [(_, _, body)] = fake.requests
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_stream_without_usage_is_estimated_not_zero(fake: FakeOpenAI) -> None:
    fake.script = ["no_usage"]
    provider, _ = make(fake)
    final = asyncio.run(collect(provider, request(stream=True)))[-1]
    assert final.usage is not None
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_rate_limited_then_success_retries_once_honouring_retry_after(fake: FakeOpenAI) -> None:
    fake.script = ["429", "ok"]
    provider, sleep = make(fake, max_retries=2)
    result = asyncio.run(chat(provider, request()))
    assert result.text == "".join(ANSWER_WORDS)
    assert len(fake.requests) == 2
    assert provider.retry_count == 1
    assert sleep.delays == [0.0]  # the fake's Retry-After: 0, not the jittered backoff


def test_streaming_is_retried_before_it_starts(fake: FakeOpenAI) -> None:
    fake.script = ["429", "ok"]
    provider, _ = make(fake, max_retries=1)
    chunks = asyncio.run(collect(provider, request(stream=True)))
    assert "".join(c.text for c in chunks) == "".join(ANSWER_WORDS)
    assert provider.retry_count == 1


def test_persistent_rate_limit_becomes_rate_limited_error(fake: FakeOpenAI) -> None:
    fake.script = ["429"] * 5
    provider, _ = make(fake, max_retries=2)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    assert info.value.error_type == semconv.ERROR_RATE_LIMITED
    assert info.value.status_code == 429
    assert info.value.retry_after_s == 0.0
    assert len(fake.requests) == 3  # first attempt + 2 retries, then it gives up


def test_server_error_after_bounded_retries_with_jittered_backoff(fake: FakeOpenAI) -> None:
    fake.script = ["500"] * 5
    provider, sleep = make(fake, max_retries=3, backoff_base_s=0.5, backoff_max_s=1.5)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    assert info.value.error_type == semconv.ERROR_SERVER
    assert info.value.status_code == 500
    assert "fake server_error" in info.value.message
    assert len(fake.requests) == 4
    assert provider.retry_count == 3
    # Full jitter: each delay is drawn from [0, min(max, base * 2^(n-1))].
    caps = [0.5, 1.0, 1.5]
    assert len(sleep.delays) == 3
    assert all(0.0 <= d <= cap for d, cap in zip(sleep.delays, caps, strict=True))


def test_client_error_is_not_retried(fake: FakeOpenAI) -> None:
    fake.script = ["400", "ok"]
    provider, sleep = make(fake, max_retries=3)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    assert info.value.error_type == semconv.ERROR_CLIENT
    assert info.value.status_code == 400
    assert len(fake.requests) == 1 and sleep.delays == []


def test_hanging_server_times_out(fake: FakeOpenAI) -> None:
    fake.script = ["hang", "hang"]
    provider, _ = make(fake, timeout_s=1.0, max_retries=1)  # << hang_seconds (5 s)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    assert info.value.error_type == semconv.ERROR_TIMEOUT
    assert info.value.status_code is None
    assert len(fake.requests) == 2  # timeouts are retried too


def test_hanging_stream_times_out(fake: FakeOpenAI) -> None:
    fake.script = ["hang"]
    provider, _ = make(fake, timeout_s=1.0, max_retries=0)
    with pytest.raises(ProviderError) as info:
        asyncio.run(collect(provider, request(stream=True)))
    assert info.value.error_type == semconv.ERROR_TIMEOUT


def test_error_event_mid_stream_is_reported_not_replayed(fake: FakeOpenAI) -> None:
    fake.script = ["stream_error", "ok"]
    provider, _ = make(fake, max_retries=2)
    received: list[str] = []

    async def run() -> None:
        try:
            async for chunk in provider.stream(request(stream=True)):
                received.append(chunk.text)
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as info:
        asyncio.run(run())
    assert info.value.error_type == semconv.OTHER
    assert "overloaded" in info.value.message
    assert received == [ANSWER_WORDS[0]]
    assert len(fake.requests) == 1


def test_connection_refused_is_other_after_retries() -> None:
    sleep = SleepRecorder()
    provider = OpenAICompatibleProvider(
        base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=2, timeout_s=2.0, sleep=sleep
    )
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    assert info.value.error_type == semconv.OTHER
    assert len(sleep.delays) == 2


def test_api_key_never_appears_in_errors_or_repr(fake: FakeOpenAI) -> None:
    fake.script = ["401"]
    provider, _ = make(fake)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    error = info.value
    assert error.error_type == semconv.ERROR_CLIENT and error.status_code == 401
    assert "invalid credentials" in error.message  # the detail survives, the key does not
    for text in (str(error), repr(error), error.message, repr(provider)):
        assert API_KEY not in text
    assert "[REDACTED:api_key]" in error.message


def test_an_upstream_error_detail_is_redacted_like_any_sink(fake: FakeOpenAI) -> None:
    """The detail reaches the caller (502's reason) and the logs: it goes through redact()."""
    detail = "user jane.doe@example.com rejected: password=Hunter2Pg not accepted"
    fake.script = [Raw.of_json({"error": {"message": detail}}, status=403)]
    provider, _ = make(fake)
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, request()))
    message = info.value.message
    assert "rejected" in message, message  # the detail survives ...
    assert "jane.doe@example.com" not in message and "Hunter2Pg" not in message, message


def test_embeddings(fake: FakeOpenAI) -> None:
    provider, _ = make(fake)

    async def run():
        try:
            return await provider.embed(["first text", "second text"])
        finally:
            await provider.aclose()

    result = asyncio.run(run())
    assert len(result.vectors) == 2 and result.vectors[1][0] == pytest.approx(0.1)
    assert result.usage.input_tokens == 14 and result.usage.output_tokens == 0
    assert result.model == "text-embedding-3-small"
    [(path, _, body)] = fake.requests
    assert path == "/v1/embeddings"
    assert body == {"model": "text-embedding-3-small", "input": ["first text", "second text"]}


def test_unknown_model_is_a_client_error_without_a_request(fake: FakeOpenAI) -> None:
    provider, _ = make(fake)
    req = ChatRequest(model="gpt-9", messages=build_messages("hi"))
    with pytest.raises(ProviderError) as info:
        asyncio.run(chat(provider, req))
    assert info.value.error_type == semconv.ERROR_CLIENT
    assert "gpt-4o-mini" in info.value.message  # lists the allowed models
    assert fake.requests == []


def test_from_env_defaults_and_overrides() -> None:
    provider = OpenAICompatibleProvider.from_env({})
    assert provider.base_url == "https://api.openai.com/v1"
    assert provider.default_chat_model == "gpt-4o-mini"
    assert provider.models()["gpt-4o-mini"].provider == "openai"
    assert provider.max_retries == 2 and provider.timeout_s == 30.0
    asyncio.run(provider.aclose())

    env = {
        "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1/",
        "OPENAI_MODEL": "llama3.1:8b",
        "OPENAI_TIMEOUT_SECONDS": "12.5",
        "OPENAI_MAX_RETRIES": "0",
    }
    provider = build_provider("openai_compatible", environ=env)
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.base_url == "http://127.0.0.1:11434/v1"
    assert provider.models()["llama3.1:8b"].provider == "ollama"  # port 11434 → Ollama
    assert (provider.timeout_s, provider.max_retries) == (12.5, 0)
    asyncio.run(provider.aclose())


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OPENAI_BASE_URL": "ftp://example.invalid"}, "OPENAI_BASE_URL"),
        ({"OPENAI_TIMEOUT_SECONDS": "soon"}, "OPENAI_TIMEOUT_SECONDS"),
        ({"OPENAI_TIMEOUT_SECONDS": "0"}, "OPENAI_TIMEOUT_SECONDS"),
        # nan passed `<= 0`; inf made every call wait for ever on a stalled provider
        ({"OPENAI_TIMEOUT_SECONDS": "nan"}, "OPENAI_TIMEOUT_SECONDS: must be a finite"),
        ({"OPENAI_TIMEOUT_SECONDS": "inf"}, "OPENAI_TIMEOUT_SECONDS: must be a finite"),
        ({"OPENAI_CONTEXT_WINDOW": "0"}, "OPENAI_CONTEXT_WINDOW: must be >= 1"),
        ({"OPENAI_CONTEXT_WINDOW": "-5"}, "OPENAI_CONTEXT_WINDOW: must be >= 1"),
        ({"OPENAI_MAX_RETRIES": "-1"}, "OPENAI_MAX_RETRIES"),
    ],
)
def test_from_env_rejects_bad_settings_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(ValueError, match=variable):
        OpenAICompatibleProvider.from_env(env)


@pytest.mark.parametrize(
    "template", ["ftp://ops:{}@example.invalid", "https://ops:{}@example.invalid:99999/v1"]
)
def test_bad_base_url_message_names_the_variable_not_the_password(template: str) -> None:
    password = "hunter2" + "pw"  # built here: no credential-shaped literal in the repository
    with pytest.raises(ValueError, match="OPENAI_BASE_URL") as info:
        OpenAICompatibleProvider.from_env({"OPENAI_BASE_URL": template.format(password)})
    assert password not in str(info.value)
    assert "example.invalid" in str(info.value)


def test_retry_after_forms_and_cap() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from demo_app.providers.openai_wire import parse_retry_after as _parse_retry_after

    assert _parse_retry_after("3") == 3.0
    assert _parse_retry_after(" 0.5 ") == 0.5
    assert _parse_retry_after(None) is None and _parse_retry_after("soon") is None
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 5.0 <= (_parse_retry_after(in_ten) or 0) <= 10.0
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=10), usegmt=True)
    assert _parse_retry_after(past) == 0.0

    provider = OpenAICompatibleProvider(base_url="http://127.0.0.1:9/v1", retry_after_max_s=5.0)
    assert provider._delay(1, retry_after=600.0) == 5.0  # a huge Retry-After is capped
    assert provider._delay(1, retry_after=2.0) == 2.0
    asyncio.run(provider.aclose())
