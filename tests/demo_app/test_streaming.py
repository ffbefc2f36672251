"""POST /v1/chat/stream: SSE chunks, a final `done` with the JSON response's metadata, errors."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from demo_app.app import create_app
from demo_app.config import Settings
from demo_app.providers import build_provider
from demo_app.providers.base import ProviderError
from genai_telemetry import semconv as sc
from harness.procs import Proc
from tests.demo_app.conftest import log_lines, parse_sse, serve_in_thread, unique_question

HTTP_COUNT = sc.HTTP_SERVER_DURATION + "_count"
STREAM = "/v1/chat/stream"


def test_stream_sends_chunks_then_done_with_full_metadata(client: httpx.Client) -> None:
    question = unique_question()
    with client.stream("POST", "/v1/chat/stream", json={"question": question}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode()
    events = parse_sse(body)
    kinds = [e for e, _ in events]
    assert kinds[-1] == "done" and kinds.count("done") == 1
    chunks = [d["text"] for e, d in events if e == "chunk"]
    assert len(chunks) >= 2, "the answer must arrive in several chunks"
    done = events[-1][1]
    assert done["answer"] == "".join(chunks)
    json_keys = set(client.post("/v1/chat", json={"question": unique_question()}).json().keys())
    assert set(done) == json_keys, "done carries the same metadata as the JSON response"
    assert done["sources"] and done["usage"]["output_tokens"] > 0
    assert done["request_id"] == r.headers["x-request-id"]


def test_stream_tool_path_and_cache_hit(client: httpx.Client) -> None:
    events = parse_sse(client.post("/v1/chat/stream", json={"question": "What is 6*7?"}).text)
    assert events[-1][0] == "done" and events[-1][1]["route"] == "tool"
    assert "42" in "".join(d["text"] for e, d in events if e == "chunk")

    question = unique_question("Why cache LLM responses")
    first = parse_sse(client.post("/v1/chat/stream", json={"question": question}).text)[-1][1]
    second = parse_sse(client.post("/v1/chat/stream", json={"question": question}).text)
    assert second[-1][1]["cache"] == {"hit": True, "saved_usd": first["cost_usd"]}
    assert "".join(d["text"] for e, d in second if e == "chunk") == first["answer"]


def test_provider_failure_before_first_chunk_is_an_http_error(
    client: httpx.Client, admin_headers: dict[str, str], reset_faults: None
) -> None:
    client.put("/admin/faults", json={"error_rate": 1.0}, headers=admin_headers).raise_for_status()
    r = client.post("/v1/chat/stream", json={"question": unique_question()})
    # Nothing was streamed yet, so the status says what happened (the availability SLO sees it).
    assert r.status_code == 502
    assert r.json()["error"] == "provider_server_error"


class MidStreamFailure:
    """The simulated provider, except that every stream dies after two chunks (a timeout)."""

    def __init__(self) -> None:
        self.inner = build_provider("simulated", latency_scale=0)
        self.name = self.inner.name
        self.default_chat_model = self.inner.default_chat_model
        self.default_embedding_model = self.inner.default_embedding_model

    def models(self):
        return self.inner.models()

    async def chat(self, req):
        return await self.inner.chat(req)

    async def stream(self, req):
        sent = 0
        async for chunk in self.inner.stream(req):
            if chunk.text and not chunk.is_final:
                yield chunk
                sent += 1
            if sent == 2:
                raise ProviderError("upstream stalled", error_type=sc.ERROR_TIMEOUT)

    async def embed(self, texts, model=None):
        return await self.inner.embed(texts, model)

    async def aclose(self):
        await self.inner.aclose()


def _metric(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_failure_after_first_chunk_ends_the_stream_with_an_error_event() -> None:
    logs = io.StringIO()
    settings = Settings.from_env({"RATE_LIMIT_ENABLED": "false"})
    app = create_app(
        settings, provider=MidStreamFailure(), log_stream=logs, configure_logging=False
    )
    with serve_in_thread(app) as url:
        wait_ready(url)
        r = httpx.post(url + "/v1/chat/stream", json={"question": unique_question()}, timeout=15)
        assert r.status_code == 200
        events = parse_sse(r.text)
        assert [e for e, _ in events] == ["chunk", "chunk", "error"]
        assert events[-1][1]["error_type"] == "timeout"
        assert events[-1][1]["request_id"] == r.headers["x-request-id"]
        metrics = httpx.get(url + "/metrics").text
    count = sc.GENAI_OPERATION_DURATION + "_count"
    assert (
        _metric(metrics, count, gen_ai_operation_name=sc.OP_CHAT, error_type=sc.ERROR_TIMEOUT) == 1
    )
    assert _metric(metrics, sc.LLM_ACTIVE_REQUESTS) == 0
    assert _metric(metrics, sc.GENAI_TIME_TO_FIRST_CHUNK + "_count") == 1
    failed = [json.loads(x) for x in logs.getvalue().splitlines() if '"chat_failed"' in x]
    assert failed and failed[0]["error_type"] == "timeout"


def test_client_disconnect_mid_stream_releases_the_model_call() -> None:
    settings = Settings.from_env({"RATE_LIMIT_ENABLED": "false", "SIM_LATENCY_SCALE": "1"})
    app = create_app(settings, log_stream=io.StringIO(), configure_logging=False)
    with serve_in_thread(app) as url:
        wait_ready(url)
        body = {"question": unique_question(), "max_tokens": 2000}
        with httpx.stream("POST", url + "/v1/chat/stream", json=body, timeout=15) as r:
            first = next(r.iter_lines())
            assert first.startswith("event: chunk")
        # The producer task is cancelled: the gauge returns to 0, the call is recorded as failed.
        deadline = time.monotonic() + 10
        while True:
            metrics = httpx.get(url + "/metrics").text
            count = sc.GENAI_OPERATION_DURATION + "_count"
            cancelled = _metric(
                metrics, count, gen_ai_operation_name=sc.OP_CHAT, error_type=sc.OTHER
            )
            if cancelled == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert cancelled == 1
        assert _metric(metrics, sc.LLM_ACTIVE_REQUESTS) == 0


def test_client_gone_before_the_first_chunk_is_499_not_a_200() -> None:
    """Nothing was sent when the caller left: the request is recorded as the nginx-style 499
    (not the 200 a later send would have claimed, with the whole wait as its latency), and the
    model call is released."""
    token = "stream-admin-token-0123456789"
    env = {"RATE_LIMIT_ENABLED": "false", "SIM_LATENCY_SCALE": "1", "ADMIN_TOKEN": token}
    app = create_app(Settings.from_env(env), log_stream=io.StringIO(), configure_logging=False)
    with serve_in_thread(app) as url:
        wait_ready(url)
        admin = {"Authorization": f"Bearer {token}"}
        httpx.put(url + "/admin/faults", json={"extra_ttft_seconds": 30}, headers=admin)
        body = json.dumps({"question": unique_question()}).encode()
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            head = (
                f"POST /v1/chat/stream HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body)
            # Leave only once the model call waits for its first chunk (30 s away): a hang-up
            # during the body would be a 499 too, by another path.
            deadline = time.monotonic() + 10
            while _metric(httpx.get(url + "/metrics").text, sc.LLM_ACTIVE_REQUESTS) < 1:
                assert time.monotonic() < deadline, "the stream never reached the model"
                time.sleep(0.05)
        deadline = time.monotonic() + 10
        while True:
            metrics = httpx.get(url + "/metrics").text
            gone = _metric(
                metrics, HTTP_COUNT, **{sc.L_HTTP_ROUTE: STREAM, sc.L_HTTP_STATUS: "499"}
            )
            if gone == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert gone == 1
        assert (
            _metric(metrics, HTTP_COUNT, **{sc.L_HTTP_ROUTE: STREAM, sc.L_HTTP_STATUS: "200"}) == 0
        )
        assert _metric(metrics, sc.LLM_ACTIVE_REQUESTS) == 0


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(url + "/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready"
        time.sleep(0.05)


def test_a_client_gone_mid_burst_costs_no_warning_per_chunk(shared_app: Proc) -> None:
    """Chunks already queued (here: no simulated latency) were written in one loop step to a
    socket the client had closed, asyncio logging 'socket.send() raised exception.' for each:
    up to 200 warning lines from one request. The stream now yields to the loop per chunk."""
    host, port = shared_app.url.removeprefix("http://").split(":")
    ids = []
    for _ in range(5):
        request_id = f"burst-{uuid.uuid4().hex[:12]}"
        body = json.dumps({"question": unique_question(), "max_tokens": 2000}).encode()
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            head = (
                f"POST {STREAM} HTTP/1.1\r\nHost: {host}\r\nX-Request-ID: {request_id}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body)
            assert sock.recv(200).startswith(b"HTTP/1.1 200")
        ids.append(request_id)
    deadline = time.monotonic() + 10
    while True:
        lines = [ln for ln in log_lines(shared_app) if ln.get("request_id") in ids]
        done = {ln["request_id"] for ln in lines if ln.get("event") == "http_request"}
        if done == set(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert done == set(ids)
    assert [ln for ln in lines if ln["level"] == "warning"] == []
