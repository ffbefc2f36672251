"""The artifacts for someone else's app: a config pointing at job="my-llm-app" with the production
profile, a uid prefix and no rag-api extras renders rules promtool accepts, dashboards the lint
accepts, and every selector, label, uid and link follows the config. promtool then proves the
tolerant matchers on series shaped like the official OpenAI instrumentation's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from genobs.config import CONFIG_PATH
from genobs.contract import is_app_metric
from genobs.promql import metric_names, selectors
from harness import ROOT, require_binary
from harness.grafana_variables import LABEL_VALUES
from tests.configs import MY_LLM_APP, own_config
from tests.grafana import dashlib

SERVICE = 'job="my-llm-app"'
OPERATION = 'gen_ai_operation_name=~"chat|generate"'  # selectors.llm_chat_operation


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("custom")
    config = own_config(
        tmp / "genai-obs.yaml",
        *MY_LLM_APP,
        ('http_route=~"/v1/chat.*"\'', 'http_route=~"/api/chat.*"\''),
        (
            """http_unary_chat_route: 'http_route="/v1/chat"'""",
            "http_unary_chat_route: 'http_route=\"/api/chat\"'",
        ),
        ('gen_ai_operation_name=~"chat|generate_content|text_completion"', OPERATION),
        ("uid_prefix: ''", "uid_prefix: 'acme-'"),
        ("metrics_interval: ''", "metrics_interval: '60s'"),
        ("tags: [genai-observability]", "tags: [acme, llm-obs]"),
        ("folder: GenAI Observability", "folder: Acme LLM"),
    )
    res = subprocess.run(
        [sys.executable, "-m", "generators", "--config", str(config), "--profile", "production",
         "--out", str(tmp / "repo")],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return tmp / "repo"


def _rules(out: Path) -> list[dict[str, Any]]:
    return [
        r
        for p in sorted((out / "prometheus" / "rules").glob("*.yml"))
        for g in yaml.safe_load(p.read_text())["groups"]
        for r in g["rules"]
    ]


def _app_selectors_carry_the_service(expr: str) -> list[str]:
    """Selectors of app metrics in `expr` that lack the configured service matchers."""
    bad = []
    for name, end, braces in selectors(expr):
        if is_app_metric(name) and not (braces and expr[end:].startswith("{" + SERVICE)):
            bad.append(name)
    return bad


def test_promtool_accepts_every_generated_rule_file(out: Path) -> None:
    promtool = require_binary("promtool")
    files = sorted((out / "prometheus" / "rules").glob("*.yml"))
    assert len(files) >= 5
    res = subprocess.run(
        [promtool, "check", "rules", *map(str, files)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_rules_follow_the_config(out: Path) -> None:
    production = yaml.safe_load(CONFIG_PATH.read_text())["profiles"]["production"]["for"]
    names = {p.name for p in (out / "prometheus" / "rules").glob("*.yml")}
    assert "slo-rag-answer-quality.yml" not in names, "an SLO on rag-api extras without extras"
    alerts = {r["alert"] for r in _rules(out) if "alert" in r}
    extras_only = {"RAGAnswerQualityDrop", "RAGEmptyRetrievalRatioHigh", "LLMGuardrailTriggerSpike"}
    assert not alerts & extras_only, "an alert that can never fire without extras"
    assert {"LLMErrorRatioHigh", "LLMUnpricedModelTokens", "LLMCostSpike"} <= alerts
    assert {"slo-llm-chat-success.yml", "slo-chat-availability.yml"} <= names
    for rule in _rules(out):
        name = rule.get("alert") or rule.get("record")
        assert not _app_selectors_carry_the_service(rule["expr"]), (name, rule["expr"])
        assert '="rag-api"' not in rule["expr"] and "/v1/" not in rule["expr"], name
        if rule.get("labels", {}).get("service"):
            assert rule["labels"]["service"] in ("my-llm-app", "prometheus", "{{ $labels.job }}")
        if "alert" in rule:
            assert rule["for"] == production[name], name
            assert "/d/acme-" in rule["annotations"]["dashboard"], name
    absent = next(r for r in _rules(out) if r.get("alert") == "SLIMetricsAbsent")
    assert "rag_evaluation_score" not in absent["expr"], "would be absent forever"
    assert "rag-answer-quality" not in absent["expr"], "no SLO on rag-api's extras"
    assert 'up{job="my-llm-app"} == 1' in absent["expr"], "only while the service is up"


def test_model_call_queries_follow_the_chat_operation_selector(out: Path) -> None:
    rules = [r["expr"] for r in _rules(out)]
    queries = dashlib.queries(dashlib.load(out / "grafana" / "dashboards"))
    texts = [*rules, *(q.text for q in queries)]
    assert not [t for t in texts if "generate_content" in t or 'operation_name="chat"' in t]
    assert sum(OPERATION in t for t in rules) >= 6  # 4 LLM alerts, the two model-call SLOs
    assert sum(OPERATION in q.text for q in queries if q.lang == "promql") >= 10
    chat_spans = 'span.gen_ai.operation.name =~ "chat|generate"'
    assert sum(chat_spans in q.text for q in queries if q.lang == "traceql") == 3


def test_queries_of_pushed_app_metrics_take_the_metrics_interval_as_min_step(out: Path) -> None:
    # An app pushing OTLP every 60 s: rate() over Grafana's default $__rate_interval (20 s at a
    # 5 s datasource interval) holds at most one sample; a 60 s min step makes it >= 240 s.
    targets = [
        t
        for d in dashlib.load(out / "grafana" / "dashboards").values()
        for p in dashlib.all_panels(d)
        for t in p.get("targets", [])
        if "expr" in t
    ]
    reads_app = [t for t in targets if any(map(is_app_metric, metric_names(t["expr"])))]
    assert len(reads_app) > 60
    assert {t.get("interval") for t in reads_app} == {"60s", "1d"}  # 1d: daily spend bars
    assert all("interval" not in t for t in targets if t not in reads_app)


def test_dashboards_follow_the_config(out: Path) -> None:
    directory = out / "grafana" / "dashboards"
    assert dashlib.lint(directory) == []
    dashboards = dashlib.load(directory)
    assert all(d["uid"].startswith("acme-") for d in dashboards.values())
    assert all(d["tags"][:2] == ["acme", "llm-obs"] for d in dashboards.values())
    queries = dashlib.queries(dashboards)
    promql = [q for q in queries if q.lang in ("promql", *dashlib.VARIABLE_LANGS)]
    assert len(promql) > 100
    for q in promql:
        assert not _app_selectors_carry_the_service(q.text), q.id
        assert '="rag-api"' not in q.text and "/v1/" not in q.text, q.id
    for q in queries:
        if q.lang == "logql":
            assert '{service_name="my-llm-app"}' in q.text, q.id
    traceql = [q.text for q in queries if q.lang == "traceql"]
    assert any('resource.service.name = "my-llm-app"' in t for t in traceql)
    provider = yaml.safe_load((out / "grafana/provisioning/dashboards/dashboards.yaml").read_text())
    assert provider["providers"][0]["folder"] == "Acme LLM"
    assert "(`acme-llm-overview`)" in (out / "docs" / "dashboards.md").read_text()
    overview = json.loads((directory / "acme-llm-overview.json").read_text())
    assert all(link["url"].startswith("/d/acme-") for link in overview["links"][1:])


def test_panel_text_names_the_watched_service(out: Path) -> None:
    """Descriptions say my-llm-app where they speak of the service; "rag-api" is left only
    where a panel reads rag-api's own extras (its feedback index)."""
    dashboards = dashlib.load(out / "grafana" / "dashboards")
    texts = [d.get("description", "") for d in dashboards.values()]
    texts += [p.get("description", "") for d in dashboards.values() for p in dashlib.all_panels(d)]
    home = "Home: traffic, errors, latency, time to first token, tokens, cost and alerts of the "
    assert any(t.startswith(home + "my-llm-app LLM service.") for t in texts)
    assert sum("my-llm-app" in t for t in texts) >= 8
    left = [t for t in texts if "rag-api" in t and "rag-api's recent" not in t]
    assert left == [], left


