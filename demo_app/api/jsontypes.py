"""Field types that accept exactly what their JSON Schema says, under strict pydantic models.

Strict models refuse coercions the schema does not allow ("5" for an integer, false for a
number). Three cases need help: JSON Schema's `integer` includes integral numbers written with a
fraction (`256.0`), which strict pydantic rejects; timestamps arrive as RFC 3339 strings,
which strict pydantic only parses from JSON text, not from the already-decoded body (and lax
pydantic also reads Unix seconds, bare dates and times without an offset); and JSON
text may escape a lone surrogate (`"\\ud800"`), which is no Unicode text: kept, it breaks every
later serialization of the value (a response, an OTLP attribute).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, TypeAdapter

from demo_app.providers.base import unicode_problem

_DATETIME = TypeAdapter(datetime)
# RFC 3339 § 5.6 date-time, which the schema's `format: date-time` promises: date, "T", time,
# any fraction, and an offset ("Z" or ±hh:mm), never optional. Alertmanager sends Go's
# RFC3339Nano: up to 9 fraction digits (2026-12-04T05:00:00.123456789Z; pydantic keeps the
# microseconds) and 0001-01-01T00:00:00Z as the endsAt of firing alerts.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"  # date "T" time
    r"(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"  # fraction, offset
)
_EXAMPLE = "2026-01-01T00:00:00Z"


def integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # anything else: the strict int validator decides (and names the field)


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value):  # pydantic alone takes "1700000000", "2026-01-01", ...
            raise ValueError(f"must be an RFC 3339 date-time with an offset, e.g. {_EXAMPLE}")
        return _DATETIME.validate_python(value)
    if value is None or isinstance(value, datetime):
        return value
    raise ValueError("must be an RFC 3339 timestamp string")


def _unicode(value: str) -> str:
    if problem := unicode_problem(value):
        raise ValueError(problem)
    return value


JsonInt = Annotated[int, BeforeValidator(integral)]
# A string that can be written back as UTF-8: what a value stored and served again must be.
JsonText = Annotated[str, AfterValidator(_unicode)]
# The largest integer every JSON reader holds exactly (I-JSON, RFC 7493): within an OTLP int64
# attribute, and a schema maximum a float-based validator compares correctly.
JSON_SAFE_INT_MAX = 2**53 - 1
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
