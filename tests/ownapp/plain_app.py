"""A user's LLM app with no telemetry code at all: FastAPI + the official `openai` client.

docs/own-app.md step 2 instruments such an app from outside, by starting it as
`opentelemetry-instrument python -m tests.ownapp.plain_app --port 8001`; nothing here imports
OpenTelemetry. The client takes its endpoint and key from OPENAI_BASE_URL and OPENAI_API_KEY,
as the openai library does by itself.

Routes: POST /api/ask {question, model} (one chat completion), POST /api/embed {text} (one
embeddings call), GET /healthz.
"""

from __future__ import annotations

import argparse

import openai
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

DEFAULT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


class Ask(BaseModel):
    question: str
    model: str = DEFAULT_MODEL


class Embed(BaseModel):
    text: str


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


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
