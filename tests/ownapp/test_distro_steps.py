"""docs/own-app.md steps 2 and 3, followed as written: zero-code instrumentation with the distro.

An app with no telemetry code (tests/ownapp/plain_app.py: FastAPI + the `openai` client) starts
as `opentelemetry-instrument python -m …` (this venv's script, `python` from this venv as an
activated venv finds it) with the OTEL_* variables the doc assigns, read from the doc itself.
It calls the loopback fake OpenAI server over real HTTP and exports OTLP/HTTP to the loopback
receiver (real protobufs). The doc's negative claim runs too: the same start without
OTEL_EXPORTER_OTLP_PROTOCOL, in a copy of this venv as `pip uninstall
opentelemetry-exporter-otlp-proto-grpc` would leave it ("with only the HTTP exporter"), exports
nothing and prints the message the doc quotes.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from harness import ROOT, free_port, poll
from harness.fake_openai import fake_openai_server
from harness.otlp_receiver import LogRecord, OTLPReceiver, Span, attrs
from harness.process import Proc, ProcessError

DOC = ROOT / "docs" / "own-app.md"
STEPS = DOC.read_text().split("## Five steps", 1)[1].split("\n4. ", 1)[0]  # steps 1-3
VENV_BIN = Path(sys.executable).parent  # not resolved: the venv's own bin directory
SERVICE = "my-llm-app"
ASKS, EMBEDS = 3, 2
# Test speed only (the doc's own example is 15000): export every half second.
FAST = {
    "OTEL_METRIC_EXPORT_INTERVAL": "500",
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BLRP_SCHEDULE_DELAY": "200",
}
GRPC_EXPORTER = "opentelemetry-exporter-otlp-proto-grpc"
# Installed here for tests/ownapp/test_gemini_live.py, not by step 2: the distro would instrument
# it too, and it sets OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT=true for the whole process.
GOOGLE_GENAI = "opentelemetry-instrumentation-google-genai"


def doc_variables() -> dict[str, str]:
    """Every `OTEL_X=value` steps 2 and 3 assign."""
    return dict(re.findall(r"`(OTEL_[A-Z_]+)=([^`\s]+)`", STEPS))


def doc_quoted_failure() -> list[str]:
    """The parts of the message the doc says the app logs without the protocol variable."""
    match = re.search(r'logs "([^"]+)"', " ".join(STEPS.split()))
    assert match, "docs/own-app.md step 2 no longer quotes the configurator's failure"
    return match.group(1).split(" … ")


@dataclass
class Run:
    statuses: list[int]
    metrics: list[dict[str, Any]]  # one per data point: resource, scope, name, unit, attributes
    spans: list[Span]
    logs: list[LogRecord]
    exports: list[str]  # request paths the receiver got
    output: str  # the app's stdout + stderr, the distro's messages included


def metric_points(receiver: OTLPReceiver) -> list[dict[str, Any]]:
    points = []
    for path, body in receiver.received.raw:
        if not path.endswith("/v1/metrics"):
            continue
        for rm in ExportMetricsServiceRequest.FromString(body).resource_metrics:
            resource = attrs(rm.resource.attributes)
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    for p in getattr(m, m.WhichOneof("data")).data_points:
                        points.append(
                            {
                                "resource": resource,
                                "scope": sm.scope.name,
                                "name": m.name,
                                "unit": m.unit,
                                "attributes": attrs(p.attributes),
                            }
                        )
    return points


def start_instrumented(bin_dir: Path, env: dict[str, str], workdir: Path) -> Proc:
    """`opentelemetry-instrument python -m tests.ownapp.plain_app` from `bin_dir`, with `env` and
    none of this process's OTEL_* variables; once /healthz answers."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base["PATH"] = f"{bin_dir}{os.pathsep}{base.get('PATH', '')}"
    workdir.mkdir(parents=True, exist_ok=True)
    launcher = [bin_dir / "opentelemetry-instrument", "python", "-m", "tests.ownapp.plain_app"]
    for attempt in range(3):  # free_port() only says the port WAS free
        port = free_port()
        log_path = workdir / f"app-{attempt}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [*launcher, "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env={**base, "PYTHONUNBUFFERED": "1", **env},
                start_new_session=True,
            )
        proc = Proc("plain-app", popen, port, log_path)
        try:
            proc.wait_ready("/healthz", timeout=60)
            return proc
        except ProcessError as err:
            if attempt == 2 or "address already in use" not in str(err).lower():
                raise
    raise AssertionError("unreachable")


