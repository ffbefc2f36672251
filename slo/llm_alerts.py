"""prometheus/rules/llm-alerts.yml and stack-alerts.yml: operational alerts for the LLM app and
the telemetry stack.

Metric and label names come from genai_telemetry.semconv (the telemetry contract); every number
comes from slo/thresholds.yaml; which service is watched, its `service` label, runbook links
and `for:` come from genai-obs.yaml. This module holds the table of LLM alerts (the shape of
each query and its texts); slo/stack_alerts.py the stack's. The service matchers are added to
every selector of an app metric after the queries are built (genobs.promql).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from genai_telemetry import semconv as sc
from genobs.contract import L_SYSTEM, base, is_app_metric, is_extra
from genobs.promql import inject, le_matcher, metric_names, quote, render_matchers
from slo import prices, stack_alerts
from slo.alerting import Alert, AlertRow, Threshold, num, render, rule
from slo.stack_alerts import STACK_ALERTS

if TYPE_CHECKING:
    from genobs.config import Config

MODEL_LABELS = f"{sc.L_PROVIDER}, {sc.L_MODEL}"
OP = sc.GENAI_OPERATION_DURATION
FAITHFULNESS = f'{sc.L_EVALUATION_NAME}="faithfulness"'
# Input guardrails only: no_sources is the empty-retrieval signal RAGEmptyRetrievalRatioHigh
# already alerts on.
INPUT_GUARDRAILS = f"{sc.L_GUARDRAIL}=~{quote(sc.GUARDRAIL_PII + '|' + sc.GUARDRAIL_INJECTION)}"
TRIGGERED = f"{sc.L_GUARDRAIL_ACTION}!={quote(sc.ACTION_PASSED)}"
COST_RATE = "llm:cost_usd_per_hour:rate5m"
FILE = "llm-alerts.yml"
STACK_FILE = "stack-alerts.yml"
# Table fields of the texts (see AlertRow).
FIELDS = {"per_model": "{{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }})"}


def unify_provider(expr: str) -> str:
    """Series naming the provider only in the older gen_ai_system label get it as
    gen_ai_provider_name too, so `by (gen_ai_provider_name)` groups both kinds of
    instrumentation; a series with both keeps its gen_ai_provider_name."""
    own = inject(expr, f'{sc.L_PROVIDER}!=""', is_app_metric)
    older = inject(expr, f'{sc.L_PROVIDER}=""', is_app_metric)
    return f'({own} or label_replace({older}, "{sc.L_PROVIDER}", "$1", "{L_SYSTEM}", "(.+)"))'


def _ratio_guarded(
    hits: str, total: str, by: str, t: Threshold, window: str = "5m", unify: bool = True
) -> str:
    """The share of `hits` in `total` (two series selectors) over `window` above the threshold,
    once `total` counted min_events; per `by` labels if any. `unify`: provider labels unified
    (unify_provider) before the sums; its long lines are laid out indented."""

    def agg(fn: str, sel: str) -> str:
        series = f"{fn}({sel}[{window}])"
        head = f"sum by ({by}) " if by else "sum"
        return f"{head}({unify_provider(series) if unify else series})"

    x, y, n = agg("rate", hits), agg("rate", total), agg("increase", total)
    on, bound, events = f" on ({by})" if by else "", num(t.value), t.extra["min_events"]
    if unify:
        return f"(\n  {x}\n/\n  {y}\n) > {bound}\nand{on}\n  {n} >= {events}\n"
    return f"{x}\n/\n{y}\n> {bound}\nand{on}\n{n} >= {events}\n"


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


def chat(cfg: Config) -> str:
    """The matchers of the text-generating model calls (selectors.llm_chat_operation)."""
    return render_matchers(cfg.llm_chat_operation)


def _chat_calls(cfg: Config, extra: str = "") -> str:
    return f"{OP}_count{{{chat(cfg)}{', ' + extra if extra else ''}}}"


def _chat_errors(t: Threshold, cfg: Config) -> str:
    # A provider's rate limit is LLMProviderRateLimited's ticket, not this page.
    failed = f'{sc.L_ERROR_TYPE}!="", {sc.L_ERROR_TYPE}!~{quote(cfg.rate_limited)}'
    return _ratio_guarded(_chat_calls(cfg, failed), _chat_calls(cfg), MODEL_LABELS, t)


def rate_limited_matcher(pattern: str) -> str:
    """The matcher of the error types counted as provider rate limits (error_types.rate_limited)."""
    return f"{sc.L_ERROR_TYPE}=~{quote(pattern)}"


def _chat_rate_limited(t: Threshold, cfg: Config) -> str:
    limited = rate_limited_matcher(cfg.rate_limited)
    return _ratio_guarded(_chat_calls(cfg, limited), _chat_calls(cfg), MODEL_LABELS, t)


def _unfaithful_answers(t: Threshold, cfg: Config) -> str:
    score, bound = sc.RAG_EVALUATION_SCORE, le_matcher(t.extra["score_bound"])
    hits, total = f"{score}_bucket{{{FAITHFULNESS}, {bound}}}", f"{score}_count{{{FAITHFULNESS}}}"
    return _ratio_guarded(hits, total, "", t, "10m", unify=False)


def _empty_retrievals(t: Threshold, cfg: Config) -> str:
    docs = sc.RAG_RETRIEVAL_DOCUMENTS
    hits, total = f"{docs}_bucket{{{le_matcher(0)}}}", f"{docs}_count"
    return _ratio_guarded(hits, total, "", t, unify=False)


def _guardrail_triggers(t: Threshold, cfg: Config) -> str:
    checks = sc.LLM_GUARDRAIL_CHECKS
    hits, total = f"{checks}{{{INPUT_GUARDRAILS}, {TRIGGERED}}}", f"{checks}{{{INPUT_GUARDRAILS}}}"
    return _ratio_guarded(hits, total, sc.L_GUARDRAIL, t, unify=False)


def _tool_errors(t: Threshold, cfg: Config) -> str:
    calls = sc.GENAI_EXECUTE_TOOL_DURATION + "_count"
    hits, total = f'{calls}{{{sc.L_ERROR_TYPE}!=""}}', calls
    return _ratio_guarded(hits, total, sc.L_TOOL_NAME, t, unify=False)


def _cost_spike(t: Threshold, cfg: Config) -> str:
    return (
        f"{COST_RATE}\n"
        f"  > on (service) {num(t.value)} * (\n"
        f"      avg_over_time({COST_RATE}[1h] offset 1w)\n"
        "    or\n"
        f"      avg_over_time({COST_RATE}[1d] offset {t.extra['baseline_exclude']})\n"
        "  )\n"
        f"and\n{COST_RATE} > {num(t.extra['floor_usd_per_hour'])}\n"
    )


def _unpriced_tokens(t: Threshold, cfg: Config) -> str:
    unpriced = sc.LLM_UNPRICED_TOKENS
    tokens = f"{prices.TOKEN_SUM}{{{prices.PRICED_TYPES_MATCHER}}}"
    return (
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
        f") > {num(t.value)}\n"
    )


# fmt: off
LLM_ALERTS = (
    AlertRow(
        "LLMErrorRatioHigh", "page", "llm-overview",
        expr=_chat_errors,
        summary="Chat calls to {per_model} are failing",
        description=(
            "{{ $value | humanizePercentage }} of chat calls to {per_model} failed (rate limits "
            "not counted) over the last 5 minutes (threshold {pct}%)."
        ),
        meaning=(
            "Share of failed chat calls (any error_type but a rate limit) per provider and "
            "model, over 5m"
        ),
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "LLMLatencyP95High", "ticket", "llm-overview",
        expr=lambda t, cfg: _p95_guarded(OP, chat(cfg), t),
        summary="Chat calls to {per_model} are slow",
        description=(
            "p95 latency of chat calls to {per_model} is {{ $value | humanizeDuration }} over "
            "the last 5 minutes (threshold {threshold} s)."
        ),
        meaning="p95 duration of chat calls per provider and model, over 5m",
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "LLMTTFTP95High", "ticket", "llm-overview",
        expr=lambda t, cfg: _p95_guarded(sc.GENAI_TIME_TO_FIRST_CHUNK, chat(cfg), t),
        summary="Streamed answers from {per_model} start slowly",
        description=(
            "p95 time to first chunk of streamed chats from {per_model} is "
            "{{ $value | humanizeDuration }} over the last 5 minutes (threshold {threshold} s)."
        ),
        meaning="p95 time to first streamed chunk per provider and model, over 5m",
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "LLMCostSpike", "ticket", "llm-cost",
        expr=_cost_spike,
        summary="LLM spend is spiking",
        description=(
            "LLM spend is {{ $value | humanize }} USD/h, more than {threshold}× the baseline "
            "(same hour last week, else the mean of the previous day); alerts only above "
            "{floor_usd_per_hour} USD/h."
        ),
        meaning=(
            "Spend rate (5m) vs same hour last week, else the previous day's mean; "
            "floor {floor_usd_per_hour} USD/h"
        ),
        needs=("threshold", "floor_usd_per_hour", "baseline_exclude"),
    ),
    AlertRow(
        "LLMDailySpendProjectedOverBudget", "ticket", "llm-cost",
        expr=lambda t, cfg: f"avg_over_time({COST_RATE}[1h]) * 24 > {num(t.value)}\n",
        summary="Projected LLM spend exceeds the daily budget",
        description=(
            "At the last hour's mean rate LLM spend reaches {{ $value | humanize }} USD per "
            "day, above the budget of {threshold} USD/day."
        ),
        meaning="Last hour's mean spend rate × 24 against the daily budget",
    ),
    AlertRow(
        "LLMProviderRateLimited", "ticket", "llm-overview",
        expr=_chat_rate_limited,
        summary="{per_model} is rate-limiting our chat calls",
        description=(
            "{{ $value | humanizePercentage }} of chat calls to {per_model} were refused with "
            "a rate limit (429) over the last 5 minutes (threshold {pct}%)."
        ),
        meaning="Share of chat calls refused by the provider's rate limit, per provider and model",
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "RAGAnswerQualityDrop", "ticket", "rag-pipeline",
        expr=_unfaithful_answers,
        summary="Answer faithfulness dropped",
        description=(
            "{{ $value | humanizePercentage }} of evaluated answers scored a faithfulness of "
            "{score_bound} or less over the last 10 minutes (threshold {pct}%)."
        ),
        meaning="Share of answers with faithfulness ≤ {score_bound}, over 10m",
        needs=("threshold", "score_bound", "min_events"),
    ),
    AlertRow(
        "LLMUnpricedModelTokens", "ticket", "llm-cost",
        expr=_unpriced_tokens,
        summary="Tokens of {{ $labels.gen_ai_request_model }} are not priced",
        description=(
            "{{ $value | humanize }} tokens of {{ $labels.gen_ai_request_model }} in the last "
            "30 minutes have no price: the cost dashboards under-report spend."
        ),
        meaning="Tokens of models missing from the price table, over 30m",
    ),
    AlertRow(
        "RAGEmptyRetrievalRatioHigh", "ticket", "rag-pipeline",
        expr=_empty_retrievals,
        summary="Retrieval returns no documents",
        description=(
            "{{ $value | humanizePercentage }} of retrievals returned no document over the "
            "last 5 minutes (threshold {pct}%)."
        ),
        meaning="Share of retrievals that returned zero documents, over 5m",
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "LLMGuardrailTriggerSpike", "ticket", "rag-pipeline",
        expr=_guardrail_triggers,
        summary="Guardrail {{ $labels.guardrail }} is triggering on many chats",
        description=(
            "{{ $value | humanizePercentage }} of chats were flagged or blocked by the "
            "{{ $labels.guardrail }} guardrail over the last 5 minutes (threshold {pct}%)."
        ),
        meaning=(
            "Share of chats an input guardrail (pii, prompt_injection) flagged or blocked, "
            "over 5m"
        ),
        needs=("threshold", "min_events"),
    ),
    AlertRow(
        "LLMToolErrorRatioHigh", "ticket", "llm-agents",
        expr=_tool_errors,
        summary="Tool {{ $labels.gen_ai_tool_name }} is failing",
        description=(
            "{{ $value | humanizePercentage }} of calls to the {{ $labels.gen_ai_tool_name }} "
            "tool failed over the last 5 minutes (threshold {pct}%)."
        ),
        meaning=(
            "Share of tool calls that failed (any error_type), per tool, over 5m: no "
            "model-call alert counts them"
        ),
        needs=("threshold", "min_events"),
    ),
)
# fmt: on


def recording_rules(cfg: Config) -> list[dict[str, Any]]:
    return [
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
            "labels": {"service": cfg.service_name},
        }
    ]


def build(
    th: dict[str, Threshold], cfg: Config, unfed: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], list[Alert]]:
    """Recording rules (cost) and the alerts, in the order they appear in the file; the app's
    queries get the service matchers of genai-obs.yaml, the stack's are left as they are.
    An alert is left out when every app metric it reads is one the app does not record: in
    `unfed` (slo.spec.Spec.unfed) or, with `extras: false`, one of rag-api's own."""
    sel = cfg.service_selector
    recording = [{**r, "expr": inject(r["expr"], sel, is_app_metric)} for r in recording_rules(cfg)]
    llm = [render(row, th[row.name], cfg, FIELDS) for row in LLM_ALERTS]
    llm = [a for a in llm if not _unfed(a.expr, cfg, unfed)]  # they could never fire
    rows = STACK_ALERTS if cfg.stack_alerts else ()
    stack = [render(row, th[row.name], cfg, stack_alerts.FIELDS) for row in rows]
    return recording, [replace(a, expr=inject(a.expr, sel, is_app_metric)) for a in llm] + stack


