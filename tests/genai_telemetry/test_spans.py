"""genai_telemetry.spans: the same spans as the OpenTelemetry SDK for the same API calls.

The parity test drives the SDK's TracerProvider and ours through one script of API calls
(attributes of every valid and invalid type, late attributes, events, links, exceptions, status
rules, renames, changes after end, nested current spans) and compares what each exports, encoded
by the official OTLP encoder, ids and timestamps aside. The rest covers what the script cannot:
sampling, limits and the export path of a real Telemetry.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, sampling
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from genai_telemetry import otlp
from genai_telemetry.export import ExportQueue
from genai_telemetry.spans import Span, TracerProvider
from genai_telemetry.tracing import sampler_from_env

RESOURCE = Resource.create({"service.name": "rag-api"})
REMOTE = SpanContext(
    0x4BF92F3577B34DA6A3CE929D0E0E4736,
    0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(1),
    trace_state=TraceState([("vendor", "v1")]),
)


def _ours(**kwargs: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    queue = ExportQueue[Span](exporter, what="spans", max_queue=1000, batch=100, delay_s=60)
    return TracerProvider(RESOURCE, queue=queue, **kwargs), exporter


def _sdk(**kwargs: Any) -> tuple[SDKTracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = SDKTracerProvider(resource=RESOURCE, **kwargs)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _script(provider: trace.TracerProvider) -> None:
    tracer = provider.get_tracer("demo_app", "0.1", schema_url="https://opentelemetry.io/s/1")
    remote = trace.set_span_in_context(NonRecordingSpan(REMOTE))
    with tracer.start_as_current_span("POST", context=remote, kind=SpanKind.SERVER) as server:
        server.set_attributes({"http.route": "/v1/chat", "http.response.status_code": 200})
        server.update_name("POST /v1/chat")
        link = Link(REMOTE, {"why": "feedback", "bad": object()})  # type: ignore[dict-item]
        span = tracer.start_span(
            "chat gpt-4o-mini",
            kind=SpanKind.CLIENT,
            links=[link],
            attributes={"gen_ai.operation.name": "chat", "n": 3, "f": 0.5, "ok": True},
        )
        span.set_attribute("strs", ["a", None, "b"])
        span.set_attribute("mixed", ["a", 1])  # SDK 1.45: any AnyValue, mixed arrays too
        span.set_attribute("map", {"a": 1, "": 2, 3: [b"x"]})  # type: ignore[dict-item]
        span.set_attribute("none", None)  # type: ignore[arg-type]
        span.set_attribute("", "empty key: dropped")
        span.set_attribute("bools", (True, False))
        span.set_attribute("floats", [1.5, 2.5])
        span.add_event("gen_ai.evaluation.result", {"score": 0.9, "bad": [1, "x"]})
        span.add_link(REMOTE, {"late": 1})
        span.set_status(StatusCode.UNSET)  # ignored
        span.set_status(Status(StatusCode.ERROR, "boom"))
        span.set_status(StatusCode.OK)
        span.set_status(StatusCode.ERROR, "after OK: ignored")
        span.end()
        span.set_attribute("after.end", 1)
        span.update_name("renamed after end")
        span.end()  # a second end exports nothing more
        try:
            with tracer.start_as_current_span("execute_tool calculator"):
                raise ValueError("bad expression")
        except ValueError:
            pass
        failing = tracer.start_span("retrieval", record_exception=False)
        try:
            with failing:
                raise KeyError("k")
        except KeyError:
            pass


def _normalised(spans: Any) -> ExportTraceServiceRequest:
    """The official encoding with ids, times and the tracer's own stack frames set aside."""
    message = encode_spans(spans)
    for resource_spans in message.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                span.start_time_unix_nano = span.end_time_unix_nano = 0
                for event in span.events:
                    event.time_unix_nano = 0
                    for attribute in event.attributes:
                        if attribute.key == "exception.stacktrace":
                            lines = attribute.value.string_value.splitlines()
                            attribute.value.string_value = "\n".join([lines[0], *lines[-3:]])
                if span.parent_span_id != REMOTE.span_id.to_bytes(8, "big"):
                    span.parent_span_id = b"local" if span.parent_span_id else b""
                span.span_id = b""
    return message


def test_the_same_script_exports_the_same_spans_as_the_sdk() -> None:
    sdk, sdk_spans = _sdk()
    ours, our_spans = _ours()
    _script(sdk)
    _script(ours)
    assert ours.force_flush()
    expected = sdk_spans.get_finished_spans()
    got = our_spans.get_finished_spans()
    assert len(expected) == len(got) == 4
    assert _normalised(got) == _normalised(expected)
    assert {s.context.trace_id for s in got} == {REMOTE.trace_id}  # the remote parent's trace
    assert [s.context.trace_state for s in got] == [REMOTE.trace_state] * 4
    # Our encoder reads our spans as the official encoder does (it leaves None values out).
    ours_encoded = ExportTraceServiceRequest.FromString(otlp.SpanEncoder().encode(got))
    assert ours_encoded == _without_empty_values(encode_spans(got))


