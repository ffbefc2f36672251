"""LLM Cost & Usage: where does the money go, what will this month cost, what is unaccounted?"""

from __future__ import annotations

from collections.abc import Callable

from genai_telemetry import semconv as sc
from slo import prices

from . import common, core
from .core import GREEN, RED, YELLOW, prom, thresholds
from .promql import (
    RATE,
    V_MODEL,
    Labels,
    chat_filter,
    cost_filter,
    increase,
    matchers,
    model_filter,
    quantile,
    rate,
    ratio,
    ratio_by,
    sum_increase,
    sum_rate,
)

OPS_COUNT = sc.GENAI_OPERATION_DURATION + "_count"
TOKENS = sc.GENAI_TOKEN_USAGE
DAYS_PER_MONTH = 30  # the projection horizon, matching the SLO period
USD = "currencyUSD"


PER_HOUR = " * 3600"


def spend(
    fn: str = "rate", window: str = RATE, by: tuple[str, ...] = (), filters: Labels | None = None
) -> str:
    """USD (rate or increase) per `by`: each app's own llm_cost_usd_total where it reports one,
    else its standard token usage × the price table (slo/prices.py), so apps that emit only
    gen_ai.client.token.usage have a cost too. Both sides take the same filters (a label an app
    lacks reads "", which the variables' All value `.*` matches); `filters` defaults to all four
    cost variables."""
    return _own_or_tokens(
        sc.LLM_COST,
        lambda usage: prices.one_line(prices.token_cost_expr(usage=usage)),
        fn=fn,
        window=window,
        by=by,
        filters=cost_filter() if filters is None else filters,
    )


def unpriced(fn: str, window: str, by: tuple[str, ...] = ()) -> str:
    """Tokens of models without a price (own counter, else unpriced token usage); both sides
    under the model variable only, the counter's one label (others would match nothing: 0)."""
    return _own_or_tokens(
        sc.LLM_UNPRICED_TOKENS,
        lambda usage: f"({usage}) unless on ({sc.L_MODEL}) {prices.PRICE}",
        fn=fn,
        window=window,
        by=by,
        filters={sc.L_MODEL: "~" + V_MODEL},
    )


def _own_or_tokens(
    own_metric: str,
    from_tokens: Callable[[str], str],
    *,
    fn: str,
    window: str,
    by: tuple[str, ...],
    filters: Labels,
) -> str:
    """`own_metric` where an app reports it, else `from_tokens` of its standard token usage
    (input and output), per job and model: one filter set for both sides."""
    key = ", ".join(dict.fromkeys(("job", sc.L_MODEL, *by)))
    own = f"sum by ({key}) ({fn}({own_metric}{matchers(**filters)}[{window}]))"
    priced = {sc.L_TOKEN_TYPE: prices.PRICED_TYPES, **filters}
    usage = {"rate": rate, "increase": increase}[fn](prices.TOKEN_SUM, priced, window)
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} ({own} or sum by ({key}) ({from_tokens(usage)}))"


def spend_row(d: core.Dashboard) -> None:
    d.row("Spend")
    d.add(
        core.stat(
            "Spend in range",
            "USD spent in the selected time range (llm_cost_usd_total where the app reports "
            "it, else standard token usage × price table). Per user and tenant: the link opens "
            "the top-N panels of LLM Traces & Logs (from the logs, never metric labels).",
            prom(spend("increase", "$__range"), instant=True),
            USD,
            w=4,
            decimals=2,
            graph=False,
            links=core.drilldown(common.TRACES[0], "Spend per user and tenant (logs)"),
        ),
        core.stat(
            "Spend, last 24 h",
            "USD spent over the last 24 hours (increase over 1d), whatever the time range.",
            prom(spend("increase", "1d"), instant=True),
            USD,
            w=4,
            decimals=2,
            graph=False,
        ),
        core.stat(
            "Projected 30-day spend",
            f"Spend rate averaged over the selected range, extrapolated to {DAYS_PER_MONTH} days. "
            "Pick a range of a day or more for a stable projection.",
            prom(f"{spend(window='$__range')} * 86400 * {DAYS_PER_MONTH}", instant=True),
            USD,
            w=4,
            decimals=0,
            graph=False,
        ),
        core.stat(
            "Cost per chat request",
            "Average USD per successful chat model call in the range (cost increase / successful "
            "chat calls; no data, not infinity, without one). Cache hits cost nothing and are not "
            "counted as calls. Provider and model filters apply; feature and tier do not (model "
            "calls are not counted per feature or tier). The cost includes each answer's "
            "embeddings spend (the cost metric has no operation label), so a chat model picked "
            "alone in $model counts only that model's spend.",
            prom(
                f"{spend('increase', '$__range', filters=model_filter())} / ("
                + sum_increase(OPS_COUNT, chat_filter(**{sc.L_ERROR_TYPE: ""}), window="$__range")
                + " > 0)",
                instant=True,
            ),
            USD,
            w=4,
            decimals=5,
            graph=False,
        ),
        core.stat(
            "Cache savings in range",
            "USD not spent because the response cache answered (llm_cache_saved_usd_total).",
            prom(sum_increase(sc.LLM_CACHE_SAVED, window="$__range"), instant=True),
            USD,
            w=4,
            decimals=2,
            graph=False,
        ),
        core.stat(
            "Unpriced tokens in range",
            "Tokens used by models missing from the price table: their cost is unknown, not zero. "
            "Anything above 0 means the price table needs an entry. Only the model filter "
            "applies (the count has no provider, feature or tier).",
            prom(f"{unpriced('increase', '$__range')} or vector(0)", instant=True),
            "short",
            w=4,
            decimals=0,
            graph=False,
            thresholds_=thresholds((None, GREEN), (1, RED)),
        ),
    )


