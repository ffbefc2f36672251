"""Request statistics and the compact progress/summary lines (shared by both drivers)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def fmt_seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"


def progress_line(
    elapsed: float, requests: int, failures: int, throttled: int, rps: float, p95: float
) -> str:
    """One compact line: elapsed, requests, failures, throttled (our 429), rate, p95."""
    pct = 100.0 * failures / requests if requests else 0.0
    return (
        f"[{elapsed:5.0f}s] requests={requests} failures={failures} ({pct:.1f}%) "
        f"throttled={throttled} rps={rps:.1f} p95={fmt_seconds(p95)}"
    )


@dataclass
class Stats:
    """Counts and latencies of the requests the in-process driver sent."""

    latencies: list[float] = field(default_factory=list)  # seconds, all completed requests
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "502", "error:ConnectError"
    by_kind: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    failures: int = 0
    throttled: int = 0
    window: list[tuple[float, float]] = field(default_factory=list)  # (t_done, latency) recent

    def record(self, t_done: float, latency: float, status: str, outcome: str, kind: str) -> None:
        self.requests += 1
        self.latencies.append(latency)
        self.statuses[status] += 1
        self.by_kind[kind] += 1
        if outcome == "failed":
            self.failures += 1
        elif outcome == "throttled":
            self.throttled += 1
        self.window.append((t_done, latency))

    def recent(self, now: float, span: float = 10.0) -> tuple[float, float]:
        """(requests/s, p95) over the last `span` seconds."""
        self.window = [(t, lat) for t, lat in self.window if t >= now - span]
        lats = [lat for _, lat in self.window]
        return len(lats) / span, percentile(lats, 0.95)

    def summary(self, elapsed: float) -> str:
        lines = [
            f"Summary: {self.requests} requests in {elapsed:.0f}s "
            f"({self.requests / elapsed if elapsed else 0:.1f}/s), "
            f"failures={self.failures}, throttled={self.throttled}, "
            f"p50={fmt_seconds(percentile(self.latencies, 0.5))} "
            f"p95={fmt_seconds(percentile(self.latencies, 0.95))} "
            f"p99={fmt_seconds(percentile(self.latencies, 0.99))}",
            "  status: " + ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items())),
            "  questions: " + ", ".join(f"{k}={v}" for k, v in sorted(self.by_kind.items())),
        ]
        return "\n".join(lines)
