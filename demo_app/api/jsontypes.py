"""Field types that accept exactly what their JSON Schema says, under strict pydantic models.

Strict models refuse coercions the schema does not allow ("5" for an integer, false for a
number). Two cases need help: JSON Schema's `integer` includes integral numbers written with a
fraction (`256.0`), which strict pydantic rejects; and timestamps arrive as RFC 3339 strings,
which strict pydantic only parses from JSON text, not from the already-decoded body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter

_DATETIME = TypeAdapter(datetime)


def integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # anything else: the strict int validator decides (and names the field)


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        return _DATETIME.validate_python(value)
    if value is None or isinstance(value, datetime):
        return value
    raise ValueError("must be an RFC 3339 timestamp string")


JsonInt = Annotated[int, BeforeValidator(integral)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
