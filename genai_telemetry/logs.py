"""Logs: structlog JSON lines on stdout AND the same records as OTLP logs (→ collector → Loki).

Processor chain (per app instance, see `build_logger`):
    contextvars (request_id) → level → ISO-8601 UTC timestamp → trace_id/span_id
    → REDACTION → OTLP sink → JSON renderer (stdout)
so redaction runs before both sinks. The OTLP sink only enqueues (genai_telemetry/export.py, a
bounded queue); the exporter thread does the network I/O. Records about the export itself (the
OpenTelemetry exporters' failures, our encoder's and queue's) go to stdout only, rate-limited,
never back into OTLP.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import Resource

from genai_telemetry.attribute_values import PLAIN
from genai_telemetry.config import TelemetrySettings
from genai_telemetry.export import ExportQueue
from genai_telemetry.log_records import LoggerProvider, LogRecord
from genai_telemetry.redaction import redact_value
from genai_telemetry.tracing import current_ids

NO_OTLP = "_no_otlp"  # event-dict flag: write to stdout only
# Loggers that report on the telemetry itself (export, encoding, attribute values): their
# records go to stdout only, rate-limited, never back into OTLP.
EXPORT_LOGGERS = (
    "opentelemetry",
    "genai_telemetry.export",
    "genai_telemetry.otlp",
    "genai_telemetry.attribute_values",  # invalid values, as opentelemetry.attributes reports them
)

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR
_SEVERITY = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
    "critical": SeverityNumber.FATAL,
}
_OTEL_SCALARS = PLAIN | {str}  # OTLP attribute values as they are
_RESERVED = {"timestamp", "level", "event", "trace_id", "span_id", NO_OTLP}

EventDict = MutableMapping[str, Any]


def build_logger_provider(
    settings: TelemetrySettings, resource: Resource, exporter: LogRecordExporter | None = None
) -> LoggerProvider | None:
    """OTLP log records (genai_telemetry/log_records.py) through a bounded export queue; None
    without an endpoint or exporter."""
    if exporter is None and settings.otlp_logs_endpoint:
        from genai_telemetry.otlp import FastOTLPLogExporter

        exporter = FastOTLPLogExporter(
            endpoint=settings.otlp_logs_endpoint, timeout=settings.otlp_timeout_s
        )
    if exporter is None:
        return None
    queue = ExportQueue[LogRecord].for_schedule(exporter, settings.log_export, what="log records")
    return LoggerProvider(resource, queue)


def _add_trace_ids(_: Any, __: str, event_dict: EventDict) -> EventDict:
    if "trace_id" not in event_dict:
        trace_id, span_id = current_ids()
        if trace_id:
            event_dict["trace_id"] = trace_id
            event_dict["span_id"] = span_id
    return event_dict


# Fields our own code sets from safe values: the timestamp, trace/span ids, and the request id
# (generated, or a caller's id only if redaction leaves it unchanged: demo_app/app.py).
_NOT_REDACTED = frozenset({"timestamp", "trace_id", "span_id", "request_id"})


def _redact(_: Any, __: str, event_dict: EventDict) -> EventDict:
    for key, value in event_dict.items():
        if key not in _NOT_REDACTED:
            event_dict[key] = redact_value(value)
    return event_dict


def _otel_value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (str, bool, int, float)) for v in value if v is not None
    ):
        return [v for v in value if v is not None]
    return str(value)


_FIRST = ("timestamp", "level", "event", "request_id", "trace_id", "span_id")


def _order(_: Any, __: str, event_dict: EventDict) -> EventDict:
    # Stable, greppable line layout: the correlation fields first.
    ordered = {k: event_dict[k] for k in _FIRST if k in event_dict}
    ordered.update((k, v) for k, v in event_dict.items() if k not in ordered)
    return ordered


class OTLPSink:
    """structlog processor that emits each record to an OpenTelemetry Logger (queue only)."""

    def __init__(self, provider: LoggerProvider | None) -> None:
        self._logger = provider.get_logger("demo_app") if provider is not None else None

    def close(self) -> None:
        """Stop emitting (called before the LoggerProvider shuts down)."""
        self._logger = None

    def __call__(self, _: Any, method: str, event_dict: EventDict) -> EventDict:
        if event_dict.pop(NO_OTLP, False) or self._logger is None:
            return event_dict
        level = str(event_dict.get("level", method))
        # None has no OTLP attribute value: the field is left out, never sent as "None".
        attributes = {
            k: v if v.__class__ in _OTEL_SCALARS else _otel_value(v)
            for k, v in event_dict.items()
            if v is not None and k not in _RESERVED
        }
        with contextlib.suppress(Exception):  # never let telemetry break the caller
            self._logger.emit(
                severity_number=_SEVERITY.get(level, SeverityNumber.INFO),
                severity_text=level.upper(),
                body=str(event_dict.get("event", "")),
                attributes=attributes,
            )
        return event_dict


_ENCODER = json.JSONEncoder(default=str)


def _dumps(event_dict: EventDict, **_: Any) -> str:
    return _ENCODER.encode(event_dict)


def build_logger(
    settings: TelemetrySettings, sink: OTLPSink, stream: TextIO | None = None
) -> structlog.typing.FilteringBoundLogger:
    """The app's logger (bound per instance; not the global structlog configuration)."""
    # One JSONEncoder for every line: json.dumps with options builds a new one per call.
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _add_trace_ids,
        structlog.processors.format_exc_info,
        _redact,
        sink,
        _order,
        structlog.processors.JSONRenderer(serializer=_dumps),
    ]
    return structlog.wrap_logger(
        structlog.PrintLogger(stream or sys.stdout),
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level]),
    )


