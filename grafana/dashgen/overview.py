"""LLM Overview (home dashboard): is the service healthy, fast, affordable right now?"""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core, cost, limits, llmops
from .core import GREEN, ORANGE, RED, YELLOW, prom, thresholds
from .promql import (
    chat_filter,
    chat_routes,
    matchers,
    model_filter,
    quantile,
    rate_limited,
    ratio,
    share_by,
    sum_rate,
    unary_chat_route,
)

HTTP_COUNT = sc.HTTP_SERVER_DURATION + "_count"
OPS_COUNT = sc.GENAI_OPERATION_DURATION + "_count"
# Scrapes and health probes: not user traffic, in any app.
PROBE_ROUTES = "/metrics|/healthz|/readyz|/livez|/health"
MODEL_ONLY = model_filter()


def right_now(d: core.Dashboard) -> None:
    d.row("Right now")
    five_xx = {**chat_routes(), sc.L_HTTP_STATUS: "~5.."}
    d.add(
        core.stat(
            "Requests/s",
            "Chat API requests per second (selectors.http_chat_route of genai-obs.yaml), all "
            "outcomes.",
            prom(sum_rate(HTTP_COUNT, chat_routes())),
            "reqps",
            w=3,
            decimals=2,
        ),
        core.stat(
            "Error % (5xx)",
            "Share of chat API requests answered 5xx: what the availability SLO "
            f"({limits.pct(limits.objective('chat-availability'))}) counts. "
            "Provider failures map to 502/503/504; our own rate limiter (429) is not an error.",
            prom(ratio(sum_rate(HTTP_COUNT, five_xx), sum_rate(HTTP_COUNT, chat_routes()))),
            "percentunit",
            w=3,
            decimals=2,
            thresholds_=thresholds(
                (None, GREEN),
                (limits.AVAILABILITY_BUDGET, YELLOW),
                (10 * limits.AVAILABILITY_BUDGET, RED),
            ),
            links=core.drilldown(common.TRACES[0], "Failed traces"),
        ),
        core.stat(
            "p95 latency",
            "95th percentile of /v1/chat request duration (server side). The latency SLO wants "
            f"95% of requests under {limits.LATENCY_S} s.",
            prom(quantile(0.95, sc.HTTP_SERVER_DURATION, unary_chat_route())),
            "s",
            w=3,
            decimals=2,
            thresholds_=thresholds(
                (None, GREEN), (limits.LATENCY_S / 2, YELLOW), (limits.LATENCY_S, RED)
            ),
            links=core.drilldown(common.TRACES[0], "Slow traces"),
        ),
        core.stat(
            "TTFT p95",
            "95th percentile time to first streamed chunk of chat calls (selected models). "
            f"The TTFT SLO wants 95% under {limits.TTFT_S} s.",
            prom(quantile(0.95, sc.GENAI_TIME_TO_FIRST_CHUNK, chat_filter())),
            "s",
            w=3,
            decimals=2,
            thresholds_=thresholds(
                (None, GREEN), (limits.TTFT_S / 2, YELLOW), (limits.TTFT_S, RED)
            ),
            links=core.drilldown(common.TRACES[0], "Slow first token traces"),
        ),
    )


def right_now_spend(d: core.Dashboard) -> None:
    """The rest of "Right now": cost, tokens, in-flight calls, error budget."""
    d.add(
        core.stat(
            "Cost per hour",
            "Spend rate in USD per hour at the current rate (llm_cost_usd_total where the app "
            "reports it, else standard token usage × price table; × 3600), selected providers "
            "and models.",
            prom(f"{cost.spend(filters=MODEL_ONLY)} * 3600"),
            "currencyUSD",
            w=3,
            decimals=2,
            links=core.drilldown(common.COST[0], "Cost breakdown"),
        ),
        core.stat(
            "Tokens/s",
            "Input + output tokens per second consumed by chat calls (rate of the token "
            "histogram's "
            "_sum).",
            prom(sum_rate(sc.GENAI_TOKEN_USAGE + "_sum", chat_filter())),
            "short",
            w=3,
            decimals=1,
        ),
        core.stat(
            "In-flight model calls",
            "Model calls in progress right now (llm_active_requests gauge), selected models.",
            prom(f"sum({sc.LLM_ACTIVE_REQUESTS}{matchers(**MODEL_ONLY)})"),
            "short",
            w=3,
            decimals=0,
            thresholds_=thresholds((None, GREEN), (20, YELLOW), (50, RED)),
        ),
        core.stat(
            "Error budget left (worst SLO)",
            f"Smallest remaining error budget over all {common.service()} SLOs for the 30-day "
            "period (slo:error_budget_remaining:ratio; below 0 the SLO is already missed). "
            "Details on the SLO dashboard.",
            prom("min(slo:error_budget_remaining:ratio" + matchers(service=common.service()) + ")"),
            "percentunit",
            w=3,
            decimals=1,
            thresholds_=thresholds((None, RED), (0, ORANGE), (0.25, YELLOW), (0.5, GREEN)),
            links=core.drilldown(common.SLOS[0], "SLO details"),
        ),
    )