def _unfed(expr: str, cfg: Config, unfed: frozenset[str]) -> bool:
    app = [base(m) for m in metric_names(expr) if is_app_metric(m)]
    missing = [m in unfed or (not cfg.extras and is_extra(m)) for m in app]
    return bool(app) and all(missing)


def generate(
    th: dict[str, Threshold], cfg: Config, unfed: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """llm-alerts.yml (the service's recordings and alerts) and, unless `stack_alerts: false`,
    stack-alerts.yml (the stack's: one export per Prometheus should carry it)."""
    names = [row.name for row in (*LLM_ALERTS, *STACK_ALERTS)]
    missing = set(names) ^ set(th)
    if missing:  # the schema requires every alert; this guards the code side
        raise ValueError(f"thresholds and alerts disagree on: {sorted(missing)}")
    recording, alerts = build(th, cfg, unfed)
    stack = {row.name for row in STACK_ALERTS}
    llm = [rule(a, cfg) for a in alerts if a.name not in stack]
    out = {
        FILE: {
            "groups": [
                {"name": "llm-recording", "rules": recording},
                {"name": "llm-alerts", "rules": llm},
            ]
        }
    }
    if cfg.stack_alerts:
        out[STACK_FILE] = {
            "groups": [
                {"name": "stack-alerts", "rules": [rule(a, cfg) for a in alerts if a.name in stack]}
            ]
        }
    return out
