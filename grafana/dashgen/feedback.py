"""User feedback row (RAG Pipeline & Quality): satisfaction over the range and over time, by
model, retrieval quality and prompt version, and feedback on answers rag-api no longer knows."""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core, limits
from .core import GREEN, RED, prom, thresholds
from .llmops import by_version
from .promql import Labels, ratio_by, share_by, sum_rate

# --- User feedback (RAG Pipeline) ---
FEEDBACK = sc.LLM_USER_FEEDBACK
POSITIVE = {sc.L_FEEDBACK_SENTIMENT: sc.SENTIMENT_POSITIVE}
NEGATIVE = {sc.L_FEEDBACK_SENTIMENT: sc.SENTIMENT_NEGATIVE}
# Verdicts on answers rag-api knows, the only ones the satisfaction SLO counts (an unknown id
# may be anyone's guess).
KNOWN = {sc.L_REQUEST_KNOWN: "true"}
# Feedback is sparse: the per-model and per-version shares are taken over an hour, not over the
# rate interval (a handful of verdicts a minute would swing them between 0 and 1).
FEEDBACK_WINDOW = "1h"
SATISFACTION_SLO = "rag-user-satisfaction"


def _share(part: Labels, whole: Labels, by: tuple[str, ...], window: str) -> str:
    """Share of feedback matching `part` among `whole` per `by` (both sides take `whole`)."""
    return share_by(FEEDBACK, part, whole, by=by, window=window, fn="increase")


def feedback(d: core.Dashboard) -> None:
    budget = limits.budget(SATISFACTION_SLO)
    d.row("User feedback")
    d.add(*_feedback_totals(budget), *_feedback_trends())
    d.add(*_feedback_joins())
    d.add(
        core.logs(
            "Negative feedback (logs)",
            "user_feedback log lines with a negative verdict, written in the judged request's "
            "trace: expand one for its request_id, the model, route, retrieval quality and the "
            "(redacted) comment, and open the answer's trace.",
            f'{common.log_stream()} |= "user_feedback" | sentiment="negative"',
            h=8,
        )
    )


def _feedback_totals(budget: float) -> list[core.Panel]:
    return [
        core.stat(
            "Satisfied (range)",
            "Share of feedback over the selected range that is positive (thumbs up, or a score "
            "of 0.75 or more: CSAT's 4-5 of 5 stars), among verdicts on known answers "
            '(request_known="true", as the SLO counts them). POST /v1/feedback.',
            prom(_share(POSITIVE, KNOWN, (), "$__range"), instant=True),
            "percentunit",
            h=8,
            decimals=1,
            graph=False,
            thresholds_=thresholds((None, RED), (0.5, GREEN)),
        ),
        core.stat(
            "Dissatisfied (range)",
            "Share of feedback over the selected range that is negative (thumbs down, or a score "
            f'of 0.25 or less) among verdicts on known answers (request_known="true"): the bad '
            f"events of the {SATISFACTION_SLO} SLO, whose budget is {limits.pct(budget)} (red "
            "above it).",
            prom(_share(NEGATIVE, KNOWN, (), "$__range"), instant=True),
            "percentunit",
            h=8,
            decimals=1,
            graph=False,
            thresholds_=thresholds((None, GREEN), (budget, RED)),
        ),
    ]


def _feedback_trends() -> list[core.Panel]:
    sentiment = (sc.L_FEEDBACK_SENTIMENT,)
    return [
        core.timeseries(
            "Feedback per second by sentiment",
            "Verdicts per second, stacked by sentiment (positive, neutral: scores between 0.25 "
            "and 0.75, negative).",
            [prom(sum_rate(FEEDBACK, by=sentiment), "{{feedback_sentiment}}")],
            "ops",
            w=8,
            stack=True,
        ),
        core.timeseries(
            "Satisfied share by model (1h)",
            "Positive share of the feedback on each model's answers over the last hour (the "
            "model of the judged answer, from rag-api's recent-answer index; calculator and "
            "guardrail answers and unknown requests have no model and are left out).",
            [
                prom(
                    _share(POSITIVE, {sc.L_MODEL: "!"}, (sc.L_MODEL,), FEEDBACK_WINDOW),
                    "{{gen_ai_request_model}}",
                )
            ],
            "percentunit",
            w=8,
            max_=1,
        ),
    ]


def _feedback_joins() -> list[core.Panel]:
    quality = (sc.L_RETRIEVAL_QUALITY,)
    known = {sc.L_REQUEST_KNOWN: "false"}
    return [
        core.bargauge(
            "Satisfied share by retrieval quality (range)",
            "Positive share of the feedback on retrieval answers by the answer's best retrieval "
            "score: high >= 0.7, medium >= 0.5, low below, empty when nothing was found. Does "
            "poor retrieval make users unhappy?",
            [
                prom(
                    _share(POSITIVE, {sc.L_RETRIEVAL_QUALITY: "!"}, quality, "$__range"),
                    "{{retrieval_quality}}",
                    instant=True,
                )
            ],
            "percentunit",
            w=8,
            max_=1,
            decimals=2,
        ),
        core.timeseries(
            "Satisfied share by prompt version (1h)",
            "Positive share of feedback per prompt/agent version over the last hour, both sides "
            "taken per process and joined with the version it runs: the users' side of a version "
            "comparison.",
            [
                prom(
                    ratio_by(
                        by_version(FEEDBACK, POSITIVE, window=FEEDBACK_WINDOW),
                        by_version(FEEDBACK, window=FEEDBACK_WINDOW),
                    ),
                    "{{prompt_version}}",
                )
            ],
            "percentunit",
            w=8,
            max_=1,
        ),
        core.timeseries(
            "Feedback on unknown requests",
            "Share of feedback whose request_id/trace_id named no answer of this tenant among "
            "rag-api's recent answers (FEEDBACK_INDEX_SIZE): evicted, answered before a restart "
            "or by another replica, another tenant's answer, a different or missing API key, or "
            "an id never seen. Shown here only: the satisfaction SLO leaves it out.",
            [prom(_share(known, {}, (), FEEDBACK_WINDOW), "unknown share")],
            "percentunit",
            w=8,
            max_=1,
        ),
    ]
