"""Secrets and personal data never reach a telemetry sink: stdout logs, OTLP logs, span
attributes, /metrics. Planted values are generated at run time (nothing secret-shaped is
committed); content capture is ON, the hardest case: prompts are recorded, but redacted."""

from __future__ import annotations

import io
import random
import string
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from genai_telemetry import redaction, redaction_precheck, redaction_steps, tracing
from genai_telemetry.redaction import _redact_all, luhn_valid, may_need_redaction, redact
from genai_telemetry.redaction_patterns import _API_KEYS
from genai_telemetry.redaction_values import _key_values
from genai_telemetry.tracing import RedactingSpanProcessor
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc
from tests.demo_app.conftest import capturing_app, sink_texts

RNG = random.Random(20261127)


def _rand(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def _card() -> str:
    """A random 16-digit number with a valid Luhn check digit, grouped by 4."""
    body = "4" + _rand(string.digits, 14)
    check = next(d for d in string.digits if luhn_valid(body + d))
    digits = body + check
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


ALNUM = string.ascii_letters + string.digits
SECRETS = {
    "openai_key": "sk-" + "proj-" + _rand(ALNUM, 40),
    "anthropic_key": "sk-" + "ant-api03-" + _rand(ALNUM, 40),
    "aws_key": "AK" + "IA" + _rand(string.ascii_uppercase + string.digits, 16),
    "bearer": _rand(ALNUM, 36),
    "email": f"jane.doe.{_rand(string.ascii_lowercase, 6)}@example.org",
    "card": _card(),
    "phone": f"+1 415 555 {_rand(string.digits, 4)}",
}


def test_redact_each_kind() -> None:
    s = SECRETS
    assert redact(f"key {s['openai_key']} end") == "key [REDACTED:api_key] end"
    assert redact(s["anthropic_key"]) == "[REDACTED:api_key]"
    assert redact(s["aws_key"]) == "[REDACTED:api_key]"
    assert redact(f"Authorization: Bearer {s['bearer']}") == "Authorization: [REDACTED:credential]"
    assert redact(f"mail {s['email']}!") == "mail [REDACTED:email]!"
    assert redact(f"card {s['card']} ok") == "card [REDACTED:card_number] ok"
    assert redact(f"card {s['card'].replace(' ', '')}") == "card [REDACTED:card_number]"
    assert redact(f"call {s['phone']}") == "call [REDACTED:phone_number]"
    assert redact("call (415) 555-0100 now") == "call [REDACTED:phone_number] now"
    assert redact("api_key=" + _rand(ALNUM, 20)) == "api_key=[REDACTED:secret]"
    jwt = "eyJ" + _rand(ALNUM, 20) + ".eyJ" + _rand(ALNUM, 20) + "." + _rand(ALNUM, 20)
    assert redact(jwt) == "[REDACTED:jwt]"


@pytest.mark.parametrize(
    "text",
    [
        "What is 12345 * 67890?",
        "order 4111 1111 1111 1112 (fails the Luhn check)",
        "2026-11-27T05:22:01.104854Z",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "p95 latency 5.12 s at 1,024 tokens; budget 0.005",
        "gen_ai.usage.input_tokens and sk-short",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_ids_stay_whole() -> None:
    """Trace ids, request ids, response ids and UUIDs pass unchanged, including those holding a
    Luhn-valid digit run between letters (1 in 1,000 trace ids did: a broken trace link)."""
    rng = random.Random(20261203)
    ids = [
        shape.format(*(rng.getrandbits(bits) for bits in (32, 16, 12, 16, 48)))
        for shape in (
            "{0:08x}{1:04x}{2:03x}{3:04x}{4:012x}0",  # 32 hex: trace and request ids
            "chatcmpl-{0:08x}{1:04x}{2:03x}{3:04x}",  # response ids
            "{0:08x}-{1:04x}-4{2:03x}-{3:04x}-{4:012x}",  # UUIDs
        )
        for _ in range(10_000)
    ]
    assert [i for i in ids if redact(i) != i] == []


PLAIN_KEY = "plain-api-key-4f2a9c"  # no pattern would recognise it: only the header drop can
# More credential headers with shapeless values: dropped because of their names alone.
_NAMES = ("X-Auth-Token", "X-Amz-Security-Token", "X-Goog-Api-Key", "OpenAI-Api-Key")
_NAMES += ("Authentication", "X-Functions-Key", "X-Honeycomb-Team")
PLAIN_HEADERS = {name: f"plain-{name.lower()}" for name in _NAMES}


@pytest.fixture(scope="module")
def leaked(start_app: Callable[..., Proc]):
    """Requests with secrets in the question, headers, ids and query; everything the app emitted."""
    with OTLPReceiver("ok") as receiver:
        app = capturing_app(start_app, receiver, "redaction")
        s = SECRETS
        question = (
            f"My key is {s['openai_key']} and {s['anthropic_key']}, AWS {s['aws_key']}, "
            f"Authorization: Bearer {s['bearer']}, mail me at {s['email']}, card {s['card']}, "
            f"phone {s['phone']}. How do I monitor time to first token?"
        )
        headers = {
            "Authorization": f"Bearer {s['bearer']}",
            "User-Agent": f"client/1.0 ({s['openai_key']})",
            "X-Api-Key": PLAIN_KEY,
            "X-Request-ID": s["email"],
            "Cookie": f"session={s['bearer']}",
            **PLAIN_HEADERS,
        }
        body = {"question": question, "conversation_id": s["email"], "feature": s["aws_key"]}
        with httpx.Client(base_url=app.url, timeout=15, headers=headers) as c:
            r = c.post(f"/v1/chat?token={s['bearer']}", json=body)
            assert r.status_code == 200, r.text
            r = c.post("/v1/chat/stream", json=body)
            assert r.status_code == 200
            r = c.post("/v1/chat", json={**body, "model": s["openai_key"]})
            assert r.status_code == 422
            metrics = c.get("/metrics").text
            metrics += c.get("/metrics", headers={"Accept": "application/openmetrics-text"}).text

        def exported() -> bool:
            return (
                any(s.name.startswith("chat ") for s in receiver.spans())
                and len({s.trace_id for s in receiver.spans() if s.kind == "SERVER"}) >= 3
            )

        assert receiver.wait_for(exported, timeout=20)
        yield {
            **sink_texts(app, receiver),
            "metrics": metrics,
            "spans": receiver.spans(),
            "logs": receiver.logs(),
        }


@pytest.mark.parametrize("sink", ["stdout", "otlp", "metrics"])
@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_planted_secret_reaches_no_sink(leaked, sink: str, kind: str) -> None:
    secret = SECRETS[kind]
    text = leaked[sink]
    assert secret not in text, f"{kind} leaked into {sink}"
    if kind in ("card", "phone"):
        assert secret.replace(" ", "") not in text.replace(" ", "")


def test_captured_headers_are_redacted_and_credentials_dropped(leaked) -> None:
    """OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_* = ".*" on the real app."""
    servers = [s for s in leaked["spans"] if s.kind == "SERVER"]
    assert servers
    for span in servers:
        captured = {k for k in span.attributes if k.startswith("http.request.header.")}
        assert "http.request.header.x_request_id" in captured  # capture is really on
        for header in ("authorization", "cookie", "x_api_key", *PLAIN_HEADERS):
            key = "http.request.header." + header.lower().replace("-", "_")
            assert key not in captured, header
        assert "[REDACTED:email]" in str(span.attributes["http.request.header.x_request_id"])
        assert "http.response.header.content_type" in span.attributes
    for value in (PLAIN_KEY, *PLAIN_HEADERS.values()):  # without a known key shape
        assert value not in leaked["otlp"], value


def test_content_was_captured_and_redacted_not_dropped(leaked) -> None:
    """Guards the test above against passing vacuously (e.g. nothing exported at all)."""
    chat_spans = [s for s in leaked["spans"] if s.name.startswith("chat ")]
    assert chat_spans
    messages = chat_spans[0].attributes["gen_ai.input.messages"]
    for kind in ("api_key", "credential", "email", "card_number", "phone_number"):
        assert f"[REDACTED:{kind}]" in messages, kind
    assert "time to first token" in messages
    assert "gen_ai.output.messages" in chat_spans[0].attributes
    answered = [r for r in leaked["logs"] if r.body == "chat_answered"]
    assert answered and "[REDACTED:email]" in answered[0].attributes["question"]
    assert '"question": "My key is [REDACTED:api_key]' in leaked["stdout"]
    supervisor = next(s for s in leaked["spans"] if s.name == "invoke_agent supervisor")
    assert supervisor.attributes["gen_ai.conversation.id"] == "[REDACTED:email]"


# --- the cheap precheck and the span processor's no-copy path ----------------------------------
# Characters the patterns care about, so random text often comes close to a match.
_ALPHABET = string.ascii_letters + string.digits + " -._:=@+()/\"'\t" + "٣é" + "ｓｋ＝：　中аѕοКж"
_FRAGMENTS = st.sampled_from(
    [
        *("bearer ", "Bearer ", "eyJ", "sk-", "AKIA", "ghp_", "hf_", "sk_live_", "AIza", "xoxb-"),
        *("glpat-", "api_key=", "password: ", "token=", "@example.org", "+1 ", "(415) ", "555-"),
        *("4111 1111 1111 1111", "4222222222222", "0123456789", "127.0.0.1:41234", " response="),
        *("xoxb-" + "a1" * 6, "glpat-" + "b2" * 10, "hf_" + "c3" * 15, "ghp_" + "d4" * 10),
        *("AIza" + "e5" * 15, "rk_test_" + "f6" * 8, "eyJ" + "abc12." * 3, "secret: abcdefg"),
        *("-----BEGIN RSA " + "PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "%3D", "%22"),
        *("Authorization: ", "Basic dXNlcjpwYXNz", "://u:", "aws_secret_access_key=", "sig="),
        *("DE89370400440532013000", "123-45-6789", "AccountKey=", "ya29.", "SG.", "passphrase"),
        *("PGPASSWORD=", "dbpass=", "jwtsecret: ", "OPENAI_KEY=", "compass=", "maxtoken="),
        *("curl ", "CURL -sS ", " -u ", " --user=", "-U ", " a:b", " | ", "http -a ", "xh "),
        *("mysql -p", "MySQL -u ", "sshpass -p", "redis-cli -a ", " --pass ", " -p", "$", "haslo:"),
        *("passwordvalue=", "tokenvalue=", "keyvalue=", "passwordless=", "mdp=", 'Digest u="1", '),
        # webhook paths without a scheme: only the "hook" guard can flag them
        *("hooks.slack.com/services/T0/B0/" + "g7" * 10, "discord.com/api/webhooks/" + "h8" * 10),
        *("acme.webhook.office.com/webhookb2/" + "i9" * 10, "HOOKS.SLACK.COM/workflows/", "SENHA="),
        *("ｓｋ-proj-", "ｓｋ-" + "ｘ" * 16, "ｐａｓｓｗｏｒｄ＝", "token：", "４１１１"),
        *("＠ｅｘ．ｏｒｇ", "ѕk-proj-", "раssword=", "АКІА", "tοken=", "Пароль: "),
        *(*SECRETS.values(), "key-" + "a1" * 16, "M" + "c3d" * 8 + ".e4f5g6." + "h7" * 14),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(_ALPHABET, max_size=24), _FRAGMENTS), max_size=8))
def test_precheck_never_skips_text_the_patterns_would_change(parts: list[str]) -> None:
    text = "".join(parts)
    if not may_need_redaction(text):
        assert _redact_all(text) == text


def _unguarded_steps(text: str) -> str:
    for pattern, replacement, _ in redaction_steps._STEPS:
        text = pattern.sub(replacement, text)
        if pattern is _API_KEYS:
            text = _key_values(text)
    return text


def _unguarded(text: str) -> str:
    return redaction._with_compat(text, _unguarded_steps, _unguarded_steps)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(_ALPHABET, max_size=24), _FRAGMENTS), max_size=8))
