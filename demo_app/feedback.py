"""What user feedback is joined to: a bounded index of recent answers, and the value mappings.

`RequestIndex` remembers, for the last N answered chat requests (FEEDBACK_INDEX_SIZE), what a
feedback on them is compared by: model, answer route, retrieval quality bucket, and the span of
the request (so the feedback's event is parented to it). Keyed by the tenant that asked (its API
key's pseudonym, demo_app/api/identity.py) and the request id, and by tenant and trace id: a
tenant finds only its own answers, and another tenant's ids are, to it, simply unknown. An id
that names two answers of one tenant (a reused X-Request-ID, a forged traceparent) names
neither. One feedback per answer (and per unknown id a tenant names): a repeat is refused.
Least recently answered entries are evicted first; an entry holds only short, bounded strings
and a span context, so memory is bounded by the size (docs/telemetry.md § User feedback).
Feedback on a request the index does not hold (evicted, answered before a restart or by another
replica, asked by another tenant, or never seen) is accepted and counted as
`request_known="false"`.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
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


class AlreadyJudged(Exception):
    """This tenant's feedback on this answer (or on this unknown id) is already recorded."""


@dataclass
class AnsweredRequest:
    request_id: str
    trace_id: str | None
    model: str | None
    route: str
    quality: str
    span: SpanContext | None  # the request's server span (None when not traced)
    owner: str  # the tenant that asked (demo_app/api/identity.py): the only one that may judge
    # Set (under the index's lock) by the one feedback an answer takes.
    judged: bool = field(default=False, compare=False)


# (tenant, id): each tenant names only its own answers. None: the id named two answers.
_Key = tuple[str, str]
_Table = OrderedDict[_Key, AnsweredRequest | None]


class RequestIndex:
    """Bounded LRUs of recent answers by (tenant, request id) and (tenant, trace id), and of the
    unknown ids each tenant gave feedback on (thread-safe)."""

    def __init__(self, size: int = DEFAULT_INDEX_SIZE) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._by_request: _Table = OrderedDict()
        self._by_trace: _Table = OrderedDict()
        self._unknown_judged: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_request)

    def remember(self, entry: AnsweredRequest) -> None:
        with self._lock:
            self._put(self._by_request, (entry.owner, entry.request_id), entry)
            if entry.trace_id:
                self._put(self._by_trace, (entry.owner, entry.trace_id), entry)

    def _put(self, table: _Table, key: _Key, entry: AnsweredRequest) -> None:
        # A second answer under a held id makes it name neither: keeping the first would hand
        # the second's feedback to it, replacing it would let a later caller take the first's.
        table[key] = None if key in table else entry
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)

    def remember_current(
        self, route: str, model: str | None, sources: Sequence[dict[str, Any]]
    ) -> None:
        """Remember the answer of the request being served (its request id and tenant from the
        log context, its span from the OTel context)."""
        bound = structlog.contextvars.get_contextvars()
        request_id, owner = bound.get("request_id"), bound.get("tenant")
        if not request_id or not owner:  # no owner: nobody could be let judge it safely
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
                owner=sys.intern(owner),  # one string per tenant, not one per entry
            )
        )

    def _lookup(
        self, owner: str, request_id: str | None, trace_id: str | None
    ) -> AnsweredRequest | None:
        if request_id is not None:
            return self._by_request.get((owner, request_id))
        return self._by_trace.get((owner, trace_id)) if trace_id is not None else None

    def find(
        self, owner: str, request_id: str | None, trace_id: str | None
    ) -> AnsweredRequest | None:
        with self._lock:
            return self._lookup(owner, request_id, trace_id)

    def claim(
        self, owner: str, request_id: str | None, trace_id: str | None
    ) -> AnsweredRequest | None:
        """`owner`'s answer named by the id, now judged; None if `owner` has no such answer.
        Raises AlreadyJudged on a second feedback on it (or on the same unknown id), so a
        repeat can never be counted twice."""
        with self._lock:
            entry = self._lookup(owner, request_id, trace_id)
            if entry is not None:
                if entry.judged:
                    raise AlreadyJudged
                entry.judged = True
                return entry
            named = ("request", request_id) if request_id is not None else ("trace", trace_id)
            key = (owner, named[0], named[1] or "")
            if key in self._unknown_judged:
                raise AlreadyJudged
            self._unknown_judged[key] = None
            if len(self._unknown_judged) > self.size:
                self._unknown_judged.popitem(last=False)
            return None
