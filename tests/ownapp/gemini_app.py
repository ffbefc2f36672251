"""A user's own Gemini app: the official `google-genai` client, instrumented ONLY with the official
`opentelemetry-instrumentation-google-genai` (1.3b0, on `opentelemetry-util-genai` 1.3b0) and
`opentelemetry-instrumentation-fastapi`; metrics on /metrics through
`opentelemetry-exporter-prometheus`, scraped by Prometheus. No project code, no hand-written
metric (tests/ownapp/app.py is the same app on OpenAI).

    OWNAPP_GEMINI_URL=http://127.0.0.1:PORT python -m tests.ownapp.gemini_app --port 8001

Routes: POST /api/ask {question, model}, POST /api/ask/stream (text chunks). A provider 429
answers 503, any other provider error 502.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from google import genai
from google.genai import errors
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app

from tests.ownapp import shapes

DEFAULT_MODEL = "gemini-2.5-flash"


class Ask(shapes.Ask):
    model: str = DEFAULT_MODEL


def _setup_telemetry() -> None:
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    GoogleGenAiSdkInstrumentor().instrument()


def _provider_error(exc: errors.APIError) -> HTTPException:
    return shapes.provider_error(exc.code)


def create_app() -> FastAPI:
    _setup_telemetry()
    # The SDK retries nothing unless given retry_options: one injected error, one failed call.
    client = genai.Client(
        api_key="ownapp-gemini-test",
        http_options={"base_url": os.environ["OWNAPP_GEMINI_URL"]},
    )
    app = FastAPI(title="ownapp-gemini")

    @app.post("/api/ask")
    def ask(body: Ask) -> dict[str, str]:
        try:
            r = client.models.generate_content(model=body.model, contents=body.question)
        except errors.APIError as exc:
            raise _provider_error(exc) from exc
        return {"answer": r.text or ""}

    @app.post("/api/ask/stream")
    def ask_stream(body: Ask) -> StreamingResponse:
        try:
            stream = client.models.generate_content_stream(model=body.model, contents=body.question)
        except errors.APIError as exc:
            raise _provider_error(exc) from exc

        def chunks() -> Iterator[str]:
            try:
                for chunk in stream:
                    yield chunk.text or ""
            except errors.APIError:
                yield "[provider error]"

        return StreamingResponse(chunks(), media_type="text/plain")

    shapes.add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz")
    return app


if __name__ == "__main__":
    shapes.serve(create_app, __doc__.split("\n\n")[0])
