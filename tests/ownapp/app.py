"""A user's own LLM app: instrumented ONLY with the official OpenTelemetry instrumentations.

`opentelemetry-instrumentation-genai-openai` (1.3b0, with `opentelemetry-util-genai` 1.3b0; the
successor of the deprecated `opentelemetry-instrumentation-openai-v2`) wraps the official `openai`
client; `opentelemetry-instrumentation-fastapi` (with OTEL_SEMCONV_STABILITY_OPT_IN=http)
measures the app's own HTTP server. No project code, no
hand-written metric: what the stack's rules and dashboards get is what such an app emits.
Metrics leave through `opentelemetry-exporter-prometheus` on /metrics, scraped by Prometheus
(the path that runs without a collector; the collector path is proven by `make smoke`).

    OWNAPP_OPENAI_URL=http://127.0.0.1:PORT/v1 python -m tests.ownapp.app --port 8001

Routes: POST /api/ask {question, model}, POST /api/ask/stream (text chunks), POST /api/embed
{text}. A provider 429 answers 503, any other provider error 502.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import openai
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app

from tests.ownapp.shapes import EMBEDDING_MODEL, Ask, Embed, add_healthz, provider_error, serve


def _setup_telemetry() -> None:
    # service.name from OTEL_SERVICE_NAME; the exporter registers with prometheus_client.
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    OpenAIInstrumentor().instrument()


def _provider_error(exc: openai.APIError) -> HTTPException:
    return provider_error(getattr(exc, "status_code", None))


def create_app() -> FastAPI:
    _setup_telemetry()
    # No retries: each injected provider error is one failed call, as the tests count them.
    client = openai.OpenAI(
        base_url=os.environ["OWNAPP_OPENAI_URL"], api_key="sk-ownapp-test", max_retries=0
    )
    app = FastAPI(title="ownapp")

    @app.post("/api/ask")
    def ask(body: Ask) -> dict[str, str]:
        try:
            r = client.chat.completions.create(
                model=body.model, messages=[{"role": "user", "content": body.question}]
            )
        except openai.APIError as exc:
            raise _provider_error(exc) from exc
        return {"answer": r.choices[0].message.content or ""}

    @app.post("/api/ask/stream")
    def ask_stream(body: Ask) -> StreamingResponse:
        try:
            stream = client.chat.completions.create(
                model=body.model,
                messages=[{"role": "user", "content": body.question}],
                stream=True,
                stream_options={"include_usage": True},
            )
        except openai.APIError as exc:
            raise _provider_error(exc) from exc

        def chunks() -> Iterator[str]:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/api/embed")
    def embed(body: Embed) -> dict[str, int]:
        try:
            r = client.embeddings.create(model=EMBEDDING_MODEL, input=body.text)
        except openai.APIError as exc:
            raise _provider_error(exc) from exc
        return {"dimensions": len(r.data[0].embedding)}

    add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz")
    return app


if __name__ == "__main__":
    serve(create_app, __doc__.split("\n\n")[0])
