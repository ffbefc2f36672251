"""A user's own Anthropic app: the official `anthropic` client, instrumented ONLY with the official
`opentelemetry-instrumentation-genai-anthropic` (1.3b0, on `opentelemetry-util-genai` 1.3b0) and
`opentelemetry-instrumentation-fastapi`; metrics on /metrics through
`opentelemetry-exporter-prometheus`, scraped by Prometheus. No project code, no hand-written
metric (tests/ownapp/gemini_app.py is the same app on Gemini).

    OWNAPP_ANTHROPIC_URL=http://127.0.0.1:PORT python -m tests.ownapp.anthropic_app --port 8001

Routes: POST /api/ask {question, model}, POST /api/ask/stream (text chunks). A provider 429
answers 503, any other provider error 502.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import anthropic
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app

from tests.ownapp import shapes

DEFAULT_MODEL = "claude-sonnet-4"
MAX_TOKENS = 256


class Ask(shapes.Ask):
    model: str = DEFAULT_MODEL


def _setup_telemetry() -> None:
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    AnthropicInstrumentor().instrument()


def _provider_error(exc: anthropic.APIStatusError) -> HTTPException:
    return shapes.provider_error(exc.status_code)


def create_app() -> FastAPI:
    _setup_telemetry()
    # max_retries=0: one injected error, one failed call (the client retries 429/5xx by default).
    client = anthropic.Anthropic(
        base_url=os.environ["OWNAPP_ANTHROPIC_URL"], api_key="ownapp-anthropic-test", max_retries=0
    )
    app = FastAPI(title="ownapp-anthropic")

    def messages(body: Ask) -> dict[str, object]:
        content = [{"role": "user", "content": body.question}]
        return {"model": body.model, "max_tokens": MAX_TOKENS, "messages": content}

    @app.post("/api/ask")
    def ask(body: Ask) -> dict[str, str]:
        try:
            r = client.messages.create(**messages(body))  # type: ignore[call-overload]
        except anthropic.APIStatusError as exc:
            raise _provider_error(exc) from exc
        return {"answer": "".join(b.text for b in r.content if b.type == "text")}

    @app.post("/api/ask/stream")
    def ask_stream(body: Ask) -> StreamingResponse:
        try:
            stream = client.messages.create(**messages(body), stream=True)  # type: ignore[call-overload]
        except anthropic.APIStatusError as exc:
            raise _provider_error(exc) from exc

        def chunks() -> Iterator[str]:
            try:
                for event in stream:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield event.delta.text
            except anthropic.APIError:
                yield "[provider error]"

        return StreamingResponse(chunks(), media_type="text/plain")

    shapes.add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz")
    return app


if __name__ == "__main__":
    shapes.serve(create_app, __doc__.split("\n\n")[0])
