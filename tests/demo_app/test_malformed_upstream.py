"""rag-api (`python -m demo_app`, LLM_PROVIDER=openai_compatible, no retries) against a loopback
upstream that answers malformed: every such answer is 502 `provider_other` naming the problem
(or, once a stream has started, its `event: error`), never a 500, a cut stream, a traceback on
stdout or a cost counter poisoned until restart (docs/telemetry.md § HTTP status mapping)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from genai_telemetry import semconv as sc
from harness.fake_openai import COMPLETION_ID, FakeOpenAI, Raw, chunk, completion, embeddings
from harness.fake_openai import fake_openai_server as fake_server
from harness.procs import Proc
from tests.demo_app.conftest import log_lines, parse_sse, unique_question

OK = "ok"  # the embeddings call every retrieval answer makes first
INF = float("inf")
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def upstream(start_app: Callable[..., Proc]) -> Iterator[tuple[FakeOpenAI, Proc]]:
    with fake_server() as fake:
        env = {
            "LLM_PROVIDER": "openai_compatible",
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_MAX_RETRIES": "0",
        }
        yield fake, start_app(env, name="malformed-upstream")


def _chat(fake: FakeOpenAI, app: Proc, *script: str | Raw, path: str = "/v1/chat"):
    fake.script = list(script)
    response = httpx.post(app.url + path, json={"question": unique_question()}, timeout=15)
    assert fake.script == [], "every scripted answer was asked for"
    # stdout holds JSON lines only (a traceback fails log_lines), none of them our own bug
    assert not [x for x in log_lines(app) if x.get("event") == "unhandled_exception"]
    return response


def _chat_cost(app: Proc) -> float:
    """Dollars counted for the chat model (the embeddings before it are rightly priced)."""
    text = httpx.get(app.url + "/metrics").text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sc.LLM_COST and s.labels.get(sc.L_MODEL) == "gpt-4o-mini"
    )


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ([OK, Raw.of_json({**completion(), "usage": {"prompt_tokens": INF}})], "Infinity"),
        ([Raw.of_json({**embeddings({"input": ["q"]}), "usage": {"prompt_tokens": INF}})], "Inf"),
        ([OK, Raw(b'{"choices": ' + DEEP + b"}")], "nested too deeply"),
        (
            [OK, Raw.of_json({**completion(), "choices": [{"message": {"content": "\ud800"}}]})],
            "surrogate",
        ),
        ([OK, Raw.of_json({**completion(), "usage": {"prompt_tokens": 1e300}})], "prompt_tokens"),
    ],
)
def test_malformed_answer_is_502_provider_other(
    upstream: tuple[FakeOpenAI, Proc], script: list[str | Raw], named: str
) -> None:
    fake, app = upstream
    cost_before = _chat_cost(app)
    r = _chat(fake, app, *script)
    assert r.status_code == 502, r.text
    body = r.json()
    assert body["error"] == "provider_other"
    assert named in body["detail"][0]["reason"], body
    assert _chat_cost(app) == cost_before, "a malformed usage must not be priced"


@pytest.mark.parametrize(
    ("events", "named"),
    [
        ([{"choices": "abc"}], "choices must be an array"),
        ([chunk(COMPLETION_ID, {"content": "\ud800"}, None)], "lone surrogate"),
        ([DEEP.decode()], "nested too deeply"),
    ],
)
def test_malformed_stream_before_its_first_chunk_is_502(
    upstream: tuple[FakeOpenAI, Proc], events: list, named: str
) -> None:
    fake, app = upstream
    r = _chat(fake, app, OK, Raw.of_sse([*events, "[DONE]"]), path="/v1/chat/stream")
    assert r.status_code == 502, r.text
    assert r.json()["error"] == "provider_other"
    assert named in r.json()["detail"][0]["reason"]


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (chunk(COMPLETION_ID, {"content": "\ud800"}, None), "lone surrogate"),
        ({"choices": [], "usage": {"prompt_tokens": INF}}, "Infinity"),
        ({"choices": [], "usage": {"completion_tokens": 10**12}}, "completion_tokens"),
    ],
)
def test_malformed_stream_after_its_first_chunk_ends_with_the_error_event(
    upstream: tuple[FakeOpenAI, Proc], event: dict, named: str
) -> None:
    fake, app = upstream
    first = chunk(COMPLETION_ID, {"content": "Hello"}, None)
    r = _chat(fake, app, OK, Raw.of_sse([first, event, "[DONE]"]), path="/v1/chat/stream")
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert events[0] == ("chunk", {"text": "Hello"})
    kind, data = events[-1]
    assert kind == "error" and data["error_type"] == sc.OTHER, events
    assert named in data["message"]


def test_upstream_error_with_a_lone_surrogate_is_served(upstream: tuple[FakeOpenAI, Proc]) -> None:
    fake, app = upstream
    r = _chat(fake, app, OK, Raw.of_json({"error": {"message": "down \ud800"}}, 500))
    assert r.status_code == 502, r.text
    assert r.json()["error"] == "provider_server_error"
    assert "down \\ud800" in r.json()["detail"][0]["reason"]


def test_rate_limit_with_an_infinite_retry_after(upstream: tuple[FakeOpenAI, Proc]) -> None:
    fake, app = upstream
    limited = Raw.of_json({"error": {"message": "slow down"}}, 429, {"Retry-After": "inf"})
    r = _chat(fake, app, OK, limited)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "provider_rate_limited"
    assert r.headers["retry-after"] == "1"
