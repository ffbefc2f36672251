"""Thresholds drawn on the dashboards, read from the same files the rules are generated from
(slo/slos.yaml, slo/thresholds.yaml, slo.rules), so a panel's red line is the alert's line.

The files are read on first use, not at import. Changing one of them makes the committed
dashboards stale: regenerate them (`make generate`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from slo.alerting import Threshold
from slo.rules import WINDOWS, burn_pairs
from slo.spec import SLO, HistogramSLI, load_spec
from slo.thresholds import load_thresholds


@cache
def _slos() -> dict[str, SLO]:
    return {s.name: s for s in load_spec().slos}


@cache
def _alerts() -> dict[str, Threshold]:
    return load_thresholds()


def _histogram_threshold(slo: str) -> float:
    sli = _slos()[slo].sli
    if not isinstance(sli, HistogramSLI):
        raise TypeError(f"SLO {slo} is not a histogram SLI")
    return float(sli.threshold)


def _alert(name: str) -> float:
    value = _alerts()[name].value
    if value is None:
        raise ValueError(f"alert {name} has no threshold")
    return float(value)


def objective(slo: str) -> float:
    return float(_slos()[slo].objective)


def budget(slo: str) -> float:
    return float(_slos()[slo].error_budget)


def pct(value: float) -> str:
    """0.995 → "99.5%"."""
    return f"{value * 100:g}%"


def quality_score() -> float:
    return _histogram_threshold("rag-answer-quality")


# Read lazily through module attributes (limits.LATENCY_S …).
_LAZY: dict[str, Callable[[], float]] = {
    "LATENCY_S": lambda: _histogram_threshold("chat-latency"),  # /v1/chat faster is good
    "TTFT_S": lambda: _histogram_threshold("llm-ttft"),  # first streamed chunk before is good
    "QUALITY_SCORE": quality_score,  # faithfulness above this is good
    "AVAILABILITY_BUDGET": lambda: budget("chat-availability"),
    "CHAT_ERROR_BUDGET": lambda: budget("llm-chat-success"),
    "QUALITY_BUDGET": lambda: budget("rag-answer-quality"),
    "ERROR_RATIO_ALERT": lambda: _alert("LLMErrorRatioHigh"),
    "RATE_LIMITED_ALERT": lambda: _alert("LLMProviderRateLimited"),
    "EMPTY_RETRIEVAL_ALERT": lambda: _alert("RAGEmptyRetrievalRatioHigh"),
    "LOW_QUALITY_ALERT": lambda: _alert("RAGAnswerQualityDrop"),
    "GUARDRAIL_ALERT": lambda: _alert("LLMGuardrailTriggerSpike"),
    "TOOL_ERROR_ALERT": lambda: _alert("LLMToolErrorRatioHigh"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(name)


# (long window, short window, burn-rate factor) pairs of the page and ticket alerts.
PAGE_WINDOWS = tuple((lw, sw, float(f)) for lw, sw, f in burn_pairs("SLOFastBurn"))
TICKET_WINDOWS = tuple((lw, sw, float(f)) for lw, sw, f in burn_pairs("SLOSlowBurn"))
ALL_WINDOWS = tuple(WINDOWS)
