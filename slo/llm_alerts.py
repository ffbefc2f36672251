"""prometheus/rules/llm-alerts.yml: operational alerts for the LLM app and the telemetry stack.

Metric and label names come from genai_telemetry.semconv (the telemetry contract); every number
comes from slo/thresholds.yaml; which service is watched, its `service` label, runbook links
and `for:` come from genai-obs.yaml. This module only holds the shape of each query. The
service matchers are added to every selector of an app metric after the queries are built
(genobs.promql).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from genai_telemetry import semconv as sc
from genobs.contract import L_SYSTEM, is_app_metric
from genobs.promql import inject, le_matcher, quote
from slo import prices
from slo.render import dashboard, runbook_url
from slo.spec import Threshold

if TYPE_CHECKING:
    from genobs.config import Config

MODEL_LABELS = f"{sc.L_PROVIDER}, {sc.L_MODEL}"
CHAT = f'{sc.L_OPERATION}="{sc.OP_CHAT}"'

# Self-metrics of the stack (not in the app contract); tests/prometheus checks rules use only
# these and the contract. Names verified against the upstream projects (see docs/alerts.md).
OTELCOL_REFUSED = {
    "traces": "otelcol_receiver_refused_spans_total",
    "logs": "otelcol_receiver_refused_log_records_total",
    "metrics": "otelcol_receiver_refused_metric_points_total",
}
OTELCOL_SEND_FAILED = {
    "traces": "otelcol_exporter_send_failed_spans_total",
    "logs": "otelcol_exporter_send_failed_log_records_total",
    "metrics": "otelcol_exporter_send_failed_metric_points_total",
}
LOKI_REQUESTS = "loki_request_duration_seconds_count"
LOKI_PUSH_ROUTES = "loki_api_v1_push|otlp_v1_logs"
LOKI_DISCARDED = "loki_discarded_samples_total"
TEMPO_DISCARDED = "tempo_discarded_spans_total"
TEMPO_REFUSED = "tempo_receiver_refused_spans"
PROM_RULE_FAILURES = "prometheus_rule_evaluation_failures_total"
AM_NOTIFICATIONS_FAILED = "alertmanager_notifications_failed_total"
COST_RATE = "llm:cost_usd_per_hour:rate5m"

STACK_METRICS = frozenset(
    {
        "up",
        *OTELCOL_REFUSED.values(),
        *OTELCOL_SEND_FAILED.values(),
        LOKI_REQUESTS,
        LOKI_DISCARDED,
        TEMPO_DISCARDED,
        TEMPO_REFUSED,
        PROM_RULE_FAILURES,
        AM_NOTIFICATIONS_FAILED,
    }
)


def num(value: float | int) -> str:
    """A threshold as a PromQL literal: 0.05, 5.12, 2, 0 (never 2.0 or 5e-02)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def pct(ratio: float) -> str:
    """A ratio threshold as a percentage for descriptions (0.3 → "30", no float noise)."""
    return num(round(ratio * 100, 6))


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    expr: str
    summary: str
    description: str
    dashboard: str
    labels: dict[str, str]
    meaning: str  # one line for docs/alerts.md


def unify_provider(expr: str) -> str:
    """Series naming the provider in the older gen_ai_system label get it as gen_ai_provider_name
    too, so `by (gen_ai_provider_name)` groups both kinds of instrumentation."""
    return f'label_replace({expr}, "{sc.L_PROVIDER}", "$1", "{L_SYSTEM}", "(.+)")'


def _ratio_guarded(errors: str, total: str, by: str, t: Threshold, window: str = "5m") -> str:
    def agg(fn: str, sel: str) -> str:
        return f"sum by ({by}) ({unify_provider(f'{fn}({sel}[{window}])')})"

    return (
        f"(\n  {agg('rate', errors)}\n/\n"
        f"  {agg('rate', total)}\n) > {num(t.value)}\n"
        f"and on ({by})\n"
        f"  {agg('increase', total)} >= {t.extra['min_events']}\n"
    )


def _p95_guarded(metric: str, selector: str, t: Threshold) -> str:
    buckets = unify_provider(f"rate({metric}_bucket{{{selector}}}[5m])")
    count = unify_provider(f"increase({metric}_count{{{selector}}}[5m])")
    return (
        "histogram_quantile(\n  0.95,\n"
        f"  sum by ({MODEL_LABELS}, le) ({buckets})\n"
        f") > {num(t.value)}\n"
        f"and on ({MODEL_LABELS})\n"
        f"  sum by ({MODEL_LABELS}) ({count})"
        f" >= {t.extra['min_events']}\n"
    )


