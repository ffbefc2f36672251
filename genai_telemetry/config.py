"""What the telemetry reads from its host application's settings.

A protocol, not a class to fill in: the app's own settings object (rag-api's
`demo_app.config.Settings`) satisfies it as long as it has these attributes, so the telemetry
package never imports the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ExportSchedule:
    """How one signal's ended items are exported: the SDK batch processors' settings
    (OTEL_BSP_* for spans, OTEL_BLRP_* for log records) and their defaults, except the span
    interval (1 s here, 5 s in the SDK: traces show up in Grafana while one looks)."""

    max_queue: int = 2048  # OTEL_BSP/BLRP_MAX_QUEUE_SIZE: items waiting; more are dropped
    batch: int = 512  # OTEL_BSP/BLRP_MAX_EXPORT_BATCH_SIZE: items per export request at most
    delay_ms: int = 1000  # OTEL_BSP/BLRP_SCHEDULE_DELAY: export interval


class TelemetrySettings(Protocol):
    telemetry_enabled: bool
    service_name: str
    service_version: str
    deployment_environment: str
    otlp_traces_endpoint: str | None  # full URL incl. /v1/traces; None → no export
    otlp_logs_endpoint: str | None  # full URL incl. /v1/logs; None → no export
    otlp_timeout_s: float
    span_export: ExportSchedule  # OTEL_BSP_*
    log_export: ExportSchedule  # OTEL_BLRP_*
    capture_message_content: bool
    capture_retrieval_documents: bool
    log_level: str
    # The process environment, for the OTEL_* SDK variables the settings do not name.
    environ: Mapping[str, str]


def sdk_disabled(environ: Mapping[str, str]) -> bool:
    """`OTEL_SDK_DISABLED` as the OpenTelemetry spec reads it: only `true` (any case) disables.

    A value that is neither true nor false is an error here, where the spec only asks for a
    warning: `OTEL_SDK_DISABLED=1` would otherwise leave export on while its author thinks it off.
    """
    raw = environ.get("OTEL_SDK_DISABLED", "")
    value = raw.strip().lower()
    if value not in ("", "true", "false"):
        raise ValueError(
            f"OTEL_SDK_DISABLED={raw!r}: expected true or false "
            "(OpenTelemetry reads only `true` as true, so 1/yes/on do not disable)"
        )
    return value == "true"