def test_step_guards_never_skip_a_pattern_that_would_match(parts: list[str]) -> None:
    text = "".join(parts)
    assert _redact_all(text) == _unguarded(text)


def test_precheck_flags_every_planted_secret() -> None:
    for kind, secret in SECRETS.items():
        text = f"x Bearer {secret} y" if kind == "bearer" else f"x {secret} y"
        assert may_need_redaction(text), kind
        assert redact(text) != text, kind


def test_clean_cache_keeps_only_clean_strings_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redaction_precheck, "_known_clean", set())
    monkeypatch.setattr(redaction_precheck, "CLEAN_CACHE_SIZE", 8)
    assert not may_need_redaction("chat gpt-4o-mini")
    assert "chat gpt-4o-mini" in redaction_precheck._known_clean
    for kind, secret in SECRETS.items():  # a secret is never remembered as clean
        text = f"x Bearer {secret} y" if kind == "bearer" else f"x {secret} y"
        assert may_need_redaction(text) and may_need_redaction(text), kind
        assert text not in redaction_precheck._known_clean
        assert redact(text) != text
    assert not may_need_redaction("x" * (redaction_precheck.CLEAN_CACHE_MAX_LEN + 1))
    assert len(redaction_precheck._known_clean) == 1  # too long to keep
    for i in range(20):  # a stream of unique values: emptied when full, never above the bound
        assert not may_need_redaction(f"value {chr(97 + i)}")
        assert len(redaction_precheck._known_clean) <= 8


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(_ALPHABET, max_size=24), _FRAGMENTS), max_size=8))
def test_precheck_answers_the_same_from_the_cache(parts: list[str]) -> None:
    text = "".join(parts)
    first = may_need_redaction(text)
    assert may_need_redaction(text) == first == redaction_precheck._may_need_redaction(text)


