"""Alertmanager webhook (payload version 4): validation models and a bounded in-memory store.

Alertmanager POSTs one notification per alert group; we log one structured event per alert
(so alerts land in Loki next to the requests they are about) and keep the last `capacity`
alerts for `GET /v1/alerts`, which the end-to-end tests read to see which receiver got what.
Unknown top-level fields are ignored (Alertmanager may add fields in later versions).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(default="", max_length=64)


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(min_length=1, max_length=256)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[WebhookAlert] = Field(max_length=1000)


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


class AlertStore:
    """The last `capacity` received alerts, newest first on read. Thread-safe."""

    def __init__(self, capacity: int = 100) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
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
            self._items.extend(entries)
            self.received_total += len(entries)
        return entries

    def list(
        self, *, receiver: str | None = None, alertname: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items)
        items.reverse()
        return [
            i
            for i in items
            if (receiver is None or i["receiver"] == receiver)
            and (alertname is None or i["alertname"] == alertname)
        ]