def traffic_and_errors(d: core.Dashboard) -> None:
    d.row("Traffic and errors")
    d.add(
        core.timeseries(
            "API requests by route and status",
            "Requests per second per route template and HTTP status code: the user-facing traffic "
            "(scrapes and health probes left out).",
            [
                prom(
                    sum_rate(
                        HTTP_COUNT,
                        {sc.L_HTTP_ROUTE: "!~" + PROBE_ROUTES},
                        by=(sc.L_HTTP_ROUTE, sc.L_HTTP_STATUS),
                    ),
                    "{{http_route}} {{http_response_status_code}}",
                )
            ],
            "reqps",
            w=8,
            stack=True,
        ),
        core.timeseries(
            "Model call errors by model and type",
            "Failed chat calls per second by model and error_type (timeout, rate_limited, "
            "server_error …): which provider is failing, and how.",
            [
                prom(
                    sum_rate(
                        OPS_COUNT,
                        chat_filter(**{sc.L_ERROR_TYPE: "!"}),
                        by=(sc.L_MODEL, sc.L_ERROR_TYPE),
                    ),
                    "{{gen_ai_request_model}} {{error_type}}",
                )
            ],
            "ops",
            w=8,
            stack=True,
        ),
        core.timeseries(
            "Model call error ratio by model",
            "Share of chat calls that failed, per model. Yellow line: the llm-chat-success "
            f"SLO budget ({limits.pct(limits.CHAT_ERROR_BUDGET)}); red line: LLMErrorRatioHigh "
            f"({limits.pct(limits.ERROR_RATIO_ALERT)} over 5 minutes pages; it leaves rate limits "
            "out, which LLMProviderRateLimited tickets, so a 429 storm can cross it silently).",
            [
                prom(
                    share_by(OPS_COUNT, {sc.L_ERROR_TYPE: "!"}, chat_filter(), by=(sc.L_MODEL,)),
                    "{{gen_ai_request_model}}",
                )
            ],
            "percentunit",
            w=8,
            thresholds_=thresholds(
                (None, GREEN), (limits.CHAT_ERROR_BUDGET, YELLOW), (limits.ERROR_RATIO_ALERT, RED)
            ),
            threshold_style="line",
        ),
    )


def latency(d: core.Dashboard) -> None:
    d.row("Latency")
    d.add(
        core.timeseries(
            "Chat latency p50 / p95 / p99 by model",
            "Model call duration quantiles per model from the histogram buckets. Exemplar dots "
            "link to the trace of a concrete slow call (Tempo).",
            [
                prom(
                    quantile(q, sc.GENAI_OPERATION_DURATION, chat_filter(), by=(sc.L_MODEL,)),
                    f"p{round(q * 100)} {{{{gen_ai_request_model}}}}",
                    exemplar=True,
                )
                for q in (0.5, 0.95, 0.99)
            ],
            "s",
            thresholds_=thresholds((None, GREEN), (limits.LATENCY_S, RED)),
            threshold_style="line",
        ),
        core.timeseries(
            "Time to first token p50 / p95 by model",
            "Streaming time to first chunk per model (client side: what the user waits before "
            f"text appears). Red line: the TTFT SLO threshold {limits.TTFT_S} s.",
            [
                prom(
                    quantile(q, sc.GENAI_TIME_TO_FIRST_CHUNK, chat_filter(), by=(sc.L_MODEL,)),
                    f"p{round(q * 100)} {{{{gen_ai_request_model}}}}",
                    exemplar=True,
                )
                for q in (0.5, 0.95)
            ],
            "s",
            thresholds_=thresholds((None, GREEN), (limits.TTFT_S, RED)),
            threshold_style="line",
        ),
    )


