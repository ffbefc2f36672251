"""bench variables on the real Prometheus and promtool: every variable of the shipped dashboards
over the backfilled metric is asked as Grafana asks it and answers with values (the benchmark
raises on an empty answer), the Provider variable as a query_result, the others as label
lookups."""

from __future__ import annotations

import httpx
import pytest

from bench import variables
from harness import require_binary
from harness.grafana_interpolation import referenced_vars
from harness.grafana_variables import definition


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
    kinds = {definition(var).split("(", 1)[0] for _, var in queries.values()}
    assert kinds == {"query_result", "label_values"}, queries


def test_lookups_are_interpolated_as_grafana_does() -> None:
    """Each lookup is asked with every variable replaced (the builtins, the others at their
    All value), through the tests' own interpolation: nothing of Grafana's syntax reaches
    Prometheus."""
    asked: list[str] = []

    class Recorder:
        def get(self, path: str, params: dict[str, str]) -> httpx.Response:
            asked.append(params.get("query") or params.get("match[]", ""))
            data = {"result": [{}]} if path == "/api/v1/query" else ["x"]
            return httpx.Response(200, json={"status": "success", "data": data})

    for found in variables.variable_queries().values():
        variables._ask(Recorder(), found, 86400, 1e9)  # type: ignore[arg-type]
    assert asked and not [q for q in asked if referenced_vars(q)], asked
    assert any("[86400s]" in q for q in asked), asked  # $__range of a query_result lookup


@pytest.mark.parametrize(
    "argv",
    [["--days", "0"], ["--days", "-1"], ["--series", "0"], ["--series", "2.5"], ["--step", "x"]],
)
def test_bad_options_exit_2_naming_the_option(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rejected before anything starts (no Prometheus, no backfill), the option named."""
    with pytest.raises(SystemExit) as exc:
        variables.main(argv)
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_an_unsupported_variable_form_is_named() -> None:
    var = {"type": "query", "query": "metrics(gen_ai_client_operation_duration_seconds_count)"}
    with pytest.raises(ValueError, match="unsupported variable query 'metrics"):
        variables._ask(None, ({}, var), 3600, 0.0)  # type: ignore[arg-type]  # raises before asking
