"""The GenAI semantic conventions the app follows (v1.41.0, genai_telemetry/semconv.py), checked on
the OTLP protobufs the real app exports (decoded from the loopback receiver, value types
included): one test per former deviation, each written so that the old behaviour fails it.

Two apps: `simulated` (defaults: opt-in attributes off, in-process provider) and `opted_in`
(the openai_compatible provider against the loopback fake OpenAI server, with
GENAI_CAPTURE_RETRIEVAL_DOCUMENTS and message content capture on), so both sides of each switch
are seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from genai_telemetry import semconv as sc
from harness.fake_openai import ANSWER_WORDS, fake_openai_server
from harness.otlp_receiver import OTLPReceiver, any_value
from harness.procs import Proc
from tests.demo_app.conftest import ADMIN_TOKEN, parse_sse, unique_question

SCOPE = "demo_app"  # our instrumentation scope (the FastAPI instrumentation has its own)


@dataclass
class PbSpan:
    name: str
    trace_id: str
    span_id: str
    attributes: dict[str, AnyValue]  # raw protobuf values: the wire type is part of the check
    event_names: list[str]
    scope: str
    schema_url: str

    def value(self, key: str) -> Any:
        return any_value(self.attributes[key])


@dataclass
class PbLog:
    event_name: str
    body: Any
    trace_id: str
    span_id: str
    attributes: dict[str, Any]
    scope: str
    schema_url: str
    severity: int = 0


def pb_spans(receiver: OTLPReceiver) -> list[PbSpan]:
    traces, _ = receiver.requests_pb()
    return [
        PbSpan(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            attributes={kv.key: kv.value for kv in span.attributes},
            event_names=[e.name for e in span.events],
            scope=scope_spans.scope.name,
            schema_url=scope_spans.schema_url,
        )
        for request in traces
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def pb_logs(receiver: OTLPReceiver) -> list[PbLog]:
    _, logs = receiver.requests_pb()
    return [
        PbLog(
            event_name=record.event_name,
            body=any_value(record.body),
            trace_id=record.trace_id.hex(),
            span_id=record.span_id.hex(),
            attributes={kv.key: any_value(kv.value) for kv in record.attributes},
            scope=scope_logs.scope.name,
            schema_url=scope_logs.schema_url,
            severity=record.severity_number,
        )
        for request in logs
        for resource_logs in request.resource_logs
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
    ]


@dataclass
class Exported:
    receiver: OTLPReceiver
    app: Proc
    answers: dict[str, dict[str, Any]]  # kind → response JSON (stream: the `done` event)
    chunks: int = 0  # text chunks of the streamed answer

    def trace(self, kind: str) -> dict[str, PbSpan]:
        trace_id = self.answers[kind]["trace_id"]
        return {s.name: s for s in pb_spans(self.receiver) if s.trace_id == trace_id}

    def logs(self, kind: str) -> list[PbLog]:
        trace_id = self.answers[kind]["trace_id"]
        return [r for r in pb_logs(self.receiver) if r.trace_id == trace_id]


def _export(app: Proc, receiver: OTLPReceiver, model: str) -> Exported:
    """A retrieval answer, its cache hit, a calculator answer and a streamed retrieval answer,
    all exported."""
    with httpx.Client(base_url=app.url, timeout=15) as c:
        question = unique_question()
        rag = c.post("/v1/chat", json={"question": question, "model": model})
        cached = c.post("/v1/chat", json={"question": question, "model": model})
        tool = c.post("/v1/chat", json={"question": "What is 6 * 7?", "model": model})
        stream = c.post("/v1/chat/stream", json={"question": unique_question(), "model": model})
    for response in (rag, cached, tool, stream):
        assert response.status_code == 200, response.text
    assert cached.json()["cache"]["hit"]
    events = parse_sse(stream.text)
    done = next(data for event, data in events if event == "done")
    exported = Exported(
        receiver,
        app,
        {"rag": rag.json(), "cached": cached.json(), "tool": tool.json(), "stream": done},
        chunks=sum(1 for event, _ in events if event == "chunk"),
    )

    def arrived() -> bool:  # root spans end last; a request's log lines may come after it
        roots = {s.trace_id for s in receiver.spans() if not s.parent_span_id}
        logs = pb_logs(receiver)
        for kind, answer in exported.answers.items():
            bodies = [r.event_name or r.body for r in logs if r.trace_id == answer["trace_id"]]
            events = 3 if kind in ("rag", "stream") else 0
            if answer["trace_id"] not in roots or bodies.count(sc.EVENT_EVALUATION_RESULT) < events:
                return False
            if not {"http_request", "chat_answered"} <= set(bodies):
                return False
        return True

    assert receiver.wait_for(arrived, timeout=20), receiver.requests
    return exported


ENV = {"OTEL_BSP_SCHEDULE_DELAY": "100", "DEPLOYMENT_ENVIRONMENT": "test"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def simulated(start_app: Callable[..., Proc]) -> Iterator[Exported]:
    with OTLPReceiver("ok") as receiver:
        env = {**ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "ADMIN_TOKEN": ADMIN_TOKEN}
        app = start_app(env, name="semconv-simulated")
        yield _export(app, receiver, "claude-sonnet-4")


@pytest.fixture(scope="module")
def opted_in(start_app: Callable[..., Proc]) -> Iterator[tuple[Exported, str]]:
    with fake_openai_server() as fake, OTLPReceiver("ok") as receiver:
        env = {
            **ENV,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "LLM_PROVIDER": "openai_compatible",
            "OPENAI_BASE_URL": fake.url,
            sc.CAPTURE_RETRIEVAL_DOCUMENTS_ENV: "true",
            # The value the official instrumentations read (util-genai's SPAN_ONLY), which the
            # app must take as well as its own `true`: one variable for both in one deployment.
            sc.CAPTURE_CONTENT_ENV: "SPAN_ONLY",
        }
        app = start_app(env, name="semconv-opted-in")
        yield _export(app, receiver, "gpt-4o-mini"), fake.url


# --- 1. gen_ai.request.model on invoke_agent spans -------------------------------------------
def test_agent_spans_that_use_the_model_carry_the_request_model(simulated: Exported) -> None:
    rag = simulated.trace("rag")
    for agent in ("invoke_agent supervisor", "invoke_agent retrieval_worker"):
        assert rag[agent].value(sc.A_REQUEST_MODEL) == "claude-sonnet-4", agent
    tool = simulated.trace("tool")
    assert tool["invoke_agent supervisor"].value(sc.A_REQUEST_MODEL) == "claude-sonnet-4"
    # The calculator agent calls no model: nothing to name.
    assert sc.A_REQUEST_MODEL not in tool["invoke_agent calculator_worker"].attributes


# --- 2. gen_ai.request.top_k is a double ----------------------------------------------------
def test_top_k_is_sent_as_a_double(simulated: Exported) -> None:
    top_k = simulated.trace("rag")["retrieval ops-handbook"].attributes[sc.A_REQUEST_TOP_K]
    assert top_k.WhichOneof("value") == "double_value", top_k
    assert top_k.double_value == 4.0  # RETRIEVAL_TOP_K default


# --- 3. gen_ai.retrieval.documents is opt-in --------------------------------------------------
def test_retrieval_documents_are_absent_by_default(simulated: Exported) -> None:
    for kind in ("rag", "stream"):
        retrieval = simulated.trace(kind)["retrieval ops-handbook"]
        assert sc.A_RETRIEVAL_DOCUMENTS not in retrieval.attributes


def test_retrieval_documents_follow_the_schema_when_opted_in(
    opted_in: tuple[Exported, str],
) -> None:
    exported, _ = opted_in
    retrieval = exported.trace("rag")["retrieval ops-handbook"]
    documents = json.loads(retrieval.value(sc.A_RETRIEVAL_DOCUMENTS))
    # gen-ai-retrieval-documents.json: a list of objects with a string id and a number score.
    assert isinstance(documents, list) and documents
    for doc in documents:
        assert isinstance(doc["id"], str) and isinstance(doc["score"], (int, float)), doc
    sources = exported.answers["rag"]["sources"]
    assert [d["id"] for d in documents] == [s["id"] for s in sources]


def test_retrieval_query_text_is_content_captured_only_on_opt_in(
    simulated: Exported, opted_in: tuple[Exported, str]
) -> None:
    assert (
        sc.A_RETRIEVAL_QUERY_TEXT not in simulated.trace("rag")["retrieval ops-handbook"].attributes
    )
    exported, _ = opted_in
    query = exported.trace("rag")["retrieval ops-handbook"].value(sc.A_RETRIEVAL_QUERY_TEXT)
    assert query.startswith("How do I monitor time to first token?")  # unique_question()


# --- 4. gen_ai.request.stream: if and only if streaming ---------------------------------------
def test_stream_attribute_is_set_only_on_streamed_calls(simulated: Exported) -> None:
    plain = simulated.trace("rag")["chat claude-sonnet-4"]
    streamed = simulated.trace("stream")["chat claude-sonnet-4"]
    assert sc.A_STREAM not in plain.attributes
    assert streamed.attributes[sc.A_STREAM].WhichOneof("value") == "bool_value"
    assert streamed.value(sc.A_STREAM) is True


# --- 5. server.address / server.port ----------------------------------------------------------
def test_in_process_simulated_provider_names_no_server(simulated: Exported) -> None:
    spans = [s for kind in ("rag", "stream") for s in simulated.trace(kind).values()]
    assert spans
    for span in spans:
        # The HTTP server span names rag-api's own host (HTTP semconv); the GenAI spans must not
        # invent an address for the in-process simulator.
        if span.scope == SCOPE and "http.request.method" not in span.attributes:
            assert sc.A_SERVER_ADDRESS not in span.attributes, span.name
            assert sc.A_SERVER_PORT not in span.attributes, span.name


def test_openai_compatible_calls_carry_the_base_url_host_and_port(
    opted_in: tuple[Exported, str],
) -> None:
    exported, base_url = opted_in
    port = int(base_url.rsplit(":", 1)[1].split("/", 1)[0])
    for kind in ("rag", "stream"):
        spans = exported.trace(kind)
        for name in ("chat gpt-4o-mini", "embeddings text-embedding-3-small"):
            assert spans[name].value(sc.A_SERVER_ADDRESS) == "127.0.0.1", name
            assert spans[name].attributes[sc.A_SERVER_PORT].WhichOneof("value") == "int_value"
            assert spans[name].value(sc.A_SERVER_PORT) == port, name
        # Retrieval (BM25) and the agents run in-process.
        for name in ("retrieval ops-handbook", "invoke_agent retrieval_worker"):
            assert sc.A_SERVER_ADDRESS not in spans[name].attributes, name


# --- 6. instrumentation scope schema_url ------------------------------------------------------
def test_our_spans_and_events_carry_the_schema_url_of_the_version_followed(
    simulated: Exported,
) -> None:
    ours = [s for s in pb_spans(simulated.receiver) if s.scope == SCOPE]
    events = [r for r in pb_logs(simulated.receiver) if r.event_name]
    assert ours and events
    assert {s.schema_url for s in ours} == {sc.SCHEMA_URL}
    assert {r.schema_url for r in events} == {sc.SCHEMA_URL}
    assert f"https://opentelemetry.io/schemas/{sc.SEMCONV_VERSION}" == sc.SCHEMA_URL


# --- 7. evaluation results are gen_ai.evaluation.result events (log records) -------------------
@pytest.mark.parametrize("kind", ["rag", "stream"])
def test_evaluation_results_are_events_parented_to_the_chat_span(
    simulated: Exported, kind: str
) -> None:
    spans = simulated.trace(kind)
    chat = spans["chat claude-sonnet-4"]
    events = [r for r in simulated.logs(kind) if r.event_name == sc.EVENT_EVALUATION_RESULT]
    assert sorted(r.attributes[sc.A_EVALUATION_NAME] for r in events) == sorted(sc.EVALUATION_NAMES)
    evaluation = simulated.answers[kind]["evaluation"]
    for record in events:
        assert (record.trace_id, record.span_id) == (chat.trace_id, chat.span_id)
        a = record.attributes
        assert a[sc.A_EVALUATION_SCORE_VALUE] == pytest.approx(evaluation[a[sc.A_EVALUATION_NAME]])
        assert a[sc.A_EVALUATION_SCORE_LABEL] == (
            "pass" if a[sc.A_EVALUATION_SCORE_VALUE] > 0.7 else "fail"
        )
        assert a[sc.A_RESPONSE_ID] == chat.value(sc.A_RESPONSE_ID)
        assert record.body == sc.EVENT_EVALUATION_RESULT  # the Loki line names the event
    # Not span events any more, on any span.
    assert not [n for s in spans.values() for n in s.event_names if n.startswith("gen_ai.")]


def test_log_records_per_request_match_the_docs(simulated: Exported) -> None:
    """docs/telemetry.md § Logs: a generated answer is 5 OTLP records (http_request,
    chat_answered, three evaluation events); a calculator answer 2; a cache hit 3."""
    for kind, expected in (("rag", 5), ("stream", 5), ("tool", 2), ("cached", 3)):
        records = simulated.logs(kind)
        named = sorted(r.event_name or r.body for r in records)
        assert len(records) == expected, (kind, named)


# --- 8. gen_ai.client.operation.time_per_output_chunk -----------------------------------------
def test_time_per_output_chunk_over_a_real_sse_stream(opted_in: tuple[Exported, str]) -> None:
    exported, _ = opted_in
    assert exported.chunks == len(ANSWER_WORDS)
    text = httpx.get(exported.app.url + "/metrics", timeout=15).text
    count = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(sc.GENAI_TIME_PER_OUTPUT_CHUNK + "_count{")
        and 'gen_ai_request_model="gpt-4o-mini"' in line
        and 'gen_ai_provider_name="openai"' in line
    ]
    assert count == [len(ANSWER_WORDS) - 1], count


# --- 9. gen_ai.input.messages / gen_ai.output.messages follow the message JSON schemas ---------
def _text_parts(message: dict[str, Any]) -> str:
    """The text of a message in the parts shape (role + parts of {type: text, content})."""
    assert isinstance(message["role"], str), message
    assert isinstance(message["parts"], list) and message["parts"], message
    for part in message["parts"]:
        assert part["type"] == "text" and isinstance(part["content"], str), part
    return "".join(part["content"] for part in message["parts"])


@pytest.mark.parametrize("kind", ["rag", "stream"])
def test_captured_messages_follow_the_message_schemas(
    opted_in: tuple[Exported, str], kind: str
) -> None:
    exported, _ = opted_in
    chat = exported.trace(kind)["chat gpt-4o-mini"]
    inputs = json.loads(chat.value(sc.A_INPUT_MESSAGES))
    # The system prompt and the context are part of the chat history sent to the model (OpenAI
    # chat completions), so they stay in the input messages, in the order sent.
    assert [m["role"] for m in inputs] == ["system", "system", "user"]
    assert _text_parts(inputs[-1]).startswith("How do I monitor time to first token?")
    outputs = json.loads(chat.value(sc.A_OUTPUT_MESSAGES))
    assert [m["role"] for m in outputs] == ["assistant"]
    assert _text_parts(outputs[0]) == exported.answers[kind]["answer"]
    # gen-ai-output-messages.json: finish_reason is a required property of every output message
    # (one per choice; the span's gen_ai.response.finish_reasons lists the same reasons).
    assert [m.get("finish_reason") for m in outputs] == chat.value(sc.A_FINISH_REASONS)


# --- 10. gen_ai.data_source.id on the agent that retrieves ------------------------------------
def test_the_retrieving_agent_names_its_data_source(simulated: Exported) -> None:
    """invoke_agent spans: gen_ai.data_source.id is conditionally required "if applicable" —
    the retrieval worker grounds its answers in the corpus its retrieval span names."""
    for kind in ("rag", "stream", "cached"):
        spans = simulated.trace(kind)
        worker = spans["invoke_agent retrieval_worker"]
        assert worker.value(sc.A_DATA_SOURCE_ID) == "ops-handbook", kind
        if kind != "cached":
            retrieval = spans["retrieval ops-handbook"]
            assert retrieval.value(sc.A_DATA_SOURCE_ID) == worker.value(sc.A_DATA_SOURCE_ID)
    tool = simulated.trace("tool")
    for name in ("invoke_agent supervisor", "invoke_agent calculator_worker"):
        assert sc.A_DATA_SOURCE_ID not in tool[name].attributes, name


def _failed_chat(exported: Exported) -> httpx.Response:
    """One chat whose model call fails (the provider fault at 100 %, reset after)."""
    with httpx.Client(base_url=exported.app.url, timeout=15) as c:
        c.put("/admin/faults", json={"error_rate": 1.0}, headers=ADMIN).raise_for_status()
        try:
            return c.post("/v1/chat", json={"question": unique_question()})
        finally:
            c.put("/admin/faults", json={}, headers=ADMIN).raise_for_status()


def test_a_failed_model_call_exports_the_operation_exception_event(simulated: Exported) -> None:
    """gen_ai.client.operation.exception (v1.41.0): one per failed model call, WARN, parented to
    its span; the request's OTLP records are the ones docs/telemetry.md § Logs counts."""
    before = {r.trace_id for r in pb_logs(simulated.receiver)}
    response = _failed_chat(simulated)
    assert response.status_code >= 500, response.text

    def failed() -> list[PbLog]:  # the failed chat's records (not the admin calls')
        new = [r for r in pb_logs(simulated.receiver) if r.trace_id not in before]
        ids = {r.trace_id for r in new if r.event_name == sc.EVENT_OPERATION_EXCEPTION}
        return [r for r in new if r.trace_id in ids]

    assert simulated.receiver.wait_for(lambda: len(failed()) >= 3, timeout=20), failed()
    names = sorted(r.event_name or r.body for r in failed())
    assert names == ["chat_failed", sc.EVENT_OPERATION_EXCEPTION, "http_request"], names
    (event,) = [r for r in failed() if r.event_name == sc.EVENT_OPERATION_EXCEPTION]
    spans = {s.span_id: s for s in pb_spans(simulated.receiver) if s.trace_id == event.trace_id}
    call = spans[event.span_id]
    assert call.value(sc.A_OPERATION_NAME) == sc.OP_CHAT and call.value(sc.A_ERROR_TYPE), call
    assert event.severity == 13 and event.scope == SCOPE, event
    from_span = {k: call.value(k) for k in (sc.A_ERROR_TYPE, sc.A_REQUEST_MODEL)}
    assert from_span.items() <= event.attributes.items() and event.attributes[sc.A_EXCEPTION_TYPE]
