"""Attribute values and limits as the OpenTelemetry SDK keeps them (shared by rag-api's spans
and log records: genai_telemetry/spans.py, log_records.py)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

_logger = logging.getLogger(__name__)
# Values stored as they are, without a cleaning call (str too, when no length limit is set).
PLAIN = frozenset({bool, int, float})


def clean_value(value: object, max_length: int | None) -> Any:
    """The attribute value the SDK stores for `value` (SDK 1.45: any OTLP AnyValue): None,
    bool, int, float, bytes as they are; strings cut to `max_length` when a limit is set;
    sequences as tuples and mappings as dicts, cleaned item by item; anything else as its
    `str()` if its class defines one, else None."""
    kind = value.__class__
    if kind is str:
        return value if max_length is None else value[:max_length]  # type: ignore[index]
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, (bool, int, float, bytes)):
        return value
    if isinstance(value, str):
        return value if max_length is None else value[:max_length]
    if isinstance(value, Sequence):
        return tuple(clean_value(item, max_length) for item in value)
    if isinstance(value, Mapping):
        return _clean_mapping(value, max_length)
    _logger.warning("Invalid type %s for attribute value: its str() or None", kind.__name__)
    return str(value) if _has_own_str(value) else None


def _clean_mapping(value: Mapping[Any, object], max_length: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key and (isinstance(key, str) or _has_own_str(key)):
            out[str(key)] = clean_value(item, max_length)
    return out


def _has_own_str(value: object) -> bool:
    kind = type(value)
    return kind.__str__ is not object.__str__ or kind.__repr__ is not object.__repr__


def no_limit_as_max(limit: int | None) -> int:
    """A SpanLimits or LogRecordLimits count (None: unlimited) as a number."""
    return sys.maxsize if limit is None else limit