def drive(proc: Proc) -> list[int]:
    statuses = []
    with httpx.Client(base_url=proc.url, timeout=10) as client:
        for i in range(ASKS):
            r = client.post("/api/ask", json={"question": f"question {i}"})
            statuses.append(r.status_code)
            assert r.status_code != 200 or r.json()["answer"], r.text
        for i in range(EMBEDS):
            statuses.append(client.post("/api/embed", json={"text": f"text {i}"}).status_code)
    return statuses


def run_app(bin_dir: Path, env: dict[str, str], workdir: Path, *, expect_exports: bool) -> Run:
    with fake_openai_server() as fake, OTLPReceiver() as receiver:
        env = {
            **env,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,  # the doc's http://localhost:4318
            "OTEL_SERVICE_NAME": SERVICE,  # the doc names the variable, a value is the user's
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "fake-openai-key",
            **FAST,
        }
        proc = start_instrumented(bin_dir, env, workdir)
        try:
            statuses = drive(proc)
            before = receiver.counts["/v1/metrics"]
            if expect_exports:
                what = "GenAI, HTTP metrics and both kinds of spans"
                poll(what, lambda: arrived(receiver, before), 20)
            else:
                receiver.wait_for(lambda: receiver.requests, timeout=3)  # six export intervals
        finally:
            proc.stop()
        return Run(
            statuses=statuses,
            metrics=metric_points(receiver),
            spans=receiver.spans(),
            logs=receiver.logs(),
            exports=list(receiver.requests),
            output=proc.log_path.read_text(errors="replace"),
        )


EXPECTED_METRICS = ("gen_ai.client.operation.duration", "gen_ai.client.token.usage")
HTTP_METRIC = "http.server.request.duration"
OLD_HTTP_METRIC = "http.server.duration"  # without OTEL_SEMCONV_STABILITY_OPT_IN=http


def arrived(receiver: OTLPReceiver, metric_exports_before: int) -> bool:
    """Both instrumentations' exports arrived (the tests then say which names), metrics from a
    collection that began after the traffic: two more exports than when it ended (every
    measurement was recorded before its response, and the first may have been collected before)."""
    names = {p["name"] for p in metric_points(receiver)}
    kinds = {s.kind for s in receiver.spans()}
    ops = {s.attributes.get("gen_ai.operation.name") for s in receiver.spans()}
    return (
        receiver.counts["/v1/metrics"] >= metric_exports_before + 2
        and set(EXPECTED_METRICS) <= names
        and bool({HTTP_METRIC, OLD_HTTP_METRIC} & names)
        and {"SERVER", "CLIENT"} <= kinds
        and {"chat", "embeddings"} <= ops
    )


def venv_without(dest: Path, *dist_names: str) -> Path:
    """A venv with this venv's packages except `dist_names`, as `pip uninstall` would leave it
    (their RECORDs' files gone, everything else symlinked); returns its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", dest], check=True)
    site = Path(md.distribution("opentelemetry-distro").locate_file("")).resolve()
    gone: set[Path] = set()
    for name in dist_names:
        dist = md.distribution(name)
        assert Path(dist.locate_file("")).resolve() == site, f"{name} is not in {site}"
        files = {Path(str(f)) for f in dist.files or [] if ".." not in Path(str(f)).parts}
        assert files, f"{name} lists no files"
        gone |= files
    _mirror(site, dest / site.relative_to(Path(sys.prefix).resolve()), gone, Path())
    script = (VENV_BIN / "opentelemetry-instrument").read_text().split("\n", 1)[1]
    launcher = dest / "bin" / "opentelemetry-instrument"
    launcher.write_text(f"#!{dest / 'bin' / 'python'}\n{script}")
    launcher.chmod(0o755)
    return dest / "bin"


def _mirror(src: Path, dst: Path, gone: set[Path], rel: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        path = rel / entry.name
        if path in gone:
            continue
        if entry.is_dir() and any(g.is_relative_to(path) for g in gone):
            _mirror(entry, dst / entry.name, gone, path)
            if not any((dst / entry.name).iterdir()):
                (dst / entry.name).rmdir()  # pip removes the directories it emptied
        else:
            (dst / entry.name).symlink_to(entry)


@pytest.fixture(scope="module")
def step2_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This venv as step 2 leaves an app's: without the Google GenAI instrumentation."""
    return venv_without(tmp_path_factory.mktemp("distro-venv") / "venv", GOOGLE_GENAI)


