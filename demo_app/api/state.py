"""Per-app state shared by the routes (`app.state.rag`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demo_app.alerts import LOG_BURST, LOG_RATE_PER_S, AlertStore, LogBudget
from demo_app.config import Settings
from demo_app.faults import FaultStore
from demo_app.feedback import RequestIndex
from demo_app.pipeline import Pipeline
from demo_app.providers.base import LLMProvider
from demo_app.ratelimit import RateLimiter
from genai_telemetry.telemetry import Telemetry


@dataclass
class AppState:
    settings: Settings
    telemetry: Telemetry
    provider: LLMProvider
    faults: FaultStore
    limiter: RateLimiter
    alerts: AlertStore
    pipeline: Pipeline | None = None  # set once the corpus is indexed
    retriever: Any = None
    ready: bool = False
    startup_error: str | None = None
    background: set[Any] = field(default_factory=set)
    # Shared by every log line of the alert webhook (summaries and access lines).
    alerts_log: LogBudget = field(default_factory=lambda: LogBudget(LOG_RATE_PER_S, LOG_BURST))
    # Recent answers, for POST /v1/feedback (FEEDBACK_INDEX_SIZE entries at most).
    answered: RequestIndex = field(init=False)

    def __post_init__(self) -> None:
        self.answered = RequestIndex(self.settings.feedback_index_size)
