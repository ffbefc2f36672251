"""The feedback mappings (sentiment, retrieval quality) and the recent-answer index's bounds
(entries and memory), in-process (docs/telemetry.md § User feedback)."""

from __future__ import annotations

import tracemalloc

import pytest
from opentelemetry import trace

from demo_app.feedback import AnsweredRequest, RequestIndex, retrieval_quality, sentiment


@pytest.mark.parametrize(
    ("score", "thumbs", "expected"),
    [
        (None, "up", "positive"),
        (None, "down", "negative"),
        (1.0, None, "positive"),
        (0.75, None, "positive"),
        (0.74, None, "neutral"),
        (0.5, None, "neutral"),
        (0.26, None, "neutral"),
        (0.25, None, "negative"),
        (0.0, None, "negative"),
    ],
)
def test_sentiment(score: float | None, thumbs: str | None, expected: str) -> None:
    assert sentiment(score, thumbs) == expected


@pytest.mark.parametrize(
    ("route", "scores", "expected"),
    [
        ("retrieval", [0.9, 0.3], "high"),
        ("retrieval", [0.7], "high"),
        ("retrieval", [0.69, 0.5], "medium"),
        ("retrieval", [0.3], "low"),
        ("retrieval", [], "empty"),
        ("tool", [], ""),
        ("guardrail", [], ""),
    ],
)
def test_retrieval_quality(route: str, scores: list[float], expected: str) -> None:
    assert retrieval_quality(route, [{"score": s} for s in scores]) == expected


def _entry(i: int) -> AnsweredRequest:
    ctx = trace.SpanContext(i + 1, i + 1, False, trace.TraceFlags(1))
    return AnsweredRequest(f"req-{i}", f"{i + 1:032x}", "gpt-4o-mini", "retrieval", "high", ctx)


def test_index_is_bounded_lru_by_request_and_trace_id() -> None:
    index = RequestIndex(size=100)
    for i in range(1000):
        index.remember(_entry(i))
    assert len(index) == 100 and len(index._by_trace) == 100
    assert index.find("req-899", None) is None
    assert index.find(None, f"{900:032x}") is None
    assert index.find("req-999", None) == _entry(999)
    assert index.find(None, f"{1000:032x}") == _entry(999)
    small = RequestIndex(size=10)
    small.remember(_entry(1))
    small.remember(_entry(1))  # remembered again: still one entry (under the size bound)
    assert len(small) == 1 and len(small._by_trace) == 1
    with pytest.raises(ValueError):
        RequestIndex(size=0)


def test_index_memory_is_bounded_by_its_size() -> None:
    """Twice the size remembered: the memory held stays that of `size` entries (< 1 KB each,
    request ids and trace ids of full length)."""
    size = 2000
    tracemalloc.start()
    try:
        index = RequestIndex(size)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2 * size):
            index.remember(
                AnsweredRequest(
                    f"{i:064d}",
                    f"{i + 1:032x}",
                    "gpt-4o-mini",
                    "retrieval",
                    "high",
                    trace.SpanContext(i + 1, i + 1, False, trace.TraceFlags(1)),
                )
            )
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(index) == size
    assert held < size * 1024, held
