"""The API keeps answering promptly whatever the OTLP backend does.

The collector can hang (wedged, black-holed network) or answer 500 (broken exporter behind it),
and it can be down while traffic floods in. Telemetry export runs off the request path with
bounded queues, so none of this may slow or fail an API request. (A closed port is covered by
tests/demo_app/test_collector_down.py; here: hanging, 500, and a flood while down.)

Real rag-api over real HTTP; the backend is the loopback OTLP receiver (harness/otlp_receiver.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from harness import free_port, wait_until
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc, start_rag_api

# Generous "promptly" bound for one request (and the flood's p99, 16 concurrent on 2 cores) on a
# busy CI machine; a request that waited on the exporter would take the export timeout (10 s).
PROMPT_S = 5.0
EXPORT_TIMEOUT_MS = "10000"
# Export often, so the exporters are stuck or failing well before the measured requests.
FAST_EXPORT = {
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "OTEL_BLRP_SCHEDULE_DELAY": "100",
    "OTEL_EXPORTER_OTLP_TIMEOUT": EXPORT_TIMEOUT_MS,
    "RATE_LIMIT_ENABLED": "false",
    "CACHE_ENABLED": "false",
}
QUESTIONS = (
    "How do I silence an alert during maintenance?",
    "Which labels does the token usage histogram carry?",
    "What does a burn rate of 14.4 mean?",
)


def chat(client: httpx.Client, i: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    r = client.post("/v1/chat", json={"question": f"{QUESTIONS[i % 3]} ({i})"})
    return r.status_code, time.perf_counter() - t0


def wait_for_exports(sink: OTLPReceiver, at_least: int, timeout: float = 20.0) -> None:
    if not wait_until(lambda: sink.stats()["total"] >= at_least, timeout, every=0.05):
        raise AssertionError(f"the app never tried to export to the sink: {sink.stats()}")


@pytest.fixture
def sink_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[OTLPReceiver, Proc]]:
    with OTLPReceiver(request.param, decode=False) as sink:
        proc = start_rag_api(
            tmp_path, {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
        )
        try:
            yield sink, proc
        finally:
            sink.stop()  # first: a hanging export then fails at once and the app stops fast
            proc.stop()


@pytest.mark.parametrize("sink_app", ["hang", "error"], indirect=True)
def test_requests_stay_prompt_when_backend_hangs_or_fails(
    sink_app: tuple[OTLPReceiver, Proc],
) -> None:
    sink, proc = sink_app
    with httpx.Client(base_url=proc.url, timeout=30) as client:
        # Produce telemetry until the exporter has reached the broken backend at least once:
        # from then on it is blocked (hang) or failing (error) while we measure.
        for i in range(5):
            chat(client, i)
        wait_for_exports(sink, 1)
        before = sink.stats()["total"]
        # Two seconds and 50 requests at least: many export cycles (100 ms schedule) for a
        # failing backend; a hanging one holds both exporters (traces, logs) all along. A count,
        # not a throughput: a loaded machine makes the window longer, not the test fail.
        results: list[tuple[int, float]] = []
        end = time.monotonic() + 2.0
        while time.monotonic() < end or len(results) < 50:
            results.append(chat(client, len(results)))
            time.sleep(0.005)
        attempts_during = sink.stats()["total"] - before
    statuses = [s for s, _ in results]
    slowest = max(d for _, d in results)
    assert statuses == [200] * len(results), statuses
    assert slowest < PROMPT_S, f"slowest request {slowest:.2f}s with a {sink.mode} backend"
    if sink.mode == "error":
        # The fault was in the path all along: every new batch met a 500 (and the SDK kept
        # trying rather than giving up after the first failure).
        assert attempts_during >= 3, sink.stats()
    assert proc.alive()


@pytest.mark.parametrize("backend", ["down", "hang"])
def test_flood_while_backend_down_is_served_and_memory_stays_bounded(
    tmp_path: Path, backend: str
) -> None:
    """Spans and log records pile up faster than a dead backend drains them: bounded queues
    must drop, not buffer, and requests must not queue behind export attempts. `down` is a
    closed port (fails fast); `hang` never answers, so the queues really fill up."""
    with contextlib.ExitStack() as stack:
        if backend == "down":
            endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        else:
            sink = stack.enter_context(OTLPReceiver("hang", decode=False))
            endpoint = sink.endpoint
        proc = start_rag_api(tmp_path, {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
        stack.callback(proc.stop)
        if backend == "hang":
            stack.callback(sink.stop)  # runs before proc.stop (LIFO): see sink_app
        rss_mib, results = _flood(proc)

    statuses = {s for s, _ in results}
    durations = sorted(d for _, d in results)
    p99 = durations[int(0.99 * len(durations))]
    assert len(results) == FLOOD_BATCHES * FLOOD_BATCH_SIZE
    assert statuses == {200}, statuses
    assert p99 < PROMPT_S, f"p99 {p99:.2f}s during the flood"
    # Warm after the first batch; the telemetry of 600 more requests (~10 spans and several
    # log records each) would be tens of MiB if it were buffered without bound.
    growth = rss_mib[-1] - rss_mib[0]
    assert growth < 25, f"RSS grew {growth:.1f} MiB between batches: {rss_mib}"
    print(f"{backend}: RSS after each batch {rss_mib} MiB, p99 {p99 * 1000:.0f} ms")


FLOOD_BATCHES = 3
FLOOD_BATCH_SIZE = 300


def _flood(proc: Proc) -> tuple[list[float], list[tuple[int, float]]]:
    """FLOOD_BATCHES batches of concurrent chats; (RSS after each batch in MiB, results)."""
    process = psutil.Process(proc.popen.pid)

    async def batch(n: int, concurrency: int = 16) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        indices = iter(range(n))
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as client:

            async def worker() -> None:
                for i in indices:
                    t0 = time.perf_counter()
                    body = {"question": f"{QUESTIONS[i % 3]} ({i})"}
                    r = await client.post("/v1/chat", json=body)
                    out.append((r.status_code, time.perf_counter() - t0))

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return out

    rss_mib: list[float] = []
    results: list[tuple[int, float]] = []
    for _ in range(FLOOD_BATCHES):
        results += asyncio.run(batch(FLOOD_BATCH_SIZE))
        rss_mib.append(process.memory_info().rss / 2**20)
    return rss_mib, results
