"""rag-api's whole telemetry timed like the contract's floor: in this process, no sockets.

The floor (bench/floor.py) is bare SDK calls timed in a loop of the benchmark process, while
`bench peers` measures rag-api's telemetry in an app under HTTP load, where every piece of code
costs more. This is the like-for-like counterpart of the floor: the real app driven through
ASGI in this process, zero model latency, telemetry on — every span and log record encoded to
OTLP bytes by genai_telemetry.otlp's encoders and then dropped (no HTTP) — against telemetry
off, CPU time per request of the whole process (export threads included, flushed inside the
timed part), the best of alternated repeats.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExportResult

from bench import common
from bench.pipeline_lever import _Drop
from genai_telemetry.otlp import LogEncoder, SpanEncoder


class _Encoded(_Drop):
    """An exporter that encodes each batch to OTLP bytes as the app's exporters do, then
    drops it: the export threads' CPU without the HTTP request."""

    def __init__(self, encoder: SpanEncoder | LogEncoder, ok: Any) -> None:
        self.encoder, self.ok, self.bytes = encoder, ok, 0

    def export(self, batch: Sequence[Any]) -> Any:
        self.bytes += len(self.encoder.encode(batch))
        return self.ok


def _app(on: bool) -> tuple[Any, list[_Encoded]]:
    spans = _Encoded(SpanEncoder(), SpanExportResult.SUCCESS) if on else None
    logs = _Encoded(LogEncoder(), LogRecordExportResult.SUCCESS) if on else None
    app = common.in_process_app(spans, logs, TELEMETRY_ENABLED=str(on).lower())
    return app, [e for e in (spans, logs) if e is not None]


async def _cpu_us_per_request(app: Any, requests: int) -> float:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        app.router.lifespan_context(app),
    ):
        deadline = time.monotonic() + 30
        while (await client.get("/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("rag-api in process: /readyz not 200 within 30 s")
            await asyncio.sleep(0.05)
        for i in range(20):  # warm-up: caches, first-call imports
            await client.post("/v1/chat", json={"question": f"warm-up {i}"})
        began = time.process_time()
        for i in range(requests):
            question = f"How is time to first token measured? ({i})"
            (await client.post("/v1/chat", json={"question": question})).raise_for_status()
        telemetry = app.state.rag.telemetry
        for provider in (telemetry.tracer_provider, telemetry.logger_provider):
            if provider is not None:
                provider.force_flush()
        return (time.process_time() - began) / requests * 1e6


def telemetry_us(requests: int = 200, repeats: int = 5) -> dict[str, float]:
    """CPU µs per request of rag-api with telemetry on and off (best of `repeats`, alternated),
    their difference, and the OTLP bytes encoded per request with telemetry on."""
    best = {True: float("inf"), False: float("inf")}
    encoded = 0
    for r in range(repeats):
        for on in (True, False) if r % 2 == 0 else (False, True):
            app, exporters = _app(on)
            best[on] = min(best[on], asyncio.run(_cpu_us_per_request(app, requests)))
            encoded += sum(e.bytes for e in exporters)
    return {
        "on_us": best[True],
        "off_us": best[False],
        "telemetry_us": best[True] - best[False],
        "otlp_bytes_per_request": encoded / (repeats * (requests + 20)),
    }
