"""bench variables on the real Prometheus and promtool: every variable of the shipped dashboards
over the backfilled metric is asked as Grafana asks it and answers with values (the benchmark
raises on an empty answer), the Provider variable as a query_result, the others as label
lookups."""

from __future__ import annotations

from bench import variables
from harness import require_binary


def test_quick_run_times_both_kinds_of_lookup() -> None:
    require_binary("prometheus")
    require_binary("promtool")
    result = variables.run(quick=True, series=24)
    assert result["samples"] == 24 * len(range(0, 2 * 86400 + 3600, 30))
    names = {key.rsplit(" ", 1)[0] for key in result["median_ms"]}
    assert any(n.endswith("$provider") for n in names) and any(n.endswith("$model") for n in names)
    assert set(result["samples_in_range"]) == {"3600", "86400"}
    assert all(ms > 0 for ms in result["median_ms"].values()), result["median_ms"]


def test_variable_queries_are_the_shipped_ones() -> None:
    queries = variables.variable_queries()
    kinds = {text.split("(", 1)[0] for text in queries.values()}
    assert kinds == {"query_result", "label_values"}, queries
