"""The redaction corpus (redaction_corpus.yaml): every secret masked, every look-alike kept, by
`redact` and on the real sinks of a running rag-api (stdout, decoded OTLP, /metrics), and the
recall / false-positive figures quoted in docs/security.md are the measured ones."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from genai_telemetry.redaction import may_need_redaction, redact
from harness import ROOT
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc
from tests.demo_app.conftest import capturing_app, sink_texts
from tests.demo_app.redaction_corpus import Sample, load

SAMPLES, LOOKALIKES = load()


def measure() -> tuple[int, int, int, int]:
    """(secret samples fully masked, samples, look-alikes changed, look-alikes)."""
    caught = sum(all(s not in redact(x.text) for s in x.secrets) for x in SAMPLES)
    changed = sum(redact(text) != text for text in LOOKALIKES)
    return caught, len(SAMPLES), changed, len(LOOKALIKES)


def test_corpus_is_as_broad_as_promised() -> None:
    assert len(SAMPLES) >= 60 and len(LOOKALIKES) >= 30
    kinds = {s.kind for s in SAMPLES}
    assert len(kinds) >= 10, kinds
    assert any("\n" in s.text for s in SAMPLES)  # multi-line PEM


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s.kind}:{s.template[:40]}")
def test_secret_is_masked_with_its_kind(sample: Sample) -> None:
    out = redact(sample.text)
    for secret in sample.secrets:
        assert secret not in out, f"{sample.kind} survived: {out!r}"
    assert f"[REDACTED:{sample.kind}]" in out, out
    assert may_need_redaction(sample.text)


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_survives(text: str) -> None:
    assert redact(text) == text


def test_docs_quote_the_measured_figures() -> None:
    caught, total, changed, looks = measure()
    doc = (ROOT / "docs" / "security.md").read_text()
    m = re.search(r"recall \*\*(\d+)/(\d+)\*\*, false positives \*\*(\d+)/(\d+)\*\*", doc)
    assert m, "docs/security.md lost its 'recall **n/m**, false positives **n/m**' line"
    assert tuple(map(int, m.groups())) == (caught, total, changed, looks)


# --- the real sinks --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sinks(start_app: Callable[..., Proc]) -> dict[str, Any]:
    """Every corpus sample sent through every input of a running app: the question (content
    capture ON), conversation_id, X-Request-ID (ASCII samples: headers are bytes), an unknown
    query parameter and the feature."""
    with OTLPReceiver("ok") as receiver:
        app = capturing_app(start_app, receiver, "redaction-corpus")
        with httpx.Client(base_url=app.url, timeout=15) as c:
            for sample in SAMPLES:
                body = {"question": f"Question: {sample.text}", "feature": sample.text[:64]}
                if len(sample.text) <= 128:
                    body["conversation_id"] = sample.text
                headers = {}
                if sample.text.isascii():  # (a header value has no edge whitespace)
                    headers["X-Request-ID"] = sample.text[:64].replace("\n", " ").strip()
                r = c.post("/v1/chat", params={"q": sample.text}, json=body, headers=headers)
                assert r.status_code == 200, r.text
            metrics = c.get("/metrics").text
        assert receiver.wait_for(lambda: len(receiver.spans()) > len(SAMPLES), timeout=20)
        texts = sink_texts(app, receiver)
        # JSON lines escape non-ASCII ("\uff53"): read back, a fullwidth secret is searchable.
        lines = texts["stdout"].splitlines()
        texts["stdout"] = "\n".join(
            json.dumps(json.loads(x), ensure_ascii=False) for x in lines if x.strip()
        )
        return {
            **texts,
            "metrics": metrics,
            "decoded": repr(receiver.spans()) + repr(receiver.logs()),
        }


@pytest.mark.parametrize("sink", ["stdout", "otlp", "decoded", "metrics"])
def test_no_corpus_secret_reaches_a_sink(sinks: dict[str, Any], sink: str) -> None:
    text = sinks[sink]
    leaked = [(s.kind, secret[:24]) for s in SAMPLES for secret in s.secrets if secret in text]
    assert not leaked, f"leaked into {sink}: {leaked[:5]}"


def test_sinks_really_carried_the_redacted_content(sinks: dict[str, Any]) -> None:
    """Guards the test above against passing vacuously."""
    for sink in ("stdout", "otlp"):
        assert "[REDACTED:card_number]" in sinks[sink], sink
        assert "[REDACTED:private_key]" in sinks[sink], sink
    assert "q=[REDACTED:query_value]" in sinks["decoded"]
    assert sinks["stdout"].count('"event": "chat_answered"') >= len(SAMPLES)


def test_issue_repro_with_content_capture_off(start_app: Callable[..., Proc]) -> None:
    """The reported leaks, capture off: a Luhn-valid card with a full stop in X-Request-ID and
    conversation_id, a token in an unexpected query parameter."""
    card = "4111111111111111."
    token = "Zq8" + "x7Lm2Vb9Nw4Rt6Yz1Hc5Jm0Pd"
    with OTLPReceiver("ok") as receiver:
        app = start_app(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"},
            name="redaction-repro",
        )
        r = httpx.post(
            app.url + f"/v1/chat?auth={token}",
            json={"question": "What is TTFT?", "conversation_id": f"order {card}"},
            headers={"X-Request-ID": card.rstrip(".")},
            timeout=15,
        )
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] != card.rstrip(".")  # replaced, not echoed
        assert receiver.wait_for(lambda: any(s.kind == "SERVER" for s in receiver.spans()))
        app.stop()
        spans, raw = receiver.spans(), b"".join(receiver.raw_bodies())
    stdout = Path(app.log_path).read_text()
    for text in (stdout, raw.decode("utf-8", errors="replace"), repr(spans)):
        assert card.rstrip(".") not in text and token not in text
    (server,) = [s for s in spans if s.kind == "SERVER"]
    assert server.attributes["url.query"] == "auth=[REDACTED:query_value]"
    supervisor = next(s for s in spans if s.name == "invoke_agent supervisor")
    assert supervisor.attributes["gen_ai.conversation.id"] == "order [REDACTED:card_number]."
