"""A user's own Amazon Bedrock app: boto3's `bedrock-runtime` client, instrumented ONLY with the
official `opentelemetry-instrumentation-genai-bedrock` (1.3b0, on `opentelemetry-util-genai`
1.3b0) and `opentelemetry-instrumentation-fastapi`; metrics on /metrics through
`opentelemetry-exporter-prometheus`, scraped by Prometheus. No project code, no hand-written
metric (tests/ownapp/anthropic_app.py is the same app on Anthropic's own API).

    OWNAPP_BEDROCK_URL=http://127.0.0.1:PORT python -m tests.ownapp.bedrock_app --port 8001

Routes: POST /api/ask {question, model} (Converse), POST /api/ask/stream (ConverseStream, text
chunks), POST /api/embed {text} (InvokeModel on Titan Text Embeddings V2). A provider 429
(ThrottlingException) answers 503, any other provider error 502. botocore retries throttling and
5xx errors by default (3 attempts in all with botocore 1.44, inside the one call the
instrumentation records); retries are off unless OWNAPP_BEDROCK_RETRIES=default, so one injected
error is one failed call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.bedrock import BedrockInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app

from tests.ownapp import shapes

# A US cross-region inference profile: newer Claude models are served on demand only through one.
DEFAULT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
EMBEDDING_MODEL = "amazon.titan-embed-text-v2:0"
MAX_TOKENS = 256


class Ask(shapes.Ask):
    model: str = DEFAULT_MODEL


def _setup_telemetry() -> None:
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    BedrockInstrumentor().instrument()


def _client() -> Any:
    retries: dict[str, Any] = {"mode": "standard", "total_max_attempts": 1}
    if os.environ.get("OWNAPP_BEDROCK_RETRIES") == "default":
        retries = {}
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=os.environ["OWNAPP_BEDROCK_URL"],
        aws_access_key_id="ownapp-bedrock-test",
        aws_secret_access_key="ownapp-bedrock-test",
        config=Config(retries=retries),  # type: ignore[arg-type]
    )


def _provider_error(exc: ClientError) -> HTTPException:
    return shapes.provider_error(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def create_app() -> FastAPI:
    _setup_telemetry()
    client = _client()
    app = FastAPI(title="ownapp-bedrock")

    def converse(body: Ask) -> dict[str, Any]:
        return {
            "modelId": body.model,
            "messages": [{"role": "user", "content": [{"text": body.question}]}],
            "inferenceConfig": {"maxTokens": MAX_TOKENS},
        }

    @app.post("/api/ask")
    def ask(body: Ask) -> dict[str, str]:
        try:
            r = client.converse(**converse(body))
        except ClientError as exc:
            raise _provider_error(exc) from exc
        content = r["output"]["message"]["content"]
        return {"answer": "".join(block.get("text", "") for block in content)}

    @app.post("/api/ask/stream")
    def ask_stream(body: Ask) -> StreamingResponse:
        try:
            stream = client.converse_stream(**converse(body))["stream"]
        except ClientError as exc:
            raise _provider_error(exc) from exc

        def chunks() -> Iterator[str]:
            try:
                for event in stream:
                    if "contentBlockDelta" in event:
                        yield event["contentBlockDelta"]["delta"].get("text", "")
            except (ClientError, BotoCoreError):
                yield "[provider error]"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/api/embed")
    def embed(body: shapes.Embed) -> dict[str, int]:
        request = json.dumps({"inputText": body.text, "dimensions": 256})
        try:
            r = client.invoke_model(modelId=EMBEDDING_MODEL, body=request)
        except ClientError as exc:
            raise _provider_error(exc) from exc
        return {"dimensions": len(json.loads(r["body"].read())["embedding"])}

    shapes.add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz")
    return app


if __name__ == "__main__":
    shapes.serve(create_app, __doc__.split("\n\n")[0])
