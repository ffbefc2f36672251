"""A loopback fake of an OpenAI-compatible API, speaking the real HTTP/JSON/SSE wire format.

Real HTTP (stdlib `ThreadingHTTPServer` on a free 127.0.0.1 port, HTTP/1.1 keep-alive for JSON
answers as real APIs do; a stream ends by closing its connection), so the clients' connection
pools, timeouts, headers and SSE parsing are exercised for real. `latency_s` delays every answer
(a model's think time). Behaviour is scripted per
request: `fake.script = ["429", "ok"]` makes the first request a 429 and the next a success;
when the script is empty every request succeeds.

Script steps: "ok" (200), "429" (rate limited, Retry-After: 0), "500", "400", "401" (echoes the
bearer token in its error message, like a careless proxy would), "hang" (answers
nothing for `hang_seconds`), "no_usage" (200 without a usage object), "stream_error" (a stream
that starts, then sends an error event). A `Raw` step sends exactly the status, headers and
body it holds (a misbehaving upstream: `Raw.of_json(...)`, `Raw.of_sse(...)`, or bytes as they are;
`tool_call(name, arguments)`: an answer that calls a tool).

Every request is recorded in `fake.requests` as (path, headers, json body) unless `record` is
off. Benchmarks run it as its own process: `python -m harness.fake_openai [--latency-ms N]`
prints its port on the first line, records nothing and answers every request with success.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import struct
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import serving

ANSWER_WORDS = ["Time", " to", " first", " token", " is", " the", " prefill", " delay", "."]
USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 40,
    "total_tokens": 160,
    "prompt_tokens_details": {"cached_tokens": 64},
    "completion_tokens_details": {"reasoning_tokens": 12},
}
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
COMPLETION_ID = "chatcmpl-fake123"


@dataclass(frozen=True)
class Raw:
    """A scripted answer sent byte for byte, however malformed (then the connection closes)."""

    body: bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def of_json(
        cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Raw:
        # json.dumps writes what a careless server might: Infinity, NaN, "\ud800" escapes.
        return cls(json.dumps(payload).encode(), status, dict(headers or {}))

    @classmethod
    def of_sse(cls, events: Sequence[Any]) -> Raw:
        """A stream of `data:` events (dicts as JSON, strings as they are)."""
        lines = (e if isinstance(e, str) else json.dumps(e) for e in events)
        body = "".join(f"data: {line}\n\n" for line in lines).encode()
        return cls(body, content_type="text/event-stream")


@dataclass
class FakeOpenAI:
    """State shared between the test and the server threads."""

    script: list[str | Raw] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    hang_seconds: float = 5.0
    latency_s: float = 0.0
    record_requests: bool = True
    url: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> str | Raw:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    def record(self, path: str, headers: dict[str, str], body: Any) -> None:
        if not self.record_requests:
            return
        with self._lock:
            self.requests.append((path, headers, body))


def chunk(completion_id: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": RESPONSE_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """One 3-dimensional vector per input; as base64 of little-endian float32s when the request
    asks (`encoding_format`, which the openai clients for Python and Node.js send by default)."""
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    encode = body.get("encoding_format") == "base64"
    data = []
    for i in range(len(inputs)):
        vector = [0.1 * i, 0.5, -0.5]
        packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": packed if encode else vector})
    tokens = 7 * len(inputs)
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def completion(step: str = "ok") -> dict[str, Any]:
    """The body of a successful chat completion (without usage for step "no_usage")."""
    payload: dict[str, Any] = {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": RESPONSE_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(ANSWER_WORDS)},
                "finish_reason": "stop",
            }
        ],
    }
    if step != "no_usage":
        payload["usage"] = USAGE
    return payload


def tool_call(name: str, arguments: Mapping[str, Any], call_id: str = "call_1") -> Raw:
    """A chat completion whose answer is one function call (an agent's tool step)."""
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(dict(arguments))},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return Raw.of_json(
        {
            **completion(),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        }
    )


_ERROR_KINDS = {429: "rate_limit_exceeded", 500: "server_error", 400: "invalid_request"}


class _Handler(BaseHTTPRequestHandler):
    """Answers one request according to the next step of `fake.script`."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as HTTP servers set it: an answer's headers and body are two writes, and with
    # Nagle's algorithm the body waited for the client's delayed ACK of the headers, ~40 ms per
    # answer on a keep-alive connection (measured: 44 ms a call, 1-5 ms with it).
    disable_nagle_algorithm = True
    fake: FakeOpenAI  # set on the subclass `_handler` makes

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        return None

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None):
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _sse(self, event: Any) -> None:
        data = event if isinstance(event, str) else json.dumps(event)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def do_POST(self) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        fake.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        step = fake.next_step()
        if fake.latency_s:
            time.sleep(fake.latency_s)
        if isinstance(step, Raw):
            self._send_raw(step)
        elif step == "hang":
            fake._stop.wait(fake.hang_seconds)
            self.close_connection = True
        elif step == "401":
            echoed = self.headers.get("Authorization", "")
            self._send_json(401, {"error": {"message": f"invalid credentials: {echoed}"}})
        elif step in ("429", "500", "400"):
            self._send_error(int(step))
        elif self.path.endswith("/embeddings"):
            self._send_json(200, embeddings(body))
        elif not self.path.endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": "not found"}})
        elif body.get("stream"):
            self._stream(body, step)
        else:
            self._send_json(200, completion(step))

    def _send_raw(self, raw: Raw) -> None:
        self.send_response(raw.status)
        self.send_header("Content-Type", raw.content_type)
        self.send_header("Content-Length", str(len(raw.body)))
        self.send_header("Connection", "close")
        for key, value in raw.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.close_connection = True
        self.wfile.write(raw.body)

    def _send_error(self, status: int) -> None:
        headers = {"Retry-After": "0"} if status == 429 else {}
        kind = _ERROR_KINDS[status]
        error = {"message": f"fake {kind}", "type": kind, "code": None}
        self._send_json(status, {"error": error}, headers)

    def _stream(self, body: dict[str, Any], step: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the stream ends with the connection
        self.end_headers()
        self.close_connection = True
        self._sse(chunk(COMPLETION_ID, {"role": "assistant", "content": ""}, None))
        for word in ANSWER_WORDS:
            self._sse(chunk(COMPLETION_ID, {"content": word}, None))
            if step == "stream_error":
                self._sse({"error": {"message": "fake overloaded mid-stream"}})
                return
        self._sse(chunk(COMPLETION_ID, {}, "stop"))
        include_usage = (body.get("stream_options") or {}).get("include_usage")
        if include_usage and step != "no_usage":
            usage_event = chunk(COMPLETION_ID, {}, None)
            usage_event["choices"] = []
            usage_event["usage"] = USAGE
            self._sse(usage_event)
        self._sse("[DONE]")


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"fake": fake})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open dozens of pooled connections at once


@contextmanager
def fake_openai_server(fake: FakeOpenAI | None = None) -> Iterator[FakeOpenAI]:
    """Run the fake on a free loopback port; yields it with `url` set to `http://.../v1`."""
    fake = fake or FakeOpenAI()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with serving(server, "fake-openai"):
        try:
            yield fake
        finally:
            fake._stop.set()  # ends streams still being written before the server shuts down


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="loopback fake OpenAI-compatible API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every answer")
    args = parser.parse_args(argv)
    fake = FakeOpenAI(latency_s=args.latency_ms / 1000, record_requests=False)
    server = _Server(("127.0.0.1", args.port), _handler(fake))
    print(server.server_address[1], flush=True)  # the parent reads the port from the first line
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
