"""A telemetry backend that is down, hanging or erroring never slows or breaks the API.

OTLP export runs in the SDK's batch worker thread with a bounded queue and a short timeout;
the "promptly" bound below (1.5 s per request with simulated latency 0, where a request takes
milliseconds) is far below the 2 s export timeout a blocking design would add.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.demo_app.conftest import log_lines, unique_question
from tests.support import free_port
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.procs import Proc

PROMPT_S = 1.5


def closed_port() -> int:
    port = free_port()
    with socket.socket() as s:  # nothing listens there: connection refused
        s.settimeout(0.2)
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


@pytest.fixture(params=["closed-port", "hanging", "http-500"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "closed-port":
        yield f"http://127.0.0.1:{closed_port()}"
        return
    mode = "hang" if request.param == "hanging" else "error"
    with OTLPReceiver(mode) as receiver:
        yield receiver.endpoint


def test_requests_succeed_promptly_when_the_collector_is_unusable(
    start_app: Callable[..., Proc], backend: str
) -> None:
    app = start_app(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": backend, "OTEL_BSP_SCHEDULE_DELAY": "100"},
        name="collector-down",
    )
    slowest = 0.0
    with httpx.Client(base_url=app.url, timeout=10) as c:
        for i in range(24):
            path = "/v1/chat/stream" if i % 4 == 0 else "/v1/chat"
            started = time.perf_counter()
            r = c.post(path, json={"question": unique_question()})
            slowest = max(slowest, time.perf_counter() - started)
            assert r.status_code == 200, r.text
            if i % 8 == 7:
                time.sleep(0.2)  # let the exporter try (and fail) between bursts
    assert slowest < PROMPT_S, f"slowest request {slowest:.2f}s"

    stopped = time.perf_counter()
    app.stop(timeout=15)
    # uvicorn re-raises SIGTERM after its graceful shutdown (-15); -9 would mean we hung.
    assert app.popen.returncode in (0, -15), app.popen.returncode
    assert time.perf_counter() - stopped < 12

    lines = log_lines(app)  # every stdout line is JSON, including the SDK's own warnings
    assert any(x.get("event") == "stopping" for x in lines), "graceful shutdown ran"
    export_warnings = [x for x in lines if x.get("event_class") == "telemetry_export"]
    assert export_warnings, "export failures are reported"
    # Rate-limited: a handful of lines, not one per failed batch or dropped record.
    assert len(export_warnings) <= 8, [x["event"] for x in export_warnings]
    answered = [x for x in lines if x.get("event") == "chat_answered"]
    assert len(answered) == 24