@pytest.fixture(scope="module")
def documented(tmp_path_factory: pytest.TempPathFactory, step2_bin: Path) -> Run:
    tmp = tmp_path_factory.mktemp("distro")
    return run_app(step2_bin, doc_variables(), tmp, expect_exports=True)


CONTENT_EVENTS = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "EVENT_ONLY"}


@pytest.fixture(scope="module")
def with_content_events(tmp_path_factory: pytest.TempPathFactory, step2_bin: Path) -> Run:
    env = {**doc_variables(), **CONTENT_EVENTS}
    return run_app(step2_bin, env, tmp_path_factory.mktemp("distro-events"), expect_exports=True)


@pytest.fixture(scope="module")
def with_google_genai_too(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("distro-both")
    return run_app(VENV_BIN, doc_variables(), tmp, expect_exports=True)


@pytest.fixture(scope="module")
def without_protocol(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("distro-no-protocol")
    bin_dir = venv_without(tmp / "venv", GRPC_EXPORTER, GOOGLE_GENAI)
    env = {k: v for k, v in doc_variables().items() if k != "OTEL_EXPORTER_OTLP_PROTOCOL"}
    return run_app(bin_dir, env, tmp / "app", expect_exports=False)


# --- what the doc says --------------------------------------------------------------------------
def test_doc_gives_the_variables_this_test_uses() -> None:
    assert doc_variables() == {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
        "OTEL_METRICS_EXPORTER": "otlp",
    }
    for name in ("OTEL_SERVICE_NAME", "OTEL_METRIC_EXPORT_INTERVAL"):
        assert f"`{name}`" in STEPS
    assert "`opentelemetry-instrument python app.py`" in STEPS


def test_doc_install_line_is_installed_here() -> None:
    """What step 2 tells users to pip install is what this test runs with (pins included)."""
    match = re.search(r"`pip install ([^`]+)`", STEPS)
    assert match, "docs/own-app.md step 2 has no pip install line"
    for requirement in match.group(1).split():
        name, _, pin = requirement.partition("==")
        assert md.version(name) == (pin or md.version(name)), requirement
    assert "opentelemetry-distro" in match.group(1)


# --- with the doc's variables -------------------------------------------------------------------
def test_app_answered(documented: Run) -> None:
    assert documented.statuses == [200] * (ASKS + EMBEDS), documented.statuses


def test_distro_configured_without_errors(documented: Run) -> None:
    assert "Traceback" not in documented.output, documented.output
    assert "failed" not in documented.output.lower(), documented.output


# (gen_ai.operation.name, gen_ai.token.type) of each GenAI metric's series
GENAI_SERIES = {
    "gen_ai.client.operation.duration": {("chat", None), ("embeddings", None)},
    "gen_ai.client.token.usage": {("chat", "input"), ("chat", "output"), ("embeddings", "input")},
}


@pytest.mark.parametrize("name", EXPECTED_METRICS)
def test_genai_metrics_arrive_for_chat_and_embeddings(documented: Run, name: str) -> None:
    points = [p for p in documented.metrics if p["name"] == name]
    series = {
        (p["attributes"].get("gen_ai.operation.name"), p["attributes"].get("gen_ai.token.type"))
        for p in points
    }
    assert series == GENAI_SERIES[name]
    assert {p["scope"] for p in points} == {"opentelemetry.instrumentation.genai.openai"}


def test_http_metric_is_the_stable_one_in_seconds(documented: Run) -> None:
    """OTEL_SEMCONV_STABILITY_OPT_IN=http: http.server.request.duration (s), not the old
    http.server.duration (ms)."""
    names = {p["name"] for p in documented.metrics}
    assert OLD_HTTP_METRIC not in names, sorted(names)
    points = [p for p in documented.metrics if p["name"] == HTTP_METRIC]
    assert {p["unit"] for p in points} == {"s"}
    assert {"/api/ask", "/api/embed"} <= {p["attributes"].get("http.route") for p in points}


def test_resource_carries_the_service_name(documented: Run) -> None:
    resources = [p["resource"] for p in documented.metrics] + [s.resource for s in documented.spans]
    assert resources and {r.get("service.name") for r in resources} == {SERVICE}


def test_server_and_client_spans_share_a_trace(documented: Run) -> None:
    """FastAPI's server span and the OpenAI client span of one request are one trace."""
    servers = {
        s.trace_id: s
        for s in documented.spans
        if s.kind == "SERVER" and s.scope == "opentelemetry.instrumentation.fastapi"
    }
    clients = [s for s in documented.spans if s.kind == "CLIENT"]
    assert {s.scope for s in clients} == {"opentelemetry.instrumentation.genai.openai"}
    assert {s.attributes.get("gen_ai.operation.name") for s in clients} == {"chat", "embeddings"}
    assert len(clients) == ASKS + EMBEDS
    for client in clients:
        server = servers.get(client.trace_id)
        assert server and server.name in ("POST /api/ask", "POST /api/embed"), client


def test_no_log_records_arrive(documented: Run) -> None:
    """What logs arrive with the doc's variables: none. The distro sets up a logs exporter, but
    Python logging is not bridged by default and genai-openai writes its events only with
    content capture on (next test). Fails when that changes: then say in docs/own-app.md what
    arrives."""
    assert documented.logs == [], documented.logs
    assert "/v1/logs" not in documented.exports


def test_content_capture_sends_one_event_per_chat(with_content_events: Run) -> None:
    """The same logs path works: with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY
    each chat call (not the embeddings) leaves one log record, in its client span's trace."""
    logs = with_content_events.logs
    chats = {
        s.trace_id
        for s in with_content_events.spans
        if s.kind == "CLIENT" and s.attributes.get("gen_ai.operation.name") == "chat"
    }
    assert len(logs) == ASKS, logs
    assert {r.trace_id for r in logs} == chats
    assert {r.resource.get("service.name") for r in logs} == {SERVICE}


def test_google_genai_instrumentation_makes_openai_calls_log_too(
    with_google_genai_too: Run,
) -> None:
    """opentelemetry-instrumentation-google-genai 1.3b0 sets OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT
    =true for the process when it instruments: with it installed beside genai-openai, every
    OpenAI chat call leaves one log record (no content), as docs/own-app.md says."""
    run = with_google_genai_too
    chats = {
        s.trace_id
        for s in run.spans
        if s.kind == "CLIENT" and s.attributes.get("gen_ai.operation.name") == "chat"
    }
    assert len(run.logs) == ASKS and {r.trace_id for r in run.logs} == chats, run.logs
    assert all(
        r.body is None and r.attributes.get("gen_ai.operation.name") == "chat" for r in run.logs
    )


# --- without OTEL_EXPORTER_OTLP_PROTOCOL and with only the HTTP exporter ------------------------
def test_without_protocol_the_app_runs(without_protocol: Run) -> None:
    assert without_protocol.statuses == [200] * (ASKS + EMBEDS), without_protocol.output


def test_without_protocol_nothing_is_exported(without_protocol: Run) -> None:
    assert without_protocol.exports == []


def test_without_protocol_the_doc_quotes_the_message(without_protocol: Run) -> None:
    for part in doc_quoted_failure():
        assert part in without_protocol.output, (part, without_protocol.output)
