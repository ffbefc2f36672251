"""otel-collector/config.yaml (contrib 0.159): pipelines, sampling policies and redaction rules.

The redaction patterns are exercised here with Python's `re` on sample values. The collector
uses Go's RE2; the constructs used (classes, counted repeats, \\b, \\s, (?i)) mean the same in
both, and a test below keeps it that way.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import re2

from demo_app.providers.openai_compatible import OpenAICompatibleProvider
from genai_telemetry import semconv
from harness import ROOT
from tests.stack.conftest import shipped_file

SIGNALS = {"traces", "logs", "metrics"}  # metrics: apps' OTLP metrics (rag-api is scraped)


def _base(name: str) -> str:
    return name.split("/", 1)[0]


def test_every_pipeline_component_is_defined(collector: dict[str, Any]) -> None:
    pipelines = collector["service"]["pipelines"]
    assert set(pipelines) == SIGNALS
    for signal, pipe in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for name in pipe[kind]:
                assert name in collector[kind], f"{signal}: {kind[:-1]} {name!r} is not defined"
    for ext in collector["service"]["extensions"]:
        assert ext in collector["extensions"]
    # And nothing defined is left unused (a dead exporter hides a wiring mistake).
    for kind in ("receivers", "processors", "exporters"):
        used = {n for pipe in pipelines.values() for n in pipe[kind]}
        assert set(collector[kind]) == used, f"unused {kind}: {set(collector[kind]) - used}"


# Every pipeline's processors in order: memory_limiter first (it refuses before work is done),
# batch last, and redaction on both signals that carry free text (docs/security.md, T8).
PROCESSORS = {
    "traces": ["memory_limiter", "tail_sampling", "redaction", "batch"],
    "logs": ["memory_limiter", "redaction", "batch"],
    "metrics": ["memory_limiter", "filter/scraped-services", "batch"],
}


def test_every_pipelines_processors_in_order(collector: dict[str, Any]) -> None:
    pipelines = collector["service"]["pipelines"]
    assert {signal: pipe["processors"] for signal, pipe in pipelines.items()} == PROCESSORS


def test_current_exporter_names(collector: dict[str, Any]) -> None:
    # 0.159: otlp_grpc / otlp_http; `otlp` and `otlphttp` are deprecated aliases.
    for name in collector["exporters"]:
        assert _base(name) in {"otlp_grpc", "otlp_http"}, name
    pipelines = collector["service"]["pipelines"]
    assert [_base(n) for n in pipelines["traces"]["exporters"]] == ["otlp_grpc"]
    assert [_base(n) for n in pipelines["logs"]["exporters"]] == ["otlp_http"]
    assert [_base(n) for n in pipelines["metrics"]["exporters"]] == ["otlp_http"]


def test_receivers_bind_all_interfaces(collector: dict[str, Any]) -> None:
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"


def test_tail_sampling_policies(collector: dict[str, Any]) -> None:
    policies = {p["type"]: p for p in collector["processors"]["tail_sampling"]["policies"]}
    assert set(policies) == {"status_code", "latency", "probabilistic"}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    # Slow = slower than the latency SLO threshold, which is a duration bucket bound.
    threshold_s = policies["latency"]["latency"]["threshold_ms"] / 1000
    assert threshold_s == 5.12 and threshold_s in semconv.DURATION_BUCKETS
    assert "upper_threshold_ms" not in policies["latency"]["latency"]
    pct = policies["probabilistic"]["probabilistic"]["sampling_percentage"]
    assert pct == "${env:TRACE_SAMPLING_PERCENT:-100}"


def _seconds(duration: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert m, f"unsupported duration {duration!r}"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def longest_kept_call_s() -> float:
    """A model call that times out on every attempt at the provider's defaults: attempts x
    timeout + the largest backoff before each retry (Retry-After waits are not promised)."""
    defaults = {
        k: p.default
        for k, p in inspect.signature(OpenAICompatibleProvider.__init__).parameters.items()
    }
    retries, timeout = defaults["max_retries"], defaults["timeout_s"]
    backoff = sum(
        min(defaults["backoff_max_s"], defaults["backoff_base_s"] * 2 ** (n - 1))
        for n in range(1, retries + 1)
    )
    return (retries + 1) * timeout + backoff


# The OTel SDK's default batch delay (5 s) bounds what an app adds before its spans leave;
# rag-api's is 1 s plus an export timeout of 2 s.
APP_EXPORT_DELAY_S = 5.0


def test_decision_wait_keeps_the_promised_requests_whole(collector: dict[str, Any]) -> None:
    """docs/stack.md promises that a request whose chat call exhausts its retries is judged
    with all its spans: the wait after the first span must cover that call and the export."""
    wait = _seconds(collector["processors"]["tail_sampling"]["decision_wait"])
    needed = longest_kept_call_s() + APP_EXPORT_DELAY_S
    assert wait >= needed, (wait, needed)
    doc = " ".join((ROOT / "docs" / "stack.md").read_text().split())
    assert f"`decision_wait` is {wait:g} s" in doc
    assert f"{longest_kept_call_s():g} s" in doc


def test_env_references_use_the_env_provider(collector: dict[str, Any]) -> None:
    text = (ROOT / "otel-collector" / "config.yaml").read_text()
    refs = re.findall(r"\$\{([^}]*)\}", text)
    assert refs, "expected the sampling percentage from the environment"
    for ref in refs:
        assert re.fullmatch(r"env:[A-Z_][A-Z0-9_]*(:-[^}]*)?", ref), ref


def test_own_metrics_and_health_endpoints(collector: dict[str, Any]) -> None:
    (reader,) = collector["service"]["telemetry"]["metrics"]["readers"]
    prom = reader["pull"]["exporter"]["prometheus"]
    assert (prom["host"], prom["port"]) == ("0.0.0.0", 8888)
    assert collector["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"


# Files that query the collector's own metrics by name (other issues own them; read only).
SELF_METRIC_USERS = (
    "prometheus/rules/stack-alerts.yml",
    "grafana/dashboards/stack-health.json",
    "docs/alerts.md",
)
# Counters among the names those files use (the rest are gauges: queue size/capacity, RSS).
COLLECTOR_COUNTER = re.compile(
    r"otelcol_(receiver_(accepted|refused)|exporter_(sent|send_failed)|processor_(incoming|outgoing))_\w+"
)


def test_self_metric_names_match_what_rules_and_dashboards_query(
    collector: dict[str, Any],
) -> None:
    # 0.152+: an explicit Prometheus reader defaults to without_type_suffix/without_units/
    # without_scope_info = true, and its handler speaks plain text only, so counters arrive
    # as otelcol_receiver_refused_spans (no _total). Everything here queries *_total.
    prom = collector["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    prom = prom["prometheus"]
    assert prom["without_type_suffix"] is False
    # Takes effect only with without_type_suffix: true (units stay on; docs/stack.md).
    assert prom["without_units"] is True
    assert prom["without_scope_info"] is True  # no otel_scope_* labels on every series
    counters: set[str] = set()
    for rel in SELF_METRIC_USERS:
        text = shipped_file(rel, "stack").read_text()
        found = {m.group(0) for m in COLLECTOR_COUNTER.finditer(text)}
        assert found, f"{rel} queries no otelcol_* counter: is it still the file that does?"
        counters |= found
    for name in counters:
        assert name.endswith("_total"), f"{name}: the collector exposes counters with _total"
        assert "__" not in name, name


# --- metrics pipeline ---------------------------------------------------------------------------
def test_metrics_use_the_same_otlp_receiver_as_traces_and_logs(collector: dict[str, Any]) -> None:
    pipelines = collector["service"]["pipelines"]
    assert pipelines["metrics"]["receivers"] == pipelines["traces"]["receivers"] == ["otlp"]
    assert pipelines["metrics"]["processors"] == [
        "memory_limiter",
        "filter/scraped-services",
        "batch",
    ]


def test_metrics_go_to_prometheus_otlp_receiver_in_order(collector: dict[str, Any]) -> None:
    (name,) = collector["service"]["pipelines"]["metrics"]["exporters"]
    exporter = collector["exporters"][name]
    # Prometheus 3's OTLP write endpoint; `endpoint:` would append /v1/metrics to a base URL.
    assert exporter["metrics_endpoint"] == "http://prometheus:9090/api/v1/otlp/v1/metrics"
    assert "endpoint" not in exporter
    # Out-of-order samples are dropped by Prometheus: one sender keeps a series in order.
    assert exporter["sending_queue"]["num_consumers"] == 1


def test_pushed_metrics_of_scraped_services_are_dropped(
    collector: dict[str, Any], prometheus: dict[str, Any], compose: dict[str, Any]
) -> None:
    # A scraped service's pushed copy would land in the same job (job = service.name) and
    # double every sum: the filter drops it whatever the app is configured to do.
    conditions = collector["processors"]["filter/scraped-services"]["metrics"]["metric"]
    dropped = {
        m.group(1)
        for c in conditions
        if (m := re.fullmatch(r'resource\.attributes\["service\.name"\] == "([^"]+)"', c))
    }
    assert len(dropped) == len(conditions), "one service.name equality per condition"
    # Every compose service that is OTel-instrumented (OTEL_SERVICE_NAME) and scraped under that
    # name as its job: a new one fails here until the filter lists it.
    jobs = {job["job_name"] for job in prometheus["scrape_configs"]}
    instrumented = {
        name
        for svc in compose["services"].values()
        if (name := (svc.get("environment") or {}).get("OTEL_SERVICE_NAME"))
    }
    assert instrumented & jobs, "rag-api is both instrumented and scraped"
    assert dropped == instrumented & jobs


# --- redaction ----------------------------------------------------------------------------------

SECRETS = [
    "sk-proj-abcdefghijklmnop1234",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "mail jane.doe+test@example.co.uk please",
    "card 4111 1111 1111 1111 exp",
    "4111111111111111",
    "5500-0000-0000-0004",
]
SAFE = [
    "4bf92f3577b34da6a3ce929d0e0e4736",  # trace id
    "00f067aa0ba902b7",  # span id
    "6f1c2a9e-3b1d-4c8e-9f7a-2d5b8c0e1a34",  # uuid
    "gpt-4o-mini",
    "claude-sonnet-4",
    "2026-11-27T05:21:13.123456Z",
    "1536",
    "POST /v1/chat",
    "text-embedding-3-small",
    "0.0123",
    "+49 30 1234567",  # phone numbers are the app's job; too ambiguous to match here
]


@pytest.fixture(scope="module")
def redaction(collector: dict[str, Any]) -> dict[str, Any]:
    return collector["processors"]["redaction"]


def _masked(patterns: list[str], value: str) -> bool:
    # The collector is Go: RE2, whose syntax Python's re does not share (\p{L}, no lookaround).
    return any(re2.search(p, value) for p in patterns)


def test_redaction_passes_all_keys(redaction: dict[str, Any]) -> None:
    # allowed_keys is fail-closed: without allow_all_keys every attribute would be deleted.
    assert redaction["allow_all_keys"] is True
    assert redaction["summary"] in {"info", "silent"}


@pytest.mark.parametrize("value", SECRETS)
def test_redaction_masks_secrets(redaction: dict[str, Any], value: str) -> None:
    assert _masked(redaction["blocked_values"], value)


@pytest.mark.parametrize("value", SAFE)
def test_redaction_keeps_ordinary_values(redaction: dict[str, Any], value: str) -> None:
    assert not _masked(redaction["blocked_values"], value)


def test_blocked_keys_do_not_hit_token_counts(redaction: dict[str, Any]) -> None:
    # Go's MatchString finds a match anywhere in the key, like re.search.
    patterns = redaction["blocked_key_patterns"]
    for key in (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.request.max_tokens",
        "llm.cost_usd",
    ):
        assert not any(re2.search(p, key) for p in patterns), key
    for key in ("http.request.header.authorization", "openai.api_key", "db.password"):
        assert any(re2.search(p, key) for p in patterns), key


def test_redaction_patterns_are_re2_compatible(redaction: dict[str, Any]) -> None:
    # RE2 has no lookaround or backreferences; Python's re would accept them silently.
    patterns = [*redaction["blocked_values"], *redaction["blocked_key_patterns"]]
    assert patterns, "no redaction patterns found"
    for pattern in patterns:
        assert not re.search(r"\(\?[=!<]|\\[1-9]", pattern), pattern
        re2.compile(pattern)


def test_ids_skip_redaction(redaction: dict[str, Any]) -> None:
    assert {"trace_id", "span_id", "request_id"} <= set(redaction["ignored_keys"])
