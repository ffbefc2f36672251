"""OTLP/HTTP span and log export with a faster encoder; the rest is the official exporters'.

Why replace the encoder: the official one (opentelemetry-exporter-otlp-proto-common) builds a
protobuf object per span, attribute and value, then serialises the tree. For rag-api's spans
that is the largest single piece of the telemetry's CPU (docs/performance.md, profile), and it
runs in the app's process under the app's GIL. This module writes the same protobuf wire format
directly into bytes, and remembers the encoded bytes of attribute pairs that repeat (operation
and provider names, models, routes, ...), of resources and of scopes. The HTTP client, retries,
timeouts, compression, headers and endpoint resolution stay the official exporters': the
exporters below only override the step that turns spans or log records into bytes.

The output parses to a message equal to the official encoders' (tests/demo_app/test_otlp_encoder.py
holds them together on spans and log records with every field and value type).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter,
    _is_request_too_large,
)
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind

_logger = logging.getLogger(__name__)

_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_HAS_IS_REMOTE = 0x100  # SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_INT64 = (-(1 << 63), (1 << 63) - 1)
_CACHE_MAX = 8192  # encoded attribute pairs remembered (then the cache starts over)
_CACHED_STR_MAX = 128  # longer string values are encoded each time, never cached

_SCALARS = frozenset({str, bool, int})
_fixed64 = struct.Struct("<Q").pack
_double = struct.Struct("<d").pack
_fixed32 = struct.Struct("<I").pack


def _varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n < 0x4000:  # two bytes: most span and log record bodies
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (tag byte already includes wire type 2)."""
    n = len(payload)
    if n < 0x80:  # the length fits the byte after the tag: no varint call
        return bytes((tag, n)) + payload
    return bytes((tag,)) + _varint(n) + payload


def _string(tag: int, text: str) -> bytes:
    return _field(tag, text.encode("utf-8"))


def _any_value(value: Any) -> bytes:
    """An AnyValue message body."""
    kind = value.__class__  # the common values first, by exact class: no isinstance chain
    if kind is str:
        return _string(0x0A, value)
    if kind is float:
        return b"\x21" + _double(value)
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _string(0x0A, value)
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"int attribute out of int64 range: {value}")
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if isinstance(value, float):
        return b"\x21" + _double(value)
    if isinstance(value, bytes):
        return _field(0x3A, value)
    if isinstance(value, Sequence):
        return _field(0x2A, b"".join(_field(0x0A, _any_value(v)) for v in value))
    if isinstance(value, Mapping):
        return _field(0x32, b"".join(_field(0x0A, _key_value(str(k), v)) for k, v in value.items()))
    if value is None:
        return b""
    raise ValueError(f"invalid attribute type {type(value).__name__}")


def _key_value(key: str, value: Any) -> bytes:
    return _string(0x0A, key) + _field(0x12, _any_value(value))


