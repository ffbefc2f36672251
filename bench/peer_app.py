"""The peer app of `bench peers`: what a user would build instead of rag-api, on the official stack.

A FastAPI app with rag-api's request shape (`POST /v1/chat {"question": ...}`) that makes one
embeddings call and one chat completion through the official `openai` client against an
OpenAI-compatible API (the loopback fake in benchmarks). Run bare, or with `--otel`: the
official OpenTelemetry instrumentation set up as its docs show — `opentelemetry-instrumentation-
genai-openai` (the successor of the deprecated openai-v2) and the FastAPI instrumentation on an
SDK TracerProvider, MeterProvider and LoggerProvider, each exporting over OTLP/HTTP (endpoint
from OTEL_EXPORTER_OTLP_ENDPOINT), every trace sampled (the SDK default), stable HTTP semantic
conventions as rag-api uses.

    python -m bench.peer_app --port 8001 --base-url http://127.0.0.1:9999/v1 [--otel]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

SERVICE_NAME = "peer-app"
CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
SYSTEM_PROMPT = "Answer from the operations handbook; say when you do not know."


class ChatIn(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    feature: str | None = None
    user_tier: str | None = None


def _otel() -> Callable[[], None]:
    """Install the official instrumentation process-wide, as a user's app does at start-up;
    returns the shutdown that flushes every exporter."""
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    from opentelemetry import metrics, trace
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": SERVICE_NAME})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    meter_provider = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    set_logger_provider(logger_provider)
    OpenAIInstrumentor().instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
    )

    def shutdown() -> None:
        for provider in (tracer_provider, meter_provider, logger_provider):
            provider.shutdown()

    return shutdown


def create_app(base_url: str, *, otel: bool) -> FastAPI:
    shutdown = _otel() if otel else None
    from openai import AsyncOpenAI  # after instrumenting, as the instrumentation's docs say

    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench-not-a-secret", max_retries=0)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()
        if shutdown is not None:
            shutdown()

    app = FastAPI(title=SERVICE_NAME, lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/chat")
    async def chat(body: ChatIn) -> dict[str, Any]:
        embedded = await client.embeddings.create(model=EMBEDDING_MODEL, input=[body.question])
        completion = await client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": body.question},
            ],
        )
        usage = completion.usage
        return {
            "answer": completion.choices[0].message.content,
            "model": completion.model,
            "dimensions": len(embedded.data[0].embedding),
            "usage": {
                "input_tokens": usage.prompt_tokens if usage else None,
                "output_tokens": usage.completion_tokens if usage else None,
            },
        }

    if otel:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="readyz")  # as rag-api does
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible API root (…/v1)")
    parser.add_argument("--otel", action="store_true", help="official OpenTelemetry stack on")
    args = parser.parse_args(argv)
    app = create_app(args.base_url, otel=args.otel)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
