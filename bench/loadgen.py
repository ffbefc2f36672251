"""Closed-loop HTTP load generator, run as its OWN process so it never shares the app's CPU.

    python -m bench.loadgen --url http://127.0.0.1:PORT --duration 10 --concurrency 8 \
        --traffic steady

Prints one JSON object: requests, errors by status, throughput (req/s), latency percentiles (ms).
A minimal asyncio HTTP/1.1 keep-alive client is used instead of httpx: on a 2-core machine the
load generator must cost far less CPU per request than the server it measures.

Traffic kinds:
  steady   POST /v1/chat with a rotating set of valid questions (cache disabled by the caller)
  default  the same questions without a `model` field (the app's default model): the request
           shape both rag-api on an OpenAI-compatible backend and bench.peer_app accept
  hostile  POST /v1/chat and /v1/chat/stream where every request carries fresh model/feature/
           tier/user/conversation values, plus random raw paths and odd methods: what a careless
           or malicious client sends
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from genai_telemetry import semconv

QUESTIONS = (
    "How do I configure the OpenTelemetry collector batch processor?",
    "What does a burn rate of 14.4 mean for a 99.5% SLO?",
    "Which labels does the token usage histogram carry?",
    "How is time to first token measured for streamed answers?",
    "Why are user ids never used as Prometheus labels?",
    "How does Loki store trace ids from OTLP logs?",
    "What is the price of output tokens for gpt-4o-mini?",
    "How do I silence an alert during maintenance?",
)
MODELS = ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash")

Request = tuple[str, str, bytes, str]  # method, path, body, extra header lines


def steady_requests(with_model: bool = True) -> Callable[[int], Request]:
    def make(i: int) -> Request:
        body = {
            "question": QUESTIONS[i % len(QUESTIONS)],
            "model": MODELS[i % len(MODELS)],
            "feature": semconv.FEATURES[i % len(semconv.FEATURES)],
            "user_tier": semconv.USER_TIERS[i % len(semconv.USER_TIERS)],
        }
        if not with_model:
            del body["model"]
        return "POST", "/v1/chat", json.dumps(body).encode(), ""

    return make


def hostile_requests(seed: int = 7) -> Callable[[int], Request]:
    rnd = random.Random(seed)

    def make(i: int) -> Request:
        kind = i % 10
        if kind == 9:  # a raw path that must never become a label value
            return "GET", f"/v1/chat/{i}/{rnd.getrandbits(32):x}", b"", ""
        if kind == 7:  # odd methods on real routes
            return ("DELETE", "PATCH", "OPTIONS", f"X{i % 1000}")[i % 4], "/v1/chat", b"", ""
        body: dict[str, object] = {
            "question": f"{QUESTIONS[i % len(QUESTIONS)]} #{i}",
            "feature": f"feature-{i}",
            "user_tier": f"tier-{i}",
            "conversation_id": f"conv-{i}-{rnd.getrandbits(48):x}",
        }
        # Half the requests name an unknown model (→ 422), half a real one, so the app's
        # model, feature and tier bounding are all exercised on successful requests too.
        body["model"] = f"model-{i}" if kind % 2 else MODELS[i % len(MODELS)]
        headers = f"X-User-Id: user-{i}\r\nX-Request-Id: req-{i}\r\n"
        path = "/v1/chat/stream" if kind in (2, 8) else "/v1/chat"  # TTFT series too
        return "POST", path, json.dumps(body).encode(), headers

    return make


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep_alive)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = None
    chunked = False
    keep_alive = True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep_alive = False
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep_alive


async def run(
    url: str,
    duration: float,
    concurrency: int,
    make: Callable[[int], Request],
    limit: int,
    raw: bool = False,
    start: int = 0,
    rate: float = 0.0,
) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    counter = iter(range(start, start + limit if limit > 0 else 1 << 62))
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        interval = concurrency / rate if rate > 0 else 0.0  # open-ish loop when paced
        next_at = time.perf_counter()
        try:
            while time.perf_counter() < stop_at:
                if interval:
                    next_at += interval
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                i = next(counter, None)
                if i is None:
                    return
                method, path, body, extra = make(i)
                head = (
                    f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                t0 = time.perf_counter()
                writer.write(head.encode() + body)
                try:
                    status, keep_alive = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    statuses["conn_error"] += 1
                    keep_alive = False
                else:
                    latencies.append(time.perf_counter() - t0)
                    statuses[str(status)] += 1
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    t_start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t_start
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    done = len(latencies)
    extra = {"latencies_ms": [round(x * 1000, 3) for x in latencies]} if raw else {}
    return {
        **extra,
        "requests": done,
        "elapsed_s": elapsed,
        "throughput_rps": done / elapsed if elapsed else 0.0,
        "statuses": dict(statuses),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
    }


TRAFFIC: dict[str, Callable[[], Callable[[int], Request]]] = {
    "steady": steady_requests,
    "default": lambda: steady_requests(with_model=False),
    "hostile": hostile_requests,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--traffic", choices=TRAFFIC, default="steady")
    parser.add_argument("--limit", type=int, default=0, help="stop after N requests (0: none)")
    parser.add_argument("--rate", type=float, default=0.0, help="total req/s (0: flat out)")
    parser.add_argument("--start", type=int, default=0, help="first request index")
    parser.add_argument("--raw", action="store_true", help="include every latency (ms)")
    args = parser.parse_args()
    make = TRAFFIC[args.traffic]()
    result = asyncio.run(
        run(
            args.url,
            args.duration,
            args.concurrency,
            make,
            args.limit,
            raw=args.raw,
            start=args.start,
            rate=args.rate,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
