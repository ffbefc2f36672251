"""bench/stats.py: the small statistics every benchmark prints (exact arithmetic, no timing)."""

from __future__ import annotations

from bench import stats


def test_median_interval_is_the_order_statistics_of_the_binomial_bound() -> None:
    # n = 9: P(2 <= B <= 7) = 492/512 = 0.961 >= 0.95, P(3 <= B <= 6) = 0.82: x(2) and x(8)
    assert stats.median_interval([9, 1, 8, 2, 7, 3, 6, 4, 5]) == (2, 8)
    # n = 15: x(4) and x(12) (coverage 0.965; x(5)..x(11) would be 0.88)
    assert stats.median_interval(list(range(1, 16))) == (4, 12)
    assert stats.median_interval([1, 2, 3, 4, 5, 6]) == (1, 6)  # 62/64 = 0.969
    assert stats.median_interval([1, 2, 3, 4, 5]) is None  # 30/32 = 0.94: too few
    assert stats.median_interval(list(range(1, 10)), confidence=0.8) == (3, 7)


def test_round_figures_read_as_median_range_and_interval() -> None:
    assert stats.describe(stats.summary([0.4, 0.5, 0.6])) == "median 0.50 (rounds 0.40–0.60)"
    six = stats.summary([0.01, 0.02, 0.0, 0.03, 0.01, 0.02])
    assert stats.describe(six, ".1%") == (
        "median 1.5% (rounds 0.0%–3.0%; 95 % interval of the median 0.0%–3.0%)"
    )
