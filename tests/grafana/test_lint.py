"""Dashboard JSON lint: structure, layout, datasources, variables, links, histogram/counter math.

The shipped dashboards must be clean; deliberately broken copies must not be (each rule can fail).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import ROOT
from tests.grafana import dashlib

EXPECTED_UIDS = {
    "llm-overview",
    "llm-cost",
    "llm-slos",
    "llm-agents",
    "rag-pipeline",
    "llm-traces",
    "stack-health",
}


def test_shipped_dashboards_are_clean() -> None:
    assert dashlib.lint() == []


def test_the_dashboards_exist_with_the_contract_uids() -> None:
    dashboards = dashlib.load()
    assert {d["uid"] for d in dashboards.values()} == EXPECTED_UIDS


def test_every_dashboard_links_to_all_others() -> None:
    dashboards = dashlib.load()
    assert {d["uid"] for d in dashboards.values()} == EXPECTED_UIDS
    for dash in dashboards.values():
        targets = {
            link["url"].removeprefix("/d/") for link in dash["links"] if link["type"] == "link"
        }
        assert targets == EXPECTED_UIDS - {dash["uid"]}, dash["uid"]


def test_every_dashboard_annotates_firing_alerts() -> None:
    dashboards = dashlib.load().values()
    assert dashboards, "no dashboards found"
    for dash in dashboards:
        exprs = [a.get("expr", "") for a in dash["annotations"]["list"]]
        assert any('ALERTS{alertstate="firing"' in e for e in exprs), dash["uid"]


def test_home_dashboard_has_the_headline_stats() -> None:
    dash = dashlib.load()["llm-overview.json"]
    stats = {p["title"] for p in dash["panels"] if p["type"] == "stat"}
    assert stats == {
        "Requests/s",
        "Error % (5xx)",
        "p95 latency",
        "TTFT p95",
        "Cost per hour",
        "Tokens/s",
        "In-flight model calls",
        "Error budget left (worst SLO)",
    }


# --- Each lint rule can fail ------------------------------------------------------------------
Mutation = Callable[[dict[str, Any]], None]


def _first(dash: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in dashlib.all_panels(dash) if p["type"] == kind)


def _dup_id(d: dict[str, Any]) -> None:
    panels = [p for p in d["panels"] if p["type"] != "row"]
    panels[1]["id"] = panels[0]["id"]


def _overlap(d: dict[str, Any]) -> None:
    panels = [p for p in d["panels"] if p["type"] != "row"]
    panels[1]["gridPos"] = dict(panels[0]["gridPos"])


def _too_wide(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["gridPos"]["w"] = 25


def _no_description(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["description"] = ""


def _no_unit(d: dict[str, Any]) -> None:
    del _first(d, "stat")["fieldConfig"]["defaults"]["unit"]


def _raw_uid(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["targets"][0]["datasource"] = {"type": "prometheus", "uid": "P1809F7"}


def _inputs(d: dict[str, Any]) -> None:
    d["__inputs"] = [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"}]
    _first(d, "timeseries")["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def _wrong_type_var(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["datasource"] = {"type": "loki", "uid": "${prometheus}"}


def _undefined_var(d: dict[str, Any]) -> None:
    target = _first(d, "timeseries")["targets"][0]
    target["expr"] = target["expr"].replace("$__rate_interval", "$window")


def _bad_link(d: dict[str, Any]) -> None:
    d["links"].append({"type": "link", "title": "gone", "url": "/d/no-such-dashboard"})


def _dup_uid(d: dict[str, Any]) -> None:
    d["uid"] = "llm-overview"


def _avg_buckets(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["targets"][0]["expr"] = (
        "avg(rate(gen_ai_client_operation_duration_seconds_bucket[5m]))"
    )


def _quantile_without_le(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["targets"][0]["expr"] = (
        "histogram_quantile(0.95, sum by (gen_ai_request_model) "
        "(rate(gen_ai_client_operation_duration_seconds_bucket[5m])))"
    )


def _raw_counter(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["targets"][0]["expr"] = "sum(llm_cost_usd_total)"


def _old_schema(d: dict[str, Any]) -> None:
    d["schemaVersion"] = 27


def _no_exemplars(d: dict[str, Any]) -> None:
    for panel in dashlib.all_panels(d):
        for target in panel.get("targets", []):
            target.pop("exemplar", None)


def _unfiltered_denominator(d: dict[str, Any]) -> None:
    (panel,) = [p for p in d["panels"] if p["title"] == "Output tokens per second by model"]
    target = panel["targets"][0]
    numerator, denominator = target["expr"].split(" / ")
    unfiltered = denominator.replace('gen_ai_request_model=~"$model"', 'gen_ai_request_model!=""')
    target["expr"] = f"{numerator} / {unfiltered}"


def _heatmap_increase(d: dict[str, Any]) -> None:
    target = _first(d, "heatmap")["targets"][0]
    target["expr"] = target["expr"].replace("rate(", "increase(")


def _angular_graph(d: dict[str, Any]) -> None:
    _first(d, "timeseries")["type"] = "graph"


def _name_kept_for_merge(d: dict[str, Any]) -> None:
    for panel in dashlib.all_panels(d):
        steps = panel.get("transformations", [])
        panel["transformations"] = [t for t in steps if t["id"] != "filterFieldsByName"]


MUTATIONS: dict[str, tuple[str, Mutation, str]] = {
    "Angular graph panel": ("llm-cost.json", _angular_graph, "not a core Grafana"),
    "duplicate panel id": ("llm-cost.json", _dup_id, "duplicate panel id"),
    "overlapping panels": ("llm-cost.json", _overlap, "overlaps"),
    "wider than the grid": ("llm-cost.json", _too_wide, "exceeds 24 columns"),
    "missing description": ("rag-pipeline.json", _no_description, "no description"),
    "missing unit": ("llm-overview.json", _no_unit, "without fieldConfig.defaults.unit"),
    "hard-coded datasource uid": ("stack-health.json", _raw_uid, "neither provisioned"),
    "__inputs placeholders": ("llm-slos.json", _inputs, "__inputs"),
    "datasource variable of the wrong type": ("llm-slos.json", _wrong_type_var, "does not match"),
    "undefined variable": ("llm-cost.json", _undefined_var, "undefined variable $window"),
    "link to a missing dashboard": ("llm-traces.json", _bad_link, "unknown dashboard uid"),
    "duplicate dashboard uid": ("llm-cost.json", _dup_uid, "also used by"),
    "averaged buckets": ("rag-pipeline.json", _avg_buckets, "averages _bucket"),
    "quantile without le": ("rag-pipeline.json", _quantile_without_le, "drops `le`"),
    "raw counter": ("llm-cost.json", _raw_counter, "without a range"),
    "heatmap of overlapping increases": ("rag-pipeline.json", _heatmap_increase, "use rate()"),
    "old schema": ("stack-health.json", _old_schema, "schemaVersion"),
    "latency without exemplars": ("llm-overview.json", _no_exemplars, "without exemplars"),
    "merge keeps __name__": ("llm-slos.json", _name_kept_for_merge, "merge transformation"),
    "ratio sides with other filters": (
        "llm-overview.json",
        _unfiltered_denominator,
        "numerator by ['model', 'provider'], denominator by ['provider']",
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_lint_fails_on_a_broken_copy(case: str, tmp_path: Path) -> None:
    file_name, mutate, expected = MUTATIONS[case]
    directory = dashlib.copy_dashboards(tmp_path / "dashboards")
    path = directory / file_name
    dash = json.loads(path.read_text())
    mutate(dash)
    path.write_text(json.dumps(dash))
    errors = dashlib.lint(directory)
    assert any(expected in e for e in errors), errors


def test_lint_reports_invalid_json_by_file(tmp_path: Path) -> None:
    directory = dashlib.copy_dashboards(tmp_path / "dashboards")
    (directory / "llm-cost.json").write_text('{"uid": "llm-cost",')
    errors = dashlib.lint(directory)
    assert len(errors) == 1 and "llm-cost.json: invalid JSON" in errors[0]


def test_alert_groups_panel_must_name_the_provisioned_alertmanager(tmp_path: Path) -> None:
    provisioning = tmp_path / "datasources"
    provisioning.mkdir()
    (provisioning / "ds.yml").write_text(
        "apiVersion: 1\ndatasources:\n  - name: Other AM\n    uid: alertmanager\n"
        "    type: alertmanager\n"
    )
    errors = dashlib.lint(provisioning=provisioning)
    assert any("not the provisioned Alertmanager datasource name" in e for e in errors), errors


@pytest.mark.parametrize(
    ("expr", "problems"),
    [
        ('(a{m=~"$m"} or vector(0)) / b{m=~"$m"}', 0),  # the fallback is no filter
        ('(a{m=~"$m"} or 0 * b{p=~"$p"}) / b{p=~"$p"}', 1),
        ('max(a{r=~"/v1/$m"} / b)', 1),  # inside a call; `/` in a string is no division
        ('(a) * (b{m=~"$m"}) / c', 1),
        ('a{m=~"$m"} or b / c', 0),  # `/` binds tighter than `or`
        ('a{m=~"$m"} / b{m=~"$m"} / c{m=~"$m"}', 0),
        ('sum(rate(a{m=~"$m"}[$__rate_interval])) / sum(rate(b{m=~"$m"}[5m]))', 0),
        ("sum(rate(a[5m]) / ", 1),  # a query it cannot read is a problem, not a pass
    ],
)
def test_ratio_filter_check(expr: str, problems: int) -> None:
    assert len(dashlib.ratio_filter_problems(expr)) == problems


ALERTNAME = re.compile(r'alertname\s*(?:=~|!~|=|!=)\s*"([^"]*)"')


def _shipped_alert_names() -> set[str]:
    rules = (ROOT / "prometheus" / "rules").glob("*.yml")
    groups = [g for p in rules for g in yaml.safe_load(p.read_text())["groups"]]
    return {r["alert"] for g in groups for r in g["rules"] if "alert" in r}


def test_alert_names_in_dashboards_exist_in_the_rules() -> None:
    """An ALERTS selector naming an alert that was renamed away shows nothing, silently."""
    shipped = _shipped_alert_names()
    named = {
        (q.id, name)
        for q in dashlib.queries(dashlib.load())
        for m in ALERTNAME.finditer(q.text)
        for name in m.group(1).split("|")
    }
    assert len(named) > 10
    assert {(where, n) for where, n in named if n not in shipped} == set()
