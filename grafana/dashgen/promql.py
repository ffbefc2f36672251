"""PromQL building blocks on the telemetry contract (names come from demo_app.semconv only).

Histogram rules used everywhere: quantiles are
`histogram_quantile(q, sum by (le, …) (rate(_bucket)))`
(never an average of `_bucket` series); means are `rate(_sum) / rate(_count)`; cost and counts come
from `rate`/`increase` of counters, never from raw counter values.
"""

from __future__ import annotations

from demo_app import semconv as sc

RATE = "$__rate_interval"

# Grafana variables shared by the LLM dashboards (multi-value, All = `.*`).
V_MODEL = "$model"
V_PROVIDER = "$provider"
V_FEATURE = "$feature"
V_TIER = "$tier"

CHAT_ROUTES = "/v1/chat.*"


def matchers(**labels: str) -> str:
    """`{a="x", b=~"y"}`: a value starting with `~` is a regex, `!` a negation, `!~` both."""
    parts = []
    for name, value in labels.items():
        op = "="
        for prefix in ("!~", "~", "!"):
            if value.startswith(prefix):
                op = {"!~": "!~", "~": "=~", "!": "!="}[prefix]
                value = value[len(prefix) :]
                break
        parts.append(f'{name}{op}"{value}"')
    return "{" + ", ".join(parts) + "}" if parts else ""


def chat_filter(**extra: str) -> dict[str, str]:
    """Model calls of operation `chat`, restricted by the provider/model variables."""
    return {
        sc.L_OPERATION: sc.OP_CHAT,
        sc.L_PROVIDER: "~" + V_PROVIDER,
        sc.L_MODEL: "~" + V_MODEL,
        **extra,
    }


def cost_filter(**extra: str) -> dict[str, str]:
    return {
        sc.L_PROVIDER: "~" + V_PROVIDER,
        sc.L_MODEL: "~" + V_MODEL,
        sc.L_FEATURE: "~" + V_FEATURE,
        sc.L_USER_TIER: "~" + V_TIER,
        **extra,
    }


def rate(metric: str, labels: dict[str, str] | None = None, window: str = RATE) -> str:
    return f"rate({metric}{matchers(**(labels or {}))}[{window}])"


def increase(metric: str, labels: dict[str, str] | None = None, window: str = RATE) -> str:
    return f"increase({metric}{matchers(**(labels or {}))}[{window}])"


def sum_rate(
    metric: str, labels: dict[str, str] | None = None, by: tuple[str, ...] = (), window: str = RATE
) -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} ({rate(metric, labels, window)})"


def sum_increase(
    metric: str, labels: dict[str, str] | None = None, by: tuple[str, ...] = (), window: str = RATE
) -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} ({increase(metric, labels, window)})"


def quantile(
    q: float, histogram: str, labels: dict[str, str] | None = None, by: tuple[str, ...] = ()
) -> str:
    """`histogram_quantile` over the per-`le` sum of bucket rates (classic histograms)."""
    grouping = ", ".join(("le", *by))
    return f"histogram_quantile({q}, sum by ({grouping}) ({rate(histogram + '_bucket', labels)}))"


def ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator where "no matching errors" reads 0, not "no data".

    Only for unlabelled (fully summed) numerators: `or vector(0)` has no labels to match.
    """
    return f"({numerator} or vector(0)) / {denominator}"


def le(bound: float) -> str:
    return sc.le(bound)


def ratio_by(numerator: str, denominator: str) -> str:
    """Grouped ratio where groups without numerator samples read 0 instead of vanishing."""
    return f"({numerator} or 0 * {denominator}) / {denominator}"
