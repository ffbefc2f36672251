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

import yaml

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
Path_ = tuple[str, ...]


class _Unusable(Exception):
    """A key given twice, or YAML no price table can hold (path, line, problem)."""

    def __init__(self, path: Path_, line: int, problem: str = "given twice") -> None:
        super().__init__(problem)
        self.path, self.line, self.problem = path, line, problem


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], state: list[Any]) -> Any:
    """Plain data from a composed node, each mapping key's line in `lines` (1-based); a key
    given twice, an alias inside itself or too many values raise _Unusable."""
    line = lines.get(path, node.start_mark.line + 1)  # an alias: the line that uses it
    state[0] -= 1
    if state[0] < 0:
        raise _Unusable(path, line, f"more than {_MAX_VALUES} values once aliases are expanded")
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in state[1]:
            raise _Unusable(path, line, "an alias refers to a collection that contains it")
        state[1] = state[1] | {id(node)}
    try:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Unusable(path, key_node.start_mark.line + 1, "a key must be a name")
                key = str(key_node.value)
                lines[(*path, key)] = key_node.start_mark.line + 1
                if key in out:
                    raise _Unusable((*path, key), key_node.start_mark.line + 1)
                out[key] = _construct(value_node, (*path, key), lines, state)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [
                _construct(item, (*path, str(i)), lines, state) for i, item in enumerate(node.value)
            ]
        try:
            return yaml.SafeLoader("").construct_object(node)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:  # `!!int abc`: the constructor's int() fails
            raise _Unusable(path, line, f"not a valid {node.tag.rsplit(':', 1)[-1]}") from exc
    finally:
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            state[1] = state[1] - {id(node)}


def _load_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    """The file's data and each key's line; PriceTableError naming `path:line` otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read price table: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise PriceTableError(f"{path}:{line}: not UTF-8 text (byte 0x{byte})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict[Path_, int] = {}
        data = None if node is None else _construct(node, (), lines, [_MAX_VALUES, frozenset()])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PriceTableError(f"{where}: not valid YAML: {problem}") from None
    except _Unusable as exc:
        key = ".".join(exc.path) or "top level"
        raise PriceTableError(f"{path}:{exc.line}: {key}: {exc.problem}") from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise PriceTableError(f"{path}: not usable YAML: nested too deeply") from None
    return data, lines


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
