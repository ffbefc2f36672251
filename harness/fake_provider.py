"""What the loopback fakes of provider APIs (harness.fake_gemini, harness.fake_anthropic,
harness.fake_bedrock) share.

Each fake is a stdlib `ThreadingHTTPServer` on a free 127.0.0.1 port, so the real client's
request building, SSE parsing and error mapping run. Behaviour is scripted per request:
`fake.script = ["429", "ok"]` (an empty script answers 200); `first_chunk_delay_s` holds back
the first event of a stream (a slow prefill); requests are recorded in `fake.requests` as
(path, json body). A fake's handler subclasses `JsonHandler` and implements `do_POST`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from harness import serving

EMPTY: Mapping[str, str] = {}


@dataclass
class ScriptedFake:
    script: list[str] = field(default_factory=list)
    first_chunk_delay_s: float = 0.0
    url: str = ""
    requests: list[tuple[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK, ~40 ms per kept-alive answer (as harness/fake_openai.py measured)
    disable_nagle_algorithm = True
    fake: ScriptedFake  # set on the subclass `serve` makes
    json_content_type = "application/json"
    sse_eol = "\n"  # what ends an event's lines (Gemini's API writes CRLF)

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def read_json(self) -> Any:
        """The request's JSON body, recorded in fake.requests with the path."""
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.fake.requests.append((self.path, body))
        return body

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str] = EMPTY) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.json_content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self, content_type: str = "text/event-stream") -> None:
        """A 200 event stream's headers, then the scripted wait before its first event (SSE, or
        another streaming `content_type`)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        time.sleep(self.fake.first_chunk_delay_s)

    def send_event(self, data: Any, event: str | None = None) -> None:
        eol = self.sse_eol
        head = f"event: {event}{eol}" if event else ""
        self.wfile.write(f"{head}data: {json.dumps(data)}{eol}{eol}".encode())
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


F = TypeVar("F", bound=ScriptedFake)


@contextmanager
def serve(fake: F, handler: type[JsonHandler], name: str) -> Iterator[F]:
    """Run `handler` for `fake` on a free loopback port; yields the fake with `url` set."""
    bound = type("Handler", (handler,), {"fake": fake})
    server = _Server(("127.0.0.1", 0), bound)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server, name):
        yield fake
