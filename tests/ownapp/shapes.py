"""What the own-app test apps share and that is not telemetry: request bodies, model names, the
answer to a provider error, the health route and the command line. (Each app's telemetry
set-up stays in the app itself.)"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DEFAULT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


class Ask(BaseModel):
    question: str
    model: str = DEFAULT_MODEL


class Embed(BaseModel):
    text: str


def provider_error(status: int | None) -> HTTPException:
    """What every test app answers for a provider error: 503 for the provider's 429 (rate
    limited), 502 for any other (the live tests count both)."""
    return HTTPException(503 if status == 429 else 502, detail=f"provider error: {status}")


def add_healthz(app: FastAPI) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}


def serve(create_app: Callable[[], FastAPI], description: str) -> None:
    """`python -m tests.ownapp.X --port N`: the app on 127.0.0.1:N."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")
