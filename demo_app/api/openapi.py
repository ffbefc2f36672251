"""The published OpenAPI document, made to say exactly what the API accepts and answers.

FastAPI derives it from the pydantic models; this adds what they cannot carry: the chat models
the provider serves (an enum: anything else is a 422), and it drops FastAPI's own validation
error schema, which no route answers with (every error is `ErrorResponse`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_UNUSED = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI, chat_models: Sequence[str]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = spec.get("components", {}).get("schemas", {})
            body = schemas.get("ChatRequestBody", {}).get("properties", {})
            if "model" in body:
                body["model"] = {
                    "anyOf": [{"type": "string", "enum": sorted(chat_models)}, {"type": "null"}],
                    "title": "Model",
                    "description": "a chat model of the provider's catalog (default: "
                    "LLM_DEFAULT_MODEL)",
                }
            for name in _UNUSED:
                schemas.pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
