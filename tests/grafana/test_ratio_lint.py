"""Both sides of every ratio apply each dashboard filter to the same label (ratio_lint)."""

from __future__ import annotations

import pytest

from tests.grafana import dashlib, ratio_lint

M = "gen_ai_client_operation_duration_seconds_count"


def test_shipped_dashboards_filter_both_sides_by_the_same_labels() -> None:
    assert ratio_lint.dashboard_problems() == []


def test_the_dashboards_have_filtered_ratios() -> None:
    """The check has something to check: ratios whose sides take dashboard filters."""
    filtered = [
        q
        for q in dashlib.queries(dashlib.load())
        if q.lang == "promql" and " / " in q.text and "$model" in q.text
    ]
    assert len(filtered) >= 5


@pytest.mark.parametrize(
    ("expr", "problems", "dashlib_problems"),
    [
        # Same labels, same variables: fine.
        (
            f'sum(rate({M}{{gen_ai_request_model=~"$model"}}[5m])) / '
            f'sum(rate({M}{{gen_ai_request_model=~"$model"}}[5m]))',
            0,
            0,
        ),
        # Same variable on different labels: dashlib's name check passes, this one does not.
        (
            f'sum(rate({M}{{gen_ai_request_model=~"$model"}}[5m])) / '
            f'sum(rate({M}{{gen_ai_response_model=~"$model"}}[5m]))',
            1,
            0,
        ),
        # The fallback of `x or vector(0)` does not count.
        (
            f'(sum(rate({M}{{error_type!="", gen_ai_request_model=~"$model"}}[5m])) '
            "or vector(0)) / "
            f'sum(rate({M}{{gen_ai_request_model=~"$model"}}[5m]))',
            0,
            0,
        ),
        # A join that filters only the numerator.
        (
            f'sum by (job) (rate({M}[5m])) * on (job) group_left (v) info{{v=~"$version"}} / '
            f"sum by (job) (rate({M}[5m]))",
            1,
            1,
        ),
        # A constant over a filtered series scales it: no ratio of two counts.
        (f'0.5 / {M}{{gen_ai_request_model=~"$model"}}', 0, 0),
        # ... but a series over a constant-free one still is.
        (f'{M} / {M}{{gen_ai_request_model=~"$model"}}', 1, 1),
        # Interval variables are no filters.
        (f"sum(rate({M}[$__rate_interval])) / sum(rate({M}[5m]))", 0, 0),
    ],
)
def test_ratio_label_check(expr: str, problems: int, dashlib_problems: int) -> None:
    assert len(ratio_lint.problems(expr)) == problems
    # dashlib's variable-name check misses the label mix-up, not the join.
    assert len(dashlib.ratio_filter_problems(expr)) == dashlib_problems
