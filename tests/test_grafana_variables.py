"""harness.grafana_variables: the dashboards' Prometheus query variables read as Grafana reads
them (the tests and bench/variables.py share it)."""

from __future__ import annotations

from harness.grafana_variables import VariableQuery, result_values, series_text, variable_query

PROVIDER_REGEX = '/gen_ai_provider_name="([^"]+)"/'


def test_label_values_with_and_without_a_selector() -> None:
    var = {"query": {"query": 'label_values(up{job="x"}, instance)'}}
    assert variable_query(var) == VariableQuery("instance", 'up{job="x"}', instant=False)
    assert variable_query({"query": "label_values(job)"}) == VariableQuery("job", "", False)


def test_query_result_needs_the_one_label_regex() -> None:
    var = {"query": "query_result(count by (a) (m))", "regex": '/a="([^"]+)"/'}
    assert variable_query(var) == VariableQuery("a", "count by (a) (m)", instant=True)
    assert variable_query({**var, "regex": "/(.*)/"}) is None  # not a form the project writes
    assert variable_query({"query": "metrics(m)"}) is None


def test_series_text_is_what_grafana_matches_the_regex_against() -> None:
    series = {"metric": {"gen_ai_provider_name": "openai", "x": "1"}, "value": [1700000000.5, "3"]}
    assert series_text(series) == '{gen_ai_provider_name="openai",x="1"} 3 1700000000500'
    named = {"metric": {"__name__": "m", "a": "b"}, "value": [1, "2"]}
    assert series_text(named) == 'm{a="b"} 2 1000'


def test_result_values_take_the_first_group_of_each_series() -> None:
    result = [
        {"metric": {"gen_ai_provider_name": "openai"}, "value": [1, "2"]},
        {"metric": {"gen_ai_provider_name": "aws.bedrock"}, "value": [1, "1"]},
        {"metric": {"other": "x"}, "value": [1, "1"]},  # no match: offers nothing
    ]
    assert result_values(result, PROVIDER_REGEX) == {"openai", "aws.bedrock"}
