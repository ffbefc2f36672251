"""The instrument table: every contract metric of docs/telemetry.md § Metrics, one row each.

`genai_telemetry.metrics.Metrics` builds one instrument per row; names, labels and buckets come
from `genai_telemetry.semconv`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from genai_telemetry import semconv as sc


@dataclass(frozen=True)
class Instrument:
    """One row of the instrument table: `Metrics.<attr>` is a `kind` named `name`; its labels
    come from semconv.METRIC_LABELS."""

    attr: str
    kind: Literal["histogram", "counter", "gauge"]
    name: str
    help: str
    buckets: Sequence[float] = ()


# fmt: off
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("http_duration", "histogram", sc.HTTP_SERVER_DURATION,
                "Duration of HTTP server requests.", sc.DURATION_BUCKETS),
    Instrument("operation_duration", "histogram", sc.GENAI_OPERATION_DURATION,
                "GenAI operation duration (chat, embeddings, retrieval, execute_tool, "
                "invoke_agent).", sc.DURATION_BUCKETS),
    Instrument("token_usage", "histogram", sc.GENAI_TOKEN_USAGE,
                "Number of input and output tokens used per GenAI operation.", sc.TOKEN_BUCKETS),
    Instrument("ttfc", "histogram", sc.GENAI_TIME_TO_FIRST_CHUNK,
                "Time from request start to the first streamed chunk (client side).",
                sc.DURATION_BUCKETS),
    Instrument("tpoc", "histogram", sc.GENAI_TIME_PER_OUTPUT_CHUNK,
                "Time between consecutive streamed chunks after the first (client side).",
                sc.CHUNK_BUCKETS),
    Instrument("cost", "counter", sc.LLM_COST,
                "Cost of LLM calls in US dollars, from the price table."),
    Instrument("active", "gauge", sc.LLM_ACTIVE_REQUESTS, "Model calls in flight."),
    Instrument("unpriced", "counter", sc.LLM_UNPRICED_TOKENS,
                "Tokens used by models missing from the price table (counted, never a silent "
                "$0)."),
    Instrument("cache_lookups", "counter", sc.LLM_CACHE_LOOKUPS,
                "Response cache lookups by result."),
    Instrument("cache_saved", "counter", sc.LLM_CACHE_SAVED,
                "Cost in US dollars avoided by response cache hits."),
    Instrument("retrieval_documents", "histogram", sc.RAG_RETRIEVAL_DOCUMENTS,
                "Documents returned per retrieval.", sc.RETRIEVAL_DOCUMENT_BUCKETS),
    Instrument("retrieval_top_score", "histogram", sc.RAG_RETRIEVAL_TOP_SCORE,
                "Best normalised retrieval score per retrieval that returned documents.",
                sc.SCORE_BUCKETS),
    Instrument("evaluation_score", "histogram", sc.RAG_EVALUATION_SCORE,
                "Answer evaluation scores in [0, 1].", sc.SCORE_BUCKETS),
    Instrument("agent_duration", "histogram", sc.GENAI_INVOKE_AGENT_DURATION,
                "Duration of one agent invocation, per agent (error_type set when it failed).",
                sc.AGENT_DURATION_BUCKETS),
    Instrument("tool_duration", "histogram", sc.GENAI_EXECUTE_TOOL_DURATION,
                "Duration of one tool execution, per tool and agent (error_type set when it "
                "failed).", sc.DURATION_BUCKETS),
    Instrument("guardrail_checks", "counter", sc.LLM_GUARDRAIL_CHECKS,
                "Guardrail checks by guardrail and action (passed, flagged, blocked)."),
    Instrument("prompt_version", "gauge", sc.LLM_PROMPT_VERSION_INFO,
                "1 for the prompt/agent version this process runs (join on instance to compare "
                "versions)."),
    Instrument("user_feedback", "counter", sc.LLM_USER_FEEDBACK,
                "End-user feedback by kind and sentiment, with the judged answer's model, route "
                "and retrieval quality (request_known=false: not in the recent-answer index)."),
)
# fmt: on
