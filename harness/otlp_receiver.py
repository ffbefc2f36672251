"""A loopback OTLP/HTTP receiver that decodes the real protobufs (opentelemetry-proto).

It stands in for the OpenTelemetry Collector (which cannot run here): the apps' exporters speak
the real wire protocol to it. Modes: "ok" (200 + empty Export*ServiceResponse), "error"
(HTTP 500 for every export) and "hang" (read the request, never answer until stopped).
Raw request bodies are kept too, so tests can grep the exact bytes that left the app.

Benchmarks run it as its own process, so its CPU stays out of what they measure:
`python -m harness.otlp_receiver --mode ok --no-decode` prints its port on the first line and
serves `GET /stats` (exports per path, bytes, and the items received: spans, log records, those
carrying a trace id, and histogram observations, counted from the protobufs without keeping them).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from harness import wait_until

MODES = ("ok", "error", "hang")
_REQUESTS = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
}
_RESPONSES = {
    "/v1/traces": ExportTraceServiceResponse,
    "/v1/logs": ExportLogsServiceResponse,
    "/v1/metrics": ExportMetricsServiceResponse,
}

SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}
ITEM_KEYS = ("spans", "span_attributes", "logs", "logs_with_trace", "log_attributes")


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
    duration_ns: int
    # (trace_id, span_id) of each span link
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class LogRecord:
    body: Any
    severity: str
    severity_number: int
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
    """Start with `with OTLPReceiver() as r:` (or start()); stop() is idempotent."""

    def __init__(self, mode: str = "ok", *, decode: bool = True, port: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode
        self.decode = decode
        self.received = Received()
        self.requests: list[str] = []
        self.counts: Counter[str] = Counter()
        self.bytes_received = 0
        self.items: Counter[str] = Counter()
        # histogram series → latest count (cumulative temporality repeats the running total)
        self._histograms: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the collector does
            # a non-empty answer (stats, partial success) is headers then body in two writes:
            # with Nagle's algorithm on, the body waits ~40 ms for the client's delayed ACK
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self._answer(200, "application/json", json.dumps(receiver.stats()).encode())

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
                    self.close_connection = True
                    return
                if receiver.mode == "error":
                    self._answer(500, "text/plain", b"backend exploded")
                    return
                response = _RESPONSES.get(self.path, ExportTraceServiceResponse)()
                self._answer(200, "application/x-protobuf", response.SerializeToString())

            def _answer(self, status: int, ctype: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def start(self) -> OTLPReceiver:
        self._thread.start()
        return self

    def __enter__(self) -> OTLPReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Idempotent. Releases hanging handlers first: their clients then see the connection
        close instead of waiting for their own timeout."""
        if self._release.is_set():
            return
        self._release.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # --- recording and decoding ----------------------------------------------------------------
    def _record(self, path: str, body: bytes) -> None:
        request: Any = None
        with contextlib.suppress(Exception):  # a body that does not parse counts no items
            kind = next((k for p, k in _REQUESTS.items() if path.endswith(p)), None)
            request = kind.FromString(body) if kind else None
        with self._lock:
            self.requests.append(path)
            self.counts[path] += 1
            self.bytes_received += len(body)
            self._count_items(request)
            if not self.decode:
                return
            self.received.raw.append((path, body))
            if isinstance(request, ExportTraceServiceRequest):
                self.received.spans.extend(decode_spans(request))
            elif isinstance(request, ExportLogsServiceRequest):
                self.received.logs.extend(decode_logs(request))

    def _count_items(self, request: Any) -> None:
        if isinstance(request, ExportTraceServiceRequest):
            spans = [s for _, _, s in items(request)]
            self.items["spans"] += len(spans)
            self.items["span_attributes"] += sum(len(s.attributes) for s in spans)
        elif isinstance(request, ExportLogsServiceRequest):
            records = [r for _, _, r in items(request)]
            self.items["logs"] += len(records)
            self.items["logs_with_trace"] += sum(1 for r in records if r.trace_id)
            self.items["log_attributes"] += sum(len(r.attributes) for r in records)
        elif isinstance(request, ExportMetricsServiceRequest):
            self._count_observations(request)

    def _count_observations(self, request: ExportMetricsServiceRequest) -> None:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind not in ("histogram", "exponential_histogram"):
                        continue
                    data = getattr(metric, kind)
                    delta = data.aggregation_temporality == 1  # AGGREGATION_TEMPORALITY_DELTA
                    for point in data.data_points:
                        key = (
                            sm.scope.name,
                            metric.name,
                            point.start_time_unix_nano,
                            tuple(sorted((kv.key, str(kv.value)) for kv in point.attributes)),
                        )
                        if delta:
                            self._histograms[key] = self._histograms.get(key, 0) + point.count
                        else:
                            self._histograms[key] = max(self._histograms.get(key, 0), point.count)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.mode,
                "requests": dict(self.counts),
                "total": sum(self.counts.values()),
                "bytes": self.bytes_received,
                "items": {
                    **{k: self.items[k] for k in ITEM_KEYS},
                    "observations": sum(self._histograms.values()),
                },
            }

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

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> bool:
        return bool(wait_until(predicate, timeout))


_LAYOUT = {  # request → resource groups → scope groups → items
    ExportTraceServiceRequest: ("resource_spans", "scope_spans", "spans"),
    ExportLogsServiceRequest: ("resource_logs", "scope_logs", "log_records"),
}


def items(request: ExportTraceServiceRequest | ExportLogsServiceRequest) -> Iterator[Any]:
    """(resource attributes, scope name, span or log record) for every item of an export."""
    groups, scopes, leaves = _LAYOUT[type(request)]
    for group in getattr(request, groups):
        resource = attrs(group.resource.attributes)
        for scope in getattr(group, scopes):
            for item in getattr(scope, leaves):
                yield resource, scope.scope.name, item


def decode_spans(request: ExportTraceServiceRequest) -> list[Span]:
    return [
        Span(
            name=s.name,
            kind=SPAN_KINDS.get(s.kind, str(s.kind)),
            trace_id=s.trace_id.hex(),
            span_id=s.span_id.hex(),
            parent_span_id=s.parent_span_id.hex(),
            attributes=attrs(s.attributes),
            events=[{"name": e.name, "attributes": attrs(e.attributes)} for e in s.events],
            status=STATUS_CODES.get(s.status.code, str(s.status.code)),
            status_message=s.status.message,
            resource=resource,
            scope=scope,
            duration_ns=s.end_time_unix_nano - s.start_time_unix_nano,
            links=[(link.trace_id.hex(), link.span_id.hex()) for link in s.links],
        )
        for resource, scope, s in items(request)
    ]


def decode_logs(request: ExportLogsServiceRequest) -> list[LogRecord]:
    return [
        LogRecord(
            body=any_value(r.body),
            severity=r.severity_text,
            severity_number=r.severity_number,
            trace_id=r.trace_id.hex(),
            span_id=r.span_id.hex(),
            attributes=attrs(r.attributes),
            resource=resource,
        )
        for resource, _, r in items(request)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="loopback OTLP/HTTP receiver")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--no-decode", action="store_true", help="count exports only")
    args = parser.parse_args()
    receiver = OTLPReceiver(args.mode, decode=not args.no_decode, port=args.port)
    print(receiver.port, flush=True)  # the parent reads the bound port from the first line
    with contextlib.suppress(KeyboardInterrupt):
        receiver._server.serve_forever()


if __name__ == "__main__":
    main()
