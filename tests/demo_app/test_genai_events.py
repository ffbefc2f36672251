"""`Telemetry.event()`: semconv events as OTel log records (in-process, in-memory exporter;
the exported OTLP form is checked in test_semconv_conformance.py)."""

from __future__ import annotations

import asyncio
import io

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from demo_app.config import Settings
from genai_telemetry import semconv as sc
from genai_telemetry.telemetry import Telemetry

EMAIL = "jane.doe@example.org"


def _telemetry(exporter: InMemoryLogRecordExporter) -> Telemetry:
    settings = Settings.from_env({})
    return Telemetry.build(settings, log_exporter=exporter, log_stream=io.StringIO())


def _parent() -> trace.SpanContext:
    return trace.SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )


def test_event_is_a_named_record_parented_to_the_given_span_with_the_schema_url() -> None:
    exporter = InMemoryLogRecordExporter()
    tel = _telemetry(exporter)
    tel.event(sc.EVENT_EVALUATION_RESULT, {sc.A_EVALUATION_NAME: "faithfulness"}, _parent())
    tel.shutdown()
    (record,) = exporter.get_finished_logs()
    assert record.log_record.event_name == sc.EVENT_EVALUATION_RESULT
    assert record.log_record.body == sc.EVENT_EVALUATION_RESULT
    assert record.log_record.trace_id == _parent().trace_id
    assert record.log_record.span_id == _parent().span_id
    assert record.instrumentation_scope.schema_url == sc.SCHEMA_URL


def test_event_without_a_valid_parent_is_parented_to_the_current_span() -> None:
    exporter = InMemoryLogRecordExporter()
    tel = _telemetry(exporter)
    with tel.tracer.start_as_current_span("chat m") as span:
        tel.event(sc.EVENT_EVALUATION_RESULT, {sc.A_EVALUATION_NAME: "a"}, None)
        tel.event(
            sc.EVENT_EVALUATION_RESULT, {sc.A_EVALUATION_NAME: "b"}, trace.INVALID_SPAN_CONTEXT
        )
    tel.event(sc.EVENT_EVALUATION_RESULT, {sc.A_EVALUATION_NAME: "c"}, None)  # no span: none
    tel.shutdown()
    current = span.get_span_context()
    got = [(r.log_record.trace_id, r.log_record.span_id) for r in exporter.get_finished_logs()]
    assert got == [(current.trace_id, current.span_id)] * 2 + [(0, 0)]


def test_event_attributes_are_redacted_like_span_attributes_and_none_is_dropped() -> None:
    exporter = InMemoryLogRecordExporter()
    tel = _telemetry(exporter)
    tel.event(
        sc.EVENT_EVALUATION_RESULT,
        {
            sc.A_EVALUATION_NAME: "faithfulness",  # bounded: left alone
            "gen_ai.evaluation.explanation": f"asked by {EMAIL}",  # free text: scanned
            sc.A_RESPONSE_ID: None,
        },
        _parent(),
    )
    tel.shutdown()
    (record,) = exporter.get_finished_logs()
    attributes = dict(record.log_record.attributes or {})
    assert attributes == {
        sc.A_EVALUATION_NAME: "faithfulness",
        "gen_ai.evaluation.explanation": "asked by [REDACTED:email]",
    }


def test_without_an_otlp_logs_endpoint_events_are_a_no_op() -> None:
    tel = Telemetry.build(Settings.from_env({}), log_stream=io.StringIO())
    assert tel.event_logger is None
    tel.event(sc.EVENT_EVALUATION_RESULT, {sc.A_EVALUATION_NAME: "x"}, _parent())  # no error


class _ProviderDown(Exception):
    pass


def _fail(tel: Telemetry, error: BaseException, *, model_call: bool) -> trace.SpanContext:
    """A chat operation that raises `error`; the span context it ran under."""
    context = trace.INVALID_SPAN_CONTEXT
    try:
        with tel.operation(
            sc.OP_CHAT, "gpt-4o-mini", provider="openai", model="gpt-4o-mini",
            kind=trace.SpanKind.CLIENT, model_call=model_call,
        ) as op:  # fmt: skip
            context = op.span.get_span_context()
            raise error
    except BaseException as raised:  # the test raises it on purpose
        assert raised is error
    return context


def test_a_failed_model_call_emits_the_operation_exception_event_at_warn() -> None:
    """gen_ai.client.operation.exception (v1.41.0): WARN, parented to the call's span, the
    exception's type and redacted message, error.type and the span's operation, provider and
    model."""
    exporter = InMemoryLogRecordExporter()
    tel = _telemetry(exporter)
    context = _fail(tel, _ProviderDown(f"upstream said no to {EMAIL}"), model_call=True)
    tel.shutdown()
    (record,) = exporter.get_finished_logs()
    log = record.log_record
    assert (log.event_name, log.body) == (sc.EVENT_OPERATION_EXCEPTION,) * 2
    assert (log.severity_number, log.severity_text) == (SeverityNumber.WARN, "WARN")
    assert (log.trace_id, log.span_id) == (context.trace_id, context.span_id)
    assert dict(log.attributes or {}) == {
        sc.A_EXCEPTION_TYPE: f"{__name__}._ProviderDown",
        sc.A_EXCEPTION_MESSAGE: "upstream said no to [REDACTED:email]",
        sc.A_ERROR_TYPE: f"{__name__}._ProviderDown",
        sc.A_OPERATION_NAME: sc.OP_CHAT,
        sc.A_PROVIDER_NAME: "openai",
        sc.A_REQUEST_MODEL: "gpt-4o-mini",
    }


def test_no_exception_event_for_other_operations_successes_or_cancellation() -> None:
    """Only model calls that fail: not a failing tool or agent operation, not a cancelled call
    (its client went away), not a success."""
    exporter = InMemoryLogRecordExporter()
    tel = _telemetry(exporter)
    _fail(tel, _ProviderDown("tool broke"), model_call=False)
    _fail(tel, asyncio.CancelledError(), model_call=True)
    with tel.operation(sc.OP_CHAT, "m", provider="openai", model="m", model_call=True):
        pass
    tel.shutdown()
    assert exporter.get_finished_logs() == ()
