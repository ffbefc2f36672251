"""PromQL building blocks on the telemetry contract (names come from genai_telemetry.semconv only).

Histogram rules used everywhere: quantiles are
`histogram_quantile(q, sum by (le, …) (rate(_bucket)))`
(never an average of `_bucket` series); means are `rate(_sum) / rate(_count)`; cost and counts come
from `rate`/`increase` of counters, never from raw counter values.
"""

from __future__ import annotations

from typing import Literal

from genai_telemetry import semconv as sc
from genobs.context import current
from genobs.contract import L_SYSTEM, STANDARD, base
from genobs.promql import Matcher, le_matcher, quote

RATE = "$__rate_interval"

# Grafana variables shared by the LLM dashboards (multi-value, All = `.*`).
V_MODEL = "$model"
V_PROVIDER = "$provider"
V_FEATURE = "$feature"
V_TIER = "$tier"

Labels = dict[str, str | Matcher]


def matchers(**labels: str | Matcher) -> str:
    """`{a="x", b=~"y"}`: a value starting with `~` is a regex, `!` a negation, `!~` both; a
    Matcher (from genai-obs.yaml) keeps its own operator. The service matchers are added later,
    to every app metric (core.prom)."""
    parts = []
    for name, value in labels.items():
        if isinstance(value, Matcher):
            parts.append(str(value._replace(name=name)))
            continue
        op = "="
        for prefix in ("!~", "~", "!"):
            if value.startswith(prefix):
                op = {"!~": "!~", "~": "=~", "!": "!="}[prefix]
                value = value[len(prefix) :]
                break
        parts.append(f"{name}{op}{quote(value)}")
    return "{" + ", ".join(parts) + "}" if parts else ""


def chat_routes() -> dict[str, str | Matcher]:
    """The configured chat-route matchers of the HTTP server metric."""
    return {m.name: m for m in current().http_chat_route}


def unary_chat_route() -> dict[str, str | Matcher]:
    return {m.name: m for m in current().http_unary_chat_route}


def rate_limited() -> str:
    """error_type values meaning "rate-limited", as a `~regex` label value."""
    return "~" + current().rate_limited


def model_filter(**extra: str | Matcher) -> Labels:
    """Restricted by the provider/model variables."""
    return {sc.L_PROVIDER: "~" + V_PROVIDER, sc.L_MODEL: "~" + V_MODEL, **extra}


def chat_operation() -> Labels:
    """The text-generating model calls (selectors.llm_chat_operation of genai-obs.yaml)."""
    return {m.name: m for m in current().llm_chat_operation}


def chat_filter(**extra: str | Matcher) -> Labels:
    """Chat model calls (chat_operation), restricted by the provider/model variables."""
    return {**chat_operation(), **model_filter(**extra)}


def cost_filter(**extra: str | Matcher) -> Labels:
    """Restricted by the provider/model/feature/tier variables (only cost carries the last two)."""
    return model_filter(**{sc.L_FEATURE: "~" + V_FEATURE, sc.L_USER_TIER: "~" + V_TIER, **extra})


def _tolerant(fn: str, metric: str, labels: Labels, window: str) -> str:
    """fn(metric{labels}[window]); a provider filter on a standard GenAI metric also accepts
    series that carry the provider only in the older gen_ai_system label (copied over on those
    alone: a series with both keeps its gen_ai_provider_name). The first branch takes only
    series with a provider name: under "All" (`.*`, which matches the empty value too) a series
    with gen_ai_system alone would otherwise be counted by both branches."""
    provider = labels.get(sc.L_PROVIDER)
    if provider is None or base(metric) not in STANDARD:
        return f"{fn}({metric}{matchers(**labels)}[{window}])"
    named = matchers(**labels)  # `!` (any provider) already excludes the empty name
    named = named if provider == "!" else named[:-1] + f', {sc.L_PROVIDER}!=""}}'
    one = f"{fn}({metric}{named}[{window}])"
    older = {**labels, sc.L_PROVIDER: "", L_SYSTEM: provider}
    other = f"{fn}({metric}{matchers(**older)}[{window}])"
    return f'({one} or label_replace({other}, "{sc.L_PROVIDER}", "$1", "{L_SYSTEM}", "(.+)"))'


def provider_values(metric: str) -> str:
    """One series per provider that `metric` saw over the dashboard's range, labelled
    gen_ai_provider_name alone, whichever of the two label names carries it (_tolerant's
    fallback): the *Provider* variable's values."""
    seen = _tolerant("last_over_time", metric, {sc.L_PROVIDER: "!"}, "$__range")
    return f"count by ({sc.L_PROVIDER}) {seen}"


def rate(metric: str, labels: Labels | None = None, window: str = RATE) -> str:
    return _tolerant("rate", metric, labels or {}, window)


def increase(metric: str, labels: Labels | None = None, window: str = RATE) -> str:
    return _tolerant("increase", metric, labels or {}, window)


def sum_rate(
    metric: str, labels: Labels | None = None, by: tuple[str, ...] = (), window: str = RATE
) -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} ({rate(metric, labels, window)})"


def sum_increase(
    metric: str, labels: Labels | None = None, by: tuple[str, ...] = (), window: str = RATE
) -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} ({increase(metric, labels, window)})"


def quantile(
    q: float, histogram: str, labels: Labels | None = None, by: tuple[str, ...] = ()
) -> str:
    """`histogram_quantile` over the per-`le` sum of bucket rates (classic histograms)."""
    grouping = ", ".join(("le", *by))
    return f"histogram_quantile({q}, sum by ({grouping}) ({rate(histogram + '_bucket', labels)}))"


def ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator where "no matching errors" reads 0, not "no data".

    Only for unlabelled (fully summed) numerators: `or vector(0)` has no labels to match.
    """
    return f"({numerator} or vector(0)) / {denominator}"


def le(bound: float) -> Matcher:
    """`le` however the exporter wrote the bound (5 / 5.0)."""
    return le_matcher(bound)


def ratio_by(numerator: str, denominator: str) -> str:
    """Grouped ratio where groups without numerator samples read 0 instead of vanishing."""
    return f"({numerator} or 0 * {denominator}) / {denominator}"


def share_by(
    metric: str,
    part: Labels,
    labels: Labels | None = None,
    by: tuple[str, ...] = (),
    window: str = RATE,
    fn: Literal["rate", "increase"] = "rate",
) -> str:
    """Share of `metric` (`fn` over `window`) whose series also match `part`, per `by` group (0
    where none match). Both sides take `labels`, so a ratio panel's filters are the same on both."""
    whole = labels or {}
    total = sum_rate if fn == "rate" else sum_increase
    num = total(metric, {**whole, **part}, by=by, window=window)
    den = total(metric, whole, by=by, window=window)
    return ratio_by(num, den) if by else ratio(num, den)
