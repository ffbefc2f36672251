"""Rules of grafana/dashgen/promql.py evaluated by real promtool, each of which a mutation
audit could break with every other test passing: the provider filter of the standard GenAI
metrics also takes series that name their provider only in the older gen_ai_system label
(`_tolerant`), and under "All" counts each series once, not by both branches; a ratio reads 0,
not "no data" or a missing group, when its numerator matches no series (`ratio`, `ratio_by`).
And one shipped panel evaluated as Grafana would send it: cost per successful chat call."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from genai_telemetry import semconv as sc
from genobs.contract import L_SYSTEM
from grafana.dashgen.promql import V_PROVIDER, share_by, sum_rate
from harness import require_binary
from tests.grafana import dashlib

METRIC = sc.GENAI_OPERATION_DURATION + "_count"
AT = 'job="rag-api", instance="a:8000"'


def _expr(provider: str) -> str:
    expr = sum_rate(METRIC, {sc.L_PROVIDER: "~" + V_PROVIDER})
    assert "label_replace" in expr  # the tolerant form, or this test proves nothing
    return expr.replace("$__rate_interval", "5m").replace(V_PROVIDER, provider)


def _promtool(tmp_path: Path, series: list[dict[str, str]], check: dict[str, object]) -> None:
    promtool = require_binary("promtool")
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": [check]}],
    }
    path = tmp_path / "dashgen.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("provider", "per_second"), [(".*", 2), ("anthropic", 1), ("openai", 1)])
def test_each_series_is_counted_once(tmp_path: Path, provider: str, per_second: float) -> None:
    series = [  # one call per second each: the new label, and the older one alone
        {"series": f'{METRIC}{{{AT}, {sc.L_PROVIDER}="openai"}}', "values": "0+60x20"},
        {"series": f'{METRIC}{{{AT}, {L_SYSTEM}="anthropic"}}', "values": "0+60x20"},
    ]
    check = {"expr": _expr(provider), "eval_time": "10m"}
    _promtool(tmp_path, series, {**check, "exp_samples": [{"labels": "{}", "value": per_second}]})


def test_a_ratio_without_matching_errors_reads_zero(tmp_path: Path) -> None:
    expr = share_by(METRIC, {sc.L_ERROR_TYPE: "~.+"}).replace("$__rate_interval", "5m")
    series = [{"series": f'{METRIC}{{{AT}, {sc.L_PROVIDER}="openai"}}', "values": "0+60x20"}]
    check = {"expr": expr, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": 0}]}
    _promtool(tmp_path, series, check)


def test_a_grouped_ratio_keeps_groups_without_errors_at_zero(tmp_path: Path) -> None:
    by = (sc.L_PROVIDER,)
    expr = share_by(METRIC, {sc.L_ERROR_TYPE: "~.+"}, by=by).replace("$__rate_interval", "5m")
    series = [
        {"series": f'{METRIC}{{{AT}, {sc.L_PROVIDER}="openai"}}', "values": "0+60x20"},
        {"series": f'{METRIC}{{{AT}, {sc.L_PROVIDER}="mistral"}}', "values": "0+30x20"},
        {
            "series": f'{METRIC}{{{AT}, {sc.L_PROVIDER}="mistral", {sc.L_ERROR_TYPE}="timeout"}}',
            "values": "0+30x20",
        },
    ]
    samples = [
        {"labels": f'{{{sc.L_PROVIDER}="mistral"}}', "value": 0.5},
        {"labels": f'{{{sc.L_PROVIDER}="openai"}}', "value": 0},
    ]
    _promtool(tmp_path, series, {"expr": expr, "eval_time": "10m", "exp_samples": samples})


@pytest.mark.parametrize(
    ("successes", "expected"),
    [
        # 1 successful call per 10 minutes: 0.1 USD over 1 successful and 1 failed call is
        # 0.1 USD per call, not 0.05 (failed calls cost nothing and are not in the count)
        ("0+0.1x30", [{"labels": "{}", "value": 0.1}]),
        # an outage: every chat fails while the answers' embeddings still cost; no data, not ∞
        ("3x30", []),
    ],
)
def test_cost_per_chat_request_divides_by_successful_calls_only(
    tmp_path: Path, successes: str, expected: list[dict[str, object]]
) -> None:
    """The shipped panel, as Grafana sends it: USD per successful chat model call."""
    dash = dashlib.load()["llm-cost.json"]
    panel = next(p for p in dashlib.all_panels(dash) if p.get("title") == "Cost per chat request")
    interp = dashlib.Interpolation(range="10m")
    expr = dashlib.substitute(panel["targets"][0]["expr"], dash, interp)
    model = f'{sc.L_PROVIDER}="openai", {sc.L_MODEL}="gpt-4o-mini"'
    cost = f'{sc.LLM_COST}{{{AT}, {model}, {sc.L_FEATURE}="chat", {sc.L_USER_TIER}="pro"}}'
    calls = f'{METRIC}{{{AT}, {model}, {sc.L_OPERATION}="chat"}}'
    failed = f'{METRIC}{{{AT}, {model}, {sc.L_OPERATION}="chat", {sc.L_ERROR_TYPE}="500"}}'
    series = [
        {"series": cost, "values": "0+0.01x30"},  # 0.1 USD in the panel's 10 minutes
        {"series": calls, "values": successes},
        {"series": failed, "values": "0+0.1x30"},  # 1 failed call per 10 minutes
    ]
    _promtool(tmp_path, series, {"expr": expr, "eval_time": "20m", "exp_samples": expected})
