"""A loopback OTLP/HTTP sink that stands in for the collector: it accepts, fails or hangs.

Modes:
  ok     answer 200 with an empty (valid) protobuf Export*ServiceResponse and discard the data
  error  answer 500 to every export
  hang   read the request, then never answer (until the sink stops)

It counts exports per path, so a benchmark can prove telemetry really left the app.
Runs in-process (`OtlpSink(...).start()`, for tests) or as its own process
(`python -m bench.otlp_sink --port N --mode ok`, for benchmarks: the sink must not share the load
generator's CPU). `GET /stats` returns the counters as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Mode = Literal["ok", "error", "hang"]
MODES: tuple[Mode, ...] = ("ok", "error", "hang")


class OtlpSink:
    def __init__(self, mode: Mode = "ok", host: str = "127.0.0.1", port: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode: Mode = mode
        self.requests: Counter[str] = Counter()
        self.bytes_received = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the collector does

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                body = json.dumps(sink.stats()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                with sink._lock:
                    sink.requests[self.path] += 1
                    sink.bytes_received += len(data)
                if sink.mode == "hang":
                    sink._stopping.wait()
                    self.close_connection = True
                    return
                status = 200 if sink.mode == "ok" else 500
                body = b"" if status == 200 else b"injected failure"
                ctype = "application/x-protobuf" if status == 200 else "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.endpoint = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "mode": self.mode,
                "requests": dict(self.requests),
                "total": sum(self.requests.values()),
                "bytes": self.bytes_received,
            }

    def start(self) -> OtlpSink:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Idempotent. Releases hanging handlers first: their clients then see the connection
        close instead of waiting for their own timeout."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="loopback OTLP/HTTP sink")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    args = parser.parse_args()
    sink = OtlpSink(args.mode, port=args.port)
    print(sink.port, flush=True)  # the parent reads the bound port from the first line
    with contextlib.suppress(KeyboardInterrupt):
        sink.server.serve_forever()


if __name__ == "__main__":
    main()
