"""Dashboard queries under a real selection, not only under All.

Under All every filter is `.*`, so a filter applied to the wrong label, lost on one branch of an
`or`, or broken by Grafana's escaping of a selected value (`gpt-4.1` → `gpt-4\\\\.1`) still shows
the right numbers. This check picks values of each filter variable on the live stack, as Grafana
writes them into the query, and holds each PromQL query to two properties at one instant:

- **restriction**: when the query keeps the filter's label in its result, selecting values gives
  exactly the All result's series with those values, with the same numbers (a ratio whose two
  sides are filtered alike passes; one side unfiltered or filtered on the wrong label does not);
- **partition**: when the query is a plain `sum` of counters or gauges (no division, no other
  aggregation), the values of the variable selected one at a time add up to the All result.

A zero denominator (∞ instead of no data) needs a range in which one side stopped moving, which
this traffic does not have: tests/grafana/test_dashgen_promtool.py shows it on synthetic series.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import promql_parser

from harness.grafana_variables import variable_query
from tests.grafana import dashlib, livestack

Series = dict[tuple[tuple[str, str], ...], float]
Query = Callable[[str], Any]
TOLERANCE = 1e-6  # relative: the parts of a sum are added in another order


@dataclass(frozen=True)
class Filter:
    variable: str  # dashboard variable
    label: str  # the label its values come from (label_values(…, label), or a query_result's)
    values: tuple[str, ...]  # its values on the live stack


def filters(stack: livestack.LiveStack, dashboard: dashlib.Json) -> list[Filter]:
    """The dashboard's label variables (label_values of a selector, or query_result) and
    their live values."""
    out = []
    for name, var in dashlib.variables(dashboard).items():
        found = variable_query(var) if var.get("type") == "query" else None
        if found and found.promql:
            label, values = livestack.variable_values(stack, var, dashboard)
            out.append(Filter(name, label, tuple(sorted(values))))
    return out


def vector(query: Query, expr: str) -> Series:
    data = query(expr)
    if data["resultType"] == "scalar":
        return {(): float(data["result"][1])}
    return {
        tuple(sorted(s["metric"].items())): float(s["value"][1])
        for s in data["result"]
        if not math.isnan(float(s["value"][1]))
    }


def same(a: Series, b: Series) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=TOLERANCE, abs_tol=1e-12) for k in a
    )


ADDITIVE_CALLS = {"rate", "increase", "label_replace"}


def _additive(node: Any) -> bool:
    if isinstance(node, promql_parser.AggregateExpr):
        return str(node.op) == "sum" and _additive(node.expr)
    if isinstance(node, promql_parser.BinaryExpr):
        return str(node.op) == "or" and _additive(node.lhs) and _additive(node.rhs)
    if isinstance(node, promql_parser.Call):
        return node.func.name in ADDITIVE_CALLS and all(
            _additive(a) for a in node.args if not isinstance(a, promql_parser.StringLiteral)
        )
    if isinstance(node, promql_parser.ParenExpr):
        return _additive(node.expr)
    return isinstance(node, promql_parser.VectorSelector | promql_parser.MatrixSelector)


def plain_sum(expr: str) -> bool:
    """A `sum` whose parts add up: of rates, increases or raw series, joined only by `or`."""
    node = promql_parser.parse(expr)
    return isinstance(node, promql_parser.AggregateExpr) and _additive(node)


def _picks(values: tuple[str, ...]) -> list[list[str]]:
    """One value alone (one with a regex metacharacter when there is one) and two together."""
    if not values:
        return []
    plain = re.compile(r"[\w-]+")
    first = next((v for v in values if not plain.fullmatch(v)), values[0])
    picks = [[first]]
    if len(values) > 1:
        picks.append([first, next(v for v in values if v != first)])
    return picks


def problems(stack: livestack.LiveStack, dashboard: dashlib.Json) -> list[str]:
    at = str(time.time() - 5)

    def query(expr: str) -> Any:
        return stack.api("/api/v1/query", query=expr, time=at)

    found = []
    promql = [q for q in dashlib.queries({"": dashboard}) if q.lang == "promql"]
    for f in filters(stack, dashboard):
        for q in promql:
            if f.variable in dashlib.referenced_vars(q.text):
                found += _query_problems(query, dashboard, f, q.id, q.text)
    return found


def _query_problems(
    query: Query, dashboard: dashlib.Json, f: Filter, where: str, expr: str
) -> list[str]:
    def under(values: list[str]) -> Series:
        return vector(query, dashlib.substitute(expr, dashboard, selected={f.variable: values}))

    try:
        everything = vector(query, dashlib.substitute(expr, dashboard))
        found = []
        keeps_label = bool(everything) and all(f.label in dict(k) for k in everything)
        for values in _picks(f.values) if keeps_label else []:
            expected = {k: v for k, v in everything.items() if dict(k)[f.label] in values}
            if not same(under(values), expected):
                found.append(f"{where}: ${f.variable}={values} is not the All result's rows")
        if not keeps_label and plain_sum(dashlib.substitute(expr, dashboard)):
            total: Series = {}
            for value in f.values:
                for k, v in under([value]).items():
                    total[k] = total.get(k, 0.0) + v
            if not same(total, everything):
                found.append(f"{where}: ${f.variable}, one value at a time, does not add up to All")
        return found
    except livestack.PrometheusError as exc:
        return [f"{where}: ${f.variable}: Prometheus error: {exc}"]
