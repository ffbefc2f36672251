"""rag-api's tracer: OpenTelemetry API spans without the SDK's per-span machinery.

Why not the SDK's TracerProvider: in rag-api's profile its span objects were the largest part of
the telemetry's CPU (docs/performance.md §4): a lock and a `BoundedAttributes` (another lock,
validation through several calls per value) per span, a `ReadableSpan` snapshot copied at end,
processor fan-out and a batch processor per span. Here a recording span is one plain object:
attributes in a dict, checked in line; at end the span itself is the readable record (it no
longer changes) and goes to the export queue (genai_telemetry/export.py) with one append.

What stays the OpenTelemetry project's: the API (`trace.Tracer`/`trace.Span`, context,
propagation — any code written against the API works with this tracer), the SDK's samplers
(`OTEL_TRACES_SAMPLER`/`_ARG`), id generator, span limits (`OTEL_SPAN_*_LIMIT`,
`OTEL_ATTRIBUTE_*_LIMIT`), `Resource`, events and the exporters (the OTLP and in-memory
exporters take these spans: they carry the fields a `ReadableSpan` has; not `to_json()`, so not
the console exporter). Semantics follow the SDK's (a test
holds them together): attribute values cleaned as the SDK cleans them, an OK status is final,
UNSET is ignored, an ended span ignores changes, RECORD_ONLY spans record but are not exported.
One difference: a span over its attribute limit keeps its first attributes and drops new ones
(the SDK evicts the oldest); both count the drop.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, SpanLimits
from opentelemetry.sdk.trace import sampling as sdk_sampling
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

from genai_telemetry.attribute_values import PLAIN, clean_value, no_limit_as_max
from genai_telemetry.export import ExportQueue

__all__ = ["Span", "Tracer", "TracerProvider"]

_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_ENDING = threading.Lock()  # held for a check and a set: no allocation per span


class Span(trace.Span):
    """A recording span; after `end()` also the read-only record exporters receive."""

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: types.Attributes,
        links: Sequence[Link],
        start_time: int | None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        trace_hex: str = "",
    ) -> None:
        self._tracer = tracer
        # The trace id as 32 lowercase hex digits, formatted once per trace (a child gets its
        # parent's), and the same if the span is sampled, else None: what exemplars point at.
        self.trace_hex = trace_hex or format(context.trace_id, "032x")
        self.sampled_trace_hex = self.trace_hex if context.trace_flags.sampled else None
        self.name = name
        self.context = context
        self.parent = parent
        self.kind = kind
        self.attributes: dict[str, Any] = {}
        self.dropped_attributes = 0
        # No event or link list until the first one: a span that waits in the export queue
        # keeps no container the garbage collector must visit beyond itself and its context.
        self.events: Sequence[Event] = ()
        self.dropped_events = 0
        self.links: Sequence[Link] = ()
        self.dropped_links = 0
        self.status = _UNSET
        self.start_time = start_time or time.time_ns()
        self.end_time: int | None = None
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        if attributes:
            self.set_attributes(attributes)
        for link in links:
            self.add_link(link.context, link.attributes)

    @property
    def resource(self) -> Resource:
        return self._tracer.provider.resource

    @property
    def instrumentation_scope(self) -> InstrumentationScope:
        return self._tracer.scope

    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: types.AttributeValue) -> None:
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, types.AttributeValue]) -> None:
        if self.end_time is not None:
            return
        own = self.attributes
        tracer = self._tracer
        room, whole_str = tracer.max_attributes - len(own), tracer.whole_str
        for key, value in attributes.items():
            if key not in own:
                if not key or room <= 0:
                    self.dropped_attributes += 1
                    continue
                room -= 1
            kind = value.__class__  # the common scalars need no cleaning: set as they are
            if kind in PLAIN or (kind is str and whole_str):
                own[key] = value
            else:
                own[key] = clean_value(value, tracer.max_length)

    def _bounded(self, attributes: types.Attributes, limit: int | None) -> BoundedAttributes:
        """An event's or link's attributes as the SDK keeps them (rare: the API's own class)."""
        max_length = self._tracer.provider.limits.max_attribute_length
        return BoundedAttributes(limit, attributes, immutable=True, max_value_len=max_length)

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self.end_time is not None:
            return
        limits = self._tracer.provider.limits
        event = Event(name, self._bounded(attributes, limits.max_event_attributes), timestamp)
        self.events = events = self.events if self.events else []
        self.dropped_events += _append_bounded(events, event, limits.max_events)

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        # The SDK keeps a link with an invalid context if it carries attributes or trace state.
        if self.end_time is not None or not context:
            return
        if not (context.is_valid or attributes or context.trace_state):
            return
        limits = self._tracer.provider.limits
        link = Link(context, self._bounded(attributes, limits.max_link_attributes))
        self.links = links = self.links if self.links else []
        self.dropped_links += _append_bounded(links, link, limits.max_links)

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None or self.status.status_code is StatusCode.OK:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self.status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        cls = type(exception)
        module = cls.__module__
        attrs: dict[str, Any] = {
            "exception.type": cls.__qualname__
            if module in ("builtins", "", None)
            else f"{module}.{cls.__qualname__}",
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        attrs.update(attributes or {})
        self.add_event("exception", attrs, timestamp)

    def end(self, end_time: int | None = None) -> None:
        with _ENDING:  # two threads ending a span export it once
            if self.end_time is not None:
                return
            self.end_time = end_time or time.time_ns()
        if self.sampled_trace_hex is not None:
            self._tracer.provider.on_end(self)

    def __exit__(self, exc_type: Any, exc_val: BaseException | None, exc_tb: Any) -> None:
        if exc_val is not None and self.is_recording():
            if self._record_exception:
                self.record_exception(exc_val, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc_val).__name__}: {exc_val}"))
        self.end()

    def __repr__(self) -> str:
        return f"Span(name={self.name!r}, context={self.context!r})"


class Tracer(trace.Tracer):
    def __init__(self, provider: TracerProvider, scope: InstrumentationScope) -> None:
        self.provider = provider
        self.scope = scope
        # The span limits set_attribute reads on every call, one attribute away.
        self.max_attributes = no_limit_as_max(provider.limits.max_span_attributes)
        self.max_length = provider.limits.max_span_attribute_length
        self.whole_str = self.max_length is None

    def start_span(  # type: ignore[override]
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        current = trace.get_current_span(context)
        parent = current.get_span_context()
        if not parent.is_valid:
            parent = None
        provider = self.provider
        trace_id = parent.trace_id if parent else provider.ids.generate_trace_id()
        decision = provider.decide(context, parent, trace_id, name, kind, attributes, links)
        recording, sampled, extra, trace_state = decision
        span_context = SpanContext(
            trace_id,
            provider.ids.generate_span_id(),
            is_remote=False,
            trace_flags=_SAMPLED if sampled else _NOT_SAMPLED,
            trace_state=trace_state,
        )
        if not recording:
            return trace.NonRecordingSpan(span_context)
        if extra is not None:  # a sampler decided: its attributes are the span's (as in the SDK)
            attributes = extra
        return Span(
            self,
            name,
            span_context,
            parent,
            kind,
            attributes,
            links or (),
            start_time,
            record_exception,
            set_status_on_exception,
            current.trace_hex if parent and current.__class__ is Span else "",
        )

    @contextlib.contextmanager  # type: ignore[override]
    def start_as_current_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        span = self.start_span(
            name, context, kind, attributes, links, start_time, record_exception,
            set_status_on_exception,
        )  # fmt: skip
        with trace.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current


Decision = tuple[bool, bool, Mapping[str, Any] | None, Any]


class TracerProvider(trace.TracerProvider):
    """Tracers sharing a resource, sampler, limits and one export queue (or none: spans are
    recorded and dropped at end)."""

    def __init__(
        self,
        resource: Resource,
        *,
        sampler: sdk_sampling.Sampler | None = None,
        limits: SpanLimits | None = None,
        queue: ExportQueue[Span] | None = None,
    ) -> None:
        self.resource = resource
        self.sampler = sampler  # None: parentbased_always_on, decided in line
        self.limits = limits or SpanLimits()
        self.ids = RandomIdGenerator()
        self.queue = queue
        self.on_end: Callable[[Span], None] = queue.push if queue is not None else _discard

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.queue.force_flush(timeout_millis) if self.queue is not None else True

    def shutdown(self) -> None:
        if self.queue is not None:
            self.queue.shutdown()

    def get_tracer(  # type: ignore[override]
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> Tracer:
        scope = InstrumentationScope(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )
        return Tracer(self, scope)

    def decide(
        self,
        context: otel_context.Context | None,
        parent: SpanContext | None,
        trace_id: int,
        name: str,
        kind: SpanKind,
        attributes: types.Attributes,
        links: Sequence[Link] | None,
    ) -> Decision:
        """(recording, sampled, the sampler's attributes — None when decided in line —, trace
        state) of a new span."""
        if self.sampler is None:  # parent-based, root spans always on: no sampler call
            sampled = parent.trace_flags.sampled if parent else True
            return sampled, sampled, None, parent.trace_state if parent else None
        result = self.sampler.should_sample(context, trace_id, name, kind, attributes, links)
        decision = result.decision
        return decision.is_recording(), decision.is_sampled(), result.attributes, result.trace_state


def _append_bounded(items: list[Any], item: object, limit: int | None) -> int:
    """Append `item`, evicting the oldest at `limit` (None: unlimited) as the SDK's bounded
    lists do; returns how many were dropped (0 or 1)."""
    if limit is not None and len(items) >= limit:
        if limit == 0:
            return 1
        del items[0]
        items.append(item)
        return 1
    items.append(item)
    return 0


def _discard(_: Span) -> None:
    return None
