"""A user's LLM app with no telemetry code at all: FastAPI + the official `openai` client.

docs/own-app.md step 2 instruments such an app from outside, by starting it as
`opentelemetry-instrument python -m tests.ownapp.plain_app --port 8001`; nothing here imports
OpenTelemetry. The client takes its endpoint and key from OPENAI_BASE_URL and OPENAI_API_KEY,
as the openai library does by itself.

Routes: POST /api/ask {question, model} (one chat completion), POST /api/embed {text} (one
embeddings call), GET /healthz.
"""

from __future__ import annotations

import openai
from fastapi import FastAPI

from tests.ownapp.shapes import EMBEDDING_MODEL, Ask, Embed, add_healthz, serve

app = FastAPI(title="plain-llm-app")
client = openai.OpenAI(max_retries=0)


@app.post("/api/ask")
def ask(body: Ask) -> dict[str, str]:
    r = client.chat.completions.create(
        model=body.model, messages=[{"role": "user", "content": body.question}]
    )
    return {"answer": r.choices[0].message.content or ""}


@app.post("/api/embed")
def embed(body: Embed) -> dict[str, int]:
    r = client.embeddings.create(model=EMBEDDING_MODEL, input=body.text)
    return {"dimensions": len(r.data[0].embedding)}


add_healthz(app)


if __name__ == "__main__":
    serve(lambda: app, __doc__.split("\n\n")[0])