def tokens_cost_limits(d: core.Dashboard) -> None:
    d.row("Tokens, cost and provider limits")
    d.add(
        core.timeseries(
            "Tokens per second by model and type",
            "Input and output tokens per second per model (rate of the token histogram's _sum).",
            [
                prom(
                    sum_rate(
                        sc.GENAI_TOKEN_USAGE + "_sum",
                        chat_filter(),
                        by=(sc.L_MODEL, sc.L_TOKEN_TYPE),
                    ),
                    "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                )
            ],
            "short",
            w=6,
            stack=True,
        ),
        core.timeseries(
            "Cost per hour by model",
            "USD per hour per model at the current rate (as Cost per hour, per model).",
            [
                prom(
                    f"{cost.spend(by=(sc.L_MODEL,), filters=MODEL_ONLY)} * 3600",
                    "{{gen_ai_request_model}}",
                )
            ],
            "currencyUSD",
            w=6,
            stack=True,
            decimals=2,
        ),
        core.timeseries(
            "Provider rate limiting (429)",
            "Chat calls per second the provider refused with a rate limit (429; the error types of "
            "error_types.rate_limited in genai-obs.yaml), "
            "per provider and model. Sustained values mean quota is exhausted: expect 503s.",
            [
                prom(
                    sum_rate(
                        OPS_COUNT,
                        chat_filter(**{sc.L_ERROR_TYPE: rate_limited()}),
                        by=(sc.L_PROVIDER, sc.L_MODEL),
                    ),
                    "{{gen_ai_provider_name}} {{gen_ai_request_model}}",
                )
            ],
            "ops",
            w=6,
        ),
        core.timeseries(
            "Response cache hit ratio",
            "Share of cache lookups answered from the response cache (no model call, no cost).",
            [
                prom(
                    ratio(
                        sum_rate(sc.LLM_CACHE_LOOKUPS, {sc.L_CACHE_RESULT: "hit"}),
                        sum_rate(sc.LLM_CACHE_LOOKUPS),
                    ),
                    "hit ratio",
                )
            ],
            "percentunit",
            w=6,
            max_=1,
        ),
    )


def logs_and_alerts(d: core.Dashboard) -> None:
    d.row("Logs and alerts")
    d.add(
        core.logs(
            "Recent errors and warnings (logs)",
            f"{common.service()} log lines with severity WARN(ING), ERROR or worse from Loki "
            "(failed chats, unpriced models, fault changes). Expand a line and use the trace_id "
            "link to open its trace.",
            common.error_logs(),
            w=12,
            h=10,
        ),
        core.table(
            "Alerts firing or pending (Prometheus)",
            f"{common.service()}'s alerts Prometheus is evaluating as pending or firing right "
            "now (ALERTS series), Watchdog excluded. Firing alerts are also shown as red "
            "annotations on the graphs.",
            [
                prom(
                    "sum by (alertname, alertstate, severity, service) "
                    f"(ALERTS{{{common.app_alerts()}}})"
                )
            ],
            "none",
            w=6,
            h=10,
            transformations=[
                {"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True}}}
            ],
        ),
        core.alert_groups(
            "Alertmanager: active alert groups",
            "Alerts as Alertmanager holds them (grouped, silenced, inhibited): what was routed to "
            "receivers. Reads the Alertmanager datasource.",
            common.ALERTMANAGER_DATASOURCE_NAME,
            'alertname!="Watchdog"',
            w=6,
            h=10,
        ),
    )


ROWS: tuple[core.Row, ...] = (
    right_now,
    right_now_spend,
    traffic_and_errors,
    latency,
    llmops.generation_speed,
    tokens_cost_limits,
    logs_and_alerts,
)


def build() -> core.Json:
    return common.render(
        common.OVERVIEW,
        ROWS,
        description="Home: traffic, errors, latency, time to first token, tokens, cost and alerts "
        f"of the {common.service()} LLM service.",
        tags=["llm", "home"],
        variables=[
            *common.model_variables(),
            core.datasource_var("loki"),
        ],
        annotations=[common.firing_alerts(common.app_alerts())],
    )