def _per_signal(metrics: dict[str, str], by: str, t: Threshold) -> str:
    parts = [
        f'label_replace(sum by ({by}) (rate({m}[5m])), "signal", "{signal}", "", "")'
        f" > {num(t.value)}"
        for signal, m in metrics.items()
    ]
    return "\n  or\n".join(parts) + "\n"


def build(th: dict[str, Threshold], cfg: Config) -> tuple[list[dict[str, Any]], list[Alert]]:
    """Recording rules (cost) and the alerts, in the order they appear in the file."""
    recording, alerts = _build(th, cfg)
    sel = cfg.service_selector
    for rec in recording:
        rec["expr"] = inject(rec["expr"], sel, is_app_metric)
    return recording, [
        a if a.name in STACK_ALERTS else replace(a, expr=inject(a.expr, sel, is_app_metric))
        for a in alerts
    ]


def _build(th: dict[str, Threshold], cfg: Config) -> tuple[list[dict[str, Any]], list[Alert]]:
    app = {"service": cfg.service_name}
    job = {"service": "{{ $labels.job }}"}
    per_model = "{{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }})"
    op = sc.GENAI_OPERATION_DURATION
    alerts: list[Alert] = []

    t = th["LLMErrorRatioHigh"]
    alerts.append(
        Alert(
            "LLMErrorRatioHigh",
            "page",
            # A provider's rate limit is LLMProviderRateLimited's ticket, not this page.
            _ratio_guarded(
                f'{op}_count{{{CHAT}, {sc.L_ERROR_TYPE}!="", '
                f"{sc.L_ERROR_TYPE}!~{quote(cfg.rate_limited)}}}",
                f"{op}_count{{{CHAT}}}",
                MODEL_LABELS,
                t,
            ),
            f"Chat calls to {per_model} are failing",
            f"{{{{ $value | humanizePercentage }}}} of chat calls to {per_model} failed (rate "
            f"limits not counted) over the last 5 minutes (threshold {pct(t.value)}%).",
            dashboard(cfg, "llm-overview"),
            app,
            "Share of failed chat calls (any error_type but a rate limit) per provider and model, "
            "over 5m",
        )
    )
    t = th["LLMLatencyP95High"]
    alerts.append(
        Alert(
            "LLMLatencyP95High",
            "ticket",
            _p95_guarded(op, CHAT, t),
            f"Chat calls to {per_model} are slow",
            f"p95 latency of chat calls to {per_model} is {{{{ $value | humanizeDuration }}}} "
            f"over the last 5 minutes (threshold {num(t.value)} s).",
            dashboard(cfg, "llm-overview"),
            app,
            "p95 duration of chat calls per provider and model, over 5m",
        )
    )
    t = th["LLMTTFTP95High"]
    alerts.append(
        Alert(
            "LLMTTFTP95High",
            "ticket",
            _p95_guarded(sc.GENAI_TIME_TO_FIRST_CHUNK, CHAT, t),
            f"Streamed answers from {per_model} start slowly",
            f"p95 time to first chunk of streamed chats from {per_model} is "
            f"{{{{ $value | humanizeDuration }}}} over the last 5 minutes "
            f"(threshold {num(t.value)} s).",
            dashboard(cfg, "llm-overview"),
            app,
            "p95 time to first streamed chunk per provider and model, over 5m",
        )
    )
    t = th["LLMCostSpike"]
    floor = num(t.extra["floor_usd_per_hour"])
    exclude = t.extra["baseline_exclude"]
    alerts.append(
        Alert(
            "LLMCostSpike",
            "ticket",
            f"{COST_RATE}\n"
            f"  > on (service) {num(t.value)} * (\n"
            f"      avg_over_time({COST_RATE}[1h] offset 1w)\n"
            "    or\n"
            f"      avg_over_time({COST_RATE}[1d] offset {exclude})\n"
            "  )\n"
            f"and\n{COST_RATE} > {floor}\n",
            "LLM spend is spiking",
            "LLM spend is {{ $value | humanize }} USD/h, more than "
            f"{num(t.value)}× the baseline (same hour last week, else the mean of the previous "
            f"day); alerts only above {floor} USD/h.",
            dashboard(cfg, "llm-cost"),
            app,
            f"Spend rate (5m) vs same hour last week, else the previous day's mean; "
            f"floor {floor} USD/h",
        )
    )
    t = th["LLMDailySpendProjectedOverBudget"]
    alerts.append(
        Alert(
            "LLMDailySpendProjectedOverBudget",
            "ticket",
            f"avg_over_time({COST_RATE}[1h]) * 24 > {num(t.value)}\n",
            "Projected LLM spend exceeds the daily budget",
            "At the last hour's mean rate LLM spend reaches {{ $value | humanize }} USD per day, "
            f"above the budget of {num(t.value)} USD/day.",
            dashboard(cfg, "llm-cost"),
            app,
            "Last hour's mean spend rate × 24 against the daily budget",
        )
    )
    t = th["LLMProviderRateLimited"]
    alerts.append(
        Alert(
            "LLMProviderRateLimited",
            "ticket",
            _ratio_guarded(
                f"{op}_count{{{CHAT}, {sc.L_ERROR_TYPE}=~{quote(cfg.rate_limited)}}}",
                f"{op}_count{{{CHAT}}}",
                MODEL_LABELS,
                t,
            ),
            f"{per_model} is rate-limiting our chat calls",
            f"{{{{ $value | humanizePercentage }}}} of chat calls to {per_model} were refused "
            f"with a rate limit (429) over the last 5 minutes (threshold {pct(t.value)}%).",
            dashboard(cfg, "llm-overview"),
            app,
            "Share of chat calls refused by the provider's rate limit, per provider and model",
        )
    )
    t = th["RAGAnswerQualityDrop"]
    score = sc.RAG_EVALUATION_SCORE
    faith = f'{sc.L_EVALUATION_NAME}="faithfulness"'
    bound = sc.le(t.extra["score_bound"])
    le_bound = le_matcher(t.extra["score_bound"])
    alerts.append(
        Alert(
            "RAGAnswerQualityDrop",
            "ticket",
            f"sum(rate({score}_bucket{{{faith}, {le_bound}}}[10m]))\n/\n"
            f"sum(rate({score}_count{{{faith}}}[10m]))\n> {num(t.value)}\n"
            f"and\nsum(increase({score}_count{{{faith}}}[10m])) >= {t.extra['min_events']}\n",
            "Answer faithfulness dropped",
            "{{ $value | humanizePercentage }} of evaluated answers scored a faithfulness of "
            f"{bound} or less over the last 10 minutes (threshold {pct(t.value)}%).",
            dashboard(cfg, "rag-pipeline"),
            app,
            f"Share of answers with faithfulness ≤ {bound}, over 10m",
        )
    )
    t = th["LLMUnpricedModelTokens"]
    unpriced = sc.LLM_UNPRICED_TOKENS
    tokens = f"{prices.TOKEN_SUM}{{{prices.PRICED_TYPES_MATCHER}}}"
    alerts.append(
        Alert(
            "LLMUnpricedModelTokens",
            "ticket",
            f"sum by ({sc.L_MODEL}) (\n"
            "    # a series born in the last 30m: increase() cannot see its first sample\n"
            f"    ({unpriced} unless {unpriced} offset 30m)\n"
            "  or\n"
            f"    increase({unpriced}[30m])\n"
            f") > {num(t.value)}\n"
            "or\n"
            "# apps without llm_unpriced_tokens_total: standard token usage of unpriced models\n"
            f"sum by ({sc.L_MODEL}) (\n"
            "  (\n"
            f"      ({tokens} unless {tokens} offset 30m)\n"
            "    or\n"
            f"      increase({tokens}[30m])\n"
            "  )\n"
            f"  unless on ({sc.L_MODEL})\n"
            f"    {prices.PRICE}\n"
            f") > {num(t.value)}\n",
            "Tokens of {{ $labels.gen_ai_request_model }} are not priced",
            "{{ $value | humanize }} tokens of {{ $labels.gen_ai_request_model }} in the last "
            "30 minutes have no price: the cost dashboards under-report spend.",
            dashboard(cfg, "llm-cost"),
            app,
            "Tokens of models missing from the price table, over 30m",
        )
    )
    t = th["RAGEmptyRetrievalRatioHigh"]
    docs = sc.RAG_RETRIEVAL_DOCUMENTS
    alerts.append(
        Alert(
            "RAGEmptyRetrievalRatioHigh",
            "ticket",
            f"sum(rate({docs}_bucket{{{le_matcher(0)}}}[5m]))\n/\n"
            f"sum(rate({docs}_count[5m]))\n> {num(t.value)}\n"
            f"and\nsum(increase({docs}_count[5m])) >= {t.extra['min_events']}\n",
            "Retrieval returns no documents",
            "{{ $value | humanizePercentage }} of retrievals returned no document over the last "
            f"5 minutes (threshold {pct(t.value)}%).",
            dashboard(cfg, "rag-pipeline"),
            app,
            "Share of retrievals that returned zero documents, over 5m",
        )
    )
    t = th["LLMGuardrailTriggerSpike"]
    checks = sc.LLM_GUARDRAIL_CHECKS
    # Input guardrails only: no_sources is the empty-retrieval signal RAGEmptyRetrievalRatioHigh
    # already alerts on.
    inputs = f"{sc.L_GUARDRAIL}=~{quote(sc.GUARDRAIL_PII + '|' + sc.GUARDRAIL_INJECTION)}"
    triggered = f"{sc.L_GUARDRAIL_ACTION}!={quote(sc.ACTION_PASSED)}"
    alerts.append(
        Alert(
            "LLMGuardrailTriggerSpike",
            "ticket",
            f"sum by ({sc.L_GUARDRAIL}) (rate({checks}{{{inputs}, {triggered}}}[5m]))\n/\n"
            f"sum by ({sc.L_GUARDRAIL}) (rate({checks}{{{inputs}}}[5m]))\n> {num(t.value)}\n"
            f"and on ({sc.L_GUARDRAIL})\n"
            f"sum by ({sc.L_GUARDRAIL}) (increase({checks}{{{inputs}}}[5m]))"
            f" >= {t.extra['min_events']}\n",
            "Guardrail {{ $labels.guardrail }} is triggering on many chats",
            "{{ $value | humanizePercentage }} of chats were flagged or blocked by the "
            "{{ $labels.guardrail }} guardrail over the last 5 minutes "
            f"(threshold {pct(t.value)}%).",
            dashboard(cfg, "rag-pipeline"),
            app,
            "Share of chats an input guardrail (pii, prompt_injection) flagged or blocked, over 5m",
        )
    )
    alerts.append(
        Alert(
            "TargetDown",
            "ticket",
            "up == 0\n",
            "{{ $labels.job }} target {{ $labels.instance }} is down",
            "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).",
            dashboard(cfg, "stack-health"),
            job,
            "A scrape target does not answer (per job and instance)",
        )
    )
    t = th["OtelCollectorRefusingData"]
    alerts.append(
        Alert(
            "OtelCollectorRefusingData",
            "ticket",
            _per_signal(OTELCOL_REFUSED, "job, receiver", t),
            "The collector refuses {{ $labels.signal }}",
            'Receiver {{ $labels.receiver }} refuses {{ $value | printf "%.2f" }} '
            "{{ $labels.signal }} items/s (usually memory_limiter back-pressure); senders drop "
            "or retry them.",
            dashboard(cfg, "stack-health"),
            job,
            "Collector receivers refuse spans, log records or metric points",
        )
    )
    t = th["OtelCollectorExportFailing"]
    alerts.append(
        Alert(
            "OtelCollectorExportFailing",
            "ticket",
            _per_signal(OTELCOL_SEND_FAILED, "job, exporter", t),
            "The collector cannot export {{ $labels.signal }}",
            'Exporter {{ $labels.exporter }} fails to send {{ $value | printf "%.2f" }} '
            "{{ $labels.signal }} items/s to its backend.",
            dashboard(cfg, "stack-health"),
            job,
            "Collector exporters fail to send spans, log records or metric points",
        )
    )
    t = th["LokiIngestionErrors"]
    alerts.append(
        Alert(
            "LokiIngestionErrors",
            "ticket",
            f'sum by (job) (rate({LOKI_REQUESTS}{{route=~"{LOKI_PUSH_ROUTES}", '
            f'status_code=~"5.."}}[5m])) > {num(t.value)}\n'
            "or\n"
            f"sum by (job) (rate({LOKI_DISCARDED}[5m])) > {num(t.value)}\n",
            "Loki fails to ingest logs",
            'Loki answers pushes with 5xx or discards lines: {{ $value | printf "%.2f" }}/s over '
            "the last 5 minutes.",
            dashboard(cfg, "stack-health"),
            job,
            "Loki push requests fail (5xx) or lines are discarded",
        )
    )
    t = th["TempoIngestionErrors"]
    alerts.append(
        Alert(
            "TempoIngestionErrors",
            "ticket",
            f"sum by (job) (rate({TEMPO_DISCARDED}[5m])) > {num(t.value)}\n"
            "or\n"
            f"sum by (job) (rate({TEMPO_REFUSED}[5m])) > {num(t.value)}\n",
            "Tempo fails to ingest spans",
            'Tempo discards or refuses {{ $value | printf "%.2f" }} spans/s over the last '
            "5 minutes.",
            dashboard(cfg, "stack-health"),
            job,
            "Tempo discards or refuses spans",
        )
    )
    t = th["PrometheusRuleEvaluationFailures"]
    alerts.append(
        Alert(
            "PrometheusRuleEvaluationFailures",
            "ticket",
            f"sum by (job, rule_group) (increase({PROM_RULE_FAILURES}[5m])) > {num(t.value)}\n",
            "Prometheus rules fail to evaluate",
            "{{ $value | humanize }} evaluations of rule group {{ $labels.rule_group }} failed "
            "in the last 5 minutes: its recordings and alerts are blind.",
            dashboard(cfg, "stack-health"),
            job,
            "Rule evaluations fail (recordings and alerts go blind)",
        )
    )
    t = th["AlertmanagerNotificationsFailing"]
    alerts.append(
        Alert(
            "AlertmanagerNotificationsFailing",
            "ticket",
            f"sum by (job, integration) (rate({AM_NOTIFICATIONS_FAILED}[5m])) > {num(t.value)}\n",
            "Alertmanager cannot deliver {{ $labels.integration }} notifications",
            '{{ $value | printf "%.2f" }} {{ $labels.integration }} notifications/s failed over '
            "the last 5 minutes: people may not hear about other alerts.",
            dashboard(cfg, "stack-health"),
            job,
            "Alertmanager notifications fail per integration",
        )
    )
    alerts.append(
        Alert(
            "Watchdog",
            "info",
            "vector(1)\n",
            "Alerting pipeline heartbeat",
            "Always firing. If the heartbeat receiver stops hearing it, Prometheus, "
            "Alertmanager or the path between them is broken.",
            dashboard(cfg, "stack-health"),
            {"service": "prometheus"},
            "Always fires; proves Prometheus → Alertmanager → receiver works",
        )
    )

    recording = [
        {
            "record": COST_RATE,
            # The app's own cost where it reports one, else standard tokens × price table.
            "expr": (
                "sum(\n"
                f"    sum by ({prices.COST_KEY}) (rate({sc.LLM_COST}[5m]))\n"
                "  or\n"
                f"    sum by ({prices.COST_KEY}) ({prices.TOKEN_COST_RATE})\n"
                ") * 3600\n"
            ),
            "labels": dict(app),
        }
    ]
    return recording, alerts


