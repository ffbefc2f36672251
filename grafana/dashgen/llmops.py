"""Rows for what LLM teams look at beyond latency and cost: generation speed (LLM Overview),
guardrails and prompt/agent versions (RAG Pipeline & Quality).

Versions: only `llm_prompt_version_info{prompt_version}` carries the version; every per-version
query sums its metric per scrape target first and then takes the target's version with
`* on (job, instance) group_left (prompt_version)`, so both sides of a ratio are joined the same
way and no other metric grows by the number of versions.
"""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core, limits
from .core import GREEN, RED, prom, thresholds
from .promql import (
    RATE,
    Labels,
    chat_filter,
    chat_operation,
    le,
    matchers,
    quantile,
    rate,
    ratio_by,
    share_by,
    sum_increase,
    sum_rate,
)

OPS_COUNT = sc.GENAI_OPERATION_DURATION + "_count"
CHECKS = sc.LLM_GUARDRAIL_CHECKS
BY_GUARDRAIL = (sc.L_GUARDRAIL,)
TRIGGERED = {sc.L_GUARDRAIL_ACTION: "!" + sc.ACTION_PASSED}
VERSION = sc.L_PROMPT_VERSION
TARGET = ("job", "instance")  # what identifies one process (scrape target or OTLP instance)


# --- Generation speed (LLM Overview) ---
def generation_speed(d: core.Dashboard) -> None:
    tpoc = sc.GENAI_TIME_PER_OUTPUT_CHUNK
    by_model = (sc.L_MODEL,)
    tokens = sum_rate(
        sc.GENAI_TOKEN_USAGE + "_sum", chat_filter(**{sc.L_TOKEN_TYPE: "output"}), by=by_model
    )
    seconds = sum_rate(
        sc.GENAI_OPERATION_DURATION + "_sum", chat_filter(**{sc.L_ERROR_TYPE: ""}), by=by_model
    )
    d.row("Generation speed")
    d.add(
        core.timeseries(
            "Time per output chunk p50 / p95 by model",
            "Gap between consecutive streamed chunks after the first (semconv "
            "gen_ai.client.operation.time_per_output_chunk, client side): how fast text flows "
            "once it started. Streamed chats only.",
            [
                prom(
                    quantile(q, tpoc, chat_filter(), by=(sc.L_MODEL,)),
                    f"p{round(q * 100)} {{{{gen_ai_request_model}}}}",
                    exemplar=True,  # per-chunk gaps carry none; Grafana asks, finds none
                )
                for q in (0.5, 0.95)
            ],
            "s",
        ),
        core.timeseries(
            "Output tokens per second by model",
            "Output tokens per second of chat-call time, per model: rate of output tokens over "
            "the rate of successful chat-call seconds (time to first token included, so this is "
            "what a caller gets end to end, streamed or not).",
            [prom(f"{tokens} / {seconds}", "{{gen_ai_request_model}}")],
            "short",
            decimals=1,
        ),
    )


# --- Guardrails (RAG Pipeline) ---
def guardrails(d: core.Dashboard) -> None:
    alert = limits.GUARDRAIL_ALERT
    d.row("Guardrails")
    d.add(
        core.timeseries(
            "Guardrail triggers per second",
            "Checks that flagged or blocked a chat, per guardrail and action: pii and "
            "prompt_injection check the question, no_sources the answer. Blocked chats are "
            "refused without a model call.",
            [
                prom(
                    sum_rate(CHECKS, TRIGGERED, by=(sc.L_GUARDRAIL, sc.L_GUARDRAIL_ACTION)),
                    "{{guardrail}} {{action}}",
                )
            ],
            "ops",
            w=8,
            stack=True,
        ),
        core.timeseries(
            "Guardrail triggered share",
            "Share of checks per guardrail that flagged or blocked. LLMGuardrailTriggerSpike "
            f"fires when an input guardrail (pii, prompt_injection) exceeds "
            f"{limits.pct(alert)} over 5 minutes (red line).",
            [
                prom(
                    share_by(CHECKS, TRIGGERED, by=BY_GUARDRAIL),
                    "{{guardrail}}",
                )
            ],
            "percentunit",
            w=8,
            max_=1,
            thresholds_=thresholds((None, GREEN), (alert, RED)),
            threshold_style="line",
        ),
        core.stat(
            "Blocked chats (range)",
            "Chats refused by a guardrail over the selected range (no model was called).",
            prom(
                sum_increase(CHECKS, {sc.L_GUARDRAIL_ACTION: sc.ACTION_BLOCKED}, window="$__range"),
                instant=True,
            ),
            "short",
            w=8,
            h=8,
            decimals=0,
            graph=False,
        ),
    )
    d.add(
        core.logs(
            "Guardrail events (logs)",
            "guardrail_triggered log lines: which guardrail, what it did and what kinds it found "
            "(never the matched text). Expand a line for its request_id and trace.",
            common.guardrail_logs(),
            h=8,
        )
    )