def _export(build: Callable[[TracerProvider], None]) -> list:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RedactingSpanProcessor(SimpleSpanProcessor(exporter)))
    build(provider)
    return list(exporter.get_finished_spans())


def test_clean_span_is_passed_on_without_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_copy(span: object) -> None:
        raise AssertionError(f"clean span copied: {span}")

    monkeypatch.setattr(tracing, "_redacted_copy", no_copy)

    def build(provider: TracerProvider) -> None:
        span = provider.get_tracer("t").start_span(
            "chat gpt-4o-mini",
            attributes={"gen_ai.operation.name": "chat", "server.address": "127.0.0.1"},
        )
        span.set_attribute("gen_ai.response.finish_reasons", ("stop",))
        span.add_event("gen_ai.evaluation.result", {"gen_ai.evaluation.score.value": 0.9})
        span.end()

    (exported,) = _export(build)
    assert exported.attributes["server.address"] == "127.0.0.1"


def test_span_with_a_secret_anywhere_is_redacted() -> None:
    s = SECRETS

    def build(provider: TracerProvider) -> None:
        span = provider.get_tracer("t").start_span(
            f"GET {s['email']}",
            attributes={
                "gen_ai.conversation.id": s["email"],
                "user_agent.original": f"client ({s['openai_key']})",
                "url.query": f"token={s['bearer']}",
                "gen_ai.response.finish_reasons": ("stop", s["phone"]),
                "http.request.header.authorization": "Basic abc",
            },
        )
        span.add_event("exception", {"exception.message": f"card {s['card']}"})
        span.set_status(Status(StatusCode.ERROR, f"failed for {s['aws_key']}"))
        span.end()

    (exported,) = _export(build)
    text = repr((exported.name, dict(exported.attributes), exported.status.description))
    text += repr([dict(e.attributes or {}) for e in exported.events])
    for kind, secret in s.items():
        assert secret not in text, kind
    assert "http.request.header.authorization" not in exported.attributes
    assert exported.attributes["gen_ai.conversation.id"] == "[REDACTED:email]"
    assert exported.attributes["url.query"] == "token=[REDACTED:query_value]"


