"""Cost arithmetic against hand-computed examples, on the SHIPPED price table.

Every expected value below is worked out by hand in the comment next to it (USD).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from demo_app.providers.base import Usage
from demo_app.providers.simulated import load_catalog
from genai_telemetry.pricing import PRICES_PATH, PriceTable, PriceTableError


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def test_plain_input_and_output(table: PriceTable) -> None:
    # gpt-4o-mini: 1000 x $0.15/M + 500 x $0.60/M = 0.00015 + 0.0003
    assert table.cost("gpt-4o-mini", Usage(1000, 500)) == 0.00045


def test_cached_input_is_a_subset_billed_at_the_cache_rate(table: PriceTable) -> None:
    # gpt-4o-mini: (1000-200) x 0.15e-6 + 200 x 0.075e-6 + 500 x 0.6e-6
    #            = 0.00012 + 0.000015 + 0.0003
    usage = Usage(input_tokens=1000, output_tokens=500, cached_input_tokens=200)
    assert table.cost("gpt-4o-mini", usage) == 0.000435
    # gpt-4.1: 9000 x 2e-6 + 1000 x 0.5e-6 + 100 x 8e-6 = 0.018 + 0.0005 + 0.0008
    usage = Usage(input_tokens=10_000, output_tokens=100, cached_input_tokens=1000)
    assert table.cost("gpt-4.1", usage) == 0.0193


def test_reasoning_tokens_are_a_subset_of_output(table: PriceTable) -> None:
    # gemini-2.5-flash: 2000 x 0.3e-6 + (300-100) x 2.5e-6 + 100 x 2.5e-6 (reasoning rate)
    #                 = 0.0006 + 0.0005 + 0.00025
    usage = Usage(input_tokens=2000, output_tokens=300, reasoning_tokens=100)
    assert table.cost("gemini-2.5-flash", usage) == 0.00135
    # claude-sonnet-4 has no reasoning rate: reasoning billed at the output rate, so the
    # split does not change the cost: 1000 x 3e-6 + 400 x 15e-6 = 0.003 + 0.006
    with_reasoning = Usage(input_tokens=1000, output_tokens=400, reasoning_tokens=150)
    assert table.cost("claude-sonnet-4", with_reasoning) == 0.009
    assert table.cost("claude-sonnet-4", Usage(1000, 400)) == 0.009


def test_dedicated_reasoning_rate(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  thinker:\n"
        "    input_cost_per_token: 1.0e-06\n"
        "    output_cost_per_token: 4.0e-06\n"
        "    output_cost_per_reasoning_token: 1.0e-05\n"
    )
    # 100 x 1e-6 + (50-20) x 4e-6 + 20 x 1e-5 = 0.0001 + 0.00012 + 0.0002
    usage = Usage(input_tokens=100, output_tokens=50, reasoning_tokens=20)
    assert PriceTable.load(path).cost("thinker", usage) == 0.00042


def test_long_context_tier_applies_to_all_tokens_above_200k(table: PriceTable) -> None:
    # claude-sonnet-4 above 200k input: (250000-50000) x 6e-6 + 50000 x 0.6e-6 + 1000 x 22.5e-6
    #                                 = 1.2 + 0.03 + 0.0225
    usage = Usage(input_tokens=250_000, output_tokens=1000, cached_input_tokens=50_000)
    assert table.cost("claude-sonnet-4", usage) == 1.2525


def test_long_context_threshold_is_strictly_above_200k(table: PriceTable) -> None:
    # exactly 200000: base prices, 200000 x 3e-6 + 1000 x 15e-6 = 0.6 + 0.015
    assert table.cost("claude-sonnet-4", Usage(200_000, 1000)) == 0.615
    # 200001: tier prices, 200001 x 6e-6 + 1000 x 22.5e-6 = 1.200006 + 0.0225
    assert table.cost("claude-sonnet-4", Usage(200_001, 1000)) == 1.222506


def test_model_without_a_tier_keeps_base_prices_for_long_prompts(table: PriceTable) -> None:
    # gpt-4.1 has no long-context tier: 300000 x 2e-6 = 0.6
    assert table.cost("gpt-4.1", Usage(300_000, 0)) == 0.6


def test_missing_cache_price_falls_back_to_input_price(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m:\n    input_cost_per_token: 2e-6\n    output_cost_per_token: 0\n")
    # 100 cached of 100 input, no cache price: 100 x 2e-6
    assert PriceTable.load(path).cost("m", Usage(100, 0, cached_input_tokens=100)) == 0.0002


def test_unpriced_model_costs_none_never_zero(table: PriceTable) -> None:
    assert not table.is_priced("llama-3.1-8b-local")
    assert table.cost("llama-3.1-8b-local", Usage(1000, 500)) is None
    assert table.cost_decimal("no-such-model", Usage(1, 1)) is None
    assert table.price("no-such-model") is None


def test_dated_response_model_names_resolve_to_the_base_model(table: PriceTable) -> None:
    usage = Usage(1000, 500)
    assert table.is_priced("gpt-4o-mini-2024-07-18")
    assert table.cost("gpt-4o-mini-2024-07-18", usage) == table.cost("gpt-4o-mini", usage)
    assert table.cost("claude-sonnet-4-20250514", usage) == table.cost("claude-sonnet-4", usage)


def test_costs_are_exact_decimals(table: PriceTable) -> None:
    # 3 input tokens at 0.15e-6 would be 4.4999999999999996e-07 with naive float sums.
    assert table.cost_decimal("gpt-4o-mini", Usage(3, 0)) == Decimal("4.5e-7")
    assert table.cost("gpt-4o-mini", Usage(1, 1)) == 0.00000075


def test_embeddings_model_is_priced_on_input(table: PriceTable) -> None:
    # text-embedding-3-small: 5000 x 0.02e-6 = 0.0001
    assert table.cost("text-embedding-3-small", Usage(5000, 0)) == 0.0001


def test_shipped_table_prices_every_catalog_model_except_the_local_one(table: PriceTable) -> None:
    models, _, _ = load_catalog()
    unpriced = sorted(name for name in models if not table.is_priced(name))
    assert unpriced == ["llama-3.1-8b-local"]
    assert PRICES_PATH.name == "prices.yaml" and PRICES_PATH.exists()


_M = "models:\n  m:\n"
_OK = "    input_cost_per_token: 1e-6\n    output_cost_per_token: 1e-6\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("models: [1, 2]\n", ":1: expected a mapping under 'models'"),
        ("models:\n  m: 3\n", ":2: models.m: expected a mapping"),
        (_M + "    output_cost_per_token: 1e-6\n", ":2: models.m: missing required field"),
        (
            _M + _OK + "    input_cost_per_tokens: 1e-6\n",
            ":5: models.m.input_cost_per_tokens: unknown field",
        ),
        (
            _M + "    input_cost_per_token: -1e-6\n    output_cost_per_token: 1e-6\n",
            ":3: models.m.input_cost_per_token: must be a finite number between 0 and 1",
        ),
        (
            _M + "    input_cost_per_token: cheap\n    output_cost_per_token: 1e-6\n",
            ":3: models.m.input_cost_per_token: must be a number",
        ),
        ("models: {m: [\n", ":2: not valid YAML: expected the node content"),
        # D9: a model or a field given twice was silently overwritten by the last one
        (_M + _OK + "  m:\n" + _OK, ":5: models.m: given twice"),
        (_M + _OK + "    input_cost_per_token: 2e-6\n", ":5: models.m.input_cost_per_token: given"),
        # D9: values no float (or promtool) holds: exit 0 with vector(1e+400), or decimal.Overflow
        (_M + _OK.replace("1e-6", "1e400", 1), ":3: models.m.input_cost_per_token: must be a fin"),
        (_M + _OK.replace("1e-6", "1e999999999999", 1), ":3: models.m.input_cost_per_token: mu"),
        (_M + _OK.replace("1e-6", "1.0e+400", 1), ":3: models.m.input_cost_per_token: must be"),
        (_M + _OK.replace("1e-6", "1.5", 1), ":3: models.m.input_cost_per_token: must be a fin"),
        (_M + _OK.replace("1e-6", ".nan", 1), ":3: models.m.input_cost_per_token: must be a fin"),
        (_M + _OK.replace("1e-6", "!!int abc", 1), ":3: models.m.input_cost_per_token: not a va"),
        ("models:\n  m:\n    input_cost_per_token: 1e-6 \xff\n", ":3: not UTF-8 text (byte 0xff)"),
        ("models:\n  m: &a\n    x: *a\n", ":3: models.m.x: an alias refers to a collection"),
    ],
)
def test_malformed_price_files_name_file_line_model_and_field(
    tmp_path: Path, body: str, message: str
) -> None:
    """`file:line: models.<model>.<field>: reason`, one line, never a traceback (D9)."""
    path = tmp_path / "prices.yaml"
    path.write_bytes(body.encode("latin-1") if "\xff" in body else body.encode())
    with pytest.raises(PriceTableError) as info:
        PriceTable.load(path)
    assert str(info.value).startswith(f"{path}:"), info.value
    assert f"{path}{message}" in str(info.value)
    assert "\n" not in str(info.value)


def test_the_largest_accepted_price_is_a_float_and_a_promql_number(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(_M + "    input_cost_per_token: 1\n    output_cost_per_token: 0.99\n")
    cost = PriceTable.load(path).cost("m", Usage(10**9, 10**9))
    assert cost == 1.99e9
