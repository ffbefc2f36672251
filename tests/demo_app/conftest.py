"""Fixtures for the rag-api tests: the real app as `python -m demo_app` on a loopback port.

`shared_app` (one per session) serves the read-mostly tests; tests that need special settings
start their own with `start_app(env)`. Simulated latency is 0 (SIM_LATENCY_SCALE=0).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from harness import free_port
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc, rag_api_factory

ADMIN_TOKEN = "test-admin-token-0123456789"

# Settings that make tests independent of the developer's environment.
BASE_ENV = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
    "OTEL_TRACES_SAMPLER": "parentbased_always_on",
    "LLM_PROVIDER": "simulated",
    "RATE_LIMIT_ENABLED": "false",
    "ADMIN_TOKEN": "",
    "TELEMETRY_ENABLED": "true",
    "LOG_LEVEL": "info",
}


@pytest.fixture(scope="session")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Proc]]:
    """Factory: start_app({"ENV": "value"}) → running Proc; all stopped at session end."""
    with rag_api_factory(tmp_path_factory.mktemp, BASE_ENV) as start:
        yield start


@pytest.fixture(scope="session")
def shared_app(start_app: Callable[..., Proc]) -> Proc:
    """Rate limiting off, admin API on (tests that set faults must reset them)."""
    return start_app({"ADMIN_TOKEN": ADMIN_TOKEN}, name="shared")


@pytest.fixture
def client(shared_app: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_app.url, timeout=15.0) as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def reset_faults(client: httpx.Client, admin_headers: dict[str, str]) -> Iterator[None]:
    yield
    client.put("/admin/faults", json={}, headers=admin_headers).raise_for_status()


@pytest.fixture
def otlp_receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("ok") as receiver:
        yield receiver


def nonce() -> str:
    """A unique suffix the retrieval tokenizer always drops (6+ digits), so it never changes
    which documents a question finds. A hex suffix did: an all-letter one ("cadcfdff", 3 in
    10,000) is a word of its own and pushed a question's best score under the cut."""
    return f"{uuid.uuid4().int % 10**12:012d}"


def unique_question(topic: str = "How do I monitor time to first token") -> str:
    """A retrieval question that misses the response cache (unique suffix)."""
    return f"{topic}? (case {nonce()})"


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """[(event, data)] of a Server-Sent Events body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data += line[len("data:") :].strip()
        events.append((event, json.loads(data) if data else {}))
    return events


def capturing_app(start_app: Callable[..., Proc], receiver: OTLPReceiver, name: str) -> Proc:
    """rag-api exporting to `receiver` every 200 ms with message content and every header
    captured: the most any sink can carry, which the redaction tests search (credentials must
    still never reach a span)."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
    }
    return start_app(env, name=name)


def sink_texts(app: Proc, receiver: OTLPReceiver) -> dict[str, str]:
    """Stop the app (flushing its last log records); its stdout and exported OTLP bytes as text."""
    app.stop()
    return {
        "stdout": Path(app.log_path).read_text(),
        "otlp": b"\n".join(receiver.raw_bodies()).decode("utf-8", errors="replace"),
    }


def log_lines(proc: Proc) -> list[dict[str, Any]]:
    """The app's stdout as parsed JSON objects (non-JSON lines fail the test: 12-factor logs)."""
    out = []
    for line in Path(proc.log_path).read_text().splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run an app object (built in this process, e.g. with an injected provider) with uvicorn
    on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("in-process uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
