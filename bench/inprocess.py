"""rag-api's whole telemetry timed like the contract's floor: in this process, no sockets.

The floor (bench/floor.py) is bare SDK calls timed in a loop of the benchmark process, while
`bench peers` measures rag-api's telemetry in an app under HTTP load, where every piece of code
costs more. This is the like-for-like counterpart of the floor: the real app driven through
ASGI in this process, zero model latency, telemetry on — every span and log record encoded to
OTLP bytes by genai_telemetry.otlp's encoders and then dropped (no HTTP) — against telemetry
off, CPU time per request of the whole process (export threads included, flushed inside the
timed part), the best of alternated repeats. Two parts of it are timed on their own, as the
component profile (bench/profile.py) cannot separate them: the encoding, in the thread that ran
it (the export worker's, under the app's load), and the garbage collector's passes — triggered
by whichever code allocates, so a sampling profile spreads them over every component.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        self.encoder, self.ok, self.bytes, self.cpu_s = encoder, ok, 0, 0.0

    def export(self, batch: Sequence[Any]) -> Any:
        began = time.thread_time()
        self.bytes += len(self.encoder.encode(batch))
        self.cpu_s += time.thread_time() - began
        return self.ok


@contextmanager
def _gc_cpu() -> Iterator[list[float]]:
    """CPU seconds of the garbage collector's passes inside the block, in any thread
    (`[total]`, filled in as it runs)."""
    total, began = [0.0], []  # a pass runs whole in one thread, holding the GIL

    def on_pass(phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            began.append(time.thread_time())
        elif began:
            total[0] += time.thread_time() - began.pop()

    gc.callbacks.append(on_pass)
    try:
        yield total
    finally:
        gc.callbacks.remove(on_pass)


def _app(on: bool) -> tuple[Any, list[_Encoded]]:
    spans = _Encoded(SpanEncoder(), SpanExportResult.SUCCESS) if on else None
    logs = _Encoded(LogEncoder(), LogRecordExportResult.SUCCESS) if on else None
    app = common.in_process_app(spans, logs, TELEMETRY_ENABLED=str(on).lower())
    return app, [e for e in (spans, logs) if e is not None]


async def _cpu_us_per_request(app: Any, requests: int) -> tuple[float, float]:
    """CPU µs per request of the whole process, and of the garbage collector in it."""
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
        with _gc_cpu() as gc_s:
            began = time.process_time()
            for i in range(requests):
                question = f"How is time to first token measured? ({i})"
                (await client.post("/v1/chat", json={"question": question})).raise_for_status()
            telemetry = app.state.rag.telemetry
            for provider in (telemetry.tracer_provider, telemetry.logger_provider):
                if provider is not None:
                    provider.force_flush()
            cpu_s = time.process_time() - began
        return cpu_s / requests * 1e6, gc_s[0] / requests * 1e6


def telemetry_us(requests: int = 200, repeats: int = 5) -> dict[str, float]:
    """CPU µs per request of rag-api with telemetry on and off (best of `repeats`, alternated),
    their difference, and with telemetry on the OTLP bytes encoded and the encoding's CPU per
    request; the garbage collector's CPU per request on and off (medians of the repeats)."""
    best = {True: float("inf"), False: float("inf")}
    gc_us: dict[bool, list[float]] = {True: [], False: []}
    encoding_us: list[float] = []
    encoded = 0
    for r in range(repeats):
        for on in (True, False) if r % 2 == 0 else (False, True):
            app, exporters = _app(on)
            cpu_us, gc_pass_us = asyncio.run(_cpu_us_per_request(app, requests))
            best[on] = min(best[on], cpu_us)
            gc_us[on].append(gc_pass_us)
            encoded += sum(e.bytes for e in exporters)
            if on:  # warm-up included: the exporters saw requests + 20 chats
                encoding_us.append(sum(e.cpu_s for e in exporters) / (requests + 20) * 1e6)
    return {
        "on_us": best[True],
        "off_us": best[False],
        "telemetry_us": best[True] - best[False],
        "otlp_bytes_per_request": encoded / (repeats * (requests + 20)),
        "encoding_us": statistics.median(encoding_us),
        "gc_on_us": statistics.median(gc_us[True]),
        "gc_off_us": statistics.median(gc_us[False]),
    }