# Series as OpenAI instrumentations report them through a collector: the provider in
# gen_ai_system (older semconv; the deprecated openai-v2 2.4b0 on embeddings) or
# gen_ai_provider_name, error.type an exception class name (`openai.RateLimitError` from
# genai-openai 1.3b0, with server_address/server_port; the "<class '…'>" rendering of openai-v2
# 2.4b0's bug) or an HTTP status code, `le` without ".0".
def _series(metric: str, values: str, **labels: str) -> dict[str, str]:
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}", "values": values}


def _chat(model: str, values: str, **labels: str) -> dict[str, str]:
    metric = "gen_ai_client_operation_duration_seconds_count"
    base = {"job": "my-llm-app", "gen_ai_operation_name": "chat"}
    return _series(metric, values, **base, gen_ai_request_model=model, **labels)


def _alert(name: str, **labels: str) -> dict[str, Any]:
    all_labels = {"alertname": name, "alertstate": "firing", **labels}
    all_labels |= {"service": "my-llm-app", "severity": "ticket"}
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(all_labels.items()))
    return {"labels": f"ALERTS{{{inner}}}", "value": 1}


INPUT = [
    _chat("m1", "0+60x40", gen_ai_system="openai"),
    _chat("m1", "0+10x40", gen_ai_system="openai", error_type="RateLimitError"),
    _chat("m2", "0+60x40", gen_ai_system="openai"),
    _chat("m2", "0+10x40", gen_ai_system="openai", error_type="<class 'openai.RateLimitError'>"),
    _chat("m3", "0+60x40", gen_ai_provider_name="openai"),
    _chat("m3", "0+10x40", gen_ai_provider_name="openai", error_type="429"),
    *(
        _chat(
            "m6",
            values,
            gen_ai_provider_name="openai",
            server_address="api.openai.com",
            server_port="443",
            **extra,
        )
        for values, extra in (("0+60x40", {}), ("0+10x40", {"error_type": "openai.RateLimitError"}))
    ),
    # both labels, spelled differently (an instrumentation in its semconv transition): the newer
    # gen_ai_provider_name is the one kept
    *(
        _chat(
            "m5",
            values,
            gen_ai_provider_name="azure.ai.openai",
            gen_ai_system="az.ai.openai",
            **extra,
        )
        for values, extra in (("0+60x40", {}), ("0+10x40", {"error_type": "429"}))
    ),
    # another service, outside the selector: must change nothing
    {
        **_chat("m4", "0+100x40", gen_ai_provider_name="openai", error_type="rate_limited"),
        "series": _chat("m4", "", gen_ai_provider_name="openai", error_type="rate_limited")[
            "series"
        ].replace("my-llm-app", "rag-api"),
    },
    # rag-api's retrieval metric from an app configured without extras: no alert reads it
    _series("rag_retrieval_documents_bucket", "0+5x40", job="my-llm-app", le="0"),
    _series("rag_retrieval_documents_count", "0+10x40", job="my-llm-app"),
]
EXPECTED = [
    _alert("LLMProviderRateLimited", gen_ai_provider_name=p, gen_ai_request_model=m)
    for p, m in (
        ("openai", "m1"),
        ("openai", "m2"),
        ("openai", "m3"),
        ("azure.ai.openai", "m5"),
        ("openai", "m6"),
    )
]


