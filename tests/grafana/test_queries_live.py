"""Every PromQL query of the dashboards returns data from a real Prometheus scraping the real
rag-api after steady traffic and a few faults (Grafana variables substituted, All = `.*`), and
agrees with itself when values are picked in its filter variables (selection.py).

Exceptions only via promql_allowlist.yaml (each with its reason); those must still run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from genai_telemetry import semconv
from harness import require_binary
from tests.export.exported import export
from tests.grafana import dashlib, livestack, ratio_lint, selection
from tests.prometheus.runbook_queries import runbook_queries

ALLOWLIST = Path(__file__).with_name("promql_allowlist.yaml")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[livestack.LiveStack]:
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    live = livestack.start(tmp_path_factory.mktemp("live"))
    yield live
    livestack.stop(live)


def allowlist() -> tuple[float, list[dict[str, str]]]:
    data = yaml.safe_load(ALLOWLIST.read_text())
    entries = data["entries"]
    for entry in entries:
        assert entry.get("reason", "").strip(), f"allow-list entry {entry} has no reason"
    return float(data["max_share"]), entries


def allowed(expr: str, entries: list[dict[str, str]]) -> dict[str, str] | None:
    return next((e for e in entries if re.search(e["match"], expr)), None)


def failures(stack: livestack.LiveStack, directory: Path = dashlib.DASHBOARDS) -> list[str]:
    """What the live check reports for the dashboards in `directory`."""
    _, entries = allowlist()
    dashboards = dashlib.load(directory)
    by_uid = {d["uid"]: d for d in dashboards.values()}
    out = []
    for q in dashlib.queries(dashboards):
        if q.lang not in ("promql", *dashlib.VARIABLE_LANGS):
            continue
        problem = livestack.check_query(stack, q, by_uid[q.dashboard])
        if problem is None:
            continue
        if allowed(q.text, entries) and not problem.startswith("Prometheus error"):
            continue
        out.append(f"{q.id}: {problem}")
    return out


def test_traffic_exercised_success_and_failure(stack: livestack.LiveStack) -> None:
    assert stack.statuses.get(200, 0) >= 50, stack.statuses
    assert any(code >= 500 for code in stack.statuses), stack.statuses


def test_every_promql_query_returns_data(stack: livestack.LiveStack) -> None:
    assert failures(stack) == []


def test_exported_dashboards_return_data(stack: livestack.LiveStack, tmp_path: Path) -> None:
    """The dashboards `make export` writes to dist/ pass the same live check as the shipped ones."""
    out = export(tmp_path / "dist", "--profile", "production", "--target", "grafana")
    directory = out / "grafana" / "dashboards"
    assert len(list(directory.glob("*.json"))) == len(dashlib.load())
    assert failures(stack, directory) == []
    assert [p for d in dashlib.load(directory).values() for p in selection.problems(stack, d)] == []


def test_allowlist_is_small_and_every_entry_is_used() -> None:
    max_share, entries = allowlist()
    promql = [q for q in dashlib.queries(dashlib.load()) if q.lang == "promql"]
    covered = [q for q in promql if allowed(q.text, entries)]
    assert len(covered) <= max_share * len(promql), (len(covered), len(promql))
    for entry in entries:
        assert any(re.search(entry["match"], q.text) for q in promql), f"unused entry {entry}"


def test_latency_panels_have_exemplars_in_prometheus(stack: livestack.LiveStack) -> None:
    """The exemplar dots on latency panels need exemplars behind them (trace_id labels)."""
    import time

    now = time.time()
    data = stack.api(
        "/api/v1/query_exemplars",
        query=semconv.GENAI_OPERATION_DURATION + "_bucket",
        start=str(now - 3600),
        end=str(now),
    )
    labels = {k for s in data for e in s["exemplars"] for k in e["labels"]}
    assert "trace_id" in labels, data[:1]


def _variable_values(stack: livestack.LiveStack, dashboard: dict[str, Any], name: str) -> set[str]:
    return livestack.variable_values(stack, dashlib.variables(dashboard)[name], dashboard)[1]


def test_model_variable_lists_every_model_with_spend(stack: livestack.LiveStack) -> None:
    """Picking models in $model must not drop spend: every model the cost panels add up
    (embeddings too) is one of the variable's values, on every dashboard that has it."""
    dashboards = dashlib.load()
    cost = dashboards["llm-cost.json"]
    panel = next(p for p in dashlib.all_panels(cost) if p["title"] == "Cost per hour by model")
    spend = stack.query(dashlib.substitute(panel["targets"][0]["expr"], cost))["result"]
    spent = {s["metric"].get(semconv.L_MODEL, "") for s in spend}
    assert any("embedding" in m for m in spent), spent  # the traffic priced embeddings
    with_model = [d for d in dashboards.values() if "model" in dashlib.variables(d)]
    assert len(with_model) >= 2
    for dash in with_model:
        missing = spent - _variable_values(stack, dash, "model")
        assert not missing, f"{dash['uid']}: $model cannot select {sorted(missing)}"