def test_values_skipped_on_span_end_are_redacted_where_they_are_set() -> None:
    """tracing.REDACTED_AT_SOURCE: retrieved document ids and provider response ids are not
    scanned again when the span ends, so the pipeline must redact them when it sets them."""
    import asyncio
    import dataclasses

    from demo_app.cache import ResponseCache
    from demo_app.config import Settings
    from demo_app.corpus import RetrievedDoc
    from demo_app.pipeline import ChatInput, Pipeline
    from demo_app.providers import build_provider
    from genai_telemetry.pricing import PriceTable
    from genai_telemetry.telemetry import Telemetry

    s = SECRETS
    provider = build_provider("simulated", seed=1, latency_scale=0)
    real_chat = provider.chat

    async def chat(req):  # type: ignore[no-untyped-def]
        result = await real_chat(req)
        return dataclasses.replace(result, response_id=f"resp {s['email']}")

    provider.chat = chat  # type: ignore[method-assign]

    class Retriever:
        data_source_id = "corpus"

        def search(self, query: str, top_k: int) -> list[RetrievedDoc]:
            return [RetrievedDoc(id=f"doc-{s['openai_key']}", title="t", text="ttft", score=0.9)]

    exporter = InMemorySpanExporter()
    settings = Settings.from_env(
        {"OTEL_BSP_SCHEDULE_DELAY": "10", "GENAI_CAPTURE_RETRIEVAL_DOCUMENTS": "true"}
    )
    telemetry = Telemetry.build(
        settings, models=provider.models(), span_exporter=exporter, log_stream=io.StringIO()
    )
    pipeline = Pipeline(
        provider=provider,
        retriever=Retriever(),
        prices=PriceTable.load(),
        cache=ResponseCache(ttl_s=0, max_entries=1),
        telemetry=telemetry,
    )
    asyncio.run(pipeline.run(ChatInput(question="What is TTFT?", model="gpt-4o-mini")))
    telemetry.shutdown()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    documents = spans["retrieval corpus"].attributes["gen_ai.retrieval.documents"]
    assert "doc-[REDACTED:api_key]" in documents and s["openai_key"] not in documents
    assert spans["chat gpt-4o-mini"].attributes["gen_ai.response.id"] == "resp [REDACTED:email]"