def _without_empty_values(message: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
    for resource_spans in message.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                for holder in (span, *span.links, *span.events):
                    kept = [a for a in holder.attributes if a.value.WhichOneof("value")]
                    del holder.attributes[:]
                    holder.attributes.extend(kept)
    return message


def test_unsampled_parent_gives_a_non_recording_span_in_its_trace() -> None:
    provider, exporter = _ours()
    parent = SpanContext(REMOTE.trace_id, REMOTE.span_id, True, TraceFlags(0))
    ctx = trace.set_span_in_context(NonRecordingSpan(parent))
    span = provider.get_tracer("t").start_span("s", context=ctx)
    assert not span.is_recording()
    assert span.get_span_context().trace_id == REMOTE.trace_id
    assert not span.get_span_context().trace_flags.sampled
    span.end()
    provider.force_flush()
    assert exporter.get_finished_spans() == ()


class _RecordOnly(sampling.Sampler):
    def should_sample(self, *args: Any, **kwargs: Any) -> sampling.SamplingResult:
        return sampling.SamplingResult(sampling.Decision.RECORD_ONLY, {"sampler.attr": "x"})

    def get_description(self) -> str:
        return "record only"


def test_record_only_spans_record_but_are_not_exported() -> None:
    provider, exporter = _ours(sampler=_RecordOnly())
    span = provider.get_tracer("t").start_span("s", attributes={"a": 1})
    assert span.is_recording() and isinstance(span, Span)
    assert span.attributes == {"sampler.attr": "x"}  # the sampler's set, as the SDK keeps it
    span.end()
    provider.force_flush()
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("env", "recording"),
    [
        ({}, True),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, False),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, False),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"}, True),
    ],
)
def test_sampler_from_the_environment(env: dict[str, str], recording: bool) -> None:
    provider, exporter = _ours(sampler=sampler_from_env(env))
    provider.get_tracer("t").start_span("root").end()
    provider.force_flush()
    assert len(exporter.get_finished_spans()) == int(recording)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER="),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "_ARG="),
    ],
)
def test_a_bad_sampler_setting_is_an_error_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        sampler_from_env(env)


def _limited(make: Callable[..., tuple[Any, InMemorySpanExporter]]) -> Any:
    limits = SpanLimits(
        max_span_attributes=3, max_events=2, max_links=2, max_attribute_length=4,
        max_event_attributes=1, max_link_attributes=1,
    )  # fmt: skip
    provider, exporter = make(span_limits=limits) if make is _sdk else make(limits=limits)
    state_only = SpanContext(0, 0, False, trace_state=TraceState([("k", "v")]))
    links = [Link(REMOTE), Link(state_only), Link(SpanContext(0, 0, False))]  # the last: dropped
    span = provider.get_tracer("t").start_span("s", links=links)
    for i in range(5):
        span.set_attribute(f"a{i}", "long value")
    span.add_link(REMOTE, {"x": 1, "y": 2})
    span.add_event("e1", {"x": 1, "y": 2})
    span.add_event("e2")
    span.record_exception(ValueError("the newest event is kept"))
    span.end()
    provider.force_flush()
    (exported,) = exporter.get_finished_spans()
    return exported


def test_limits_drop_what_the_sdk_drops() -> None:
    ours, sdk = _limited(_ours), _limited(_sdk)
    for field in ("dropped_attributes", "dropped_events", "dropped_links"):
        assert getattr(ours, field) == getattr(sdk, field) > 0, field
    assert [e.name for e in ours.events] == [e.name for e in sdk.events] == ["e2", "exception"]
    assert [(dict(e.attributes or {}), e.dropped_attributes) for e in ours.events] == [
        (dict(e.attributes or {}), e.dropped_attributes) for e in sdk.events
    ]
    view = [(lk.context, dict(lk.attributes or {}), lk.dropped_attributes) for lk in ours.links]
    assert view == [
        (lk.context, dict(lk.attributes or {}), lk.dropped_attributes) for lk in sdk.links
    ]
    assert len(ours.links) == 2 and ours.links[-1].dropped_attributes == 1
    assert len(ours.attributes) == len(sdk.attributes) == 3
    assert set(ours.attributes.values()) == set(sdk.attributes.values()) == {"long"}
    # The one difference (module docstring): ours keeps the first span attributes.
    assert list(ours.attributes) == ["a0", "a1", "a2"]
    assert list(sdk.attributes) == ["a2", "a3", "a4"]