def cost_over_time(d: core.Dashboard) -> None:
    cf = cost_filter()
    d.row("Cost over time")
    d.add(
        core.timeseries(
            "Cost per hour by model",
            "USD per hour per model at the current rate.",
            [prom(spend(by=(sc.L_MODEL,)) + PER_HOUR, "{{gen_ai_request_model}}")],
            USD,
            w=8,
            stack=True,
            decimals=2,
        ),
        core.timeseries(
            "Cost per hour by feature",
            "USD per hour per product feature (chat, search, summarize): which feature to "
            "optimise.",
            [prom(sum_rate(sc.LLM_COST, cf, by=(sc.L_FEATURE,)) + PER_HOUR, "{{feature}}")],
            USD,
            w=8,
            stack=True,
            decimals=2,
        ),
        core.timeseries(
            "Cost per hour by user tier",
            "USD per hour per user tier (free, pro, enterprise): does the free tier cost too much?",
            [prom(sum_rate(sc.LLM_COST, cf, by=(sc.L_USER_TIER,)) + PER_HOUR, "{{user_tier}}")],
            USD,
            w=8,
            stack=True,
            decimals=2,
        ),
    )
    per_day = [
        (sc.L_MODEL, "model", "{{gen_ai_request_model}}"),
        (sc.L_FEATURE, "feature", "{{feature}}"),
        (sc.L_USER_TIER, "user tier", "{{user_tier}}"),
    ]
    d.add(
        *[
            core.timeseries(
                f"Cost per day by {what}",
                f"USD per day per {what} (increase over 1d, one bar per day). Use a range of "
                "several days.",
                [
                    prom(
                        spend("increase", "1d", (label,))
                        if label == sc.L_MODEL
                        else sum_increase(sc.LLM_COST, cf, by=(label,), window="1d"),
                        legend,
                        interval="1d",
                    )
                ],
                USD,
                w=8,
                bars=True,
                stack=True,
                decimals=2,
            )
            for label, what, legend in per_day
        ]
    )


def cost_per_call(d: core.Dashboard) -> None:
    """The rest of "Cost over time": per call, top spenders, cache savings."""
    cf = cost_filter()
    d.add(
        core.timeseries(
            "Cost per chat call by model",
            "Average USD per successful chat call per model: price × tokens per call. Feature "
            "and tier filters do not apply (model calls are not counted per feature or tier).",
            [
                prom(
                    f"{spend(by=(sc.L_MODEL,), filters=model_filter())} / "
                    + sum_rate(OPS_COUNT, chat_filter(**{sc.L_ERROR_TYPE: ""}), by=(sc.L_MODEL,)),
                    "{{gen_ai_request_model}}",
                )
            ],
            USD,
            w=8,
            decimals=5,
        ),
    )
    d.add(
        core.table(
            "Top spend by feature and tier (range)",
            "USD per feature × user tier over the selected range, largest first.",
            [
                prom(
                    "sort_desc("
                    + sum_increase(
                        sc.LLM_COST, cf, by=(sc.L_FEATURE, sc.L_USER_TIER), window="$__range"
                    )
                    + ")"
                )
            ],
            USD,
            w=8,
            decimals=2,
            transformations=[
                {"id": "organize", "options": {"excludeByName": {"Time": True}}},
            ],
        ),
        core.timeseries(
            "Cache savings per hour",
            "USD per hour the response cache saves, next to the hit ratio of lookups.",
            [
                prom(sum_rate(sc.LLM_CACHE_SAVED) + PER_HOUR, "saved USD/h"),
                prom(
                    ratio(
                        sum_rate(sc.LLM_CACHE_LOOKUPS, {sc.L_CACHE_RESULT: "hit"}),
                        sum_rate(sc.LLM_CACHE_LOOKUPS),
                    ),
                    "hit ratio",
                ),
            ],
            USD,
            w=8,
            decimals=2,
            overrides=[core.override_unit("hit ratio", "percentunit", max=1)],
        ),
    )


