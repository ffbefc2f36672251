"""USD cost of a model call from a price table that uses LiteLLM's field names.

The table (`genai_telemetry/prices.yaml`) maps a model name to per-token USD prices:

    input_cost_per_token                     prompt tokens not read from cache
    output_cost_per_token                    completion tokens (visible text)
    cache_read_input_token_cost              prompt tokens read from the prompt cache
    output_cost_per_reasoning_token          reasoning tokens (falls back to the output price)
    input_cost_per_token_above_200k_tokens   long-context tier (only models that have one)
    output_cost_per_token_above_200k_tokens
    cache_read_input_token_cost_above_200k_tokens

Rules (the semantics of LiteLLM's generic per-token cost calculation):
- `Usage.cached_input_tokens` is a SUBSET of `input_tokens`: cached tokens are billed at the
  cache-read price (input price when the model has none), the rest at the input price.
- `Usage.reasoning_tokens` is a SUBSET of `output_tokens` (OpenAI: completion_tokens include
  reasoning tokens): reasoning tokens are billed at `output_cost_per_reasoning_token` when set,
  else at the output price; the rest of the output at the output price.
- Long context: when `input_tokens > 200_000` (strictly) and the model has the tier, the
  `_above_200k_tokens` prices replace the base prices for ALL tokens of the call (input, output,
  cache read — a missing tier price falls back to the base price). A dedicated reasoning price,
  when set, is not tiered.
- A model missing from the table is unpriced: `cost()` returns None (never a silent $0) and
  `is_priced()` is False; counting its tokens and warning is the caller's job.
- Lookup: exact model name, then the name without a trailing date version
  (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`), as response models often carry one.

Arithmetic is done in `Decimal` (prices are parsed from their YAML text, not via float) and the
result is converted to float once, so hand-computed examples match to the last digit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from genai_telemetry import yamllines
from genai_telemetry.client import Usage

PRICES_PATH = Path(__file__).parent / "prices.yaml"
LONG_CONTEXT_THRESHOLD = 200_000

FIELDS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "output_cost_per_reasoning_token",
    "input_cost_per_token_above_200k_tokens",
    "output_cost_per_token_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens",
)
REQUIRED_FIELDS = ("input_cost_per_token", "output_cost_per_token")
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


class PriceTableError(ValueError):
    """The price file is malformed (message names the file, model and field)."""


@dataclass(frozen=True)
class ModelPrice:
    """Per-token USD prices of one model (None = the model has no such price)."""

    input_cost_per_token: Decimal
    output_cost_per_token: Decimal
    cache_read_input_token_cost: Decimal | None = None
    output_cost_per_reasoning_token: Decimal | None = None
    input_cost_per_token_above_200k_tokens: Decimal | None = None
    output_cost_per_token_above_200k_tokens: Decimal | None = None
    cache_read_input_token_cost_above_200k_tokens: Decimal | None = None

    def cost(self, usage: Usage) -> Decimal:
        """Exact cost of `usage` under the module's rules."""
        input_rate = self.input_cost_per_token
        output_rate = self.output_cost_per_token
        cache_rate = self.cache_read_input_token_cost
        if (
            usage.input_tokens > LONG_CONTEXT_THRESHOLD
            and self.input_cost_per_token_above_200k_tokens is not None
        ):
            input_rate = self.input_cost_per_token_above_200k_tokens
            if self.output_cost_per_token_above_200k_tokens is not None:
                output_rate = self.output_cost_per_token_above_200k_tokens
            if self.cache_read_input_token_cost_above_200k_tokens is not None:
                cache_rate = self.cache_read_input_token_cost_above_200k_tokens
        if cache_rate is None:
            cache_rate = input_rate
        reasoning_rate = self.output_cost_per_reasoning_token
        if reasoning_rate is None:
            reasoning_rate = output_rate
        uncached = usage.input_tokens - usage.cached_input_tokens
        text_out = usage.output_tokens - usage.reasoning_tokens
        return (
            uncached * input_rate
            + usage.cached_input_tokens * cache_rate
            + text_out * output_rate
            + usage.reasoning_tokens * reasoning_rate
        )


# A price above 1 USD per token is a typo, not a price: the dearest list prices are well under
# 1e-3 (o1-pro: $600 per 1M output tokens = 6e-4). The bound keeps every price, and every cost of
# a call (tokens × price), an ordinary float and a number promtool reads (1e400 is neither).
MAX_PRICE = Decimal(1)
_MAX_VALUES = 10_000  # a price file has dozens; aliases of aliases could expand to billions


