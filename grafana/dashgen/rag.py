"""RAG Pipeline & Quality: which stage is slow or failing, is retrieval finding anything, are
answers faithful to the retrieved context?"""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core, feedback, limits, llmops
from .core import GREEN, ORANGE, RED, YELLOW, prom, thresholds
from .promql import le, quantile, rate, ratio, ratio_by, share_by, sum_increase, sum_rate

DUR = sc.GENAI_OPERATION_DURATION
DOCS = sc.RAG_RETRIEVAL_DOCUMENTS
TOP = sc.RAG_RETRIEVAL_TOP_SCORE
EVAL = sc.RAG_EVALUATION_SCORE
STAGE = (sc.L_OPERATION,)
BY_EVAL = (sc.L_EVALUATION_NAME,)


def pipeline_stages(d: core.Dashboard) -> None:
    d.row("Pipeline stages")
    d.add(
        core.timeseries(
            "p95 latency per stage",
            "95th percentile duration of each GenAI operation (embeddings, retrieval, chat, "
            "execute_tool, invoke_agent). Exemplars link to traces of slow operations.",
            [prom(quantile(0.95, DUR, by=STAGE), "{{gen_ai_operation_name}}", exemplar=True)],
            "s",
            w=12,
        ),
        core.timeseries(
            "Mean latency per stage",
            "Average duration per operation (rate of _sum / rate of _count): where the time of an "
            "average request goes.",
            [
                prom(
                    f"{sum_rate(DUR + '_sum', by=STAGE)} / {sum_rate(DUR + '_count', by=STAGE)}",
                    "{{gen_ai_operation_name}}",
                )
            ],
            "s",
            w=12,
        ),
    )
    d.add(
        core.timeseries(
            "Operations per second per stage",
            "How often each stage runs: tool calls and agent hops per request show up here.",
            [prom(sum_rate(DUR + "_count", by=STAGE), "{{gen_ai_operation_name}}")],
            "ops",
            w=12,
        ),
        core.timeseries(
            "Stage error ratio",
            "Share of operations that failed per stage (error_type set).",
            [
                prom(
                    share_by(DUR + "_count", {sc.L_ERROR_TYPE: "!"}, by=STAGE),
                    "{{gen_ai_operation_name}}",
                )
            ],
            "percentunit",
            w=12,
            thresholds_=thresholds((None, GREEN), (0.01, RED)),
            threshold_style="line",
        ),
    )


def retrieval(d: core.Dashboard) -> None:
    d.row("Retrieval")
    d.add(
        core.bargauge(
            "Documents retrieved per query (range)",
            "How many documents retrieval returned per query over the selected range (histogram "
            "buckets: 0, ≤1, ≤2 … documents). A tall 0 bar means many empty retrievals.",
            [prom(sum_increase(DOCS + "_bucket", by=("le",), window="$__range"), instant=True)],
            "short",
            w=8,
            heatmap_buckets=True,
        ),
        core.timeseries(
            "Empty retrieval ratio",
            "Share of queries for which retrieval found no document: the model answers without "
            "context (off-topic questions, broken index).",
            [
                prom(
                    ratio(
                        sum_rate(DOCS + "_bucket", {"le": le(0)}),
                        sum_rate(DOCS + "_count"),
                    ),
                    "empty",
                ),
            ],
            "percentunit",
            w=8,
            max_=1,
            thresholds_=thresholds((None, GREEN), (limits.EMPTY_RETRIEVAL_ALERT, ORANGE)),
            threshold_style="line",
        ),
        core.timeseries(
            "Documents per query (mean)",
            "Average number of documents returned per query (rate of _sum / rate of _count).",
            [prom(f"{sum_rate(DOCS + '_sum')} / {sum_rate(DOCS + '_count')}", "mean documents")],
            "short",
            w=8,
            decimals=1,
        ),
    )
    d.add(
        core.heatmap(
            "Top retrieval score distribution",
            "Distribution of the best normalised retrieval score per query over time (0–1). Mass "
            "moving down means retrieval quality degraded.",
            rate(TOP + "_bucket"),
            "none",
            w=12,
        ),
        core.timeseries(
            "Top retrieval score p10 / p50",
            "Median and 10th percentile of the best retrieval score per query.",
            [prom(quantile(q, TOP), f"p{round(q * 100)}") for q in (0.1, 0.5)],
            "none",
            w=12,
            max_=1,
            decimals=2,
        ),
    )


