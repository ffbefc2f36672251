"""A telemetry backend that is down, hanging or erroring never slows or breaks the API.

OTLP export runs in the SDK's batch worker thread with a bounded queue and a short timeout.
The test raises that timeout to EXPORT_TIMEOUT_S, so a design that exported on the request path
would add seconds to a request against the hanging or erroring backend (the SDK retries a 500
until the timeout); the "promptly" bound sits well below it and well above what a request takes
here (milliseconds at simulated latency 0), which keeps it meaningful on a slow shared machine.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness import free_port, wait_until
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc
from tests.demo_app.conftest import log_lines, unique_question

EXPORT_TIMEOUT_S = 6
PROMPT_S = 3.0


def closed_port() -> int:
    port = free_port()
    with socket.socket() as s:  # nothing listens there: connection refused
        s.settimeout(0.2)
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


def _wait_for_log(app: Proc, needle: str, timeout_s: float) -> bool:
    return wait_until(lambda: needle in Path(app.log_path).read_text(), timeout_s, every=0.2)


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
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": backend,
            "OTEL_EXPORTER_OTLP_TIMEOUT": str(EXPORT_TIMEOUT_S * 1000),
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
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
    # The first failed export is reported once its timeout has run out (hanging backend).
    assert _wait_for_log(app, '"event_class": "telemetry_export"', EXPORT_TIMEOUT_S + 10), (
        "export failures are reported"
    )

    stopped = time.perf_counter()
    app.stop(timeout=15)
    # uvicorn re-raises SIGTERM after its graceful shutdown (-15); -9 would mean we hung.
    assert app.popen.returncode in (0, -15), app.popen.returncode
    assert time.perf_counter() - stopped < 12

    lines = log_lines(app)  # every stdout line is JSON, including the SDK's own warnings
    assert any(x.get("event") == "stopping" for x in lines), "graceful shutdown ran"
    export_warnings = [x for x in lines if x.get("event_class") == "telemetry_export"]
    # Rate-limited: a handful of lines, not one per failed batch or dropped record.
    assert len(export_warnings) <= 8, [x["event"] for x in export_warnings]
    answered = [x for x in lines if x.get("event") == "chat_answered"]
    assert len(answered) == 24