def _load_yaml(path: Path) -> tuple[Any, dict[yamllines.KeyPath, int]]:
    """The file's data and each key's line; PriceTableError naming `path:line` otherwise."""
    try:
        return yamllines.load(path, _MAX_VALUES)
    except yamllines.YamlProblem as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        if exc.kind == "read":
            raise PriceTableError(f"{path}: cannot read price table: {exc.problem}") from None
        if exc.kind == "syntax":
            raise PriceTableError(f"{where}: not valid YAML: {exc.problem}") from None
        if exc.kind == "structure" and not exc.path:
            raise PriceTableError(f"{where}: not usable YAML: {exc.problem}") from None
        key = ".".join(map(str, exc.path))
        text = f"{key}: {exc.problem}" if key else exc.problem
        raise PriceTableError(f"{where}: {text}") from None


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PriceTableError(f"{where}: must be a number, got {value!r}")
    try:
        # str() keeps YAML's decimal text (1.5e-07) instead of the binary float expansion.
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise PriceTableError(f"{where}: must be a number, got {value!r}") from None
    if not result.is_finite() or not 0 <= result <= MAX_PRICE:
        raise PriceTableError(
            f"{where}: must be a finite number between 0 and {MAX_PRICE} (USD per token),"
            f" got {value!r}"
        )
    return result


def _model_price(entry: Any, where: Callable[[tuple[str, ...]], str]) -> ModelPrice:
    """One model's prices; `where(field path)` formats the `file:line: models.x.y` prefix."""
    if not isinstance(entry, dict):
        raise PriceTableError(f"{where(())}: expected a mapping of prices")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise PriceTableError(
            f"{where((unknown[0],))}: unknown field; allowed: {', '.join(FIELDS)}"
        )
    for required in REQUIRED_FIELDS:
        if entry.get(required) is None:
            raise PriceTableError(f"{where(())}: missing required field {required!r}")
    values = {
        key: _decimal(value, where((key,))) for key, value in entry.items() if value is not None
    }
    return ModelPrice(**values)


class PriceTable:
    """Model name → ModelPrice, loaded from a LiteLLM-style YAML file."""

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = dict(prices)

    @classmethod
    def load(cls, path: Path | str | None = None) -> PriceTable:
        """Read and validate a price file (default: the bundled `genai_telemetry/prices.yaml`).

        The file is `{models: {<name>: {<field>: <usd per token>, ...}}}`. Unknown fields,
        missing input/output prices, a model or field given twice and values outside
        0..MAX_PRICE are errors naming the file, line, model and field (`file:12: models.m.f`).
        """
        path = Path(path) if path is not None else PRICES_PATH
        raw, lines = _load_yaml(path)
        models = raw.get("models") if isinstance(raw, dict) else None
        if not isinstance(models, dict):
            line = lines.get(("models",), 1)
            raise PriceTableError(f"{path}:{line}: expected a mapping under 'models'")
        prices: dict[str, ModelPrice] = {}
        for name, entry in models.items():

            def where(rest: tuple[str, ...], name: str = name) -> str:
                key = ("models", name, *rest)
                return f"{path}:{lines.get(key, 1)}: {'.'.join(key)}"

            prices[name] = _model_price(entry, where)
        return cls(prices)

    def _lookup(self, model: str) -> ModelPrice | None:
        price = self._prices.get(model)
        if price is None:
            price = self._prices.get(_DATE_SUFFIX.sub("", model))
        return price

    def is_priced(self, model: str) -> bool:
        """True when `model` (or its undated name) has prices."""
        return self._lookup(model) is not None

    def price(self, model: str) -> ModelPrice | None:
        return self._lookup(model)

    def cost_decimal(self, model: str, usage: Usage) -> Decimal | None:
        """Exact cost in USD, or None when the model is unpriced."""
        price = self._lookup(model)
        return None if price is None else price.cost(usage)

    def cost(self, model: str, usage: Usage) -> float | None:
        """Cost in USD as a float, or None when the model is unpriced."""
        exact = self.cost_decimal(model, usage)
        return None if exact is None else float(exact)

    def models(self) -> list[str]:
        """Names of all priced models, sorted."""
        return sorted(self._prices)