class _RateLimit(logging.Filter):
    """At most one record per logger per `interval` seconds; the next one says how many were
    suppressed. Used for export failure messages (a down collector would otherwise print one
    line per failed batch)."""

    def __init__(self, interval: float = 30.0) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(EXPORT_LOGGERS):
            return True
        now = time.monotonic()
        with self._lock:
            last = self._last.get(record.name)
            if last is not None and now - last < self.interval:
                self._suppressed[record.name] = self._suppressed.get(record.name, 0) + 1
                return False
            self._last[record.name] = now
            record.suppressed = self._suppressed.pop(record.name, 0)
        return True


class StdlibBridge(logging.Handler):
    """Routes stdlib `logging` records (uvicorn, OTel SDK) through the app's structlog chain."""

    def __init__(self, logger: Any) -> None:
        super().__init__()
        self.logger = logger
        self.addFilter(_RateLimit())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {"logger": record.name}
            if record.name.startswith(EXPORT_LOGGERS):
                fields[NO_OTLP] = True  # export problems must not feed the exporter
                fields["event_class"] = "telemetry_export"
                if getattr(record, "suppressed", 0):
                    fields["suppressed_since_last"] = record.suppressed
            if record.exc_info and record.levelno >= logging.ERROR:
                fields["exc_info"] = record.exc_info
            level = record.levelname.lower()
            method = getattr(self.logger, level if level in _SEVERITY else "info", None)
            if method is None or level == "critical":
                method = self.logger.error
            method(record.getMessage(), **fields)
        except Exception:
            self.handleError(record)


def install_stdlib_bridge(logger: Any, level: str) -> StdlibBridge:
    """Make the root stdlib logger write through `logger` (replacing an earlier bridge)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StdlibBridge) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    bridge = StdlibBridge(logger)
    root.addHandler(bridge)
    # Libraries' INFO records (httpx logs every provider call) stay out of stdout and OTLP
    # unless LOG_LEVEL=debug: the app's own events say what happened, once per request.
    root.setLevel(max(_LEVELS[level], logging.WARNING) if level != "debug" else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
        lg.setLevel(_LEVELS[level])  # uvicorn's lifecycle lines keep the app's level
    return bridge
