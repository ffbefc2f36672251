"""Every query honours every filter its metric can take.

A dashboard variable listing a label (`label_values(metric, label)`, or a `query_result`)
filters `label`; a query of a contract metric that carries that label
(genobs.contract.APP_METRIC_LABELS) but has no matcher on it with the variable shows the
unfiltered total under a filter — a cost panel ignoring $feature sums every feature's cost while
the title says one. (The ratio lint cannot see it: a filter dropped from both
sides of a ratio keeps them alike; a mutation audit found the gap.)
"""

from __future__ import annotations

import promql_parser

from genai_telemetry import semconv as sc
from genobs.contract import APP_METRIC_LABELS, L_SYSTEM, base
from harness.grafana_variables import variable_query
from tests.grafana import dashlib, ratio_lint


def _label_filters(dash: dashlib.Json) -> dict[str, str]:
    """label → the variable that filters it, for the variables listing a contract label."""
    known = {label for labels in APP_METRIC_LABELS.values() for label in labels}
    out = {}
    for var in dashlib.variables(dash).values():
        found = variable_query(var) if var.get("type") == "query" else None
        if found and found.label in known:
            out[found.label] = var["name"]
    return out


def _problems(expr: str, filters: dict[str, str]) -> list[str]:
    builtins = dashlib.Interpolation().builtins()
    text = dashlib.VAR_REF.sub(lambda m: builtins.get(next(g for g in m.groups() if g), m[0]), expr)
    found = []
    for selector in ratio_lint.vector_selectors(promql_parser.parse(text)):
        labels = APP_METRIC_LABELS.get(base(selector.name or ""), ())
        pairs = ratio_lint.filter_pairs(selector)
        for label, var in filters.items():
            # the provider filter may reach a series through the older gen_ai_system label
            ok = (label, var) in pairs or (label == sc.L_PROVIDER and (L_SYSTEM, var) in pairs)
            if label in labels and not ok:
                found.append(f"{selector.name} ignores ${var} ({label})")
    return found


# Annotations that must not take a filter, and why.
UNFILTERED_ANNOTATIONS = {
    # it marks every change of the served prompt version: filtered, it would hide the switch
    ("rag-pipeline", "Prompt version changes"),
}


def _panel_problems(dash: dashlib.Json, filters: dict[str, str]) -> list[str]:
    """A panel may leave out a filter only when its description says so (names the filter and
    says what applies): the reader then knows the number is not narrowed by it."""
    found = []
    for panel in dashlib.all_panels(dash):
        said = (panel.get("description") or "").lower()
        for target in panel.get("targets", []):
            kind = dashlib.datasource_kind(
                target.get("datasource") or panel.get("datasource"), dash
            )
            if kind != "prometheus" or "expr" not in target:
                continue
            for problem in _problems(target["expr"], filters):
                var = problem.split("$", 1)[1].split(" ", 1)[0]
                if not (var in said and "appl" in said):
                    found.append(f"{dash.get('uid')}: {panel.get('title')!r}: {problem}")
    return found


def test_every_query_applies_every_filter_of_its_metric() -> None:
    problems = []
    for dash in dashlib.load().values():
        filters = _label_filters(dash)
        problems += _panel_problems(dash, filters)
        for ann in dash.get("annotations", {}).get("list", []):
            promql = dashlib.datasource_kind(ann.get("datasource"), dash) == "prometheus"
            exempt = (dash.get("uid"), ann.get("name")) in UNFILTERED_ANNOTATIONS
            if promql and ann.get("expr") and not exempt:
                problems += [
                    f"annotation {ann.get('name')!r}: {p}" for p in _problems(ann["expr"], filters)
                ]
    assert problems == []


def test_the_check_sees_filters_and_misses() -> None:
    filters = {sc.L_FEATURE: "feature", sc.L_MODEL: "model"}
    cost = f'sum(rate({sc.LLM_COST}{{gen_ai_request_model=~"$model"}}[5m]))'
    assert _problems(cost, filters) == [f"{sc.LLM_COST} ignores $feature (feature)"]
    both = f'sum(rate({sc.LLM_COST}{{gen_ai_request_model=~"$model", feature=~"$feature"}}[5m]))'
    assert _problems(both, filters) == []
    # a metric without the label is not asked to take its filter
    assert (
        _problems(
            f'sum(rate({sc.GENAI_OPERATION_DURATION}_count{{gen_ai_request_model=~"$model"}}[5m]))',
            filters,
        )
        == []
    )


def test_a_panel_leaving_a_filter_out_must_say_so() -> None:
    cost = f'sum(rate({sc.LLM_COST}{{gen_ai_request_model=~"$model"}}[5m]))'
    panel = {
        "title": "Cost",
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "targets": [{"refId": "A", "expr": cost}],
    }
    filters = {sc.L_FEATURE: "feature"}
    silent = {"uid": "d", "panels": [panel]}
    assert _panel_problems(silent, filters) == [
        f"d: 'Cost': {sc.LLM_COST} ignores $feature (feature)"
    ]
    said = {"uid": "d", "panels": [{**panel, "description": "The feature filter does not apply."}]}
    assert _panel_problems(said, filters) == []