# --- Versions (RAG Pipeline) ---
V_VERSION = "$prompt_version"


def version_variable() -> core.Json:
    return core.query_var("prompt_version", "Prompt version", sc.LLM_PROMPT_VERSION_INFO, VERSION)


def info() -> str:
    """The running version of each process, restricted by the version variable (both sides of a
    per-version ratio join this same selector)."""
    selector = sc.LLM_PROMPT_VERSION_INFO + matchers(**{VERSION: "~" + V_VERSION})
    return f"max by (job, instance, {VERSION}) ({selector})"


def by_version(
    metric: str,
    labels: Labels | None = None,
    extra: tuple[str, ...] = (),
    window: str = RATE,
) -> str:
    """sum by (prompt_version, extra…) of rate(metric) per process, joined with its version."""
    per_target = f"sum by ({', '.join((*TARGET, *extra))}) ({rate(metric, labels, window)})"
    return (
        f"sum by ({', '.join((VERSION, *extra))}) "
        f"({per_target} * on ({', '.join(TARGET)}) group_left ({VERSION}) {info()})"
    )


def version_annotation() -> core.Json:
    """A region while a version's info series is new (absent 5 minutes earlier): a deploy."""
    info_ = sc.LLM_PROMPT_VERSION_INFO
    return core.prom_annotation(
        "Prompt version changes",
        f"max by ({VERSION}) ({info_}) unless max by ({VERSION}) ({info_} offset 5m)",
        title="Prompt version {{prompt_version}}",
        text="A process started running prompt/agent version {{prompt_version}}",
        color="purple",
    )


def versions(d: core.Dashboard) -> None:
    chat = chat_operation()
    faith = {sc.L_EVALUATION_NAME: "faithfulness"}
    low = {**faith, "le": le(limits.QUALITY_SCORE)}
    d.row("Prompt / agent versions")
    d.add(
        core.timeseries(
            "Spend per chat by version",
            "USD (chat and embeddings) per successful chat call for each prompt/agent version "
            "(as Cost per chat request on LLM Cost): cost rate over successful chat-call rate, "
            "both taken per process and joined with the version that process runs.",
            [
                prom(
                    f"{by_version(sc.LLM_COST)} / "
                    f"{by_version(OPS_COUNT, {**chat, sc.L_ERROR_TYPE: ''})}",
                    "{{prompt_version}}",
                )
            ],
            "currencyUSD",
            w=8,
            decimals=5,
        ),
        core.timeseries(
            "Chat latency p95 by version",
            "95th percentile chat-call duration per prompt/agent version.",
            [
                prom(
                    f"histogram_quantile(0.95, "
                    f"{by_version(sc.GENAI_OPERATION_DURATION + '_bucket', chat, ('le',))})",
                    "{{prompt_version}}",
                    exemplar=True,
                )
            ],
            "s",
            w=8,
        ),
        core.timeseries(
            f"Low-faithfulness share by version (score ≤ {limits.QUALITY_SCORE})",
            "Share of evaluated answers at or below the answer-quality SLO's score, per "
            "prompt/agent version: the quality side of a version comparison.",
            [
                prom(
                    ratio_by(
                        by_version(sc.RAG_EVALUATION_SCORE + "_bucket", low),
                        by_version(sc.RAG_EVALUATION_SCORE + "_count", faith),
                    ),
                    "{{prompt_version}}",
                )
            ],
            "percentunit",
            w=8,
            max_=1,
        ),
    )