def test_a_span_ended_by_two_threads_is_exported_once() -> None:
    provider, exporter = _ours()
    span = provider.get_tracer("t").start_span("s")
    threads = [threading.Thread(target=span.end) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    provider.force_flush()
    assert len(exporter.get_finished_spans()) == 1


def test_unlimited_span_limits_keep_everything() -> None:
    unset = SpanLimits.UNSET
    limits = SpanLimits(
        max_span_attributes=unset, max_events=unset, max_links=unset,
        max_event_attributes=unset, max_link_attributes=unset,
    )  # fmt: skip
    provider, exporter = _ours(limits=limits)
    span = provider.get_tracer("t").start_span("s", links=[Link(REMOTE, {"a": 1})] * 200)
    span.set_attributes({f"a{i}": i for i in range(200)})
    for i in range(200):
        span.add_event(f"e{i}", {f"k{j}": j for j in range(200)})
    span.end()
    provider.force_flush()
    (exported,) = exporter.get_finished_spans()
    assert (len(exported.attributes), len(exported.events), len(exported.links)) == (200,) * 3
    assert len(exported.events[-1].attributes) == 200
    assert exported.dropped_attributes == exported.dropped_events == exported.dropped_links == 0


class _RootOnly(sampling.Sampler):
    """Samples root spans only: a child of a sampled span is recorded but not sampled."""

    def should_sample(self, context: Any, *args: Any, **kwargs: Any) -> sampling.SamplingResult:
        parent = trace.get_current_span(context).get_span_context()
        decision = (
            sampling.Decision.RECORD_ONLY
            if parent.is_valid
            else sampling.Decision.RECORD_AND_SAMPLE
        )
        return sampling.SamplingResult(decision)

    def get_description(self) -> str:
        return "root only"


def test_trace_hex_is_the_trace_id_and_set_only_when_sampled() -> None:
    """Exemplars take `sampled_trace_hex`: the span's own trace id (a child reuses its
    parent's formatting), None when the span itself is not sampled, whatever its parent is."""
    tracer = _ours()[0].get_tracer("t")
    root = tracer.start_span("root")
    child = tracer.start_span("child", context=trace.set_span_in_context(root))
    assert isinstance(root, Span) and isinstance(child, Span)
    assert root.sampled_trace_hex == child.sampled_trace_hex == f"{root.context.trace_id:032x}"
    remote_child = tracer.start_span(
        "c", context=trace.set_span_in_context(NonRecordingSpan(REMOTE))
    )
    assert isinstance(remote_child, Span)  # a remote parent's id, formatted here
    assert remote_child.sampled_trace_hex == f"{REMOTE.trace_id:032x}"
    tracer = _ours(sampler=_RootOnly())[0].get_tracer("t")
    root = tracer.start_span("root")
    child = tracer.start_span("child", context=trace.set_span_in_context(root))
    assert isinstance(root, Span) and isinstance(child, Span)
    assert root.sampled_trace_hex == f"{root.context.trace_id:032x}"
    assert child.trace_hex == root.trace_hex and child.sampled_trace_hex is None


@pytest.mark.parametrize("make", [_ours, _sdk])
def test_set_attributes_counts_drops_as_the_sdk_does(make: Callable[..., Any]) -> None:
    """A mapping at the limit: a replaced key takes no room, an empty key and the keys past the
    limit are dropped and counted (the SDK evicts the oldest instead: same count)."""
    limits = SpanLimits(max_span_attributes=3)
    provider, exporter = make(span_limits=limits) if make is _sdk else make(limits=limits)
    span = provider.get_tracer("t").start_span("s", attributes={"a0": 0, "a1": 1})
    span.set_attributes({"a1": "one", "": "empty", "a2": 2.0, "a3": True, "a4": (4,)})
    span.end()
    provider.force_flush()
    (exported,) = exporter.get_finished_spans()
    assert exported.dropped_attributes == 3
    if make is _ours:
        assert dict(exported.attributes) == {"a0": 0, "a1": "one", "a2": 2.0}


def test_a_queued_span_leaves_the_collector_only_itself_and_its_context() -> None:
    """Ended spans wait in the export queue; each tracked object one keeps alive makes the
    garbage collector's passes more frequent and longer. A span without events or links keeps
    two: itself and its SpanContext (its attributes dict holds scalars only, so it is not
    tracked); events and links get a list when the first one comes."""
    queue = ExportQueue[Span](
        InMemorySpanExporter(), what="spans", max_queue=10_000, batch=10_000, delay_s=60
    )
    tracer = TracerProvider(RESOURCE, queue=queue).get_tracer("t")
    attributes = {"gen_ai.operation.name": "chat", "n": 3, "f": 0.5, "ok": True}
    tracer.start_span("warm-up", attributes=attributes).end()
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(500):
        tracer.start_span("chat m", attributes=attributes).end()
    gc.collect()
    assert len(gc.get_objects()) - before <= 2 * 500 + 20  # a few for the queue itself
    span = tracer.start_span("s")
    assert (span.events, span.links) == ((), ())
    span.add_event("e")
    span.add_link(REMOTE)
    assert (len(span.events), len(span.links)) == (1, 1)
    queue.shutdown()
