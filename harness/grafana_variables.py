"""The Prometheus query variables the dashboards use, read as Grafana reads them: one parser for
the tests (tests/grafana) and the benchmark of their lookups (bench/variables.py).

Two forms only, the two grafana/dashgen/variables.py writes: `label_values(selector, label)`
(Grafana asks the series or label-values API) and `query_result(promql)` with a regex taking one
label's value out of each series' text (Grafana runs the instant query at the range's end and
writes each series as `name{a="x",b="y"} value timestamp_ms`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\)\s*$", re.S)
QUERY_RESULT = re.compile(r"^\s*query_result\((?P<query>.+)\)\s*$", re.S)
# A query_result variable's regex that takes one label's value out of Grafana's text of a series
# (grafana/dashgen/variables.py result_var writes it).
RESULT_LABEL = re.compile(r'^/(?P<label>\w+)="\(\[\^"\]\+\)"/$')


@dataclass(frozen=True)
class VariableQuery:
    """What a Prometheus query variable lists: `label`'s values in the series `promql` selects
    (label_values; "" for every series) or in the result of the instant query `promql`
    (query_result)."""

    label: str
    promql: str
    instant: bool


def definition(var: Mapping[str, Any]) -> str:
    """A query variable's query text (Grafana stores it as a string or as {"query": …})."""
    query = var.get("query")
    return str(query.get("query", "") if isinstance(query, dict) else query or "")


def variable_query(var: Mapping[str, Any]) -> VariableQuery | None:
    """A query variable's label and query; None for a form the project does not write."""
    text = definition(var)
    if m := LABEL_VALUES.match(text):
        return VariableQuery(m["label"], m["selector"] or "", instant=False)
    regex = RESULT_LABEL.match(var.get("regex") or "")
    if (m := QUERY_RESULT.match(text)) and regex:
        return VariableQuery(regex["label"], m["query"], instant=True)
    return None


def series_text(series: Mapping[str, Any]) -> str:
    """One instant-vector result as Grafana's query_result writes it for the variable's regex."""
    metric = series["metric"]
    labels = ",".join(f'{k}="{v}"' for k, v in metric.items() if k != "__name__")
    at, value = series["value"]  # Prometheus times are whole milliseconds: JS prints no ".0"
    return f"{metric.get('__name__', '')}{{{labels}}} {value} {round(at * 1000)}"


def result_values(result: Iterable[Mapping[str, Any]], regex: str) -> set[str]:
    """The values a query_result variable offers: its regex (`/…/`, no flags) applied to each
    series' text, the first group of the first match."""
    pattern = re.compile(regex[1:-1])
    return {m[1] for s in result if (m := pattern.search(series_text(s)))}
