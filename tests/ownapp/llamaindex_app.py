"""A user's own RAG app on LlamaIndex (llama-index-core 0.14): an in-memory `VectorStoreIndex`
over a few documents embedded with LlamaIndex's `OpenAIEmbedding`, a query engine (retrieval,
then synthesis by the LLM) and a context chat engine (retrieval, then a streamed chat),
instrumented with the official `opentelemetry-instrumentation-genai-llama-index` 1.3b0 (on
`opentelemetry-util-genai` 1.3b0); metrics on /metrics through
`opentelemetry-exporter-prometheus`, the HTTP server by `opentelemetry-instrumentation-fastapi`.
No project code, no hand-written metric.

    OWNAPP_OPENAI_URL=http://127.0.0.1:PORT/v1 python -m tests.ownapp.llamaindex_app --port 8001

With OWNAPP_LLAMAINDEX_OPENAI=1 the app also runs the official
`opentelemetry-instrumentation-genai-openai` 1.3b0: genai-llama-index records retrievals (and
agents and tools) only, not the model calls and embeddings under them (measured in
tests/ownapp/test_llamaindex_live.py).

The LLM: `llama-index-llms-openai` (0.8.3, the newest) requires openai < 3, and this project's
other apps need openai 3 (openai-agents 0.24 requires >= 3), so the app does what such a user
does: a LlamaIndex `CustomLLM` over the official `openai` client.

Routes: POST /api/ask {question, model} (query engine), POST /api/ask/stream (chat engine,
streamed text). A provider 429 answers 503, any other provider error 502.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import openai
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.llms import (
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
)
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.embeddings.openai import OpenAIEmbedding
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.llama_index import LlamaIndexInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app
from pydantic import PrivateAttr

from tests.ownapp.shapes import (
    DEFAULT_MODEL,
    EMBEDDING_MODEL,
    Ask,
    add_healthz,
    provider_error,
    serve,
)

DOCUMENTS = (
    "Time to first token is the delay before a model streams its first chunk.",
    "An error budget is the share of failed requests an SLO allows over its window.",
    "Retrieval finds the chunks of the knowledge base closest to the question.",
    "Embeddings map a text to a vector; similar texts land close together.",
    "Prometheus scrapes metrics and evaluates alerting rules on them.",
)


class ChatModel(CustomLLM):
    """An OpenAI chat model behind LlamaIndex's LLM interface (prompt as one user message)."""

    model: str = DEFAULT_MODEL
    _client: openai.OpenAI = PrivateAttr()

    def __init__(self, client: openai.OpenAI, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, is_chat_model=False)

    def _messages(self, prompt: str) -> list[Any]:
        return [{"role": "user", "content": prompt}]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        r = self._client.chat.completions.create(model=self.model, messages=self._messages(prompt))
        return CompletionResponse(text=r.choices[0].message.content or "", raw=r)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        stream = self._client.chat.completions.create(
            model=self.model, messages=self._messages(prompt), stream=True
        )

        def gen() -> CompletionResponseGen:
            text = ""
            for chunk in stream:
                delta = chunk.choices[0].delta.content or "" if chunk.choices else ""
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()


def _setup_telemetry() -> None:
    # service.name from OTEL_SERVICE_NAME; the exporter registers with prometheus_client.
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    LlamaIndexInstrumentor().instrument()
    if os.environ.get("OWNAPP_LLAMAINDEX_OPENAI") == "1":
        OpenAIInstrumentor().instrument()


def create_app() -> FastAPI:
    _setup_telemetry()
    # No retries: each injected provider error is one failed call, as the tests count them.
    url = os.environ["OWNAPP_OPENAI_URL"]
    client = openai.OpenAI(base_url=url, api_key="sk-ownapp-test", max_retries=0)
    Settings.embed_model = OpenAIEmbedding(
        model=EMBEDDING_MODEL, api_base=url, api_key="sk-ownapp-test", max_retries=0
    )
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCUMENTS])
    app = FastAPI(title="ownapp-llamaindex")

    @app.post("/api/ask")
    def ask(body: Ask) -> dict[str, str]:
        engine = index.as_query_engine(llm=ChatModel(client, model=body.model), similarity_top_k=2)
        try:
            return {"answer": str(engine.query(body.question))}
        except openai.APIStatusError as exc:
            raise provider_error(exc.status_code) from exc

    @app.post("/api/ask/stream")
    def ask_stream(body: Ask) -> StreamingResponse:
        engine = index.as_chat_engine(
            chat_mode="context", llm=ChatModel(client, model=body.model), similarity_top_k=2
        )
        try:
            tokens: Iterator[str] = engine.stream_chat(body.question).response_gen
            first = next(tokens, "")  # a provider error surfaces here, before the 200
        except openai.APIStatusError as exc:
            raise provider_error(exc.status_code) from exc
        return StreamingResponse(
            (t for part in ([first], tokens) for t in part), media_type="text/plain"
        )

    add_healthz(app)
    FastAPIInstrumentor.instrument_app(app)
    app.mount("/metrics", make_asgi_app())
    return app


if __name__ == "__main__":
    serve(create_app, __doc__.split("\n\n")[0])
