"""POST /v1/chat/stream: SSE chunks, a final `done` with the JSON response's metadata, errors."""

from __future__ import annotations

import httpx

from tests.demo_app.conftest import parse_sse, unique_question


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
