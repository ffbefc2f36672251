"""Alertmanager webhook (payload version 4): validation models, a bounded in-memory store, one
summary log line per notification and a log budget.

Alertmanager POSTs one notification per alert group, with a bearer credential (ALERTS_WEBHOOK_
TOKEN; demo_app/api/deps.py checks it). We log ONE structured event per notification (counts,
alert names, severities), so a group of 500 alerts is one line in Loki, and keep the last
`capacity` alerts for `GET /v1/alerts`, which the end-to-end tests read to see which receiver got
what. A notification carries at most MAX_ALERTS alerts (more → 422; Alertmanager's
`max_alerts` keeps below it). The webhook's log lines (summaries and access lines, accepted or
rejected) share one `LogBudget`, so a flood of notifications cannot fill the OTLP log queue and
push out other records. Unknown top-level fields are ignored (Alertmanager may add fields).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from demo_app.api.jsontypes import JSON_SAFE_INT_MAX, JsonInt, JsonText, Timestamp
from demo_app.config import TierLimit
from demo_app.ratelimit import TokenBucket

MAX_ALERTS = 500  # per notification; alertmanager.yml sets max_alerts below it
SUMMARY_NAMES = 10  # alert names listed in a summary line (the count is always complete)
# Webhook log lines: a burst of 50, then 5 per second. Alertmanager sends a few notifications
# per minute even in a storm (group_interval); beyond this it is a flood, and a flood must not
# fill the OTLP log queue (2048 records) that request logs share.
LOG_RATE_PER_S = 5.0
LOG_BURST = 50.0
# Label and annotation text (characters) the store of received alerts holds at most
# (GET /v1/alerts).
STORE_MAX_CHARS = 4 * 1024 * 1024


class WebhookAlert(BaseModel):
    # Strict like the rest of the API: it accepts exactly what its schema says (no false → 0).
    model_config = ConfigDict(extra="ignore", strict=True)

    status: Literal["firing", "resolved"]
    labels: dict[JsonText, JsonText]
    annotations: dict[JsonText, JsonText] = Field(default_factory=dict)
    startsAt: Timestamp
    endsAt: Timestamp | None = None
    generatorURL: JsonText = ""
    fingerprint: JsonText = Field(default="", max_length=64)


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    version: Literal["4"]
    groupKey: JsonText = ""
    truncatedAlerts: JsonInt = Field(default=0, ge=0, le=JSON_SAFE_INT_MAX)
    status: Literal["firing", "resolved"]
    receiver: JsonText = Field(min_length=1, max_length=256)
    groupLabels: dict[JsonText, JsonText] = Field(default_factory=dict)
    commonLabels: dict[JsonText, JsonText] = Field(default_factory=dict)
    commonAnnotations: dict[JsonText, JsonText] = Field(default_factory=dict)
    externalURL: JsonText = ""
    alerts: list[WebhookAlert] = Field(max_length=MAX_ALERTS)


def summarize(alert: WebhookAlert, receiver: str) -> dict[str, Any]:
    """The fields logged per alert and returned by GET /v1/alerts."""
    labels = alert.labels
    return {
        "alertname": labels.get("alertname", ""),
        "status": alert.status,
        "severity": labels.get("severity", ""),
        "service": labels.get("service", ""),
        "slo": labels.get("slo", ""),
        "fingerprint": alert.fingerprint,
        "receiver": receiver,
    }


def notification_summary(payload: WebhookPayload) -> dict[str, Any]:
    """The fields of the one log line that summarises a notification."""
    statuses = Counter(alert.status for alert in payload.alerts)
    names = Counter(alert.labels.get("alertname", "") for alert in payload.alerts)
    severities = Counter(alert.labels.get("severity", "") for alert in payload.alerts)
    return {
        "receiver": payload.receiver,
        "notification_status": payload.status,
        "alerts": len(payload.alerts),
        "firing": statuses["firing"],
        "resolved": statuses["resolved"],
        "truncated_alerts": payload.truncatedAlerts,
        "alertnames": sorted(names)[:SUMMARY_NAMES],
        "severities": sorted(s for s in severities if s),
        "services": sorted({a.labels.get("service", "") for a in payload.alerts} - {""})[:10],
    }


class LogBudget:
    """Token bucket for one source of log lines: `take()` says whether to write the next line and
    how many were suppressed since the last written one (so the count still reaches Loki)."""

    def __init__(
        self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = TierLimit(rate_per_s, burst)
        self._clock = clock
        self._bucket = TokenBucket(burst, clock())
        self._suppressed = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int]:
        with self._lock:
            if not self._bucket.take(self.limit, self._clock()):
                self._suppressed += 1
                return False, 0
            suppressed, self._suppressed = self._suppressed, 0
            return True, suppressed


class AlertStore:
    """The last `capacity` received alerts, newest first on read, within `max_chars` characters
    of label and annotation text: a notification may carry 1 MiB, so 100 large alerts would
    otherwise hold 100 MiB. Older alerts go first; the newest is always kept. Thread-safe."""

    def __init__(self, capacity: int = 100, max_chars: int = STORE_MAX_CHARS) -> None:
        self._items: deque[tuple[int, dict[str, Any]]] = deque(maxlen=capacity)
        self._chars = 0
        self._max_chars = max_chars
        self._lock = threading.Lock()
        self.received_total = 0

    def add(self, payload: WebhookPayload) -> list[dict[str, Any]]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        entries = []
        for alert in payload.alerts:
            entry = summarize(alert, payload.receiver)
            entry.update(
                received_at=now,
                labels=dict(alert.labels),
                annotations=dict(alert.annotations),
                starts_at=alert.startsAt.isoformat(),
                ends_at=alert.endsAt.isoformat() if alert.endsAt else None,
                group_key=payload.groupKey,
            )
            entries.append(entry)
        with self._lock:
            for entry in entries:
                self._append(entry)
            self.received_total += len(entries)
        return entries

    def _append(self, entry: dict[str, Any]) -> None:
        if len(self._items) == self._items.maxlen:
            self._chars -= self._items[0][0]  # the deque drops it on append
        size = _text_size(entry)
        self._items.append((size, entry))
        self._chars += size
        while self._chars > self._max_chars and len(self._items) > 1:
            self._chars -= self._items.popleft()[0]

    def list(
        self, *, receiver: str | None = None, alertname: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            items = [entry for _, entry in self._items]
        items.reverse()
        return [
            i
            for i in items
            if (receiver is None or i["receiver"] == receiver)
            and (alertname is None or i["alertname"] == alertname)
        ]


def _text_size(entry: dict[str, Any]) -> int:
    """Characters of an entry's free text (labels, annotations, group key): what a sender
    controls; the other fields are bounded by the schema."""
    texts = (*entry["labels"].items(), *entry["annotations"].items())
    return len(entry["group_key"]) + sum(len(k) + len(v) for k, v in texts)
