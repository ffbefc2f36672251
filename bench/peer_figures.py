"""`bench peers`' figures from its segments: per-request counts, telemetry CPU (each variant
minus its off twin in the same round), throughput losses and ratios round by round."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from bench import common
from bench.stats import spread, summary

FLOOR = "rag-api floor"  # rag-api off with the contract's floor in every request
PAIRS = (("rag-api", "rag-api on", "rag-api off"), ("official", "official on", "official off"))


def per_request(stats: dict[str, Any] | None, requests: int) -> dict[str, float]:
    """Items the sink received per request sent (zeros without a sink)."""
    items = (stats or {}).get("items", {})
    n = max(requests, 1)
    spans, logs = items.get("spans", 0), items.get("logs", 0)
    return {
        "spans": spans / n,
        "logs": logs / n,
        "logs_with_trace": items.get("logs_with_trace", 0) / n,
        "observations": items.get("observations", 0) / n,
        "span_attributes": items.get("span_attributes", 0) / spans if spans else 0.0,
        "log_attributes": items.get("log_attributes", 0) / logs if logs else 0.0,
    }


def _per_round(segments: dict[str, list[common.Segment]], on: str, off: str) -> list[float]:
    """CPU µs per request of variant `on` minus variant `off`, round by round."""
    return [
        a.cpu_us_per_request - b.cpu_us_per_request
        for a, b in zip(segments[on], segments[off], strict=True)
    ]


def round_ratios(segments: dict[str, list[common.Segment]]) -> dict[str, float] | None:
    """rag-api's telemetry CPU over the official stack's, round by round (both differences taken
    in the same window): median and range over the rounds where the official one is above 0 µs,
    as a `stats.summary` (with the median's 95 % interval when there are enough of them); None
    if there is no such round."""
    twins = {app: (on, off) for app, on, off in PAIRS}
    rag, official = (_per_round(segments, *twins[app]) for app in ("rag-api", "official"))
    ratios = [r / o for r, o in zip(rag, official, strict=True) if o > 0]
    return summary(ratios) if ratios else None


def loss_pairs(ran: Container[str]) -> tuple[tuple[str, str, str], ...]:
    """(name, variant, twin) of each throughput loss to report: every app's on twin against its
    off twin and, when it ran, the floor variant against rag-api off (what the contract's bare
    calls alone cost in throughput, the reference for rag-api's loss)."""
    return (*PAIRS, (FLOOR, FLOOR, "rag-api off")) if FLOOR in ran else PAIRS


def round_losses(segments: dict[str, list[common.Segment]]) -> dict[str, dict[str, float] | None]:
    """Per app (and the floor variant, when it ran): throughput loss against the off twin,
    round by round."""
    ran = {name for name, segs in segments.items() if segs}
    return {
        name: common.loss_by_round(segments[on], segments[off]) for name, on, off in loss_pairs(ran)
    }


def loss_beyond_floor(segments: dict[str, list[common.Segment]]) -> dict[str, float] | None:
    """rag-api's throughput loss minus the floor variant's, round by round (the three rag-api
    segments of a round run back to back): what its telemetry loses beyond the contract's bare
    calls, as a `stats.summary`; None without the floor variant."""
    if not segments.get(FLOOR):
        return None
    rounds = zip(segments["rag-api on"], segments["rag-api off"], segments[FLOOR], strict=True)
    rps = [tuple(s.load["throughput_rps"] for s in r) for r in rounds]
    excess = [(f - o) / b for o, b, f in rps if b > 0]
    return summary(excess) if excess else None


def costs(segments: dict[str, list[common.Segment]]) -> dict[str, dict[str, float]]:
    """Per app: telemetry CPU µs per request (on − off in the same round), median and range."""
    out = {app: spread(_per_round(segments, on, off)) for app, on, off in PAIRS}
    if segments.get(FLOOR):  # the floor in the app under the same load, minus the same off twin
        out[FLOOR] = spread(_per_round(segments, FLOOR, "rag-api off"))
    return out
