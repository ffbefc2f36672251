"""Every contract metric of docs/telemetry.md § Metrics, on a per-app CollectorRegistry.

Names, labels and buckets come from `genai_telemetry.semconv`; label values pass through
`semconv.bounded` here (callers may hand in raw request values safely). Duration histograms
carry a `trace_id` exemplar (rendered only in the OpenMetrics exposition).
Metrics take one path: Prometheus scrapes `/metrics`; nothing here is exported via OTLP.
Counters and gauges are prometheus-client's; histograms keep their own storage
(`genai_telemetry.histogram`: a cheaper observe, the library's exposition).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge

from genai_telemetry import semconv as sc
from genai_telemetry.exposition import negotiate
from genai_telemetry.histogram import Histogram
from genai_telemetry.instruments import INSTRUMENTS, Instrument
from genai_telemetry.redaction import redact

# `_created` series double every counter/histogram without adding information the dashboards
# use; switch them off (process-wide; nothing else in this process wants them).
prometheus_client.disable_created_metrics()

AGENT_PROVIDER = "rag-api"  # provider label of invoke_agent / execute_tool operations
RETRIEVAL_PROVIDER = "bm25"  # provider label of retrieval operations


# Feedback (kind, sentiment) pairs that can occur: thumbs are never neutral.
FEEDBACK_PAIRS = (
    *((sc.FEEDBACK_THUMBS, s) for s in (sc.SENTIMENT_POSITIVE, sc.SENTIMENT_NEGATIVE)),
    *((sc.FEEDBACK_SCORE, s) for s in sc.FEEDBACK_SENTIMENTS),
)

_CHILD_CACHE_MAX = 4096  # raw label tuples remembered per metric (beyond: uncached lookups)


class Metrics:
    """The app's metrics. One instance per app (tests build several apps in one process)."""

    http_duration: Histogram
    operation_duration: Histogram
    token_usage: Histogram
    ttfc: Histogram
    tpoc: Histogram
    cost: Counter
    active: Gauge
    unpriced: Counter
    cache_lookups: Counter
    cache_saved: Counter
    retrieval_documents: Histogram
    retrieval_top_score: Histogram
    evaluation_score: Histogram
    agent_duration: Histogram
    tool_duration: Histogram
    guardrail_checks: Counter
    prompt_version: Gauge
    user_feedback: Counter

    def __init__(
        self,
        models: Iterable[str] = (),
        providers: Iterable[str] = (),
        *,
        registry: CollectorRegistry | None = None,
        enabled: bool = True,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._children: dict[Any, dict[tuple[Any, ...], Any]] = {}  # metric → raw → child
        self.enabled = enabled
        self.models = frozenset(models)
        self.providers = frozenset(providers) | {AGENT_PROVIDER, RETRIEVAL_PROVIDER}
        for row in INSTRUMENTS:
            setattr(self, row.attr, metric := self._instrument(row))
            self._children[metric] = {}
        # Pre-create the series that have a small fixed label set, so rates are 0 (not absent)
        # before the first request.
        for result in sc.CACHE_RESULTS:
            self.cache_lookups.labels(result)
        for name in sc.EVALUATION_NAMES:
            self.evaluation_score.labels(name)
        for guardrail in sc.GUARDRAILS:
            for action in sc.GUARDRAIL_ACTIONS:
                self.guardrail_checks.labels(guardrail, action)
        for kind, sentiment in FEEDBACK_PAIRS:  # the feedback SLI exists before any feedback
            self.user_feedback.labels(kind, sentiment, "", "", "", "false")

    def _instrument(self, row: Instrument) -> Histogram | Counter | Gauge:
        """The metric of one table row, on this app's registry."""
        labels, registry = sc.METRIC_LABELS[row.name], self.registry
        if row.kind == "histogram":
            return Histogram(row.name, row.help, labels, buckets=row.buckets, registry=registry)
        if row.kind == "counter":  # prometheus-client appends `_total` to counters itself
            return Counter(row.name.removesuffix("_total"), row.help, labels, registry=registry)
        return Gauge(row.name, row.help, labels, registry=registry)

    def _child(
        self, metric: Any, raw: tuple[Any, ...], bound: Callable[[], tuple[str, ...]]
    ) -> Any:
        """`metric.labels(*bound())`, remembered per raw label tuple: `.labels()` and the
        bounding of every value cost more than the observation itself."""
        cache = self._children[metric]
        child = cache.get(raw)
        if child is None:
            # Values are bounded to allow-lists already; redaction is the one path all sinks take.
            child = metric.labels(*(redact(v) for v in bound()))
            if len(cache) < _CHILD_CACHE_MAX:
                cache[raw] = child
        return child

    # --- label bounding ------------------------------------------------------------------------
    def model(self, model: str | None) -> str:
        if model == "":
            return ""
        return sc.bounded(model, tuple(self.models))

    def provider(self, provider: str | None) -> str:
        return sc.bounded(provider, tuple(self.providers))

    @staticmethod
    def error_type(error_type: str | None) -> str:
        return sc.bounded(error_type or "", sc.ERROR_TYPES)

    @staticmethod
    def method(method: str) -> str:
        return sc.bounded(method.upper(), sc.HTTP_METHODS)

    # Always {"trace_id": 32 hex} (a span context's id): histogram.py relies on that shape.
    @staticmethod
    def _exemplar(trace_id: str | None) -> dict[str, str] | None:
        return {"trace_id": trace_id} if trace_id else None

    # --- recording -------------------------------------------------------------------------------
    def observe_http(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        trace_id: str | None,
        *,
        scheme: str | None = "http",
        error: BaseException | None = None,
    ) -> None:
        """One request of http.server.request.duration. `error`: the exception the request
        ended with, if any (the label is bounded: see `http_error_type`)."""
        if not self.enabled:
            return
        failed = error is not None
        child = self._child(
            self.http_duration,
            (method, route, status, scheme, failed),
            lambda: (
                self.method(method),
                route,
                str(status),
                sc.bounded(scheme, sc.URL_SCHEMES),
                self.http_error_type(status, failed),
            ),
        )
        child.observe(seconds, exemplar=self._exemplar(trace_id))

    @staticmethod
    def http_error_type(status: int, failed: bool) -> str:
        """error.type of an HTTP server request (HTTP semconv v1.41): the status code as a
        string when it is a server error (5xx; a 4xx is the client's error, not the server's);
        `_OTHER` for a request that raised after a non-error status was sent (the span names
        the exception class; the label stays bounded); "" on success."""
        if 500 <= status <= 599:
            return str(status)
        return sc.OTHER if failed else sc.ERROR_NONE

    def observe_operation(
        self,
        operation: str,
        provider: str,
        model: str,
        error_type: str,
        seconds: float,
        trace_id: str | None,
    ) -> None:
        if not self.enabled:
            return
        child = self._child(
            self.operation_duration,
            (operation, provider, model, error_type),
            lambda: (
                sc.bounded(operation, sc.OPERATIONS),
                self.provider(provider),
                self.model(model),
                self.error_type(error_type),
            ),
        )
        child.observe(seconds, exemplar=self._exemplar(trace_id))

    def observe_tokens(
        self, operation: str, provider: str, model: str, input_tokens: int, output_tokens: int
    ) -> None:
        if not self.enabled:
            return
        for token_type, tokens in (("input", input_tokens), ("output", output_tokens)):
            if token_type == "output" and operation == sc.OP_EMBEDDINGS:
                break
            self._child(
                self.token_usage,
                (operation, provider, model, token_type),
                lambda t=token_type: (  # type: ignore[misc]
                    sc.bounded(operation, sc.OPERATIONS),
                    self.provider(provider),
                    self.model(model),
                    t,
                ),
            ).observe(tokens)

    def observe_ttfc(
        self, operation: str, provider: str, model: str, seconds: float, trace_id: str | None
    ) -> None:
        if not self.enabled:
            return
        self.ttfc.labels(
            sc.bounded(operation, sc.OPERATIONS), self.provider(provider), self.model(model)
        ).observe(seconds, exemplar=self._exemplar(trace_id))

    def chunk_gap_observer(
        self, operation: str, provider: str, model: str
    ) -> Callable[[float], None] | None:
        """The `observe(seconds)` of gen_ai.client.operation.time_per_output_chunk for one
        stream (None when metrics are off). Looked up once per stream and called per chunk:
        a stream has hundreds of chunks, so the per-chunk cost is one bare observation
        (no exemplar; the stream's duration and TTFC observations carry the trace)."""
        if not self.enabled:
            return None
        child = self._child(
            self.tpoc,
            (operation, provider, model),
            lambda: (
                sc.bounded(operation, sc.OPERATIONS),
                self.provider(provider),
                self.model(model),
            ),
        )
        return child.observe  # type: ignore[no-any-return]

    def add_cost(
        self, provider: str, model: str, feature: str | None, tier: str | None, usd: float
    ) -> None:
        if not self.enabled or usd < 0:
            return
        self._child(
            self.cost,
            (provider, model, feature, tier),
            lambda: (
                self.provider(provider),
                self.model(model),
                sc.bounded(feature, sc.FEATURES),
                sc.bounded(tier, sc.USER_TIERS),
            ),
        ).inc(usd)

    def add_unpriced(self, model: str, tokens: int) -> None:
        if self.enabled and tokens > 0:
            self.unpriced.labels(self.model(model)).inc(tokens)

    def cache_lookup(self, hit: bool, saved_usd: float = 0.0) -> None:
        if not self.enabled:
            return
        self.cache_lookups.labels("hit" if hit else "miss").inc()
        if hit and saved_usd > 0:
            self.cache_saved.inc(saved_usd)

    def active_gauge(self, provider: str, model: str) -> Gauge:
        return self._child(  # type: ignore[no-any-return]
            self.active,
            (provider, model),
            lambda: (self.provider(provider), self.model(model)),
        )

    def observe_retrieval(self, documents: int, top_score: float | None) -> None:
        if not self.enabled:
            return
        self.retrieval_documents.observe(documents)
        if documents and top_score is not None:
            self.retrieval_top_score.observe(min(max(top_score, 0.0), 1.0))

    def observe_evaluation(self, name: str, score: float) -> None:
        if self.enabled:
            self._child(
                self.evaluation_score, (name,), lambda: (sc.bounded(name, sc.EVALUATION_NAMES),)
            ).observe(score)

    def observe_agent(
        self, agent: str, error_type: str, seconds: float, trace_id: str | None
    ) -> None:
        if not self.enabled:
            return
        self._child(
            self.agent_duration,
            (agent, error_type),
            lambda: (sc.bounded(agent, sc.AGENT_NAMES), self.error_type(error_type)),
        ).observe(seconds, exemplar=self._exemplar(trace_id))

    def observe_tool(
        self,
        tool: str,
        tool_type: str,
        agent: str,
        error_type: str,
        seconds: float,
        trace_id: str | None,
    ) -> None:
        """One tool execution; `agent` is the agent that ran it ("" when none did)."""
        if not self.enabled:
            return
        self._child(
            self.tool_duration,
            (tool, tool_type, agent, error_type),
            lambda: (
                sc.bounded(tool, sc.TOOL_NAMES),
                sc.bounded(tool_type, sc.TOOL_TYPES),
                agent and sc.bounded(agent, sc.AGENT_NAMES),
                self.error_type(error_type),
            ),
        ).observe(seconds, exemplar=self._exemplar(trace_id))

    def guardrail_check(self, guardrail: str, action: str) -> None:
        if self.enabled:
            self._child(
                self.guardrail_checks,
                (guardrail, action),
                lambda: (
                    sc.bounded(guardrail, sc.GUARDRAILS),
                    sc.bounded(action, sc.GUARDRAIL_ACTIONS),
                ),
            ).inc()

    def set_prompt_version(self, version: str) -> None:
        """The running version (already bounded by its allow-list): the only series at 1."""
        if self.enabled:
            self.prompt_version.clear()
            self.prompt_version.labels(version).set(1)

    def add_feedback(
        self, kind: str, sentiment: str, model: str | None, route: str, quality: str, known: bool
    ) -> None:
        """One feedback; model/route/quality are the judged answer's ("" when not known)."""
        if self.enabled:
            self.user_feedback.labels(
                sc.bounded(kind, sc.FEEDBACK_KINDS),
                sc.bounded(sentiment, sc.FEEDBACK_SENTIMENTS),
                self.model(model or ""),
                route and sc.bounded(route, sc.ANSWER_ROUTES),
                quality and sc.bounded(quality, sc.RETRIEVAL_QUALITIES),
                "true" if known else "false",
            ).inc()

    # --- exposition ------------------------------------------------------------------------------
    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition body and content type; OpenMetrics (with exemplars) when asked."""
        encoder, content_type = negotiate(accept or "")
        return encoder(self.registry), content_type
