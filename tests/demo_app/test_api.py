"""rag-api over real HTTP: answers, tool path, cache, 429, provider failures, bad input."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from demo_app import app as app_module
from demo_app.api.errors import provider_error
from demo_app.config import Settings
from demo_app.providers.base import ProviderError
from demo_app.providers.simulated import load_catalog
from genai_telemetry import semconv as sc
from harness.procs import Proc
from tests.demo_app.conftest import serve_in_thread, unique_question

# Every chat model of the shipped simulated catalog (demo_app/providers/catalog.yaml).
CHAT_MODELS = sorted(m.name for m in load_catalog()[0].values() if m.kind == "chat")


def test_chat_answers_with_sources_usage_cost_and_evaluation(client: httpx.Client) -> None:
    r = client.post("/v1/chat", json={"question": unique_question(), "user_tier": "pro"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["route"] == "retrieval"
    assert body["answer"].strip()
    assert body["sources"], "a question about TTFT must retrieve documents"
    for source in body["sources"]:
        assert set(source) == {"id", "title", "score"}
        assert 0.0 <= source["score"] <= 1.0
    assert body["model"] == "gpt-4o-mini" and body["provider"] == "openai"
    usage = body["usage"]
    assert set(usage) == {
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "reasoning_tokens",
    }
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert body["cost_usd"] > 0
    assert set(body["evaluation"]) == set(sc.EVALUATION_NAMES)
    assert all(0.0 <= v <= 1.0 for v in body["evaluation"].values())
    assert body["cache"] == {"hit": False, "saved_usd": 0.0}
    assert re.fullmatch(r"[0-9a-f]{32}", body["trace_id"])
    assert body["request_id"] == r.headers["x-request-id"]


def test_request_id_is_taken_from_header_only_when_sane(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat", json={"question": "What is 2+2?"}, headers={"X-Request-ID": "abc-123"}
    )
    assert r.json()["request_id"] == "abc-123"
    hostile = "x" * 300
    r = client.post(
        "/v1/chat", json={"question": "What is 2+2?"}, headers={"X-Request-ID": hostile}
    )
    assert r.json()["request_id"] != hostile
    assert re.fullmatch(r"[0-9a-f]{32}", r.json()["request_id"])
    # Sent twice: the app took the last, a proxy logs the first; neither is kept (one request,
    # one id in every log).
    two = [("X-Request-ID", "proxy-sees-this"), ("X-Request-ID", "app-took-this")]
    r = client.post("/v1/chat", json={"question": "What is 2+2?"}, headers=two)
    assert re.fullmatch(r"[0-9a-f]{32}", r.json()["request_id"]), r.json()["request_id"]
    assert r.headers.get_list("x-request-id") == [r.json()["request_id"]]


def test_arithmetic_goes_to_the_calculator_tool(client: httpx.Client) -> None:
    r = client.post("/v1/chat", json={"question": "What is 12 * (3 + 4)?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["route"] == "tool"
    assert "84" in body["answer"]
    assert body["sources"] == [] and body["model"] is None and body["evaluation"] is None
    assert body["cost_usd"] == 0.0


def test_calculator_errors_are_answered_not_500(client: httpx.Client) -> None:
    r = client.post("/v1/chat", json={"question": "What is 1/0?"})
    assert r.status_code == 200, r.text
    assert r.json()["route"] == "tool"
    assert "cannot compute" in r.json()["answer"]


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_every_catalog_model_answers(client: httpx.Client, model: str) -> None:
    r = client.post("/v1/chat", json={"question": unique_question(), "model": model})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == model
    if model == "llama-3.1-8b-local":
        assert body["cost_usd"] is None, "unpriced model: null cost, never a silent $0"
    else:
        assert body["cost_usd"] > 0


def test_identical_question_is_served_from_cache_at_zero_cost(client: httpx.Client) -> None:
    question = unique_question("What does the response cache save")
    first = client.post("/v1/chat", json={"question": question, "feature": "search"}).json()
    second = client.post("/v1/chat", json={"question": question, "feature": "search"}).json()
    assert first["cache"]["hit"] is False
    assert second["cache"] == {"hit": True, "saved_usd": first["cost_usd"]}
    assert second["cost_usd"] == 0.0
    assert second["answer"] == first["answer"]
    assert second["usage"] == first["usage"], "cached answers still report the usage they cost"
    assert second["request_id"] != first["request_id"]
    # A different feature is a different cache key.
    third = client.post("/v1/chat", json={"question": question, "feature": "chat"}).json()
    assert third["cache"]["hit"] is False


def test_provider_failures_map_to_5xx_with_retry_after(
    client: httpx.Client, admin_headers: dict[str, str], reset_faults: None
) -> None:
    client.put("/admin/faults", json={"error_rate": 1.0}, headers=admin_headers).raise_for_status()
    r = client.post("/v1/chat", json={"question": unique_question()})
    assert r.status_code == 502, r.text
    assert r.json()["error"] == "provider_server_error"

    client.put(
        "/admin/faults", json={"rate_limit_rate": 1.0}, headers=admin_headers
    ).raise_for_status()
    r = client.post("/v1/chat", json={"question": unique_question()})
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "provider_rate_limited"
    assert int(r.headers["retry-after"]) >= 1


def test_rate_limiter_answers_429_per_tier(start_app: Callable[..., Proc]) -> None:
    app = start_app(
        {
            "RATE_LIMIT_ENABLED": "true",
            "RATE_LIMIT_FREE_RPS": "0.01",
            "RATE_LIMIT_FREE_BURST": "2",
            "RATE_LIMIT_PRO_RPS": "0.01",
            "RATE_LIMIT_PRO_BURST": "5",
        },
        name="ratelimited",
    )
    with httpx.Client(base_url=app.url, timeout=15) as c:
        free = [
            c.post("/v1/chat", json={"question": "What is 1+1?", "user_tier": "free"})
            for _ in range(3)
        ]
        assert [r.status_code for r in free] == [200, 200, 429]
        limited = free[2]
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"] == "rate_limited"
        assert limited.json()["detail"][0]["field"] == "X-API-Key"
        # The tier comes from the API key, not the body: claiming a higher tier changes nothing,
        # unknown tiers and unknown keys are limited as free (least privilege).
        for body_tier, headers in [
            ("enterprise", {}),
            ("platinum", {}),
            ("pro", {"X-API-Key": "not-a-known-key"}),
        ]:
            r = c.post(
                "/v1/chat",
                json={"question": "What is 1+1?", "user_tier": body_tier},
                headers=headers,
            )
            assert r.status_code == 429, (body_tier, headers)
        # A pro key has its own, larger bucket; the body may lower the tier, never raise it.
        pro_key = {"X-API-Key": "demo-pro-key"}
        pro = [
            c.post("/v1/chat", json={"question": "What is 1+1?"}, headers=pro_key) for _ in range(5)
        ]
        assert all(r.status_code == 200 for r in pro)
        lowered = c.post(
            "/v1/chat",
            json={"question": "What is 1+1?", "user_tier": "free"},
            headers={"X-API-Key": "demo-enterprise-key"},
        )
        assert lowered.status_code == 429, "an enterprise key asking for free is served as free"
        # Bad input is rejected before it can spend tokens.
        assert c.post("/v1/chat", json={"question": ""}).status_code == 422


# --- bad input: each a 4xx naming the field and the reason, never a 500 -------------------------
BAD_BODIES = [
    ({"question": ""}, "question", "at least 1"),
    ({"question": "   "}, "question", "non-whitespace"),
    ({"question": "x" * 4001}, "question", "at most 4000"),
    ({}, "question", "required"),
    ({"question": 123}, "question", "valid string"),
    ({"question": "hi", "max_tokens": "many"}, "max_tokens", "valid integer"),
    ({"question": "hi", "max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
    ({"question": "hi", "temperature": 9}, "temperature", "less than or equal to 2"),
    ({"question": "hi", "user_tier": ["pro"]}, "user_tier", "valid string"),
    ({"question": "hi", "stream": True}, "stream", "unknown field"),
    ({"question": "hi", "model": "gpt-5-ultra"}, "model", "allowed: "),
    (["question"], "body", "valid dictionary"),
    ({"question": "hi", "": None}, '""', "unknown field"),
    ({"question": "hi", "temperature": False}, "temperature", "valid number"),
    ({"question": "hi", "max_tokens": "5"}, "max_tokens", "valid integer"),
    ({"question": "hi", "user": ""}, "user", "at least 1"),
    ({"question": "hi", "user": "x" * 257}, "user", "at most 256"),
    ({"question": "hi", "user": 42}, "user", "valid string"),
    # Bounded free text that reaches labels, logs and cache keys (a mutation audit found no row).
    ({"question": "hi", "feature": "x" * 65}, "feature", "at most 64"),
    ({"question": "hi", "user_tier": "x" * 65}, "user_tier", "at most 64"),
    ({"question": "hi", "conversation_id": "x" * 129}, "conversation_id", "at most 128"),
    ({"question": "hi", "model": "x" * 129}, "model", "at most 128"),
]


@pytest.mark.parametrize(("body", "field", "reason"), BAD_BODIES)
@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_bad_input_is_422_naming_field_and_reason(
    client: httpx.Client, path: str, body: object, field: str, reason: str
) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["error"] == "validation_error"
    fields = {d["field"]: d["reason"] for d in payload["detail"]}
    assert field in fields, payload
    assert reason.lower() in fields[field].lower(), payload


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_oversized_api_key_is_422_naming_the_header_without_echoing_it(
    client: httpx.Client, path: str
) -> None:
    key = "k" * 251 + "secret"  # 257 characters: one past the limit
    r = client.post(path, json={"question": "What is 1+1?"}, headers={"X-API-Key": key})
    assert r.status_code == 422, r.text
    (detail,) = r.json()["detail"]
    assert detail["field"] == "X-API-Key" and "at most 256" in detail["reason"]
    assert "secret" not in r.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat", {"question": "What is 1+1?"}),
        ("/v1/chat/stream", {"question": "What is 1+1?"}),
        ("/v1/feedback", {"request_id": "never-seen", "thumbs": "up"}),
    ],
)
def test_api_key_sent_twice_is_422(client: httpx.Client, path: str, body: dict[str, str]) -> None:
    """A proxy counting or authenticating the last X-API-Key and the app reading the first would
    disagree on who calls: two keys are refused, neither echoed."""
    headers = [("X-API-Key", "first-key-secret"), ("X-API-Key", "second-key-secret")]
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == 422, r.text
    (detail,) = r.json()["detail"]
    assert detail == {"field": "X-API-Key", "reason": "sent more than once: send one key"}
    assert "secret" not in r.text
    one = client.post(path, json=body, headers=headers[:1])
    assert one.status_code == 200, one.text


def test_unknown_model_lists_the_allowed_ones(client: httpx.Client) -> None:
    r = client.post("/v1/chat", json={"question": "hi", "model": "gpt-5-ultra"})
    reason = r.json()["detail"][0]["reason"]
    for model in CHAT_MODELS:
        assert model in reason
    assert "text-embedding-3-small" not in reason, "embedding models cannot answer chats"


def test_malformed_json_is_422(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat", content=b'{"question": "hi"', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "body" and "malformed JSON" in detail["reason"]


def test_oversized_body_is_413_by_content_length_and_by_chunked_stream(
    client: httpx.Client,
) -> None:
    big = b'{"question": "' + b"a" * 70_000 + b'"}'
    r = client.post("/v1/chat", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"][0]["field"] == "body"
    assert "65536" in r.json()["detail"][0]["reason"]

    def chunks():  # no Content-Length: the limit must hold while streaming the body
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = client.post("/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"


def test_unknown_route_and_method_are_json_errors(client: httpx.Client) -> None:
    r = client.get("/v1/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.get("/v1/chat")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] >= 40


def test_probes_answer_head_as_get_without_a_body(client: httpx.Client) -> None:
    """Load balancers that probe with HEAD get GET's status and headers, no body."""
    for path in ("/healthz", "/readyz"):
        got, head = client.get(path), client.head(path)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers["content-type"] == got.headers["content-type"], path


