"""The telemetry contract in code: every metric, label, bucket, bounded value and attribute name.

This is the ONE place these names live; docs/telemetry.md is the contract users read, and tests
hold it to this module.
The app, the SLO generator, the dashboard generator and the tests import them from here, so a
rename (the GenAI semconv is renaming `gen_ai.client.*` metrics upstream) is a one-line edit.

The version followed is OpenTelemetry semantic conventions v1.41.0, the last release that holds
the GenAI conventions (they have since moved to open-telemetry/semantic-conventions-genai, which
has no release yet); the instrumentation scope of every span and event carries its schema URL.
OpenTelemetry attribute and metric names come from the `opentelemetry-semantic-conventions`
package (pinned in constraints.txt) wherever it defines them. Prometheus names are the OTel
names translated the way Prometheus translates OTLP: dots → underscores, unit `s` →
`_seconds`, `{token}` → no suffix, counters `_total` (tests/demo_app/test_semconv_names.py
holds each to the package).
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import enduser_attributes as _enduser
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import exception_attributes as _exception
from opentelemetry.semconv.attributes import server_attributes as _server
from opentelemetry.semconv.schemas import Schemas

SEMCONV_VERSION: Final = "1.41.0"
SCHEMA_URL: Final = Schemas.V1_41_0.value

# --- Histogram buckets ---------------------------------------------------------------------
# Powers of two from 10 ms: every SLO/alert threshold (1.28 s, 5.12 s) sits on a bucket bound.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
# Gaps between streamed chunks are milliseconds: the semconv advice (the duration buckets) puts
# nearly all of them in its first bucket, so three finer powers of two are added below it (a
# superset: every advised bound is still a bound).
CHUNK_BUCKETS: Final = (0.00125, 0.0025, 0.005, *DURATION_BUCKETS)
# gen_ai.invoke_agent.duration's advice (util-genai 1.3b0 and the conventions' main branch): an
# agent run spans several model calls, so powers of two from 100 ms to ~7 minutes.
AGENT_DURATION_BUCKETS: Final = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)  # fmt: skip
# Powers of four, the OTel GenAI semconv advice for gen_ai.client.token.usage.
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
SCORE_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
RETRIEVAL_DOCUMENT_BUCKETS: Final = (0, 1, 2, 3, 5, 8, 13, 21)

# --- Metric names (as scraped from rag-api; prometheus-client adds _bucket/_sum/_count/_total) --
HTTP_SERVER_DURATION: Final = "http_server_request_duration_seconds"
GENAI_OPERATION_DURATION: Final = "gen_ai_client_operation_duration_seconds"
GENAI_TOKEN_USAGE: Final = "gen_ai_client_token_usage"
GENAI_TIME_TO_FIRST_CHUNK: Final = "gen_ai_client_operation_time_to_first_chunk_seconds"
GENAI_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai_client_operation_time_per_output_chunk_seconds"
LLM_COST: Final = "llm_cost_usd_total"
LLM_ACTIVE_REQUESTS: Final = "llm_active_requests"
LLM_UNPRICED_TOKENS: Final = "llm_unpriced_tokens_total"
LLM_CACHE_LOOKUPS: Final = "llm_cache_lookups_total"
LLM_CACHE_SAVED: Final = "llm_cache_saved_usd_total"
RAG_RETRIEVAL_DOCUMENTS: Final = "rag_retrieval_documents"
RAG_RETRIEVAL_TOP_SCORE: Final = "rag_retrieval_top_score"
RAG_EVALUATION_SCORE: Final = "rag_evaluation_score"
# Per agent and per tool: v1.41.0's gen_ai.client.operation.duration has no agent or tool
# attribute (it still counts invoke_agent and execute_tool per stage). These are the names the
# official instrumentations record today (opentelemetry-util-genai 1.3b0, used by the LangChain
# and OpenAI Agents SDK instrumentations; not in the semconv package) and the GenAI conventions'
# main branch defines (gen_ai.invoke_agent.duration, gen_ai.execute_tool.duration).
GENAI_INVOKE_AGENT_DURATION: Final = "gen_ai_invoke_agent_duration_seconds"
GENAI_EXECUTE_TOOL_DURATION: Final = "gen_ai_execute_tool_duration_seconds"
# util-genai 1.3b0's workflow histogram (main names it gen_ai.workflow.duration): rag-api runs no
# workflow, the dashboards read it for apps whose framework records one (OpenAI Agents SDK).
GENAI_INVOKE_WORKFLOW_DURATION: Final = "gen_ai_invoke_workflow_duration_seconds"
LLM_GUARDRAIL_CHECKS: Final = "llm_guardrail_checks_total"
# 1 per running prompt/agent version (an info metric: joined on instance, so no other metric
# carries the version label and a canary replica shows up as its own version).
LLM_PROMPT_VERSION_INFO: Final = "llm_prompt_version_info"
# End-user feedback (POST /v1/feedback) on an earlier answer, joined to that answer's model, route
# and retrieval quality (the semconv has no feedback metric).
LLM_USER_FEEDBACK: Final = "llm_user_feedback_total"

# --- Metric label names --------------------------------------------------------------------
L_HTTP_METHOD: Final = "http_request_method"
L_HTTP_ROUTE: Final = "http_route"
L_HTTP_STATUS: Final = "http_response_status_code"
L_URL_SCHEME: Final = "url_scheme"
L_OPERATION: Final = "gen_ai_operation_name"
L_PROVIDER: Final = "gen_ai_provider_name"
L_MODEL: Final = "gen_ai_request_model"
L_ERROR_TYPE: Final = "error_type"
L_TOKEN_TYPE: Final = "gen_ai_token_type"
L_FEATURE: Final = "feature"
L_USER_TIER: Final = "user_tier"
L_CACHE_RESULT: Final = "result"
L_EVALUATION_NAME: Final = "gen_ai_evaluation_name"
L_TOOL_NAME: Final = "gen_ai_tool_name"
L_TOOL_TYPE: Final = "gen_ai_tool_type"
L_AGENT_NAME: Final = "gen_ai_agent_name"
L_WORKFLOW_NAME: Final = "gen_ai_workflow_name"
L_GUARDRAIL: Final = "guardrail"
L_GUARDRAIL_ACTION: Final = "action"
L_PROMPT_VERSION: Final = "prompt_version"
L_FEEDBACK_KIND: Final = "feedback_kind"
L_FEEDBACK_SENTIMENT: Final = "feedback_sentiment"
L_ANSWER_ROUTE: Final = "answer_route"
L_RETRIEVAL_QUALITY: Final = "retrieval_quality"
L_REQUEST_KNOWN: Final = "request_known"

# Labels of each metric, in order (the metrics test asserts exactly these sets).
METRIC_LABELS: Final[dict[str, tuple[str, ...]]] = {
    # error_type: the 5xx status as a string, else `_OTHER` for a request that failed after
    # its (non-error) status was sent, else "" (HTTP_ERROR_TYPES).
    HTTP_SERVER_DURATION: (L_HTTP_METHOD, L_HTTP_ROUTE, L_HTTP_STATUS, L_URL_SCHEME, L_ERROR_TYPE),
    GENAI_OPERATION_DURATION: (L_OPERATION, L_PROVIDER, L_MODEL, L_ERROR_TYPE),
    GENAI_TOKEN_USAGE: (L_OPERATION, L_PROVIDER, L_MODEL, L_TOKEN_TYPE),
    GENAI_TIME_TO_FIRST_CHUNK: (L_OPERATION, L_PROVIDER, L_MODEL),
    GENAI_TIME_PER_OUTPUT_CHUNK: (L_OPERATION, L_PROVIDER, L_MODEL),
    LLM_COST: (L_PROVIDER, L_MODEL, L_FEATURE, L_USER_TIER),
    LLM_ACTIVE_REQUESTS: (L_PROVIDER, L_MODEL),
    LLM_UNPRICED_TOKENS: (L_MODEL,),
    LLM_CACHE_LOOKUPS: (L_CACHE_RESULT,),
    LLM_CACHE_SAVED: (),
    RAG_RETRIEVAL_DOCUMENTS: (),
    RAG_RETRIEVAL_TOP_SCORE: (),
    RAG_EVALUATION_SCORE: (L_EVALUATION_NAME,),
    GENAI_INVOKE_AGENT_DURATION: (L_AGENT_NAME, L_ERROR_TYPE),
    GENAI_EXECUTE_TOOL_DURATION: (L_TOOL_NAME, L_TOOL_TYPE, L_AGENT_NAME, L_ERROR_TYPE),
    LLM_GUARDRAIL_CHECKS: (L_GUARDRAIL, L_GUARDRAIL_ACTION),
    LLM_PROMPT_VERSION_INFO: (L_PROMPT_VERSION,),
    LLM_USER_FEEDBACK: (
        L_FEEDBACK_KIND,
        L_FEEDBACK_SENTIMENT,
        L_MODEL,
        L_ANSWER_ROUTE,
        L_RETRIEVAL_QUALITY,
        L_REQUEST_KNOWN,
    ),
}

# Metrics the dashboards read that rag-api does not emit (the official instrumentations of
# agent frameworks do), with the labels they carry.
OTHER_APP_METRIC_LABELS: Final[dict[str, tuple[str, ...]]] = {
    GENAI_INVOKE_WORKFLOW_DURATION: (L_WORKFLOW_NAME, L_ERROR_TYPE),
}

# --- Bounded label values ----------------------------------------------------------------------
OTHER: Final = "_OTHER"  # what any value outside an allow-list becomes

OP_CHAT: Final = "chat"
OP_EMBEDDINGS: Final = "embeddings"
OP_RETRIEVAL: Final = "retrieval"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OPERATIONS: Final = (OP_CHAT, OP_EMBEDDINGS, OP_RETRIEVAL, OP_EXECUTE_TOOL, OP_INVOKE_AGENT)

ERROR_NONE: Final = ""
ERROR_TIMEOUT: Final = "timeout"
ERROR_RATE_LIMITED: Final = "rate_limited"
ERROR_SERVER: Final = "server_error"
ERROR_CLIENT: Final = "client_error"
ERROR_TYPES: Final = (
    ERROR_NONE,
    ERROR_TIMEOUT,
    ERROR_RATE_LIMITED,
    ERROR_SERVER,
    ERROR_CLIENT,
    OTHER,
)

# http_request_method values kept as labels (others → _OTHER); also the methods a 405's Allow
# header may list.
HTTP_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
URL_SCHEMES: Final = ("http", "https")  # url_scheme values kept (others → _OTHER)
# error_type values of http_server_request_duration_seconds (HTTP semconv: the status code as a
# string when it is an error, 5xx for a server; `_OTHER` for a request that failed after a
# non-error status was sent; "" on success).
HTTP_ERROR_TYPES: Final = (ERROR_NONE, *(str(code) for code in range(500, 600)), OTHER)
FEATURES: Final = ("chat", "search", "summarize")
USER_TIERS: Final = ("free", "pro", "enterprise")
TOKEN_TYPES: Final = ("input", "output")
CACHE_RESULTS: Final = ("hit", "miss")
EVALUATION_NAMES: Final = ("faithfulness", "answer_relevancy", "context_relevancy")
TOOL_NAMES: Final = ("calculator",)  # gen_ai.tool.name values kept as labels
TOOL_TYPES: Final = ("function", "extension", "datastore")  # gen_ai.tool.type's defined values
# gen_ai.agent.name values kept as labels: rag-api's agents (demo_app/pipeline.py).
AGENT_NAMES: Final = ("supervisor", "retrieval_worker", "calculator_worker")
GUARDRAIL_PII: Final = "pii"  # personal data or secrets in the prompt (input)
GUARDRAIL_INJECTION: Final = "prompt_injection"  # instruction-override phrasing (input)
GUARDRAIL_NO_SOURCES: Final = "no_sources"  # a retrieval answer without any source (output)
GUARDRAILS: Final = (GUARDRAIL_PII, GUARDRAIL_INJECTION, GUARDRAIL_NO_SOURCES)
ACTION_PASSED: Final = "passed"
ACTION_FLAGGED: Final = "flagged"  # answered, but counted and logged
ACTION_BLOCKED: Final = "blocked"  # refused without calling a model
GUARDRAIL_ACTIONS: Final = (ACTION_PASSED, ACTION_FLAGGED, ACTION_BLOCKED)
# Default allow-list of prompt/agent versions (PROMPT_VERSIONS overrides it).
PROMPT_VERSIONS: Final = ("v1", "v2", "v3")
# User feedback: thumbs (up/down) or a score in [0, 1], mapped onto a sentiment (docs/telemetry.md).
FEEDBACK_THUMBS: Final = "thumbs"
FEEDBACK_SCORE: Final = "score"
FEEDBACK_KINDS: Final = (FEEDBACK_THUMBS, FEEDBACK_SCORE)
SENTIMENT_POSITIVE: Final = "positive"
SENTIMENT_NEUTRAL: Final = "neutral"
SENTIMENT_NEGATIVE: Final = "negative"
FEEDBACK_SENTIMENTS: Final = (SENTIMENT_POSITIVE, SENTIMENT_NEUTRAL, SENTIMENT_NEGATIVE)
# How an answer was produced (the response's `route`); "" when the request is unknown.
ANSWER_ROUTES: Final = ("retrieval", "tool", "guardrail")
# Retrieval quality of the judged answer, from its best retrieval score; "" without retrieval
# (tool or guardrail answer, unknown request), `empty` when retrieval returned no document.
RETRIEVAL_QUALITY_HIGH: Final = "high"
RETRIEVAL_QUALITY_MEDIUM: Final = "medium"
RETRIEVAL_QUALITY_LOW: Final = "low"
RETRIEVAL_QUALITY_EMPTY: Final = "empty"
RETRIEVAL_QUALITIES: Final = (
    RETRIEVAL_QUALITY_HIGH,
    RETRIEVAL_QUALITY_MEDIUM,
    RETRIEVAL_QUALITY_LOW,
    RETRIEVAL_QUALITY_EMPTY,
)


def bounded(value: str | None, allowed: tuple[str, ...] | frozenset[str]) -> str:
    """Map a label value onto its allow-list; anything else (including None) becomes `_OTHER`."""
    return value if value is not None and value in allowed else OTHER


# --- Span and event attributes (OpenTelemetry semconv v1.41.0, from the package) ---------------
A_OPERATION_NAME: Final = _gen_ai.GEN_AI_OPERATION_NAME
A_PROVIDER_NAME: Final = _gen_ai.GEN_AI_PROVIDER_NAME
A_REQUEST_MODEL: Final = _gen_ai.GEN_AI_REQUEST_MODEL
A_RESPONSE_MODEL: Final = _gen_ai.GEN_AI_RESPONSE_MODEL
A_RESPONSE_ID: Final = _gen_ai.GEN_AI_RESPONSE_ID
A_FINISH_REASONS: Final = _gen_ai.GEN_AI_RESPONSE_FINISH_REASONS
A_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS
A_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
A_MAX_TOKENS: Final = _gen_ai.GEN_AI_REQUEST_MAX_TOKENS
A_TEMPERATURE: Final = _gen_ai.GEN_AI_REQUEST_TEMPERATURE
A_STREAM: Final = _gen_ai.GEN_AI_REQUEST_STREAM  # set only on streamed calls (spec: iff)
A_SEED: Final = _gen_ai.GEN_AI_REQUEST_SEED  # only when the request sets one (spec)
A_TIME_TO_FIRST_CHUNK: Final = _gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
A_CONVERSATION_ID: Final = _gen_ai.GEN_AI_CONVERSATION_ID
A_AGENT_NAME: Final = _gen_ai.GEN_AI_AGENT_NAME
A_TOOL_NAME: Final = _gen_ai.GEN_AI_TOOL_NAME
A_TOOL_TYPE: Final = _gen_ai.GEN_AI_TOOL_TYPE
A_EMBEDDINGS_DIMENSION_COUNT: Final = _gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
A_USAGE_CACHE_READ_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
A_USAGE_REASONING_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
A_DATA_SOURCE_ID: Final = _gen_ai.GEN_AI_DATA_SOURCE_ID
A_REQUEST_TOP_K: Final = _gen_ai.GEN_AI_REQUEST_TOP_K  # a double in the spec, not an int
A_RETRIEVAL_DOCUMENTS: Final = _gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS  # opt-in
A_RETRIEVAL_QUERY_TEXT: Final = _gen_ai.GEN_AI_RETRIEVAL_QUERY_TEXT  # opt-in: content capture
A_ERROR_TYPE: Final = _error.ERROR_TYPE
A_EXCEPTION_TYPE: Final = _exception.EXCEPTION_TYPE
A_EXCEPTION_MESSAGE: Final = _exception.EXCEPTION_MESSAGE
A_SERVER_ADDRESS: Final = _server.SERVER_ADDRESS
A_SERVER_PORT: Final = _server.SERVER_PORT
A_INPUT_MESSAGES: Final = _gen_ai.GEN_AI_INPUT_MESSAGES
A_OUTPUT_MESSAGES: Final = _gen_ai.GEN_AI_OUTPUT_MESSAGES
A_EVALUATION_NAME: Final = _gen_ai.GEN_AI_EVALUATION_NAME
A_EVALUATION_SCORE_VALUE: Final = _gen_ai.GEN_AI_EVALUATION_SCORE_VALUE
A_EVALUATION_SCORE_LABEL: Final = _gen_ai.GEN_AI_EVALUATION_SCORE_LABEL
A_EVALUATION_EXPLANATION: Final = _gen_ai.GEN_AI_EVALUATION_EXPLANATION
# The request's end user as a pseudonym (v1.41: enduser.id is the raw, PII id; user.id is the
# generic user registry). Unbounded: spans and logs only, never a metric label.
A_ENDUSER_PSEUDO_ID: Final = _enduser.ENDUSER_PSEUDO_ID
# App attributes live under `llm.`
A_LLM_COST_USD: Final = "llm.cost_usd"
A_LLM_CACHE_HIT: Final = "llm.cache.hit"
A_LLM_USER_TIER: Final = "llm.user_tier"
A_LLM_FEATURE: Final = "llm.feature"
A_LLM_TENANT_ID: Final = "llm.tenant.id"  # the API key's pseudonym; unbounded like the user
A_LLM_PROMPT_VERSION: Final = "llm.prompt.version"
A_LLM_GUARDRAILS_TRIGGERED: Final = "llm.guardrails.triggered"  # names of guardrails not passed
A_LLM_FEEDBACK_KIND: Final = "llm.feedback.kind"  # thumbs | score
A_LLM_FEEDBACK_REQUEST_KNOWN: Final = "llm.feedback.request_known"

# Events: OTel log records with this event name, parented to the span they are about (the
# package has no constants for event names).
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
# A failed model call (chat, embeddings): severity WARN, exception.type/message.
EVENT_OPERATION_EXCEPTION: Final = "gen_ai.client.operation.exception"
# gen_ai.evaluation.name of end-user feedback (a human evaluation of the whole answer).
EVALUATION_USER_FEEDBACK: Final = "user_feedback"

CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# The official GenAI instrumentations read the same variable as opentelemetry-util-genai's content
# capturing mode (its ContentCapturingMode names, any case), not as true/false. rag-api takes those
# too, besides its own true/false: content on spans with SPAN_ONLY and SPAN_AND_EVENT; EVENT_ONLY
# asks for content on the opt-in inference-details event alone, which rag-api does not emit.
CAPTURE_CONTENT_ON_SPANS: Final = ("SPAN_ONLY", "SPAN_AND_EVENT")
CAPTURE_CONTENT_OFF_SPANS: Final = ("NO_CONTENT", "EVENT_ONLY")
# Opt-in switch for gen_ai.retrieval.documents (the spec makes the attribute opt-in).
CAPTURE_RETRIEVAL_DOCUMENTS_ENV: Final = "GENAI_CAPTURE_RETRIEVAL_DOCUMENTS"

# --- Resource ----------------------------------------------------------------------------------
SERVICE_NAME: Final = "rag-api"


def le(bound: float) -> str:
    """The `le` label string prometheus-client gives a bucket bound: Go float formatting.

    `5.12` → "5.12", `1` → "1.0", `1048576` → "1.048576e+06".
    Rules and dashboards use exactly these strings.
    """
    from prometheus_client.utils import floatToGoString

    return floatToGoString(bound)
