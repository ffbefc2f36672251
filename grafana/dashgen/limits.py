"""Thresholds drawn on the dashboards, read from the same files the rules are generated from
(slo/slos.yaml, slo/thresholds.yaml, slo.rules), so a panel's red line is the alert's line.

Changing one of those files makes the committed dashboards stale: regenerate them.
"""

from __future__ import annotations

from slo.rules import WINDOWS, burn_pairs
from slo.spec import HistogramSLI, load_spec, load_thresholds

_SLOS = {s.name: s for s in load_spec().slos}
_ALERTS = load_thresholds()


def _histogram_threshold(slo: str) -> float:
    sli = _SLOS[slo].sli
    if not isinstance(sli, HistogramSLI):
        raise TypeError(f"SLO {slo} is not a histogram SLI")
    return float(sli.threshold)


def _alert(name: str) -> float:
    value = _ALERTS[name].value
    if value is None:
        raise ValueError(f"alert {name} has no threshold")
    return float(value)


def objective(slo: str) -> float:
    return float(_SLOS[slo].objective)


def budget(slo: str) -> float:
    return float(_SLOS[slo].error_budget)


def pct(value: float) -> str:
    """0.995 → "99.5%"."""
    return f"{value * 100:g}%"


LATENCY_S = _histogram_threshold("rag-api-latency")  # /v1/chat faster than this is good
TTFT_S = _histogram_threshold("llm-ttft")  # first streamed chunk before this is good
QUALITY_SCORE = _histogram_threshold("rag-answer-quality")  # faithfulness above this is good
AVAILABILITY_BUDGET = budget("rag-api-availability")
CHAT_ERROR_BUDGET = budget("llm-chat-success")
QUALITY_BUDGET = budget("rag-answer-quality")

ERROR_RATIO_ALERT = _alert("LLMErrorRatioHigh")
RATE_LIMITED_ALERT = _alert("LLMProviderRateLimited")
EMPTY_RETRIEVAL_ALERT = _alert("RAGEmptyRetrievalRatioHigh")
LOW_QUALITY_ALERT = _alert("RAGAnswerQualityDrop")

# (long window, short window, burn-rate factor) pairs of the page and ticket alerts.
PAGE_WINDOWS = tuple((lw, sw, float(f)) for lw, sw, f in burn_pairs("SLOFastBurn"))
TICKET_WINDOWS = tuple((lw, sw, float(f)) for lw, sw, f in burn_pairs("SLOSlowBurn"))
ALL_WINDOWS = tuple(WINDOWS)