def tokens_row(d: core.Dashboard) -> None:
    d.row("Tokens")
    d.add(
        core.timeseries(
            "Tokens per second by model and type",
            "Input and output tokens per second per model (chat calls).",
            [
                prom(
                    sum_rate(prices.TOKEN_SUM, chat_filter(), by=(sc.L_MODEL, sc.L_TOKEN_TYPE)),
                    "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                )
            ],
            "short",
            w=8,
            stack=True,
        ),
        core.timeseries(
            "Tokens per call p50 / p95 by type",
            "Token count per chat call (input and output) from the token histogram: long prompts "
            "and runaway outputs show up in p95.",
            [
                prom(
                    quantile(q, TOKENS, chat_filter(), by=(sc.L_TOKEN_TYPE,)),
                    f"p{round(q * 100)} {{{{gen_ai_token_type}}}}",
                )
                for q in (0.5, 0.95)
            ],
            "short",
            w=8,
        ),
        core.heatmap(
            "Output tokens per call (distribution)",
            "Distribution of output tokens per chat call over time (histogram buckets, "
            "powers of 4).",
            rate(TOKENS + "_bucket", chat_filter(**{sc.L_TOKEN_TYPE: "output"})),
            "short",
            w=8,
        ),
    )


def token_mix(d: core.Dashboard) -> None:
    """The rest of "Tokens": unpriced tokens and the output/input ratio."""
    d.add(
        core.timeseries(
            "Unpriced tokens per second by model",
            "Tokens per second of models missing from the price table (llm_unpriced_tokens_total). "
            "Their cost is not in any panel above: add the model to the price table. Only the "
            "model filter applies (the count has no provider, feature or tier).",
            [prom(unpriced("rate", RATE, (sc.L_MODEL,)), "{{gen_ai_request_model}}")],
            "short",
            w=12,
            thresholds_=thresholds((None, GREEN), (0.001, YELLOW)),
        ),
        core.timeseries(
            "Output/input token ratio by model",
            "Output tokens per input token per model: a jump means answers got longer (prompt "
            "change, runaway generation) and cost follows.",
            [
                prom(
                    ratio_by(
                        sum_rate(
                            prices.TOKEN_SUM,
                            chat_filter(**{sc.L_TOKEN_TYPE: "output"}),
                            by=(sc.L_MODEL,),
                        ),
                        sum_rate(
                            prices.TOKEN_SUM,
                            chat_filter(**{sc.L_TOKEN_TYPE: "input"}),
                            by=(sc.L_MODEL,),
                        ),
                    ),
                    "{{gen_ai_request_model}}",
                )
            ],
            "short",
            w=12,
            decimals=2,
        ),
    )


ROWS: tuple[core.Row, ...] = (
    spend_row,
    cost_over_time,
    cost_per_call,
    tokens_row,
    token_mix,
)


def build() -> core.Json:
    return common.render(
        common.COST,
        ROWS,
        description="Spend by model, feature and user tier; projected monthly spend; cost per "
        "request; token volumes; cache savings; tokens of models missing from the price table.",
        tags=["llm", "cost"],
        variables=common.model_variables(feature_tier=True),
        annotations=[
            common.firing_alerts(
                common.app_alerts(
                    'alertname=~"LLMCostSpike|LLMDailySpendProjectedOverBudget|'
                    'LLMUnpricedModelTokens"'
                )
            )
        ],
        time_from="now-24h",
    )
