"""What the telemetry reads from its host application's settings.

A protocol, not a class to fill in: the app's own settings object (rag-api's
`demo_app.config.Settings`) satisfies it as long as it has these attributes, so the telemetry
package never imports the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class TelemetrySettings(Protocol):
    telemetry_enabled: bool
    service_name: str
    service_version: str
    deployment_environment: str
    otlp_traces_endpoint: str | None  # full URL incl. /v1/traces; None → no export
    otlp_logs_endpoint: str | None  # full URL incl. /v1/logs; None → no export
    otlp_timeout_s: float
    otlp_queue_size: int  # OTEL_BSP_MAX_QUEUE_SIZE, for spans and log records
    bsp_delay_ms: int  # export interval of spans (OTEL_BSP_SCHEDULE_DELAY)
    blrp_delay_ms: int  # export interval of log records (OTEL_BLRP_SCHEDULE_DELAY)
    capture_message_content: bool
    capture_retrieval_documents: bool
    log_level: str
    # The process environment, for the OTEL_* SDK variables the settings do not name.
    environ: Mapping[str, str]
