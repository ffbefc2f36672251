"""What user feedback is joined to: a bounded index of recent answers, and the value mappings.

`RequestIndex` remembers, for the last N answered chat requests (FEEDBACK_INDEX_SIZE), what a
feedback on them is compared by: model, answer route, retrieval quality bucket, and the span of
the request (so the feedback's event is parented to it). Keyed by request id and by trace id.
Least recently answered entries are evicted first; an entry holds only short, bounded strings
and a span context, so memory is bounded by the size (docs/telemetry.md § User feedback).
Feedback on a request the index does not hold (evicted, answered before a restart or by another
replica, or never seen) is accepted and counted as `request_known="false"`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanContext

from genai_telemetry import semconv as sc

# Sentiment of a score (CSAT convention on a 0..1 scale: 4-5 of 5 stars satisfied, 1-2 not).
POSITIVE_MIN_SCORE = 0.75
NEGATIVE_MAX_SCORE = 0.25
# Retrieval quality of an answer from its best normalised retrieval score: questions about a
# corpus topic score >= 0.5 (demo_app/retrieval.py), strong matches >= 0.7.
HIGH_QUALITY_MIN = 0.7
MEDIUM_QUALITY_MIN = 0.5
DEFAULT_INDEX_SIZE = 10_000


def sentiment(score: float | None, thumbs: str | None) -> str:
    if thumbs is not None:
        return sc.SENTIMENT_POSITIVE if thumbs == "up" else sc.SENTIMENT_NEGATIVE
    assert score is not None
    if score >= POSITIVE_MIN_SCORE:
        return sc.SENTIMENT_POSITIVE
    if score <= NEGATIVE_MAX_SCORE:
        return sc.SENTIMENT_NEGATIVE
    return sc.SENTIMENT_NEUTRAL


def retrieval_quality(route: str, sources: Sequence[dict[str, Any]]) -> str:
    """The quality bucket of an answer ("" when it did not come from retrieval)."""
    if route != "retrieval":
        return ""
    scores = [float(s.get("score", 0.0)) for s in sources]
    if not scores:
        return sc.RETRIEVAL_QUALITY_EMPTY
    top = max(scores)
    if top >= HIGH_QUALITY_MIN:
        return sc.RETRIEVAL_QUALITY_HIGH
    if top >= MEDIUM_QUALITY_MIN:
        return sc.RETRIEVAL_QUALITY_MEDIUM
    return sc.RETRIEVAL_QUALITY_LOW


@dataclass(frozen=True)
class AnsweredRequest:
    request_id: str
    trace_id: str | None
    model: str | None
    route: str
    quality: str
    span: SpanContext | None  # the request's server span (None when not traced)


class RequestIndex:
    """Bounded LRU of recent answers by request id and trace id (thread-safe)."""

    def __init__(self, size: int = DEFAULT_INDEX_SIZE) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._by_request: OrderedDict[str, AnsweredRequest] = OrderedDict()
        self._by_trace: dict[str, AnsweredRequest] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_request)

    def remember(self, entry: AnsweredRequest) -> None:
        with self._lock:
            old = self._by_request.pop(entry.request_id, None)
            if old is not None:
                self._forget_trace(old)
            self._by_request[entry.request_id] = entry
            if entry.trace_id:
                self._by_trace[entry.trace_id] = entry
            while len(self._by_request) > self.size:
                _, evicted = self._by_request.popitem(last=False)
                self._forget_trace(evicted)

    def remember_current(
        self, route: str, model: str | None, sources: Sequence[dict[str, Any]]
    ) -> None:
        """Remember the answer of the request being served (its request id from the log
        context, its span from the OTel context)."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if not request_id:
            return
        span = trace.get_current_span().get_span_context()
        valid = span.is_valid
        self.remember(
            AnsweredRequest(
                request_id=request_id,
                trace_id=format(span.trace_id, "032x") if valid else None,
                model=model,
                route=route,
                quality=retrieval_quality(route, sources),
                span=span if valid else None,
            )
        )

    def _forget_trace(self, entry: AnsweredRequest) -> None:
        if entry.trace_id and self._by_trace.get(entry.trace_id) is entry:
            del self._by_trace[entry.trace_id]

    def find(self, request_id: str | None, trace_id: str | None) -> AnsweredRequest | None:
        with self._lock:
            if request_id is not None:
                return self._by_request.get(request_id)
            return self._by_trace.get(trace_id) if trace_id is not None else None
