"""/metrics after real traffic: every contract metric with exactly the contract labels and
bucket bounds (docs/telemetry.md, genai_telemetry/semconv.py), exemplars, cost accounting."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text
from starlette.types import Receive, Scope, Send

from demo_app.app import create_app
from demo_app.config import Settings
from genai_telemetry import semconv as sc
from harness.procs import Proc
from tests.demo_app.conftest import (
    ADMIN_TOKEN,
    log_lines,
    parse_sse,
    serve_in_thread,
    unique_question,
)

HISTOGRAM_BUCKETS = {
    sc.HTTP_SERVER_DURATION: sc.DURATION_BUCKETS,
    sc.GENAI_OPERATION_DURATION: sc.DURATION_BUCKETS,
    sc.GENAI_TIME_TO_FIRST_CHUNK: sc.DURATION_BUCKETS,
    sc.GENAI_TIME_PER_OUTPUT_CHUNK: sc.CHUNK_BUCKETS,
    sc.GENAI_TOKEN_USAGE: sc.TOKEN_BUCKETS,
    sc.RAG_RETRIEVAL_DOCUMENTS: sc.RETRIEVAL_DOCUMENT_BUCKETS,
    sc.RAG_RETRIEVAL_TOP_SCORE: sc.SCORE_BUCKETS,
    sc.RAG_EVALUATION_SCORE: sc.SCORE_BUCKETS,
    sc.GENAI_INVOKE_AGENT_DURATION: sc.AGENT_DURATION_BUCKETS,
    sc.GENAI_EXECUTE_TOOL_DURATION: sc.DURATION_BUCKETS,
}
COUNTERS = {
    sc.LLM_COST,
    sc.LLM_UNPRICED_TOKENS,
    sc.LLM_CACHE_LOOKUPS,
    sc.LLM_CACHE_SAVED,
    sc.LLM_GUARDRAIL_CHECKS,
    sc.LLM_USER_FEEDBACK,
}
GAUGES = {sc.LLM_ACTIVE_REQUESTS, sc.LLM_PROMPT_VERSION_INFO}
EXEMPLAR_HISTOGRAMS = (
    sc.HTTP_SERVER_DURATION,
    sc.GENAI_OPERATION_DURATION,
    sc.GENAI_TIME_TO_FIRST_CHUNK,
    sc.GENAI_INVOKE_AGENT_DURATION,
    sc.GENAI_EXECUTE_TOOL_DURATION,
)


def samples(text: str) -> dict[str, list]:
    """Scraped samples by sample name (e.g. `llm_cost_usd_total`, `..._bucket`)."""
    out: dict[str, list] = {}
    for family in parse_text(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def total(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples(text).get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture(scope="module")
def traffic(start_app: Callable[..., Proc]) -> tuple[Proc, list[dict]]:
    """A fresh app with one request of every kind, so every contract metric has series."""
    app = start_app({}, name="metrics")
    responses = []
    with httpx.Client(base_url=app.url, timeout=15) as c:
        cached_q = unique_question("What is a good alert on token spend")
        pro = {"X-API-Key": "demo-pro-key"}
        bodies = [
            ({"question": unique_question(), "feature": "chat", "user_tier": "free"}, {}),
            ({"question": cached_q, "feature": "search"}, pro),
            ({"question": cached_q, "feature": "search"}, pro),  # cache hit
            ({"question": "What is 7 * 6?"}, {}),  # tool path
            ({"question": unique_question(), "model": "llama-3.1-8b-local"}, {}),  # unpriced
            ({"question": unique_question(), "model": "llama-3.1-8b-local"}, {}),
            # An unknown tier in the body is ignored: the key's tier (pro) labels the cost.
            ({"question": unique_question(), "model": "claude-sonnet-4", "user_tier": "gold"}, pro),
        ]
        for body, headers in bodies:
            r = c.post("/v1/chat", json=body, headers=headers)
            assert r.status_code == 200, r.text
            responses.append(r.json())
        r = c.post(
            "/v1/chat/stream",
            json={"question": unique_question()},
            headers={"X-API-Key": "demo-enterprise-key"},
        )
        assert r.status_code == 200
        assert c.post("/v1/chat", json={"question": ""}).status_code == 422
    return app, responses


def test_every_contract_metric_has_exactly_the_contract_labels_and_buckets(traffic) -> None:
    app, _ = traffic
    text = httpx.get(app.url + "/metrics").text
    families = {f.name: f for f in parse_text(text)}
    for metric, labels in sc.METRIC_LABELS.items():
        family_name = metric[: -len("_total")] if metric in COUNTERS else metric
        family = families.get(family_name)
        assert family is not None, f"{metric} missing from /metrics"
        assert family.samples, f"{metric} has no series after traffic"
        if metric in HISTOGRAM_BUCKETS:
            assert family.type == "histogram", metric
            by_series: dict[tuple, list[str]] = {}
            for s in family.samples:
                series_labels = {k: v for k, v in s.labels.items() if k != "le"}
                assert set(series_labels) == set(labels), (metric, s)
                if s.name == metric + "_bucket":
                    by_series.setdefault(tuple(sorted(series_labels.items())), []).append(
                        s.labels["le"]
                    )
            expected = [sc.le(b) for b in HISTOGRAM_BUCKETS[metric]] + ["+Inf"]
            assert by_series, metric
            for les in by_series.values():
                assert les == expected, (metric, les)
        else:
            assert family.type == ("counter" if metric in COUNTERS else "gauge"), metric
            for s in family.samples:
                assert set(s.labels) == set(labels), (metric, s)
                if metric in COUNTERS:
                    assert s.name == metric, "counters are exposed with the contract's _total name"


def test_label_values_are_bounded(traffic) -> None:
    app, _ = traffic
    text = httpx.get(app.url + "/metrics").text
    all_samples = samples(text)
    allowed = {
        sc.L_OPERATION: set(sc.OPERATIONS),
        sc.L_URL_SCHEME: {*sc.URL_SCHEMES, sc.OTHER},
        sc.L_FEATURE: {*sc.FEATURES, sc.OTHER},
        sc.L_USER_TIER: {*sc.USER_TIERS, sc.OTHER},
        sc.L_TOKEN_TYPE: set(sc.TOKEN_TYPES),
        sc.L_CACHE_RESULT: set(sc.CACHE_RESULTS),
        sc.L_EVALUATION_NAME: set(sc.EVALUATION_NAMES),
        sc.L_HTTP_METHOD: {"GET", "POST", "PUT", "HEAD", "PATCH", "DELETE", "OPTIONS", sc.OTHER},
    }
    routes = set()
    for name, series in all_samples.items():
        http = name.startswith(sc.HTTP_SERVER_DURATION)
        errors = set(sc.HTTP_ERROR_TYPES if http else sc.ERROR_TYPES)
        for s in series:
            assert s.labels.get(sc.L_ERROR_TYPE, "") in errors, (name, s.labels)
            for label, values in allowed.items():
                if label in s.labels:
                    assert s.labels[label] in values, (name, s.labels)
            if sc.L_HTTP_ROUTE in s.labels:
                routes.add(s.labels[sc.L_HTTP_ROUTE])
    assert {"/v1/chat", "/v1/chat/stream"} <= routes
    assert all(r.startswith("/") or r == sc.OTHER for r in routes), routes
    # The tier label is the server's (from the API key): never a client's free text.
    assert total(text, sc.LLM_COST, user_tier=sc.OTHER) == 0
    for tier in sc.USER_TIERS:
        assert total(text, sc.LLM_COST, user_tier=tier) > 0, tier


def test_http_metric_has_url_scheme_and_the_error_type_of_server_errors(
    start_app: Callable[..., Proc],
) -> None:
    """HTTP semconv v1.41: url.scheme always; error.type = the 5xx status as a string, absent
    (here "") on success and on a 4xx (the client's error, not the server's)."""
    app = start_app({"ADMIN_TOKEN": ADMIN_TOKEN}, name="http-errors")
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=app.url, timeout=15) as c:
        assert c.post("/v1/chat", json={"question": unique_question()}).status_code == 200
        assert c.post("/v1/chat", json={"question": ""}).status_code == 422
        c.put("/admin/faults", json={"error_rate": 1.0}, headers=auth).raise_for_status()
        assert c.post("/v1/chat", json={"question": unique_question()}).status_code == 502
        text = c.get("/metrics").text
    count = sc.HTTP_SERVER_DURATION + "_count"
    series = {
        (s.labels[sc.L_HTTP_STATUS], s.labels[sc.L_ERROR_TYPE], s.labels[sc.L_URL_SCHEME])
        for s in samples(text)[count]
        if s.labels[sc.L_HTTP_ROUTE] == "/v1/chat"
    }
    assert series == {("200", "", "http"), ("422", "", "http"), ("502", "502", "http")}


@pytest.mark.parametrize(
    ("scheme", "label"),
    [
        (..., "http"),  # ASGI: `scheme` is optional, "http" when absent; url.scheme is required
        (None, sc.OTHER),  # not a scheme: bounded like any unknown value, never dropped
    ],
    ids=["missing", "none"],
)
def test_http_metric_url_scheme_when_the_server_gives_none(scheme: object, label: str) -> None:
    """rag-api behind an ASGI server whose scope has no usable `scheme`."""
    settings = Settings.from_env({"RATE_LIMIT_ENABLED": "false", "SIM_LATENCY_SCALE": "0"})
    app = create_app(settings, log_stream=io.StringIO(), configure_logging=False)

    async def server_without_scheme(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {k: v for k, v in scope.items() if k != "scheme"}
            if scheme is not ...:
                scope["scheme"] = scheme
        await app(scope, receive, send)

    with serve_in_thread(server_without_scheme) as url:
        assert httpx.get(url + "/healthz").status_code == 200
        text = httpx.get(url + "/metrics").text
    labels = {
        s.labels[sc.L_URL_SCHEME]
        for s in samples(text)[sc.HTTP_SERVER_DURATION + "_count"]
        if s.labels[sc.L_HTTP_ROUTE] == "/healthz"
    }
    assert labels == {label}


def test_operations_tokens_ttft_cache_and_rag_metrics_are_recorded(traffic) -> None:
    app, _ = traffic
    text = httpx.get(app.url + "/metrics").text
    count = sc.GENAI_OPERATION_DURATION + "_count"
    for op in sc.OPERATIONS:
        assert total(text, count, gen_ai_operation_name=op, error_type="") > 0, op
    assert total(text, count, gen_ai_operation_name="retrieval", gen_ai_provider_name="bm25") > 0
    assert total(text, count, gen_ai_operation_name="invoke_agent", gen_ai_request_model="") > 0
    assert total(text, count, gen_ai_operation_name="execute_tool", gen_ai_provider_name="rag-api")
    tokens = sc.GENAI_TOKEN_USAGE + "_count"
    assert total(text, tokens, gen_ai_operation_name="chat", gen_ai_token_type="input") > 0
    assert total(text, tokens, gen_ai_operation_name="chat", gen_ai_token_type="output") > 0
    assert total(text, tokens, gen_ai_operation_name="embeddings", gen_ai_token_type="input") > 0
    assert total(text, tokens, gen_ai_operation_name="embeddings", gen_ai_token_type="output") == 0
    assert total(text, sc.GENAI_TIME_TO_FIRST_CHUNK + "_count", gen_ai_operation_name="chat") == 1
    assert total(text, sc.LLM_CACHE_LOOKUPS, result="hit") == 1
    assert total(text, sc.LLM_CACHE_LOOKUPS, result="miss") >= 5
    assert total(text, sc.LLM_CACHE_SAVED) > 0
    assert total(text, sc.LLM_ACTIVE_REQUESTS) == 0, "every model call ended"
    assert total(text, sc.RAG_RETRIEVAL_DOCUMENTS + "_count") >= 5
    for name in sc.EVALUATION_NAMES:
        assert total(text, sc.RAG_EVALUATION_SCORE + "_count", gen_ai_evaluation_name=name) >= 5


def test_cost_counter_matches_responses_and_unpriced_model_counts_tokens(traffic) -> None:
    app, responses = traffic
    text = httpx.get(app.url + "/metrics").text
    priced = [r for r in responses if r["cost_usd"] is not None]
    llama = [r for r in responses if r["model"] == "llama-3.1-8b-local"]
    assert len(llama) == 2 and all(r["cost_usd"] is None for r in llama)
    # Embeddings of the llama requests are priced and counted too; everything else is in
    # cost_usd of the responses (cache hits charge 0). The stream added more: compare >=.
    counted = total(text, sc.LLM_COST)
    assert counted >= sum(r["cost_usd"] for r in priced) - 1e-12
    assert total(text, sc.LLM_COST, gen_ai_request_model="llama-3.1-8b-local") == 0
    unpriced = total(text, sc.LLM_UNPRICED_TOKENS, gen_ai_request_model="llama-3.1-8b-local")
    expected = sum(r["usage"]["input_tokens"] + r["usage"]["output_tokens"] for r in llama)
    assert unpriced == expected
    warnings = [x for x in log_lines(app) if x.get("event") == "model_unpriced"]
    assert len(warnings) == 1, "warn once per unpriced model, not per request"
    assert warnings[0]["model"] == "llama-3.1-8b-local" and warnings[0]["level"] == "warning"


def test_openmetrics_exposition_carries_trace_id_exemplars(traffic) -> None:
    app, responses = traffic
    r = httpx.get(
        app.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    exemplars: dict[str, set[str]] = {}
    for family in parse_openmetrics(r.text):
        for s in family.samples:
            if s.exemplar is not None:
                assert set(s.exemplar.labels) == {"trace_id"}, s
                assert re.fullmatch(r"[0-9a-f]{32}", s.exemplar.labels["trace_id"])
                exemplars.setdefault(family.name, set()).add(s.exemplar.labels["trace_id"])
    for name in EXEMPLAR_HISTOGRAMS:
        assert exemplars.get(name), f"no exemplars on {name}"
    response_traces = {resp["trace_id"] for resp in responses}
    assert exemplars[sc.GENAI_OPERATION_DURATION] & response_traces, "exemplars point at traces"
    # Plain Prometheus text when OpenMetrics is not asked for (no exemplar syntax).
    plain = httpx.get(app.url + "/metrics")
    assert plain.headers["content-type"].startswith("text/plain")
    assert "# {trace_id=" not in plain.text


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        ("application/openmetrics-text; version=abc", "text/plain"),
        ("application/openmetrics-text; version=1.x", "text/plain"),
        ("application/openmetrics-text; version=1.0.0-rc1", "text/plain"),
        ("text/plain; version=abc", "text/plain"),
        # the range that names no format is dropped; the next one decides
        (
            "application/openmetrics-text; version=abc, "
            "application/openmetrics-text; version=1.0.0",
            "application/openmetrics-text",
        ),
    ],
)
def test_an_accept_version_that_is_no_number_gets_a_format_not_a_500(
    traffic, accept: str, served: str
) -> None:
    """prometheus-client compared such a version with (1, 0, 0): a TypeError, so a 500 and an
    unhandled_exception line per scrape. The Prometheus text format is what Prometheus itself
    falls back to (genai_telemetry.exposition.servable_accept says why not 406)."""
    app, _ = traffic
    r = httpx.get(app.url + "/metrics", headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(served)
    parse = parse_text if served == "text/plain" else parse_openmetrics
    assert sc.LLM_COST in {family.name + "_total" for family in parse(r.text)}
    assert not [x for x in log_lines(app) if x.get("event") == "unhandled_exception"]


def test_time_per_output_chunk_is_one_observation_per_chunk_after_the_first(traffic) -> None:
    """gen_ai.client.operation.time_per_output_chunk (semconv): streamed chats only, one
    observation per received chunk after the first, labelled like the TTFC histogram."""
    app, _ = traffic
    tpoc = sc.GENAI_TIME_PER_OUTPUT_CHUNK + "_count"
    labels = {"gen_ai_operation_name": "chat", "gen_ai_request_model": "gemini-2.5-flash"}
    with httpx.Client(base_url=app.url, timeout=15) as c:
        before = total(c.get("/metrics").text, tpoc, **labels)
        plain = c.post(
            "/v1/chat", json={"question": unique_question(), "model": labels[sc.L_MODEL]}
        )
        assert plain.status_code == 200
        after_plain = total(c.get("/metrics").text, tpoc, **labels)
        streamed = c.post(
            "/v1/chat/stream", json={"question": unique_question(), "model": labels[sc.L_MODEL]}
        )
        assert streamed.status_code == 200
        text = c.get("/metrics").text
    chunks = [e for e, _ in parse_sse(streamed.text) if e == "chunk"]
    assert len(chunks) >= 3, "a multi-chunk answer, or the check below proves little"
    assert after_plain == before, "non-streamed calls record no chunk gaps"
    assert total(text, tpoc, **labels) - after_plain == len(chunks) - 1
    assert total(text, tpoc, gen_ai_provider_name="gcp.gemini", **labels) - after_plain == (
        len(chunks) - 1
    )
    # Buckets: the semconv advice plus finer bounds below it (genai_telemetry/semconv.py).
    assert set(sc.DURATION_BUCKETS) < set(sc.CHUNK_BUCKETS)
