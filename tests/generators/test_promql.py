"""genobs.promql: label matchers parsed and rendered as Prometheus does, `le` spellings, and
the service matchers injected into every selector."""

from __future__ import annotations

import re

import promql_parser
import pytest

from genobs.promql import (
    inject,
    le_matcher,
    metric_names,
    parse_matchers,
    quote,
    regex_problem,
    value_type,
)


def test_matchers_are_parsed_and_rendered_as_prometheus_does() -> None:
    parsed = parse_matchers(r'job="a\"b", route=~"/v1/(chat|x)\\..*", env!="dev", x!~"y"')
    assert [(m.name, m.op, m.value) for m in parsed] == [
        ("job", "=", 'a"b'),
        ("route", "=~", r"/v1/(chat|x)\..*"),
        ("env", "!=", "dev"),
        ("x", "!~", "y"),
    ]
    assert str(parsed[0]) == r'job="a\"b"' and str(parsed[1]) == r'route=~"/v1/(chat|x)\\..*"'
    with pytest.raises(ValueError, match=r"metric name|__name__"):
        parse_matchers('__name__="up"')


def test_le_matchers_accept_both_spellings() -> None:
    assert str(le_matcher(5.12)) == 'le="5.12"'
    five = le_matcher(5)
    assert str(five) == r'le=~"5(\\.0)?"'
    assert all(re.fullmatch(five.value, s) for s in ("5", "5.0"))
    assert not re.fullmatch(five.value, "5.12")
    big = le_matcher(1048576)
    assert all(re.fullmatch(big.value, s) for s in ("1.048576e+06", "1048576", "1048576.0"))


def test_selector_injection_reaches_every_metric_and_nothing_else() -> None:
    expr = (
        'sum by (le, job) (rate(a_bucket{x="y{z}"}[5m])) / on (job) group_left () b offset 1w\n'
        "# c_comment\nand histogram_quantile(0.9, d) > bool 2 unless absent(e{}) "
        'or label_replace(f, "dst", "$1", "src", "(.+)") or vector(0) * 1e+06'
    )
    out = inject(expr, 'job="x"')
    assert metric_names(out) == {"a_bucket", "b", "d", "e", "f"}
    for name in ("a_bucket", "b", "d", "e", "f"):
        assert re.search(rf'\b{name}\{{job="x"', out), (name, out)
    assert "by (le, job)" in out and "c_comment" in out and '"$1"' in out
    only_a = inject(expr, 'job="x"', lambda n: n == "b")
    assert only_a.count('job="x"') == 1


@pytest.mark.parametrize("bad", ["a++", "a**", "a{2}{3}", "a{1001}", "(?x)a"])
def test_regexes_are_checked_with_re2_as_prometheus_does(bad: str) -> None:
    """promql-parser (Rust regex) takes these; Prometheus (Go regexp: RE2 syntax) refuses them."""
    promql_parser.parse(f"x{{a=~{quote(bad)}}}")
    with pytest.raises(ValueError, match="is not a regex Prometheus accepts"):
        parse_matchers(f"a=~{quote(bad)}")
    assert regex_problem("rate_limited|.*RateLimitError.*|429|a{1000}|(?i)x") is None


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ("sum(rate(x[5m]))", "vector"),
        ("1 + 0 * vector(1)", "vector"),
        ("-(x)", "vector"),
        ("scalar(sum(x))", "scalar"),
        ("rate(x[5m])[5m:]", "matrix"),
        ("x[5m]", "matrix"),
        ("1", "scalar"),
    ],
)
def test_value_type_of_an_expression(expr: str, kind: str) -> None:
    assert value_type(promql_parser.parse(expr)) == kind
