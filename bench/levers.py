"""The gain of each library part rag-api replaces, timed in this process against the original.

  encoders    the official OTLP span and log encoders (opentelemetry-exporter-otlp-proto-common)
              vs genai_telemetry.otlp's, on the spans and log records of real rag-api requests
              (in-process app, simulated provider, in-memory exporters); µs per request
  server span the FastAPI instrumentation's middleware vs genai_telemetry.server_span, each on
              the same one-route FastAPI app, a request driven straight through ASGI (no socket),
              recording spans with no processor; µs per request including the app itself, and
              the same app bare for reference
  precheck    the span redaction precheck (RedactingSpanProcessor) on the spans of real
              requests, every value scanned vs clean values remembered
              (redaction_precheck._known_clean)
  log lines   the two stdout JSON lines of a request through the app's structlog chain (no OTLP
              sink): JSONRenderer's json.dumps(default=str) per line vs one shared JSONEncoder
  pipeline    a request's spans and log records (a server span, five nested operation spans
              with their attributes, five log records) through the SDK's TracerProvider,
              RedactingSpanProcessor, BatchSpanProcessor, LoggerProvider and
              BatchLogRecordProcessor vs genai_telemetry's spans, log records and export queues
              (redaction in the queue's worker), both into exporters that drop what they get;
              process CPU time including the export threads, flushed inside the timed part
  histogram   prometheus-client's Histogram vs genai_telemetry.histogram: µs per observation
              with and without a trace_id exemplar, and the histogram calls of one real
              /v1/chat replayed on Metrics built with each (bench/histogram_lever.py)
Best of several repeats (a floor, robust to a busy machine), the two sides interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import timeit
from collections.abc import Callable, Iterator
from typing import Any

import structlog
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bench import common
from bench.histogram_lever import histogram
from bench.pipeline_lever import pipeline
from genai_telemetry import logs, redaction_precheck, tracing
from genai_telemetry.otlp import LogEncoder, SpanEncoder
from genai_telemetry.server_span import ServerSpanMiddleware
from harness import poll


def best_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _real_telemetry(requests: int) -> tuple[list[Any], list[Any]]:
    """Spans and log records of `requests` steady chats on an in-process rag-api."""
    from fastapi.testclient import TestClient

    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    app = common.in_process_app(spans, logs)
    with TestClient(app) as client:
        poll("rag-api /readyz", lambda: client.get("/readyz").status_code == 200, 30, every=0.05)
        for i in range(requests):
            question = f"How is time to first token measured? ({i})"
            client.post("/v1/chat", json={"question": question}).raise_for_status()
        state = app.state.rag
        state.telemetry.tracer_provider.force_flush()
        state.telemetry.logger_provider.force_flush()
    return list(spans.get_finished_spans()), list(logs.get_finished_logs())


def encoders(requests: int = 50) -> dict[str, float]:
    spans, logs = _real_telemetry(requests)
    span_encoder, log_encoder = SpanEncoder(), LogEncoder()
    n = 10
    official_span, ours_span = common.best_pair_us(
        lambda: encode_spans(spans).SerializeToString(), lambda: span_encoder.encode(spans), n
    )
    official_log, ours_log = common.best_pair_us(
        lambda: encode_logs(logs).SerializeToString(), lambda: log_encoder.encode(logs), n
    )
    out = {
        "spans_per_request": len(spans) / requests,
        "logs_per_request": len(logs) / requests,
        "official_span_us": official_span,
        "ours_span_us": ours_span,
        "official_log_us": official_log,
        "ours_log_us": ours_log,
    }
    for key in ("official_span_us", "ours_span_us", "official_log_us", "ours_log_us"):
        out[key] /= requests  # per request
    return out


class _Forgetful(set[str]):
    """A clean-string cache that never remembers (the precheck before the cache)."""

    def add(self, _: str) -> None:
        return None


@contextlib.contextmanager
def no_clean_cache() -> Iterator[None]:
    saved = redaction_precheck._known_clean
    redaction_precheck._known_clean = _Forgetful()
    try:
        yield
    finally:
        redaction_precheck._known_clean = saved


def precheck(requests: int = 50) -> dict[str, float]:
    spans, _ = _real_telemetry(requests)

    def scan() -> None:
        for span in spans:
            tracing._span_is_clean(span)

    def scan_uncached() -> None:
        with no_clean_cache():
            scan()

    uncached, cached = common.best_pair_us(scan_uncached, scan, 10)
    return {"uncached_us": uncached / requests, "cached_us": cached / requests}


# The two lines of a steady chat (demo_app/middleware.py's http_request, api/routes.py's
# chat_answered).
_LINES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "http_request",
        {"method": "POST", "route": "/v1/chat", "status": 200, "duration_ms": 12.3},
    ),
    (
        "chat_answered",
        {
            **{"model": "gpt-4o-mini", "provider": "openai", "feature": "chat"},
            **{"user_tier": "free", "input_tokens": 412, "output_tokens": 96},
            **{"cost_usd": 0.000119, "cache_hit": False, "documents": 3, "latency_ms": 12.1},
            "faithfulness": 0.83,
        },
    ),
)


def log_chains() -> tuple[tuple[Any, io.StringIO], tuple[Any, io.StringIO]]:
    """(logger, its stdout) with structlog's JSONRenderer as before, and the app's own."""
    settings = common.bench_settings()
    ours_out, before_out = io.StringIO(), io.StringIO()
    ours = logs.build_logger(settings, logs.OTLPSink(None), ours_out)
    chain = [*ours._processors[:-1], structlog.processors.JSONRenderer(default=str)]
    before = structlog.wrap_logger(
        structlog.PrintLogger(before_out),
        processors=chain,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return (before, before_out), (ours, ours_out)


def write_lines(log: Any) -> None:
    for event, fields in _LINES:
        log.info(event, **fields)


def log_lines() -> dict[str, float]:
    (before, _), (ours, _) = log_chains()
    original, current = common.best_pair_us(
        lambda: write_lines(before), lambda: write_lines(ours), 200
    )
    return {"structlog_default_us": original, "ours_us": current}


def _asgi_app(kind: str) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat")
    async def chat() -> dict[str, str]:
        return {"answer": "ok"}

    for i in range(10):  # a few more routes, as a real app has (route matching walks them)
        app.add_api_route(f"/v1/other{i}/{{item}}", chat, methods=["GET"])
    provider = TracerProvider()
    if kind == "fastapi instrumentation":
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, exclude_spans=["receive", "send"]
        )
    elif kind == "ServerSpanMiddleware":
        app.add_middleware(ServerSpanMiddleware, tracer=provider.get_tracer("bench"))
    return app


def server_span(number: int = 2_000) -> dict[str, float]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat",
        "raw_path": b"/v1/chat",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", b"2"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(_: dict[str, Any]) -> None:
        return None

    loop = asyncio.new_event_loop()
    out = {}
    try:
        for kind in ("bare", "fastapi instrumentation", "ServerSpanMiddleware"):
            app = _asgi_app(kind)

            async def many(app: FastAPI = app) -> None:
                for _ in range(number):
                    await app(dict(scope), receive, send)

            def once(many: Callable[[], Any] = many) -> None:
                loop.run_until_complete(many())

            out[kind] = best_us(once, 1, repeat=5) / number
    finally:
        loop.close()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    enc = encoders(20 if quick else 50)
    srv = server_span(500 if quick else 2_000)
    pre = precheck(20 if quick else 50)
    lines = log_lines()
    pipe = pipeline(50 if quick else 200)
    hist = histogram(quick)
    obs, req = hist["observation"], hist["request"]
    rows = [
        [
            "span + log record pipeline (6 spans, 5 records): OTel SDK / genai_telemetry",
            f"{pipe['sdk_us']:.1f}",
            f"{pipe['ours_us']:.1f}",
        ],
        [
            "span encoding",
            f"{enc['official_span_us']:.1f}",
            f"{enc['ours_span_us']:.1f}",
        ],
        [
            "log record encoding",
            f"{enc['official_log_us']:.1f}",
            f"{enc['ours_log_us']:.1f}",
        ],
        [
            "server span middleware (the app itself excluded)",
            f"{srv['fastapi instrumentation'] - srv['bare']:.1f}",
            f"{srv['ServerSpanMiddleware'] - srv['bare']:.1f}",
        ],
        [
            "span redaction precheck: every value scanned / clean values remembered",
            f"{pre['uncached_us']:.1f}",
            f"{pre['cached_us']:.1f}",
        ],
        [
            "stdout log lines (2): json.dumps per line / one JSONEncoder",
            f"{lines['structlog_default_us']:.1f}",
            f"{lines['ours_us']:.1f}",
        ],
        [
            f"histogram observations ({req['observations_on_app']:.0f}, via Metrics): "
            "prometheus-client / ours",
            f"{req['lib_us']:.1f}",
            f"{req['ours_us']:.1f}",
        ],
    ]
    print(common.table(rows, ["replaced part", "before µs/request", "rag-api's µs/request"]))
    print(
        f"(per request: {enc['spans_per_request']:.1f} spans, {enc['logs_per_request']:.1f} log "
        f"records; bare one-route app through ASGI: {srv['bare']:.1f} µs per request)"
    )
    print(
        f"(one histogram observation, prometheus-client / ours: {obs['lib_exemplar_us']:.2f} / "
        f"{obs['ours_exemplar_us']:.2f} µs with an exemplar, {obs['lib_bare_us']:.2f} / "
        f"{obs['ours_bare_us']:.2f} µs without; the replayed request recorded "
        f"{req['observations_replayed_lib']:.0f} / {req['observations_replayed_ours']:.0f} "
        "observations)"
    )
    return {
        "encoders": enc,
        "server_span_us": srv,
        "precheck": pre,
        "log_lines": lines,
        "pipeline": pipe,
        "histogram": hist,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    run(args.quick)