class _Encoder:
    """Shared by the span and log encoders: attribute pairs, scopes, resource/scope grouping.
    One per exporter (the cache is per instance; only the exporter's worker thread calls it)."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[int, str, type, Any], bytes] = {}
        self._strings: dict[tuple[int, str], bytes] = {}
        self._keys: dict[str, bytes] = {}  # attribute key → its encoded `key` field

    def _name(self, tag: int, text: str) -> bytes:
        """A string field that repeats (span and event names, severities), from the cache
        when short."""
        key = (tag, text)
        hit = self._strings.get(key)
        if hit is not None:
            return hit
        return self._remember(key, text, _string(tag, text))

    def _body(self, body: Any) -> bytes:
        """A log record's body field (an AnyValue); short string bodies from the cache."""
        if body.__class__ is not str:
            return _field(0x2A, _any_value(body))
        key = (0x2A, body)
        hit = self._strings.get(key)
        if hit is not None:
            return hit
        return self._remember(key, body, _field(0x2A, _string(0x0A, body)))

    def _remember(self, key: tuple[int, str], text: str, encoded: bytes) -> bytes:
        if len(text) <= _CACHED_STR_MAX:
            if len(self._strings) >= _CACHE_MAX:
                self._strings.clear()
            self._strings[key] = encoded
        return encoded

    def _attributes(self, tag: int, attributes: Mapping[str, Any] | None) -> bytes:
        """Repeated `KeyValue` fields with tag `tag`; short scalar pairs come from the cache."""
        if not attributes:
            return b""
        cache = self._pairs
        out = bytearray()
        for key, value in attributes.items():
            if value is None:  # no OTLP value for it: leave the attribute out
                continue
            kind = value.__class__
            cacheable = kind is not str or len(value) <= _CACHED_STR_MAX
            if cacheable and kind in _SCALARS:
                cache_key = (tag, key, kind, value)
                hit = cache.get(cache_key)
                if hit is not None:
                    out += hit
                    continue
            try:
                encoded = _field(tag, self._key(key) + _field(0x12, _any_value(value)))
            except Exception as error:  # the official encoder's behaviour: skip, say why
                _logger.exception("Failed to encode key %s: %s", key, error)
                continue
            if cacheable and kind in _SCALARS:
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[cache_key] = encoded
            out += encoded
        return bytes(out)

    def _key(self, key: str) -> bytes:
        """A KeyValue's `key` field: attribute keys repeat even where their values do not
        (ids, scores, costs, durations)."""
        hit = self._keys.get(key)
        if hit is None:
            if len(self._keys) >= _CACHE_MAX:
                self._keys.clear()
            hit = self._keys[key] = _string(0x0A, key)
        return hit

    def _scope(self, scope: Any) -> bytes:
        if scope is None:
            return b""
        body = b""
        if scope.name:
            body += _string(0x0A, scope.name)
        if scope.version:
            body += _string(0x12, scope.version)
        return body + self._attributes(0x1A, scope.attributes)

    def _item(self, item: Any) -> bytes:
        raise NotImplementedError

    def encode(self, items: Sequence[Any]) -> bytes:
        """Export*ServiceRequest bytes: items grouped by resource, then scope, in first-seen
        order (the official encoders' layout)."""
        groups: dict[tuple[int, int], tuple[Any, Any, list[bytes]]] = {}
        for item in items:
            scope = item.instrumentation_scope or None
            key = (id(item.resource), id(scope))
            group = groups.get(key)
            if group is None:
                group = groups[key] = (item.resource, scope, [])
            group[2].append(_field(0x12, self._item(item)))
        by_resource: dict[int, tuple[Any, list[bytes]]] = {}
        for resource, scope, encoded in groups.values():
            scoped = _field(0x0A, self._scope(scope)) + b"".join(encoded)
            if scope is not None and scope.schema_url:
                scoped += _string(0x1A, scope.schema_url)
            entry = by_resource.setdefault(id(resource), (resource, []))
            entry[1].append(_field(0x12, scoped))
        out = []
        for resource, scoped_items in by_resource.values():
            body = _field(0x0A, self._attributes(0x0A, resource.attributes))
            body += b"".join(scoped_items)
            if resource.schema_url:
                body += _string(0x1A, resource.schema_url)
            out.append(_field(0x0A, body))
        return b"".join(out)