def test_queries_agree_under_a_selection(stack: livestack.LiveStack) -> None:
    """Values picked in each filter variable, escaped as Grafana escapes them, narrow every
    query to exactly the matching part of its All result (selection.py)."""
    checked = 0
    found = []
    for dash in dashlib.load().values():
        found += selection.problems(stack, dash)
        checked += sum(1 for f in selection.filters(stack, dash) if f.values)
    assert checked >= 8, checked  # the filters have values to pick: the check compared something
    assert found == []


def test_selection_check_fails_on_a_filter_dropped(stack: livestack.LiveStack) -> None:
    dash = dashlib.load()["llm-cost.json"]
    panel = next(p for p in dashlib.all_panels(dash) if p["title"] == "Cost per hour by model")
    expr = panel["targets"][0]["expr"]
    assert 'gen_ai_request_model=~"$model", ' in expr
    # the spend side only: the token × price fallback keeps it
    panel["targets"][0]["expr"] = expr.replace('gen_ai_request_model=~"$model", ', "", 1)
    found = [p for p in selection.problems(stack, dash) if "Cost per hour by model" in p]
    assert found and all("$model" in p for p in found), found


def test_runbook_queries_run(stack: livestack.LiveStack) -> None:
    """What on-call copies from docs/runbooks runs on a real Prometheus: no error, and data
    for the app's metrics after traffic with faults (tests/prometheus/test_runbook_queries.py
    holds their names to the contract)."""
    problems = []
    queries = runbook_queries()
    assert len(queries) >= 10, queries  # every runbook has several
    for q in queries:
        try:
            data = stack.query(q.text)
        except livestack.PrometheusError as exc:
            problems.append(f"{q.id}: {exc}")
            continue
        if not livestack.has_data(data) and not _may_be_empty(q.text):
            problems.append(f"{q.id}: no data")
    assert problems == []


def _may_be_empty(query: str) -> bool:
    """Runbook queries with no data here: the metrics of Loki, Tempo and the collector (no
    Docker), last week's values (`offset 1w`: no history) and failures filtered by `> 0`."""
    names = {s.name or "" for s in ratio_lint.vector_selectors(promql_parser.parse(query))}
    return (
        any(n.startswith(("loki_", "tempo_", "otelcol_")) for n in names)
        or " offset " in query
        or query.rstrip().endswith("> 0")
    )


# --- The check fails on broken queries --------------------------------------------------------
def _break_first_prometheus_target(directory: Path, file_name: str, expr: str) -> str:
    path = directory / file_name
    dash: dict[str, Any] = json.loads(path.read_text())
    for panel in dashlib.all_panels(dash):
        for target in panel.get("targets", []):
            if dashlib.datasource_kind(target.get("datasource"), dash) == "prometheus":
                target["expr"] = expr
                path.write_text(json.dumps(dash))
                return f"panel {panel['id']}"
    raise AssertionError(f"no Prometheus target in {file_name}")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # A metric that does not exist (typo): valid PromQL, no data.
        ('sum(rate(llm_cost_usd_totl{feature=~"$feature"}[$__rate_interval]))', "no data"),
        # A type error only a real engine catches: rate() of an instant vector.
        ("sum(rate(llm_cost_usd_total))", "Prometheus error"),
        # Allow-listed metric, but broken syntax: allow-listing never hides errors.
        ("sum(rate(otelcol_receiver_accepted_spans_total[5m]) by", "Prometheus error"),
    ],
)
def test_live_check_fails_on_a_broken_copy(
    stack: livestack.LiveStack, tmp_path: Path, expr: str, expected: str
) -> None:
    # That dashboard alone: test_every_promql_query_returns_data shows the others pass.
    directory = tmp_path / "dashboards"
    directory.mkdir()
    shutil.copy(dashlib.DASHBOARDS / "llm-cost.json", directory)
    where = _break_first_prometheus_target(directory, "llm-cost.json", expr)
    problems = failures(stack, directory)
    assert len(problems) == 1, problems
    assert where in problems[0] and expected in problems[0], problems
