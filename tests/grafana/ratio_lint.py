"""A stricter ratio check than dashlib.ratio_filter_problems: the two sides of a division must
apply each dashboard variable to the same LABEL, not just mention the same variables.

`x{gen_ai_request_model=~"$model"} / y{gen_ai_response_model=~"$model"}` passes a check on
variable names but filters the two sides by different labels: under a model filter a request
answered by another model (a fallback, a provider alias) counts on one side only. Fallbacks
(`x or vector(0)`, `x or 0 * y`) are skipped as in dashlib; a side's filters are the union of
(label, variable) pairs of all its selectors, so joins (`* on (…) group_left … info{v=~"$v"}`)
count for the side they filter.
"""

from __future__ import annotations

from typing import Any

import promql_parser

from tests.grafana import dashlib

Pair = tuple[str, str]  # (label, dashboard variable)


def vector_selectors(node: Any) -> list[Any]:
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        if isinstance(n, promql_parser.MatrixSelector):
            n = n.vector_selector
        if isinstance(n, promql_parser.VectorSelector):
            out.append(n)
            continue
        todo.extend(dashlib.children(n))
    return out


def filter_pairs(side: Any) -> set[Pair]:
    """(label, variable) for every matcher of the side (its fallback stripped by the caller)
    whose value uses a dashboard variable."""
    pairs = set()
    for selector in vector_selectors(side):
        matchers = selector.matchers
        for m in [*matchers.matchers, *(x for group in matchers.or_matchers for x in group)]:
            for var in dashlib.referenced_vars(m.value):
                if not var.startswith("__"):
                    pairs.add((m.name, var))
    return pairs


def problems(expr: str) -> list[str]:
    return dashlib.ratio_problems(
        expr,
        filter_pairs,
        lambda a, b: (
            f"ratio sides filter different labels: only numerator {sorted(a - b)}, "
            f"only denominator {sorted(b - a)}"
        ),
    )


def dashboard_problems() -> list[str]:
    """Every PromQL query of the shipped dashboards (panels and annotations)."""
    found = []
    for q in dashlib.queries(dashlib.load()):
        if q.lang == "promql":
            found += [f"{q.id}: {p}" for p in problems(q.text)]
    return found
