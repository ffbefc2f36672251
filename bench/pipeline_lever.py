"""The `pipeline` lever of `bench levers`: the SDK's span and log record pipeline vs ours.

A request's spans and log records (a server span, five nested operation spans with their
attributes, five log records) go through the SDK's TracerProvider, RedactingSpanProcessor,
BatchSpanProcessor, LoggerProvider and BatchLogRecordProcessor, and through genai_telemetry's
spans, log records and export queues (redaction in the queue's worker), both into exporters that
drop what they get. Measured as process CPU time including the export threads, flushed inside
the timed part, best of alternated repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from bench import common
from genai_telemetry import logs, tracing


class _Drop:
    """A span and log record exporter that drops what it is given."""

    def export(self, batch: Any) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


_SERVER_ATTRS = {
    **{"http.request.method": "POST", "url.scheme": "http", "url.path": "/v1/chat"},
    **{"network.protocol.version": "1.1", "server.address": "127.0.0.1", "server.port": 8000},
    **{"client.address": "127.0.0.1", "client.port": 50000, "user_agent.original": "bench"},
}
_OP_ATTRS = {
    **{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"},
    **{"gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.max_tokens": 512},
    **{"gen_ai.request.temperature": 0.2, "server.address": "api.openai.com", "server.port": 443},
}
_OP_LATE = {
    **{"gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 412},
    **{"gen_ai.usage.output_tokens": 96, "gen_ai.response.finish_reasons": ("stop",)},
    "llm.cost_usd": 0.000119,
}
_RECORD = {"route": "/v1/chat", "status": 200, "model": "gpt-4o-mini", "latency_ms": 12.1}


def _one_request(tracer: Any, logger: Any) -> None:
    from opentelemetry import context, trace

    server = tracer.start_span("POST", kind=trace.SpanKind.SERVER, attributes=_SERVER_ATTRS)
    token = context.attach(trace.set_span_in_context(server))
    for i in range(5):
        span = tracer.start_span(f"chat gpt-4o-mini {i}", attributes=_OP_ATTRS)
        inner = context.attach(trace.set_span_in_context(span))
        for key, value in _OP_LATE.items():
            span.set_attribute(key, value)
        logger.emit(body="chat_answered", attributes=_RECORD)
        context.detach(inner)
        span.end()
    server.set_attributes({"http.route": "/v1/chat", "http.response.status_code": 200})
    server.update_name("POST /v1/chat")
    context.detach(token)
    server.end()


def _sdk_pipeline() -> tuple[Any, Any, Callable[[], object]]:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider()
    batch = BatchSpanProcessor(_Drop(), max_queue_size=2048)  # type: ignore[arg-type]
    tracer_provider.add_span_processor(tracing.RedactingSpanProcessor(batch))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(_Drop()))  # type: ignore[arg-type]

    def flush() -> None:
        tracer_provider.force_flush()
        logger_provider.force_flush()

    return tracer_provider.get_tracer("bench"), logger_provider.get_logger("bench"), flush


def _our_pipeline() -> tuple[Any, Any, Callable[[], object]]:
    settings = common.bench_settings()
    resource = tracing.build_resource(settings)
    tracer_provider = tracing.build_tracer_provider(settings, resource, _Drop())  # type: ignore[arg-type]
    logger_provider = logs.build_logger_provider(settings, resource, _Drop())  # type: ignore[arg-type]
    assert logger_provider is not None

    def flush() -> None:
        tracer_provider.force_flush()
        logger_provider.force_flush()

    return tracer_provider.get_tracer("bench"), logger_provider.get_logger("bench"), flush


def pipeline(requests: int = 200, repeat: int = 9) -> dict[str, float]:
    """CPU µs per request of the SDK's span/log pipeline and ours (best of alternated repeats)."""
    sides = {"sdk_us": _sdk_pipeline(), "ours_us": _our_pipeline()}
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(repeat):
        for name, (tracer, logger, flush) in sides.items():
            started = time.process_time()
            for _ in range(requests):
                _one_request(tracer, logger)
            flush()
            best[name] = min(best[name], (time.process_time() - started) / requests * 1e6)
    return best
