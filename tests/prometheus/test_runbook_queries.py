"""A runbook's query is what on-call types during an incident: it must parse, and name only
metrics and labels that exist (the telemetry contract, the recording rules, the stack's own
metrics), or it answers "no data" when the answer matters most."""

from __future__ import annotations

import promql_parser
import pytest

from genai_telemetry import semconv
from genobs import contract
from slo.rules import TARGET_INFO
from slo.stack_alerts import STACK_METRICS
from tests.grafana import dashlib, ratio_lint
from tests.prometheus.runbook_queries import RunbookQuery, runbook_queries
from tests.prometheus.test_rules import _contract_names, _rules

QUERIES = runbook_queries()
# Labels any series may carry besides its own: the target's, and the recorded SLO series'.
COMMON_LABELS = {"job", "instance", "service", "slo", "le", "gen_ai_system"}
# The stack's metrics a runbook reads that no alert does, each checked at the pinned version.
RUNBOOK_ONLY = {
    # collector 0.159 process metric, unit kept (otel-collector/config.yaml: without_units
    # drops units only together with without_type_suffix, which stays false)
    "otelcol_process_memory_rss_bytes",
}


def _nodes(node: object) -> list[object]:
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(dashlib.children(n))
    return out


def _own_labels(metric: str | None) -> set[str] | None:
    """The labels a contract metric may carry (None: not a contract metric)."""
    labels = semconv.METRIC_LABELS.get(contract.base(metric or ""))
    return None if labels is None else set(labels) | COMMON_LABELS


def test_every_runbook_query_is_found() -> None:
    runbooks = {q.runbook for q in QUERIES}
    assert len(QUERIES) >= 20 and len(runbooks) >= 20, (len(QUERIES), sorted(runbooks))


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.id[:80])
def test_runbook_query_names_what_exists(query: RunbookQuery) -> None:
    nodes = _nodes(promql_parser.parse(query.text))
    recorded = {r["record"] for r in _rules() if "record" in r}
    allowed = _contract_names() | STACK_METRICS | RUNBOOK_ONLY | recorded | {TARGET_INFO}
    for selector in ratio_lint.vector_selectors(nodes[0]):
        assert selector.name in allowed, f"{query.runbook}: unknown metric {selector.name}"
        own = _own_labels(selector.name)
        used = {m.name for m in selector.matchers.matchers}
        assert own is None or used <= own, f"{query.runbook}: {selector.name} has no {used - own}"
    for agg in [n for n in nodes if isinstance(n, promql_parser.AggregateExpr)]:
        owns = [_own_labels(s.name) for s in ratio_lint.vector_selectors(agg.expr)]
        if agg.modifier is None or not owns or None in owns:
            continue  # the stack's own metrics: their labels are theirs to name
        grouped = set(agg.modifier.labels)
        assert grouped <= set().union(*owns), f"{query.runbook}: no {grouped - set().union(*owns)}"