def answer_quality(d: core.Dashboard) -> None:
    d.row("Answer quality")
    d.add(
        core.timeseries(
            "Evaluation scores p10 / p50",
            "Median and 10th percentile of each evaluation score (faithfulness, answer relevancy, "
            "context relevancy; 0–1, higher is better).",
            [
                prom(
                    quantile(q, EVAL, by=BY_EVAL),
                    f"p{round(q * 100)} {{{{gen_ai_evaluation_name}}}}",
                )
                for q in (0.1, 0.5)
            ],
            "none",
            w=12,
            max_=1,
            decimals=2,
        ),
        core.timeseries(
            f"Low-score ratio (score ≤ {limits.QUALITY_SCORE})",
            f"Share of answers scoring at most {limits.QUALITY_SCORE} per evaluation. For "
            "faithfulness this is the bad-event ratio of the rag-answer-quality SLO (budget "
            f"{limits.pct(limits.QUALITY_BUDGET)}, yellow line); RAGAnswerQualityDrop fires "
            f"above {limits.pct(limits.LOW_QUALITY_ALERT)} (red line).",
            [
                prom(
                    ratio_by(
                        sum_rate(EVAL + "_bucket", {"le": le(limits.QUALITY_SCORE)}, by=BY_EVAL),
                        sum_rate(EVAL + "_count", by=BY_EVAL),
                    ),
                    "{{gen_ai_evaluation_name}}",
                )
            ],
            "percentunit",
            w=12,
            max_=1,
            thresholds_=thresholds(
                (None, GREEN), (limits.QUALITY_BUDGET, YELLOW), (limits.LOW_QUALITY_ALERT, RED)
            ),
            threshold_style="line",
        ),
    )
    d.add(
        *[
            core.bargauge(
                f"{name.replace('_', ' ').capitalize()} score distribution (range)",
                f"Answers per {name} score bucket over the selected range (≤0.1 … ≤1.0).",
                [
                    prom(
                        sum_increase(
                            EVAL + "_bucket",
                            {sc.L_EVALUATION_NAME: name},
                            by=("le",),
                            window="$__range",
                        ),
                        instant=True,
                    )
                ],
                "short",
                w=8,
                heatmap_buckets=True,
                thresholds_=thresholds((None, YELLOW)),
            )
            for name in sc.EVALUATION_NAMES
        ]
    )
    d.add(
        core.logs(
            "Low-quality answers (logs)",
            "Log lines of answers whose faithfulness evaluation fell at or below "
            f"{limits.QUALITY_SCORE}, with their request_id and trace_id.",
            common.low_quality_logs(),
        )
    )


ROWS: tuple[core.Row, ...] = (
    pipeline_stages,
    retrieval,
    answer_quality,
    llmops.guardrails,
    llmops.versions,
    feedback.feedback,
)


def build() -> core.Json:
    return common.render(
        common.RAG,
        ROWS,
        description="Per-stage latency and errors of the RAG pipeline (embeddings, retrieval, "
        "chat, tools, agents), retrieval results, answer-quality evaluation scores, "
        "guardrails and a comparison of prompt/agent versions.",
        tags=["llm", "rag"],
        variables=[
            core.datasource_var("prometheus"),
            core.datasource_var("loki"),
            llmops.version_variable(),
        ],
        annotations=[
            common.firing_alerts(
                common.app_alerts(
                    'alertname=~"RAGAnswerQualityDrop|RAGEmptyRetrievalRatioHigh|'
                    'LLMGuardrailTriggerSpike|SLOFastBurn|SLOSlowBurn"'
                )
            ),
            llmops.version_annotation(),
        ],
    )
