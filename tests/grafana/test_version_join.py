"""The per-version panels of RAG Pipeline & Quality, evaluated by real promtool on two replicas
running different prompt versions (and a second v1 replica): each version's numerator and
denominator are summed over its own processes only. The live check (test_queries_live.py) sees a
single version; this proves the join splits and sums correctly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from genai_telemetry import semconv as sc
from harness import ROOT, require_binary

DASHBOARD = ROOT / "grafana" / "dashboards" / "rag-pipeline.json"
JOB = 'job="rag-api"'
# instance → (version, cost USD per minute, chat calls per minute, faithfulness ≤ 0.7 per minute)
REPLICAS = {
    "a:8000": ("v1", 3, 6, 0),
    "b:8000": ("v2", 12, 6, 3),
    "c:8000": ("v1", 3, 6, 0),
}


def _expr(title_start: str, version: str = ".*") -> str:
    """The panel's query with Grafana's variables substituted (All = `.*`)."""
    dash = json.loads(DASHBOARD.read_text())
    (panel,) = [p for p in dash["panels"] if p["title"].startswith(title_start)]
    (target,) = panel["targets"]
    expr = target["expr"].replace("$__rate_interval", "5m")
    return expr.replace("$prompt_version", version)


def _series() -> list[dict[str, str]]:
    out = []
    for instance, (version, cost, calls, low) in REPLICAS.items():
        at = f'{JOB}, instance="{instance}"'
        info = f'{sc.LLM_PROMPT_VERSION_INFO}{{{at}, {sc.L_PROMPT_VERSION}="{version}"}}'
        chat = (
            f'{sc.L_OPERATION}="chat", {sc.L_PROVIDER}="openai", {sc.L_MODEL}="gpt-4o-mini", '
            f'{sc.L_ERROR_TYPE}=""'
        )
        faith = f'{sc.L_EVALUATION_NAME}="faithfulness"'
        out += [
            {"series": info, "values": "1x20"},
            {
                "series": f'{sc.LLM_COST}{{{at}, {sc.L_PROVIDER}="openai", '
                f'{sc.L_MODEL}="gpt-4o-mini", feature="chat", user_tier="pro"}}',
                "values": f"0+{cost}x20",
            },
            {
                "series": f"{sc.GENAI_OPERATION_DURATION}_count{{{at}, {chat}}}",
                "values": f"0+{calls}x20",
            },
            {
                "series": f'{sc.RAG_EVALUATION_SCORE}_bucket{{{at}, {faith}, le="0.7"}}',
                "values": f"0+{low}x20",
            },
            {
                "series": f"{sc.RAG_EVALUATION_SCORE}_count{{{at}, {faith}}}",
                "values": f"0+{calls}x20",
            },
        ]
    return out


def test_version_panels_split_and_sum_per_version(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _series(),
                "promql_expr_test": [
                    {
                        # v1: 2 replicas at 3 USD / 6 calls each; v2: 12 USD / 6 calls
                        "expr": _expr("Spend per chat by version"),
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": '{prompt_version="v1"}', "value": 0.5},
                            {"labels": '{prompt_version="v2"}', "value": 2},
                        ],
                    },
                    {
                        # the version variable restricts both sides of the ratio alike
                        "expr": _expr("Spend per chat by version", version="v2"),
                        "eval_time": "10m",
                        "exp_samples": [{"labels": '{prompt_version="v2"}', "value": 2}],
                    },
                    {
                        # v1 has no low scores: 0, not absent (ratio_by); v2 half
                        "expr": _expr("Low-faithfulness share by version"),
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": '{prompt_version="v1"}', "value": 0},
                            {"labels": '{prompt_version="v2"}', "value": 0.5},
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "version-join.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
