"""What the own-app test apps share and that is not telemetry: request bodies, model names, the
health route and the command line. (Each app's telemetry set-up stays in the app itself.)"""

from __future__ import annotations

import argparse
from collections.abc import Callable

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
