"""Small statistics the benchmarks print: a median with its range, and how sure the median is."""

from __future__ import annotations

import math
import statistics


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """A distribution-free interval for the median of what `values` sample: the order
    statistics x(k) and x(n+1-k) for the largest k with P(k <= B <= n-k) >= `confidence`,
    B ~ Binomial(n, 1/2) (each value is above the true median with probability 1/2). None
    when there are too few values for that confidence (fewer than 6 at 95 %)."""
    ordered, n = sorted(values), len(values)

    def coverage(k: int) -> float:
        return sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2**n

    k = 0
    while k + 1 <= n // 2 and coverage(k + 1) >= confidence:
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k else None


def summary(values: list[float]) -> dict[str, float]:
    """`spread` plus the median's 95 % interval (`median_low`, `median_high`) when there are
    enough values for one."""
    out = spread(values)
    interval = median_interval(values)
    if interval is not None:
        out["median_low"], out["median_high"] = interval
    return out


def describe(values: dict[str, float], fmt: str = ".2f") -> str:
    """A `summary` as one phrase: median M (rounds LO–HI; 95 % interval of the median A–B)."""
    interval = (
        f"; 95 % interval of the median {values['median_low']:{fmt}}–{values['median_high']:{fmt}}"
        if "median_low" in values
        else ""
    )
    return (
        f"median {values['median']:{fmt}} "
        f"(rounds {values['min']:{fmt}}–{values['max']:{fmt}}{interval})"
    )
