"""Fault knobs are bounded and cannot break rag-api beyond the fault they simulate: every knob at
its upper bound gives only that fault's documented statuses; the slowest profile ends in a 504
within REQUEST_TIMEOUT_SECONDS (JSON and SSE); every error log line names its request_id."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo_app.app import create_app
from demo_app.config import Settings
from demo_app.faults import KNOB_BOUNDS
from demo_app.providers import build_provider
from genai_telemetry import semconv as sc
from harness import wait_until
from harness.procs import Proc
from tests.demo_app.conftest import ADMIN_TOKEN, log_lines, serve_in_thread, unique_question

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# What each knob at its upper bound may answer, besides 200.
FAULT_STATUSES = {"error_rate": {502}, "rate_limit_rate": {503}}


def test_openapi_publishes_every_bound(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["FaultProfileBody"]
    for knob, (low, high) in KNOB_BOUNDS.items():
        prop = schema["properties"][knob]
        assert (prop["minimum"], prop["maximum"]) == (low, high), knob


@pytest.mark.parametrize("knob", sorted(KNOB_BOUNDS))
def test_each_knob_at_its_bound_gives_only_its_fault(
    client: httpx.Client, reset_faults: None, knob: str
) -> None:
    r = client.put("/admin/faults", json={knob: KNOB_BOUNDS[knob][1]}, headers=AUTH)
    assert r.status_code == 200, r.text
    allowed = {200} | FAULT_STATUSES.get(knob, set())
    for path in ("/v1/chat", "/v1/chat/stream"):
        for _ in range(3):
            body = {"question": unique_question(), "max_tokens": 32768}
            r = client.post(path, json=body)
            assert r.status_code in allowed, f"{knob} at bound: {path} {r.status_code} {r.text}"


REQUEST_TIMEOUT_S = 4
CLIENT_TIMEOUT_S = 30
SIM_LATENCY_SCALE = 1  # scales every simulated delay, extra_ttft_seconds too


@pytest.fixture(scope="module")
def slow_app(start_app: Callable[..., Proc]) -> Proc:
    return start_app(
        {
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "SIM_LATENCY_SCALE": str(SIM_LATENCY_SCALE),
            "REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_S),
        },
        name="slow",
    )


def test_slowest_profile_ends_in_504_within_the_request_timeout(slow_app: Proc) -> None:
    """No wall-clock race: at its bound the fault holds a model call for at least
    extra_ttft_seconds (120 s), and the client gives up after CLIENT_TIMEOUT_S, so any answer
    at all was cut short; the answer and the log say it was the 4 s request deadline, and the
    server's own access log shows the request was held until that deadline, not failed early."""
    profile = {k: KNOB_BOUNDS[k][1] for k in ("latency_multiplier", "extra_ttft_seconds")}
    held = KNOB_BOUNDS["extra_ttft_seconds"][1] * SIM_LATENCY_SCALE
    assert held > 3 * CLIENT_TIMEOUT_S and CLIENT_TIMEOUT_S > 3 * REQUEST_TIMEOUT_S
    with httpx.Client(base_url=slow_app.url, timeout=CLIENT_TIMEOUT_S) as c:
        assert c.put("/admin/faults", json=profile, headers=AUTH).status_code == 200
        for path in ("/v1/chat", "/v1/chat/stream"):
            r = c.post(path, json={"question": unique_question()})
            assert r.status_code == 504, r.text
            body = r.json()
            assert body["error"] == "provider_timeout"
            reason = body["detail"][0]["reason"]
            assert f"REQUEST_TIMEOUT_SECONDS={REQUEST_TIMEOUT_S:g}" in reason, reason
            request_id = r.headers["x-request-id"]

            def lines(request_id: str = request_id) -> list[dict[str, Any]]:
                return [x for x in log_lines(slow_app) if x.get("request_id") == request_id]

            # The access line is written once the response is sent: wait for it.
            assert wait_until(lambda: any(x["event"] == "http_request" for x in lines()), 10)
            failed = [line for line in lines() if line["event"] == "chat_failed"]
            assert failed and failed[0]["error_type"] == "timeout", path
            (access,) = [line for line in lines() if line["event"] == "http_request"]
            assert access["status"] == 504
            assert access["duration_ms"] >= REQUEST_TIMEOUT_S * 1000 - 1, access
        # The telemetry says what the caller was told: the chat operations that were cut off
        # (one per route) ended with error_type "timeout", not the _OTHER of a client gone away.
        chat_errors = _chat_operation_errors(c.get("/metrics").text)
        assert chat_errors.get("timeout", 0) == 2 and sc.OTHER not in chat_errors, chat_errors
        # The app is still healthy for the next caller once the fault is lifted.
        assert c.put("/admin/faults", json={}, headers=AUTH).status_code == 200
        assert c.post("/v1/chat", json={"question": unique_question()}).status_code == 200


def _chat_operation_errors(metrics_text: str) -> dict[str, float]:
    """error_type → count of chat operations, from a /metrics page."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == sc.GENAI_OPERATION_DURATION + "_count"
                and labels[sc.L_OPERATION] == sc.OP_CHAT
                and labels[sc.L_ERROR_TYPE]
            ):
                out[labels[sc.L_ERROR_TYPE]] = out.get(labels[sc.L_ERROR_TYPE], 0) + sample.value
    return out


def test_unexpected_error_is_500_and_every_error_line_names_the_request() -> None:
    provider = build_provider("simulated", seed=1, latency_scale=0)

    async def broken(req):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug in our code")

    provider.chat = broken  # type: ignore[method-assign]
    stream = io.StringIO()
    settings = Settings.from_env({"RATE_LIMIT_ENABLED": "false"})
    app = create_app(settings, provider=provider, log_stream=stream, configure_logging=False)
    with serve_in_thread(app) as url:
        deadline = time.monotonic() + 20
        while httpx.get(url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r = httpx.post(url + "/v1/chat", json={"question": unique_question()}, timeout=10)
    assert r.status_code == 500 and r.json()["error"] == "internal_error"
    request_id = r.headers["x-request-id"]
    assert r.json()["request_id"] == request_id
    errors = [json.loads(x) for x in stream.getvalue().splitlines() if '"level": "error"' in x]
    assert {e["event"] for e in errors} >= {"chat_failed", "unhandled_exception"}, errors
    for line in errors:
        assert line.get("request_id") == request_id, line