def test_readyz_waits_for_the_corpus_index(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_build = app_module._build_retriever

    def slow_build(state):
        release.wait(20)
        return real_build(state)

    monkeypatch.setattr(app_module, "_build_retriever", slow_build)
    settings = Settings.from_env({"RATE_LIMIT_ENABLED": "false", "SIM_LATENCY_SCALE": "0"})
    app = app_module.create_app(settings, log_stream=io.StringIO(), configure_logging=False)
    with serve_in_thread(app) as url:
        assert httpx.get(url + "/healthz").status_code == 200, "live while indexing"
        r = httpx.get(url + "/readyz")
        assert r.status_code == 503 and r.json()["status"] == "starting"
        r = httpx.post(url + "/v1/chat", json={"question": "hi"})
        assert r.status_code == 503 and r.json()["error"] == "not_ready"
        release.set()
        deadline = time.monotonic() + 20
        while httpx.get(url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert httpx.post(url + "/v1/chat", json={"question": "hi"}).status_code == 200


def test_telemetry_disabled_records_nothing() -> None:
    spans = InMemorySpanExporter()
    settings = Settings.from_env({"TELEMETRY_ENABLED": "false", "SIM_LATENCY_SCALE": "0"})
    app = app_module.create_app(
        settings, span_exporter=spans, log_stream=io.StringIO(), configure_logging=False
    )
    with serve_in_thread(app) as url:
        deadline = time.monotonic() + 20
        while httpx.get(url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r = httpx.post(url + "/v1/chat", json={"question": unique_question()})
        assert r.status_code == 200 and r.json()["trace_id"] is None
        metrics = httpx.get(url + "/metrics").text
    assert spans.get_finished_spans() == ()
    assert sc.GENAI_OPERATION_DURATION + "_count" not in metrics
    assert sc.HTTP_SERVER_DURATION + "_count" not in metrics


@pytest.mark.parametrize(
    ("error_type", "upstream", "status", "retry_after"),
    [
        ("server_error", 500, 502, None),
        ("timeout", None, 504, None),
        ("rate_limited", 429, 503, "3"),
        ("client_error", 400, 422, None),  # e.g. prompt beyond the context window
        ("client_error", 401, 502, None),  # our credentials: an outage, not the caller's fault
        ("_OTHER", None, 502, None),
    ],
)
def test_provider_error_mapping(
    error_type: str, upstream: int | None, status: int, retry_after: str | None
) -> None:
    exc = ProviderError("boom", error_type=error_type, status_code=upstream, retry_after_s=2.2)
    mapped = provider_error(exc)
    assert mapped.status == status
    assert mapped.headers.get("Retry-After") == retry_after
    assert mapped.detail and mapped.detail[0]["reason"] == "boom"


def test_answers_are_the_same_across_processes_and_hash_seeds(
    start_app: Callable[..., Proc],
) -> None:
    """Determinism across restarts: two apps whose Python str hashes are salted differently
    (PYTHONHASHSEED) answer the same question with the same text, usage, sources and scores.
    Calling twice in one process could not see a salted hash() in the simulation or retrieval."""
    body = {"question": "How do burn rate alerts work?", "max_tokens": 256}
    seen = []
    for seed in ("1", "2"):
        app = start_app({"PYTHONHASHSEED": seed}, name=f"hashseed-{seed}")
        with httpx.Client(base_url=app.url, timeout=15) as c:
            r = c.post("/v1/chat", json=body)
        assert r.status_code == 200, r.text
        payload = r.json()
        assert payload["answer"] and payload["sources"]
        keep = ("answer", "route", "sources", "model", "usage", "cost_usd", "evaluation")
        seen.append({k: payload[k] for k in keep})
    assert seen[0] == seen[1]