def test_tolerant_matchers_on_openai_instrumentation_series(out: Path) -> None:
    promtool = require_binary("promtool")
    rules = out / "prometheus" / "rules"
    files = ["llm-alerts.yml", "slo-llm-chat-success.yml"]
    groups = [g["name"] for f in files for g in yaml.safe_load((rules / f).read_text())["groups"]]
    alerts = 'ALERTS{alertname=~"LLMProviderRateLimited|RAGEmptyRetrievalRatioHigh"}'
    chat_ratio = 'round(slo:error_ratio:rate5m{slo="llm-chat-success"}, 0.001)'
    test = {
        "rule_files": [f"prometheus/rules/{f}" for f in files],
        "evaluation_interval": "1m",
        "group_eval_order": groups,
        "tests": [
            {
                "interval": "1m",
                "input_series": INPUT,
                "promql_expr_test": [
                    {"expr": alerts, "eval_time": "30m", "exp_samples": EXPECTED},
                    {
                        "expr": chat_ratio,  # 5 × 10 failed of 5 × 70 calls: my-llm-app only
                        "eval_time": "30m",
                        "exp_samples": [
                            {
                                "labels": '{service="my-llm-app", slo="llm-chat-success", '
                                'team="genai"}',
                                "value": 0.143,
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = out / "openai-instrumentations.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    res = subprocess.run(
        [promtool, "test", "rules", path.name], capture_output=True, text=True, cwd=out
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_le_regex_is_generated_from_the_threshold() -> None:
    exprs = "\n".join(r["expr"] for r in _rules(ROOT) if "expr" in r)  # the shipped rules
    assert 'le=~"0(\\\\.0)?"' in exprs  # RAGEmptyRetrievalRatioHigh: documents <= 0
    assert re.search(r'le="5\.12"', exprs)  # a bound with one spelling stays an equality


def test_dashboard_provider_filter_accepts_both_label_names(out: Path) -> None:
    """The 429 panel under the Provider filter: openai selects the series labelled
    gen_ai_system="openai" and gen_ai_provider_name="openai" alike, anthropic none of them; a
    series with both labels answers to its gen_ai_provider_name only; All (`.*`) counts each
    series once (a gen_ai_system-only series is not also counted with an empty provider)."""
    promtool = require_binary("promtool")
    dash = dashlib.load(out / "grafana" / "dashboards")["acme-llm-overview.json"]
    panel = next(
        p for p in dashlib.all_panels(dash) if p["title"] == "Provider rate limiting (429)"
    )
    expr = panel["targets"][0]["expr"].replace("$__rate_interval", "5m").replace("$model", ".*")
    tests = []
    openai = [("openai", m) for m in ("m1", "m2", "m3", "m6")]
    cases = (
        ("openai", openai),
        ("azure.ai.openai", [("azure.ai.openai", "m5")]),
        ("anthropic", []),
        (".*", [*openai, ("azure.ai.openai", "m5")]),
    )
    for selected, shown in cases:
        samples = [
            {
                "labels": f'{{gen_ai_provider_name="{provider}", gen_ai_request_model="{m}"}}',
                "value": 0.167,  # 10 rate-limited calls per minute
            }
            for provider, m in shown
        ]
        query = f"round({expr.replace('$provider', selected)}, 0.001)"
        tests.append({"expr": query, "eval_time": "20m", "exp_samples": samples})
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": INPUT, "promql_expr_test": tests}],
    }
    path = out / "panel.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    res = subprocess.run(
        [promtool, "test", "rules", path.name], capture_output=True, text=True, cwd=out
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_model_variable_lists_the_models_of_the_chosen_provider(out: Path) -> None:
    """Under Provider openai the Model list holds m1 and m2 (provider in gen_ai_system only,
    as the legacy openai-v2 instrumentation's embeddings) beside m3 and m6; not m5
    (azure.ai.openai)."""
    promtool = require_binary("promtool")
    dash = dashlib.load(out / "grafana" / "dashboards")["acme-llm-cost.json"]
    (var,) = [v for v in dash["templating"]["list"] if v["name"] == "model"]
    selector = LABEL_VALUES.match(var["query"]).group("selector")
    expr = f"group by (gen_ai_request_model) ({selector.replace('$provider', 'openai')})"
    samples = [
        {"labels": f'{{gen_ai_request_model="{m}"}}', "value": 1} for m in ("m1", "m2", "m3", "m6")
    ]
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": INPUT,
                "promql_expr_test": [{"expr": expr, "eval_time": "20m", "exp_samples": samples}],
            }
        ],
    }
    path = out / "model-variable.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    res = subprocess.run(
        [promtool, "test", "rules", path.name], capture_output=True, text=True, cwd=out
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_trace_alert_and_log_queries_select_only_the_watched_service(out: Path) -> None:
    """A production Tempo, Prometheus and Loki hold other services too: every TraceQL spanset
    selects my-llm-app, every ALERTS query on the app's dashboards its alerts (the stack
    dashboard shows the others), and the error-log panel takes the SDKs' WARN and FATAL."""
    queries = dashlib.queries(dashlib.load(out / "grafana" / "dashboards"))
    traceql = [q for q in queries if q.lang == "traceql"]
    assert len(traceql) >= 8
    for q in traceql:
        spansets = re.findall(r"\{([^}]*)\}", q.text)
        assert spansets and all(
            s.strip().startswith('resource.service.name = "my-llm-app"') for s in spansets
        ), q.id
    alerts = [q for q in queries if "ALERTS{" in q.text and "stack-health" not in q.dashboard]
    assert len(alerts) >= 6
    for q in alerts:
        assert re.search(r'service(=~"\$service"|="my-llm-app")', q.text), q.id
        if q.dashboard == "acme-llm-slos":
            assert 'slo=~"$slo"' in q.text, q.id
    errors = [q.text for q in queries if q.lang == "logql" and "severity_text=~" in q.text]
    assert errors and all('"(?i)warn|' in t and "fatal" in t for t in errors)


def test_unpriced_tokens_follow_the_model_variable_only(out: Path) -> None:
    """llm_unpriced_tokens_total carries the model alone: a provider, feature or tier filter on
    it matched nothing and the panel read 0 (healthy) while tokens went unpriced."""
    queries = dashlib.queries(dashlib.load(out / "grafana" / "dashboards"))
    unpriced = [q for q in queries if "llm_unpriced_tokens_total" in q.text]
    assert len(unpriced) >= 2
    for q in unpriced:
        # both sides: the app's own counter and the standard token usage
        assert q.text.count('=~"$model"') >= 2, q.id
        for var in ("$provider", "$feature", "$tier"):
            assert var not in q.text, (q.id, var)