def rule(a: Alert, cfg: Config) -> dict[str, Any]:
    return {
        "alert": a.name,
        "expr": a.expr,
        "for": cfg.for_of(a.name),
        "labels": {"severity": a.severity, **a.labels},
        "annotations": {
            "summary": a.summary,
            "description": a.description,
            "runbook_url": runbook_url(cfg, a.name),
            "dashboard": a.dashboard,
        },
    }


STACK_ALERTS = frozenset(
    {
        "TargetDown",
        "OtelCollectorRefusingData",
        "OtelCollectorExportFailing",
        "LokiIngestionErrors",
        "TempoIngestionErrors",
        "PrometheusRuleEvaluationFailures",
        "AlertmanagerNotificationsFailing",
        "Watchdog",
    }
)


def generate(th: dict[str, Threshold], cfg: Config) -> dict[str, Any]:
    recording, alerts = build(th, cfg)
    missing = {a.name for a in alerts} ^ set(th)
    if missing:  # the schema requires every alert; this guards the code side
        raise ValueError(f"thresholds and alerts disagree on: {sorted(missing)}")
    return {
        "groups": [
            {"name": "llm-recording", "rules": recording},
            {
                "name": "llm-alerts",
                "rules": [rule(a, cfg) for a in alerts if a.name not in STACK_ALERTS],
            },
            {
                "name": "stack-alerts",
                "rules": [rule(a, cfg) for a in alerts if a.name in STACK_ALERTS],
            },
        ]
    }
