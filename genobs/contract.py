"""Which metrics of the telemetry contract any GenAI-instrumented app emits, and which only rag-api.

"Standard" metrics come from the OpenTelemetry semantic conventions (GenAI client metrics and
the HTTP server duration, emitted by the official instrumentations; the agent, tool and workflow
durations the official agent-framework instrumentations record); "extras" are rag-api's own
(cost counter, cache, retrieval, evaluation, in-flight gauge).
"""

from __future__ import annotations

from genai_telemetry import semconv as sc

STANDARD = (
    sc.HTTP_SERVER_DURATION,
    sc.GENAI_OPERATION_DURATION,
    sc.GENAI_TOKEN_USAGE,
    sc.GENAI_TIME_TO_FIRST_CHUNK,
    sc.GENAI_TIME_PER_OUTPUT_CHUNK,
    sc.GENAI_INVOKE_AGENT_DURATION,
    sc.GENAI_EXECUTE_TOOL_DURATION,
    sc.GENAI_INVOKE_WORKFLOW_DURATION,
)
# Of the standard ones, what only an app running agents records: the durations
# opentelemetry-util-genai records for the agent-framework instrumentations.
AGENT_METRICS = (
    sc.GENAI_INVOKE_AGENT_DURATION,
    sc.GENAI_EXECUTE_TOOL_DURATION,
    sc.GENAI_INVOKE_WORKFLOW_DURATION,
)
EXTRAS = tuple(m for m in sc.METRIC_LABELS if m not in STANDARD)
# Every metric of a watched app the rules and dashboards read: rag-api's and the ones only other
# apps emit. The service selectors apply to each.
APP_METRIC_LABELS = {**sc.METRIC_LABELS, **sc.OTHER_APP_METRIC_LABELS}
# Standard metrics every instrumented app records (an HTTP server and its model calls): skipping
# an SLO that reads one chooses no objective, it never says the metric is missing (slo.spec
# Spec.unfed). Time to first chunk and per output chunk are recorded by some instrumentations only.
ALWAYS_RECORDED = (sc.HTTP_SERVER_DURATION, sc.GENAI_OPERATION_DURATION, sc.GENAI_TOKEN_USAGE)
# The provider label before GenAI semconv v1.37 renamed gen_ai.system to gen_ai.provider.name;
# the deprecated OpenAI instrumentation openai-v2 2.4b0 still reports embeddings with it.
L_SYSTEM = "gen_ai_system"
_SUFFIXES = ("_bucket", "_count", "_sum")


def base(name: str) -> str:
    """`x_bucket` → `x` for the contract's histograms; other names unchanged."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in APP_METRIC_LABELS:
            return name.removesuffix(suffix)
    return name


def is_app_metric(name: str) -> bool:
    """A metric the watched app exports (selectors apply to it), not a recorded or stack one."""
    return base(name) in APP_METRIC_LABELS


def is_extra(name: str) -> bool:
    return base(name) in EXTRAS


# Recorded series the generated rules write: `slo:*` and `llm:*`. Each carries the watched
# service's `service` label and is read with it, so several services share one Prometheus.
RECORDED_PREFIXES = ("slo:", "llm:")


def is_recorded(name: str) -> bool:
    return name.startswith(RECORDED_PREFIXES)
