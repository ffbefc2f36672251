"""prometheus/rules/llm-prices.yml: the price table as Prometheus series, and cost from tokens.

The price table (genai_telemetry/prices.yaml, LiteLLM field names) becomes one constant series per
model and token type, `llm:price_usd_per_token{gen_ai_request_model, gen_ai_token_type}`, so any
app that emits only the standard `gen_ai.client.token.usage` histogram gets a cost:

    token type    price field                        priced by the cost rules
    input         input_cost_per_token               yes
    output        output_cost_per_token              yes
    cache_read    cache_read_input_token_cost        no: reference only (see below)
    reasoning     output_cost_per_reasoning_token    no: reference only (see below)

The GenAI semconv `gen_ai.token.type` has only `input` and `output`; cached and reasoning tokens
are subsets of them that no standard metric reports. So the cost from tokens is the list price
of every token: an upper bound when prompt-cache reads get a discount, exact otherwise.
Prices are matched on the exact request model (no date-suffix fallback as in
genai_telemetry.pricing).
The long-context tiers (`*_above_200k_tokens`) depend on each call's size, which a histogram sum
cannot tell apart: they are not rendered.

An app that reports its own cost (`llm_cost_usd_total`, like rag-api) keeps it: the combined
series prefer the app's figure per (job, model) and fall back to the token price otherwise, so
nothing is counted twice. A model missing from the table gets no price series; its tokens show
in `llm:unpriced_tokens:rate5m` (and the LLMUnpricedModelTokens alert), never as $0.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_telemetry import semconv as sc
from genai_telemetry.pricing import ModelPrice, PriceTable
from genobs.contract import is_app_metric
from genobs.promql import Matcher, inject

if TYPE_CHECKING:
    from genobs.config import Config

PRICE = "llm:price_usd_per_token"
TOKEN_COST_RATE = "llm:token_cost_usd:rate5m"
COST_RATE_BY_MODEL = "llm:cost_usd:rate5m"
UNPRICED_TOKENS_RATE = "llm:unpriced_tokens:rate5m"
RULES_FILE = "llm-prices.yml"
PRICE_GROUP = "llm-prices"
# Rules per price group at most: the default -ruler.max-rules-per-rule-group of Mimir and Cortex,
# which refuse a larger group on upload (export.rules holds every rule group to it).
GROUP_RULES = 20

# Token types the cost rules price: the standard gen_ai.token.type values.
PRICED_TOKEN_TYPES = sc.TOKEN_TYPES
PRICED_TYPES = Matcher(sc.L_TOKEN_TYPE, "=~", "|".join(PRICED_TOKEN_TYPES))
PRICED_TYPES_MATCHER = str(PRICED_TYPES)
TOKEN_SUM = f"{sc.GENAI_TOKEN_USAGE}_sum"
# Price field of each token type (None: the type's price falls back to nothing, see docstring).
TYPE_FIELDS = (
    ("input", "input_cost_per_token"),
    ("output", "output_cost_per_token"),
    ("cache_read", "cache_read_input_token_cost"),
    ("reasoning", "output_cost_per_reasoning_token"),
)
# Labels the token side drops: per-process and per-scope labels, and the response model (the
# price is looked up by request model, as rag-api and the official instrumentations record it).
DROPPED = (
    "instance",
    "gen_ai_response_model",
    "otel_scope_name",
    "otel_scope_version",
    "otel_scope_schema_url",
    "server_address",
    "server_port",
)
COST_KEY = f"job, {sc.L_MODEL}"


def literal(value: Decimal) -> str:
    """A price as a short exact PromQL number: 1.5e-07, 2e-06, 0."""
    if value == 0:
        return "0"
    text = f"{value.normalize():e}"
    mantissa, exponent = text.split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent):+03d}"


def price_rules(table: PriceTable) -> list[dict[str, Any]]:
    """One constant series per priced model and token type."""
    rules = []
    for model in table.models():
        price: ModelPrice | None = table.price(model)
        assert price is not None
        for token_type, field in TYPE_FIELDS:
            value = getattr(price, field)
            if value is None:
                continue
            rules.append(
                {
                    "record": PRICE,
                    "expr": f"vector({literal(value)})",
                    "labels": {sc.L_MODEL: model, sc.L_TOKEN_TYPE: token_type},
                }
            )
    return rules


def token_cost_expr(
    window: str = "5m", selector: str = "", fn: str = "rate", usage: str = ""
) -> str:
    """USD (per second with rate, in the window with increase) of standard token usage at list
    prices, per source series without the token type. `selector`: extra matchers, `a="b", …`;
    `usage` replaces the whole `fn(tokens{…}[window])` (the dashboards' provider-tolerant one)."""
    extra = f", {selector}" if selector else ""
    usage = usage or f"{fn}({TOKEN_SUM}{{{PRICED_TYPES_MATCHER}{extra}}}[{window}])"
    return (
        f"sum without ({sc.L_TOKEN_TYPE}) (\n"
        f"    sum without ({', '.join(DROPPED)}) ({usage})\n"
        f"  * on ({sc.L_MODEL}, {sc.L_TOKEN_TYPE}) group_left ()\n"
        f"    {PRICE}\n"
        ")\n"
    )


def one_line(expr: str) -> str:
    return " ".join(line.strip() for line in expr.splitlines() if line.strip())


def cost_rules() -> list[dict[str, Any]]:
    return [
        {"record": TOKEN_COST_RATE, "expr": token_cost_expr()},
        {
            # The app's own cost where it reports one (cache discounts included), else tokens.
            "record": COST_RATE_BY_MODEL,
            "expr": (
                f"sum by ({COST_KEY}) (rate({sc.LLM_COST}[5m]))\n"
                "or\n"
                f"sum by ({COST_KEY}) ({TOKEN_COST_RATE})\n"
            ),
        },
        {
            "record": UNPRICED_TOKENS_RATE,
            "expr": (
                f"sum by ({COST_KEY}) (rate({sc.LLM_UNPRICED_TOKENS}[5m]))\n"
                "or\n"
                f"sum by ({COST_KEY}) (\n"
                f"    rate({TOKEN_SUM}{{{PRICED_TYPES_MATCHER}}}[5m])\n"
                f"  unless on ({sc.L_MODEL})\n"
                f"    {PRICE}\n"
                ")\n"
            ),
        },
    ]


def generate(cfg: Config, path: Path | None = None) -> dict[str, Any]:
    """The rule file as a document (prices first, for the reader: Prometheus runs groups
    independently, so a fresh server's first cost evaluation may come before its first prices
    and count one interval of every model's tokens as unpriced). The cost rules read the
    watched service's metrics only (the service matchers of genai-obs.yaml).
    `path`: the price table (default genai_telemetry/prices.yaml); PriceTableError names its
    line and key when it is unusable."""
    table = PriceTable.load(path)
    cost = [
        {**rule, "expr": inject(rule["expr"], cfg.service_selector, is_app_metric)}
        for rule in cost_rules()
    ]
    groups = [{"name": name, "rules": rules} for name, rules in price_groups(price_rules(table))]
    return {"groups": [*groups, {"name": "llm-cost", "rules": cost}]}


def price_groups(rules: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The price rules in groups of at most GROUP_RULES, a model's prices never split:
    `llm-prices`, then `llm-prices-2`, … (a Mimir or Cortex ruler refuses a larger group)."""
    groups: list[list[dict[str, Any]]] = [[]]
    for model in dict.fromkeys(rule["labels"][sc.L_MODEL] for rule in rules):
        own = [rule for rule in rules if rule["labels"][sc.L_MODEL] == model]
        if groups[-1] and len(groups[-1]) + len(own) > GROUP_RULES:
            groups.append([])
        groups[-1].extend(own)
    return [(PRICE_GROUP + (f"-{n}" if n > 1 else ""), g) for n, g in enumerate(groups, 1)]
