"""Traces and logs as the collector receives them: OTLP/HTTP protobufs decoded with
opentelemetry-proto from a loopback receiver (docs/telemetry.md § Traces and § Logs)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from genai_telemetry import semconv as sc
from harness.otlp_receiver import OTLPReceiver, Span
from harness.procs import Proc
from tests.demo_app.conftest import ADMIN_TOKEN, log_lines, unique_question


@pytest.fixture(scope="module")
def exported(start_app: Callable[..., Proc]):
    with OTLPReceiver("ok") as receiver:
        app = start_app(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "DEPLOYMENT_ENVIRONMENT": "test",
                "ADMIN_TOKEN": ADMIN_TOKEN,
            },
            name="otlp",
        )
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=app.url, timeout=15) as c:
            rag = c.post(
                "/v1/chat",
                json={
                    "question": unique_question(),
                    "conversation_id": "conv-1",
                    "max_tokens": 300,
                },
            ).json()
            tool = c.post("/v1/chat", json={"question": "What is 3 * 5?"}).json()
            stream_resp = c.post("/v1/chat/stream", json={"question": unique_question()})
            stream_id = stream_resp.headers["x-request-id"]
            c.put("/admin/faults", json={"error_rate": 1.0}, headers=auth).raise_for_status()
            failed = c.post("/v1/chat", json={"question": unique_question()})
            assert failed.status_code == 502
            c.put("/admin/faults", json={}, headers=auth).raise_for_status()
        ids = {"rag": rag["trace_id"], "tool": tool["trace_id"]}
        last_logs = {failed.headers["x-request-id"], stream_id}

        def all_in() -> bool:  # 6 requests → 6 server spans (4 chats + 2 admin PUTs)
            spans = receiver.spans()
            names = {(s.trace_id, s.name) for s in spans}
            servers = {s.trace_id for s in spans if s.kind == "SERVER"}
            # Counting log records is not enough: evaluation events are log records too.
            logged = {
                r.attributes.get("request_id") for r in receiver.logs() if r.body == "http_request"
            }
            return (
                len(servers) >= 6
                and (ids["tool"], "execute_tool calculator") in names
                and (ids["rag"], "chat gpt-4o-mini") in names
                and last_logs <= logged
                # logs travel in their own batches: wait for the failed request's record too
                and any(r.body == "chat_failed" for r in receiver.logs())
            )

        assert receiver.wait_for(all_in, timeout=20), receiver.requests
        yield receiver, ids, rag, failed.headers["x-request-id"], stream_id


def by_trace(receiver: OTLPReceiver, trace_id: str) -> dict[str, Span]:
    return {s.name: s for s in receiver.spans() if s.trace_id == trace_id}


def test_resource_identifies_the_service(exported) -> None:
    receiver, *_ = exported
    assert receiver.spans() and receiver.logs(), (
        "nothing exported: the checks below would be vacuous"
    )
    for span in receiver.spans():
        assert span.resource["service.name"] == sc.SERVICE_NAME
        assert span.resource["service.version"]
        assert span.resource["deployment.environment.name"] == "test"
    for record in receiver.logs():
        assert record.resource["service.name"] == sc.SERVICE_NAME


def test_retrieval_trace_structure_kinds_and_required_attributes(exported) -> None:
    receiver, ids, rag, *_ = exported
    spans = by_trace(receiver, ids["rag"])
    server = spans["POST /v1/chat"]
    supervisor = spans["invoke_agent supervisor"]
    worker = spans["invoke_agent retrieval_worker"]
    embeddings = spans["embeddings text-embedding-3-small"]
    retrieval = spans["retrieval ops-handbook"]
    chat = spans["chat gpt-4o-mini"]
    assert server.kind == "SERVER"
    assert (supervisor.kind, supervisor.parent_span_id) == ("INTERNAL", server.span_id)
    assert (worker.kind, worker.parent_span_id) == ("INTERNAL", supervisor.span_id)
    for child in (embeddings, retrieval, chat):
        assert child.kind == "CLIENT" and child.parent_span_id == worker.span_id, child.name
    for span in (supervisor, worker, embeddings, retrieval, chat):
        assert span.attributes[sc.A_OPERATION_NAME] == span.name.split(" ")[0]
        assert sc.A_PROVIDER_NAME in span.attributes
        assert span.status != "ERROR"
    assert supervisor.attributes[sc.A_AGENT_NAME] == "supervisor"
    assert supervisor.attributes[sc.A_CONVERSATION_ID] == "conv-1"
    assert embeddings.attributes[sc.A_REQUEST_MODEL] == "text-embedding-3-small"
    assert retrieval.attributes[sc.A_PROVIDER_NAME] == "bm25"
    assert retrieval.attributes[sc.A_DATA_SOURCE_ID] == "ops-handbook"
    assert retrieval.attributes[sc.A_REQUEST_TOP_K] >= 1
    # Opt-in (test_semconv_conformance.py switches it on).
    assert sc.A_RETRIEVAL_DOCUMENTS not in retrieval.attributes
    a = chat.attributes
    assert a[sc.A_PROVIDER_NAME] == "openai" and a[sc.A_REQUEST_MODEL] == "gpt-4o-mini"
    assert a[sc.A_RESPONSE_MODEL] and a[sc.A_RESPONSE_ID]
    assert a[sc.A_FINISH_REASONS]
    assert a[sc.A_INPUT_TOKENS] == rag["usage"]["input_tokens"]
    assert a[sc.A_OUTPUT_TOKENS] == rag["usage"]["output_tokens"]
    assert a[sc.A_MAX_TOKENS] == 300 and sc.A_STREAM not in a
    assert a[sc.A_LLM_COST_USD] > 0
    # Content capture is off by default: no prompt or answer on any span.
    for span in spans.values():
        assert sc.A_INPUT_MESSAGES not in span.attributes
        assert sc.A_OUTPUT_MESSAGES not in span.attributes
    # Evaluation results are log records (test_semconv_conformance.py), not span events.
    assert not [e for s in spans.values() for e in s.events if e["name"].startswith("gen_ai.")]


def test_tool_trace(exported) -> None:
    receiver, ids, *_ = exported
    spans = by_trace(receiver, ids["tool"])
    tool = spans["execute_tool calculator"]
    worker = spans["invoke_agent calculator_worker"]
    assert tool.kind == "INTERNAL" and tool.parent_span_id == worker.span_id
    assert tool.attributes[sc.A_TOOL_NAME] == "calculator"
    assert tool.attributes[sc.A_PROVIDER_NAME] == "rag-api"
    assert worker.parent_span_id == spans["invoke_agent supervisor"].span_id
    assert not any(name.startswith("chat ") for name in spans)


def test_streamed_chat_span_has_time_to_first_chunk(exported) -> None:
    receiver, *_ = exported
    streamed = [
        s for s in receiver.spans() if s.name.startswith("chat ") and s.attributes.get(sc.A_STREAM)
    ]
    assert streamed
    assert streamed[0].attributes[sc.A_TIME_TO_FIRST_CHUNK] >= 0
    server = [
        s for s in receiver.spans() if s.trace_id == streamed[0].trace_id and s.kind == "SERVER"
    ]
    assert server and server[0].name == "POST /v1/chat/stream"


def test_provider_failure_marks_spans_error_with_error_type(exported) -> None:
    receiver, _, _, failed_request_id, _ = exported
    failed_chat = [
        s for s in receiver.spans() if s.name.startswith("chat ") and s.status == "ERROR"
    ]
    assert failed_chat, "chat calls fail under error_rate=1"
    span = failed_chat[0]
    assert span.attributes[sc.A_ERROR_TYPE] == "server_error"
    trace = by_trace(receiver, span.trace_id)
    assert trace["invoke_agent supervisor"].status == "ERROR"
    assert trace["POST /v1/chat"].attributes.get("http.response.status_code") == 502
    logs = [r for r in receiver.logs() if r.attributes.get("request_id") == failed_request_id]
    assert any(r.body == "chat_failed" and r.severity == "WARNING" for r in logs), logs


def test_logs_carry_trace_id_span_id_and_request_id(exported) -> None:
    receiver, ids, rag, _, stream_id = exported
    records = [r for r in receiver.logs() if r.attributes.get("request_id") == rag["request_id"]]
    events = {r.body for r in records}
    assert {"chat_answered", "http_request"} <= events
    for record in records:
        assert record.trace_id == ids["rag"]
        assert len(record.span_id) == 16 and record.span_id != "0" * 16
    answered = next(r for r in records if r.body == "chat_answered")
    assert answered.attributes["model"] == "gpt-4o-mini"
    assert answered.attributes["cost_usd"] == pytest.approx(rag["cost_usd"])
    assert "question" not in answered.attributes and "answer" not in answered.attributes
    # The streamed request's log lines (written from the streaming task) are correlated too.
    streamed = [r for r in receiver.logs() if r.attributes.get("request_id") == stream_id]
    assert any(r.body == "chat_answered" for r in streamed)
    assert len({r.trace_id for r in streamed}) == 1


def test_log_attributes_never_carry_the_string_none(exported) -> None:
    """A field logged as None (the tool route's chat_answered has no model) is left out of the
    OTLP record: OTLP has no null attribute, and "None" would be a value nobody sent."""
    receiver, ids, *_ = exported
    values = [(r.body, k, v) for r in receiver.logs() for k, v in r.attributes.items()]
    assert values, "no log attributes exported: the check would be vacuous"
    assert not [x for x in values if x[2] in ("None", None)], "None-valued attributes exported"
    tool = next(
        r for r in receiver.logs() if r.body == "chat_answered" and r.trace_id == ids["tool"]
    )
    assert tool.attributes["route"] == "tool"
    assert "model" not in tool.attributes and "provider" not in tool.attributes


def test_metrics_take_one_path_not_otlp(exported) -> None:
    receiver, *_ = exported
    assert not any(path.endswith("/v1/metrics") for path in receiver.requests)


def _one_chat(
    start_app: Callable[..., Proc], receiver: OTLPReceiver, env: dict[str, str], name: str
) -> Proc:
    """An app exporting to `receiver` every 100 ms, with `env` on top, after one answered chat."""
    app = start_app(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100", **env},
        name=name,
    )
    answer = httpx.post(app.url + "/v1/chat", json={"question": unique_question()}, timeout=15)
    assert answer.status_code == 200, answer.text
    return app


def test_otel_sdk_disabled_stops_otlp_but_keeps_metrics_and_stdout_logs(
    start_app: Callable[..., Proc],
) -> None:
    with OTLPReceiver("ok") as receiver:
        app = _one_chat(start_app, receiver, {"OTEL_SDK_DISABLED": "true"}, "sdk-disabled")
        metrics = httpx.get(app.url + "/metrics", timeout=15).text
        # Several export intervals: anything the SDK still queued would have been sent by now.
        assert not receiver.wait_for(lambda: bool(receiver.requests), timeout=1.5), (
            receiver.requests
        )
    chats = [
        line
        for line in metrics.splitlines()
        if line.startswith(sc.GENAI_OPERATION_DURATION + "_count")
        and 'gen_ai_operation_name="chat"' in line
    ]
    assert chats and float(chats[0].rsplit(" ", 1)[1]) >= 1
    assert any(x.get("event") == "chat_answered" for x in log_lines(app))


def test_disabling_the_fastapi_instrumentation_drops_only_the_server_span(
    start_app: Callable[..., Proc],
) -> None:
    with OTLPReceiver("ok") as receiver:
        env = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "requests, FastAPI"}
        _one_chat(start_app, receiver, env, "no-server-span")
        # The root span ends last, so once it is here the whole trace is.
        assert receiver.wait_for(lambda: any(not s.parent_span_id for s in receiver.spans()))
        spans = receiver.spans()
    assert not [s.name for s in spans if s.kind == "SERVER"]
    operations = {s.attributes.get(sc.A_OPERATION_NAME) for s in spans}
    assert {sc.OP_INVOKE_AGENT, sc.OP_RETRIEVAL, sc.OP_CHAT} <= operations
    # One trace per request, rooted at the supervisor agent (docs/telemetry.md).
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 1 and len({s.trace_id for s in spans}) == 1, [s.name for s in roots]
    assert roots[0].attributes.get(sc.A_OPERATION_NAME) == sc.OP_INVOKE_AGENT
