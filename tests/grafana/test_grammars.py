"""LogQL, TraceQL (and PromQL syntax) of every dashboard parse with Grafana's own grammars.

The grammars are the npm packages Grafana's query editors use (tools/grammars, pinned), run
with Node; labels and span attributes must exist per the telemetry contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import require_binary
from tests.grafana import dashlib


@pytest.fixture(autouse=True)
def _node() -> None:
    require_binary("node")


def test_every_dashboard_query_parses_and_uses_contract_names() -> None:
    assert dashlib.grammar_problems() == []


def test_the_dashboards_have_logql_and_traceql_to_check() -> None:
    langs = [q.lang for q in dashlib.queries(dashlib.load())]
    assert langs.count("logql") >= 4
    assert langs.count("traceql") >= 5


def test_grammar_tool_reports_error_nodes_and_names() -> None:
    results = dashlib.parse_with_grammars(
        [
            ("ok", "logql", '{service_name="rag-api"} | severity_text="ERROR"'),
            ("bad", "logql", '{service_name="rag-api" | severity_text="ERROR"'),
            ("trace", "traceql", '{ span.gen_ai.request.model = "x" && status = error }'),
            ("badtrace", "traceql", "{ status = }"),
            ("prom", "promql", "sum by (le) (rate(x_bucket[5m])"),
        ]
    )
    by_id = {r["id"]: r for r in results}
    assert by_id["ok"]["errors"] == []
    assert by_id["ok"]["labels"] == ["service_name", "severity_text"]
    assert by_id["bad"]["errors"]
    assert by_id["trace"]["attributes"] == ["span.gen_ai.request.model", "status"]
    assert by_id["badtrace"]["errors"]
    assert by_id["prom"]["errors"]


def _mutate_target(directory: Path, file_name: str, lang_type: str, change: dict[str, Any]) -> None:
    path = directory / file_name
    dash = json.loads(path.read_text())
    for panel in dashlib.all_panels(dash):
        for target in panel.get("targets", []):
            if dashlib.datasource_kind(target.get("datasource"), dash) == lang_type:
                target.update(change)
                path.write_text(json.dumps(dash))
                return
    raise AssertionError(f"no {lang_type} target in {file_name}")


BROKEN: dict[str, tuple[str, str, dict[str, str], str]] = {
    "LogQL syntax": (
        "llm-overview.json",
        "loki",
        {"expr": '{service_name="rag-api" | severity_text="ERROR"'},
        "syntax error",
    ),
    "LogQL label outside the contract": (
        "llm-traces.json",
        "loki",
        {"expr": '{service_name="rag-api"} | user_email="x"'},
        "'user_email' not in the contract",
    ),
    "LogQL line filter on an undocumented event": (
        "rag-pipeline.json",
        "loki",
        {"expr": '{service_name="rag-api"} |= "answer_evaluated"'},
        "'answer_evaluated' is not a documented event",
    ),
    "TraceQL syntax": (
        "llm-traces.json",
        "tempo",
        {"query": '{ resource.service.name = "rag-api" && status = }'},
        "syntax error",
    ),
    "TraceQL attribute outside the contract": (
        "llm-traces.json",
        "tempo",
        # gen_ai.system was renamed gen_ai.provider.name in semconv 1.37.
        {"query": '{ span.gen_ai.system = "openai" }'},
        "'span.gen_ai.system' not in the contract",
    ),
    "PromQL syntax": (
        "llm-cost.json",
        "prometheus",
        {"expr": "sum(rate(llm_cost_usd_total[5m]) by (feature)"},
        "syntax error",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_grammar_check_fails_on_a_broken_copy(case: str, tmp_path: Path) -> None:
    file_name, kind, change, expected = BROKEN[case]
    directory = dashlib.copy_dashboards(tmp_path / "dashboards")
    _mutate_target(directory, file_name, kind, change)
    problems = dashlib.grammar_problems(directory)
    assert any(expected in p for p in problems), problems
