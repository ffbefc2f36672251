"""Secrets and personal data never reach a telemetry sink: stdout logs, OTLP logs, span
attributes, /metrics. Planted values are generated at run time (nothing secret-shaped is
committed); content capture is ON, the hardest case: prompts are recorded, but redacted."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from demo_app.telemetry.redaction import luhn_valid, redact
from tests.demo_app.otlp_receiver import OTLPReceiver
from tests.support.procs import Proc

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
    assert (
        redact(f"Authorization: Bearer {s['bearer']}") == "Authorization: [REDACTED:bearer_token]"
    )
    assert redact(f"mail {s['email']}!") == "mail [REDACTED:email]!"
    assert redact(f"card {s['card']} ok") == "card [REDACTED:card_number] ok"
    assert redact(f"card {s['card'].replace(' ', '')}") == "card [REDACTED:card_number]"
    assert redact(f"call {s['phone']}") == "call [REDACTED:phone_number]"
    assert redact("call (415) 555-0100 now") == "call [REDACTED:phone_number] now"
    assert redact("api_key=" + _rand(ALNUM, 20)) == "api_key=[REDACTED:api_key]"
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


@pytest.fixture(scope="module")
def leaked(start_app: Callable[..., Proc]):
    """Requests with secrets in the question, headers, ids and query; everything the app emitted."""
    with OTLPReceiver("ok") as receiver:
        app = start_app(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            },
            name="redaction",
        )
        s = SECRETS
        question = (
            f"My key is {s['openai_key']} and {s['anthropic_key']}, AWS {s['aws_key']}, "
            f"Authorization: Bearer {s['bearer']}, mail me at {s['email']}, card {s['card']}, "
            f"phone {s['phone']}. How do I monitor time to first token?"
        )
        headers = {
            "Authorization": f"Bearer {s['bearer']}",
            "User-Agent": f"client/1.0 ({s['openai_key']})",
            "X-Api-Key": s["anthropic_key"],
            "X-Request-ID": s["email"],
            "Cookie": f"session={s['bearer']}",
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
        app.stop()  # flushes the remaining log records
        yield {
            "stdout": Path(app.log_path).read_text(),
            "otlp": b"\n".join(receiver.raw_bodies()).decode("utf-8", errors="replace"),
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


def test_content_was_captured_and_redacted_not_dropped(leaked) -> None:
    """Guards the test above against passing vacuously (e.g. nothing exported at all)."""
    chat_spans = [s for s in leaked["spans"] if s.name.startswith("chat ")]
    assert chat_spans
    messages = chat_spans[0].attributes["gen_ai.input.messages"]
    for kind in ("api_key", "bearer_token", "email", "card_number", "phone_number"):
        assert f"[REDACTED:{kind}]" in messages, kind
    assert "time to first token" in messages
    assert "gen_ai.output.messages" in chat_spans[0].attributes
    answered = [r for r in leaked["logs"] if r.body == "chat_answered"]
    assert answered and "[REDACTED:email]" in answered[0].attributes["question"]
    assert '"question": "My key is [REDACTED:api_key]' in leaked["stdout"]
    supervisor = next(s for s in leaked["spans"] if s.name == "invoke_agent supervisor")
    assert supervisor.attributes["gen_ai.conversation.id"] == "[REDACTED:email]"
