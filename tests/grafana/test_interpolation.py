"""A selected value reaches PromQL the way Grafana's Prometheus datasource writes it: the live
selection check (selection.py) is only as good as this interpolation."""

from __future__ import annotations

import re

import promql_parser
import pytest

from harness import grafana_interpolation as interpolation

MULTI = {"multi": True, "includeAll": True, "allValue": ".*"}


def _matcher_regex(query_value: str) -> str:
    """The regex Prometheus matches with, once the PromQL string literal is unquoted."""
    selector = promql_parser.parse(f'm{{l=~"{query_value}"}}')
    (matcher,) = [m for m in selector.matchers.matchers if m.name == "l"]
    return matcher.value


@pytest.mark.parametrize(
    ("values", "matches", "misses"),
    [
        (["gpt-4.1"], ["gpt-4.1"], ["gpt-401", "gpt-4.10"]),
        (["claude-3.5+"], ["claude-3.5+"], ["claude-3.55"]),
        (["a|b", "(x)"], ["a|b", "(x)"], ["a", "b", "x"]),
        (["back\\slash"], ["back\\slash"], ["backslash"]),
        (["gpt-4.1", "gcp.gemini"], ["gpt-4.1", "gcp.gemini"], ["gcpxgemini", "gpt-4"]),
    ],
)
def test_selected_values_match_themselves_only(
    values: list[str], matches: list[str], misses: list[str]
) -> None:
    regex = _matcher_regex(interpolation.prometheus_selection(MULTI, values))
    # Prometheus anchors label regexes: fullmatch
    assert all(re.fullmatch(regex, v) for v in matches), regex
    assert not any(re.fullmatch(regex, v) for v in misses), regex


def test_one_value_is_written_bare_several_in_a_group() -> None:
    assert interpolation.prometheus_selection(MULTI, ["gpt-4.1"]) == "gpt-4\\\\.1"
    assert interpolation.prometheus_selection(MULTI, ["a", "b"]) == "(a|b)"
    # a single-value variable without All is not regex-escaped (Grafana's regular escape)
    assert interpolation.prometheus_selection({}, ["gpt-4.1"]) == "gpt-4.1"


def test_substitute_uses_the_selection_and_all_elsewhere() -> None:
    dash = {
        "templating": {
            "list": [
                {"name": "model", "type": "query", **MULTI},
                {"name": "feature", "type": "query", **MULTI},
            ]
        }
    }
    text = 'x{m=~"$model", f=~"${feature}"}[$__rate_interval]'
    out = interpolation.substitute(text, dash, selected={"model": ["gpt-4.1", "o3"]})
    assert out == 'x{m=~"(gpt-4\\\\.1|o3)", f=~".*"}[2m]'
