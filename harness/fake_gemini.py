"""A loopback fake of the Gemini API (generativelanguage REST), speaking its real wire format.

The `google-genai` client, given `http_options={"base_url": fake.url}`, POSTs
`/v1beta/models/{model}:generateContent` (one JSON answer) and
`/v1beta/models/{model}:streamGenerateContent?alt=sse` (server-sent events, one
GenerateContentResponse per `data:` line). Real HTTP on a free 127.0.0.1 port (stdlib
`ThreadingHTTPServer`), so the client's own request building, SSE parsing and error mapping run.

Behaviour is scripted per request like harness.fake_openai: `fake.script = ["429", "ok"]`; an
empty script answers 200. Steps: "ok", "429" (RESOURCE_EXHAUSTED), "500" (INTERNAL), in the
API's error shape `{"error": {"code", "message", "status"}}`. `first_chunk_delay_s` holds back
the first event of a stream (a slow prefill). Requests are recorded in `fake.requests` as
(path, json body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import serving

WORDS = ["Gemini", " answers", " from", " a", " loopback", " fake", "."]
STATUS = {"429": "RESOURCE_EXHAUSTED", "500": "INTERNAL"}


@dataclass
class FakeGemini:
    script: list[str] = field(default_factory=list)
    first_chunk_delay_s: float = 0.0
    url: str = ""
    requests: list[tuple[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"


def _model(path: str) -> str:
    return path.split("/models/", 1)[-1].split(":", 1)[0]


def response(model: str, text: str, finish: bool = True, usage: bool = True) -> dict[str, Any]:
    """One GenerateContentResponse (a whole answer, or one streamed chunk of it)."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    candidate["index"] = 0
    if finish:
        candidate["finishReason"] = "STOP"
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    body["responseId"] = "fake-gemini-response"
    if usage:
        body["usageMetadata"] = {
            "promptTokenCount": 120,
            "candidatesTokenCount": 40,
            "totalTokenCount": 160,
        }
    return body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeGemini

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.fake.requests.append((self.path, body))
        model = _model(self.path)
        step = self.fake.next_step()
        if step != "ok":
            error = {"code": int(step), "message": f"fake {step}", "status": STATUS[step]}
            self._send_json(int(step), {"error": error})
        elif ":streamGenerateContent" in self.path:
            self._stream(model)
        elif ":generateContent" in self.path:
            self._send_json(200, response(model, "".join(WORDS)))
        else:
            self._send_json(404, {"error": {"code": 404, "message": "no such method"}})

    def _stream(self, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        time.sleep(self.fake.first_chunk_delay_s)
        for i, word in enumerate(WORDS):
            last = i == len(WORDS) - 1
            event = response(model, word, finish=last, usage=last)
            self.wfile.write(f"data: {json.dumps(event)}\r\n\r\n".encode())
            self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def fake_gemini_server(fake: FakeGemini | None = None) -> Iterator[FakeGemini]:
    """Run the fake on a free loopback port; yields it with `url` set to its base URL."""
    fake = fake or FakeGemini()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = _Server(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server, "fake-gemini"):
        yield fake
