"""A loopback OTLP/HTTP receiver fake that decodes the real protobufs (opentelemetry-proto).

It stands in for the OpenTelemetry Collector (which cannot run here): the app's exporters speak
the real wire protocol to it. Modes: "ok" (200 + empty Export*ServiceResponse), "error"
(HTTP 500 for every request) and "hang" (read the request, never answer until stopped).
Raw request bodies are kept too, so tests can grep the exact bytes that left the app.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attrs(value.kvlist_value.values)
    return getattr(value, kind)


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs if isinstance(kv, KeyValue)}


@dataclass
class Span:
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    status: str
    status_message: str
    resource: dict[str, Any]
    scope: str


@dataclass
class LogRecord:
    body: Any
    severity: str
    trace_id: str
    span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


@dataclass
class Received:
    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    raw: list[tuple[str, bytes]] = field(default_factory=list)  # (path, decompressed body)


class OTLPReceiver:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.received = Received()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                receiver._record(self.path, body)
                if receiver.mode == "hang":
                    receiver._release.wait(60)
                    return
                if receiver.mode == "error":
                    payload = b"backend exploded"
                    self.send_response(500)
                    self.send_header("Content-Type", "text/plain")
                else:
                    response = (
                        ExportLogsServiceResponse()
                        if self.path.endswith("/logs")
                        else ExportTraceServiceResponse()
                    )
                    payload = response.SerializeToString()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OTLPReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # --- decoding ------------------------------------------------------------------------------
    def _record(self, path: str, body: bytes) -> None:
        with self._lock:
            self.requests.append(path)
            self.received.raw.append((path, body))
            if path.endswith("/v1/traces"):
                self.received.spans.extend(_decode_spans(body))
            elif path.endswith("/v1/logs"):
                self.received.logs.extend(_decode_logs(body))

    def spans(self) -> list[Span]:
        with self._lock:
            return list(self.received.spans)

    def logs(self) -> list[LogRecord]:
        with self._lock:
            return list(self.received.logs)

    def requests_pb(self) -> tuple[list[ExportTraceServiceRequest], list[ExportLogsServiceRequest]]:
        """The export requests received so far, as protobuf messages (traces, logs)."""
        with self._lock:
            raw = list(self.received.raw)
        traces = [ExportTraceServiceRequest.FromString(b) for p, b in raw if p.endswith("/traces")]
        logs = [ExportLogsServiceRequest.FromString(b) for p, b in raw if p.endswith("/logs")]
        return traces, logs

    def raw_bodies(self) -> list[bytes]:
        with self._lock:
            return [b for _, b in self.received.raw]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return predicate()


def _decode_spans(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for rs in request.resource_spans:
        resource = attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(
                    Span(
                        name=s.name,
                        kind=SPAN_KINDS.get(s.kind, str(s.kind)),
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(),
                        attributes=attrs(s.attributes),
                        events=[
                            {"name": e.name, "attributes": attrs(e.attributes)} for e in s.events
                        ],
                        status=STATUS_CODES.get(s.status.code, str(s.status.code)),
                        status_message=s.status.message,
                        resource=resource,
                        scope=ss.scope.name,
                    )
                )
    return out


def _decode_logs(body: bytes) -> list[LogRecord]:
    request = ExportLogsServiceRequest()
    request.ParseFromString(body)
    out = []
    for rl in request.resource_logs:
        resource = attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            for r in sl.log_records:
                out.append(
                    LogRecord(
                        body=any_value(r.body),
                        severity=r.severity_text,
                        trace_id=r.trace_id.hex(),
                        span_id=r.span_id.hex(),
                        attributes=attrs(r.attributes),
                        resource=resource,
                    )
                )
    return out