class SpanEncoder(_Encoder):
    """Spans → ExportTraceServiceRequest bytes."""

    def _item(self, span: ReadableSpan) -> bytes:
        ctx = span.context
        out = [
            b"\x0a\x10",
            ctx.trace_id.to_bytes(16, "big"),
            b"\x12\x08",
            ctx.span_id.to_bytes(8, "big"),
        ]
        if ctx.trace_state:
            out.append(_string(0x1A, ",".join(f"{k}={v}" for k, v in ctx.trace_state.items())))
        parent = span.parent
        if parent is not None:
            out.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
        if span.name:
            out.append(self._name(0x2A, span.name))
        out.append(b"\x30" + bytes((_KIND[span.kind],)))
        out.append(b"\x39" + _fixed64(span.start_time or 0))
        out.append(b"\x41" + _fixed64(span.end_time or 0))
        out.append(self._attributes(0x4A, span.attributes))
        if span.dropped_attributes:
            out.append(b"\x50" + _varint(span.dropped_attributes))
        for event in span.events:
            body = b"\x09" + _fixed64(event.timestamp or 0)
            if event.name:
                body += self._name(0x12, event.name)
            body += self._attributes(0x1A, event.attributes)
            if event.dropped_attributes:
                body += b"\x20" + _varint(event.dropped_attributes)
            out.append(_field(0x5A, body))
        if span.dropped_events:
            out.append(b"\x60" + _varint(span.dropped_events))
        for link in span.links:
            lctx = link.context
            body = (
                b"\x0a\x10"
                + lctx.trace_id.to_bytes(16, "big")
                + b"\x12\x08"
                + lctx.span_id.to_bytes(8, "big")
                + self._attributes(0x22, link.attributes)
            )
            if link.dropped_attributes:
                body += b"\x28" + _varint(link.dropped_attributes)
            body += b"\x35" + _fixed32(_flags(lctx))
            out.append(_field(0x6A, body))
        if span.dropped_links:
            out.append(b"\x70" + _varint(span.dropped_links))
        status = span.status
        body = b""
        if status.description:
            body += _string(0x12, status.description)
        if status.status_code.value:
            body += b"\x18" + _varint(status.status_code.value)
        out.append(_field(0x7A, body))
        out.append(b"\x85\x01" + _fixed32(_flags(parent)))  # field 16, fixed32
        return b"".join(out)


class LogEncoder(_Encoder):
    """Log records → ExportLogsServiceRequest bytes."""

    def _item(self, item: ReadableLogRecord) -> bytes:
        record = item.log_record
        out = []
        if record.timestamp:
            out.append(b"\x09" + _fixed64(record.timestamp))
        severity = getattr(record.severity_number, "value", None)
        if severity:
            out.append(b"\x10" + _varint(severity))
        if record.severity_text:
            out.append(self._name(0x1A, record.severity_text))
        out.append(self._body(record.body))
        out.append(self._attributes(0x32, record.attributes))
        if item.dropped_attributes:
            out.append(b"\x38" + _varint(item.dropped_attributes))
        flags = int(record.trace_flags or 0)
        if flags:
            out.append(b"\x45" + _fixed32(flags))
        if record.trace_id:
            out.append(b"\x4a\x10" + record.trace_id.to_bytes(16, "big"))
        if record.span_id:
            out.append(b"\x52\x08" + record.span_id.to_bytes(8, "big"))
        if record.observed_timestamp:
            out.append(b"\x59" + _fixed64(record.observed_timestamp))
        if record.event_name:
            out.append(self._name(0x62, record.event_name))
        return b"".join(out)


def _flags(parent: Any) -> int:
    flags = _HAS_IS_REMOTE
    if parent is not None and parent.is_remote:
        flags |= _IS_REMOTE
    return flags


class FastOTLPSpanExporter(OTLPSpanExporter):
    """The official OTLP/HTTP span exporter with `SpanEncoder` in place of its encoder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = SpanEncoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            _logger.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        try:
            data = self._encoder.encode(spans)
        except Exception as error:
            _logger.error("Failed to encode span batch: %s", error)
            return SpanExportResult.FAILURE
        if _is_request_too_large(data, self._max_request_size):
            _logger.warning("Dropping span batch: %d bytes exceed max_request_size", len(data))
            return SpanExportResult.FAILURE
        result = self._client.export(data)
        return SpanExportResult.SUCCESS if result.success else SpanExportResult.FAILURE


class FastOTLPLogExporter(OTLPLogExporter):
    """The official OTLP/HTTP log exporter with `LogEncoder` in place of its encoder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = LogEncoder()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        if self._shutdown:
            _logger.warning("Exporter already shutdown, ignoring batch")
            return LogRecordExportResult.FAILURE
        try:
            data = self._encoder.encode(batch)
        except Exception as error:
            _logger.error("Failed to encode logs batch: %s", error)
            return LogRecordExportResult.FAILURE
        if _is_request_too_large(data, self._max_request_size):
            _logger.warning("Dropping logs batch: %d bytes exceed max_request_size", len(data))
            return LogRecordExportResult.FAILURE
        result = self._client.export(data)
        return LogRecordExportResult.SUCCESS if result.success else LogRecordExportResult.FAILURE
