"""The shipped rules catch a Gemini app's failures (official instrumentation only, measured).

tests/ownapp/gemini_app.py (the official `google-genai` client with
`opentelemetry-instrumentation-google-genai` 1.3b0) calls a loopback fake of the Gemini REST API
(harness.fake_gemini: generateContent, streamGenerateContent SSE) that answers 200, 429 or 500;
a real Prometheus (Debian 2.42 here) scrapes the app and loads the rules rendered for it from the
shipped genai-obs.yaml (livecheck.render_artifacts: the user's step 4 of docs/own-app.md). Two
runs: a third of the calls failing (half 429, half 500) then late first chunks, and a healthy one.
The series' labels are asserted as measured (docs/own-app.md's table and
tests/prometheus/rules/llm-operations.test.yml copy them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import poll, require_binary
from harness.fake_gemini import FakeGemini, fake_gemini_server
from harness.procs import Proc, start_prometheus, start_python_app
from tests.ownapp import livecheck

JOB = livecheck.JOB
MODEL = "gemini-2.5-flash"
CALLS = 48  # per pass; the second pass alone clears the SLO pages' 30-event guard
LATE_STREAMS = 12  # with the passes' own streams, over LLMTTFTP95High's 10-event guard


@dataclass
class Outcome:
    statuses: dict[int, int] = field(default_factory=dict)
    alerts: dict[str, set[str]] = field(default_factory=dict)
    slos: dict[str, bool] = field(default_factory=dict)
    labels: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class _Run:
    prometheus: Proc
    app: Proc
    fake: FakeGemini

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.prometheus.url}/api/v1/query", params={"query": expr}, timeout=30)
        body = r.json()
        assert body["status"] == "success", body
        return body["data"]["result"]


@contextmanager
def _running(tmp: Path) -> Iterator[_Run]:
    rules = sorted((livecheck.render_artifacts(tmp / "artifacts") / "prometheus/rules").glob("*"))
    with fake_gemini_server() as fake:
        env = {"OWNAPP_GEMINI_URL": fake.url, "OTEL_SERVICE_NAME": JOB}
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"  # the FastAPI server metric; not GenAI
        app = start_python_app(
            tmp, "tests.ownapp.gemini_app", env=env, name=JOB, ready_path="/healthz"
        )
        try:
            prometheus = start_prometheus(
                tmp,
                targets={"rag-api:8000": app.address},
                job_names={"rag-api": JOB},
                interval=livecheck.SCRAPE,
                rule_files=rules,
                rule_group_interval=livecheck.SCRAPE,
            )
        except BaseException:
            app.stop()
            raise
        try:
            run = _Run(prometheus, app, fake)
            poll("Prometheus scrapes the app", lambda: run.query(f'up{{job="{JOB}"}} == 1'), 30)
            yield run
        finally:
            prometheus.stop()
            app.stop()


def _drive(run: _Run, out: Outcome, *, faults: bool) -> None:
    with httpx.Client(base_url=run.app.url, timeout=30) as client:

        def call(path: str, question: str) -> None:
            r = client.post(path, json={"question": question, "model": MODEL})
            out.statuses[r.status_code] = out.statuses.get(r.status_code, 0) + 1

        for n in range(2):
            if n:
                time.sleep(2.5)  # > 2 scrapes: pass 1's series are in Prometheus
            for i in range(CALLS):
                if faults and i % 3 == 2:
                    run.fake.script.append("429" if i % 2 else "500")
                call("/api/ask/stream" if i % 4 == 1 else "/api/ask", f"pass {n} question {i}")
        if faults:  # half of them above the 1.28 s threshold (in the 2.56 s bucket)
            for i in range(LATE_STREAMS):
                run.fake.first_chunk_delay_s = 1.5 if i % 2 == 0 else 0.0
                call("/api/ask/stream", f"late question {i}")
            run.fake.first_chunk_delay_s = 0.0
    time.sleep(4)  # scrapes after the last request, and rule evaluations on top of them


def _run(tmp: Path, *, faults: bool) -> Outcome:
    require_binary("prometheus")
    out = Outcome()
    with _running(tmp) as run:
        _drive(run, out, faults=faults)
        for s in run.query('ALERTS{alertstate=~"pending|firing"}'):
            out.alerts.setdefault(s["metric"]["alertname"], set()).add(s["metric"].get("slo", ""))
        names = {s["metric"]["slo"] for s in run.query("slo:info")}
        ratios = run.query("slo:error_ratio:rate5m")
        recorded = {s["metric"]["slo"] for s in ratios if s["value"][1] not in ("NaN", "+Inf")}
        out.slos = {name: name in recorded for name in sorted(names)}
        for metric in ("operation_duration_seconds_count", "operation_time_to_first_chunk_seconds"):
            for s in run.query(f'{{__name__=~"gen_ai_client_{metric}.*", job="{JOB}"}}'):
                for k, v in s["metric"].items():
                    out.labels.setdefault(k, set()).add(v)
    return out


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return _run(tmp_path_factory.mktemp("gemini-faulty"), faults=True)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return _run(tmp_path_factory.mktemp("gemini-healthy"), faults=False)


def test_traffic_had_successes_and_both_provider_errors(faulty: Outcome) -> None:
    assert faulty.statuses.get(200, 0) >= 60, faulty.statuses
    assert faulty.statuses.get(502, 0) >= 8 and faulty.statuses.get(503, 0) >= 8, faulty.statuses


def test_series_are_labelled_as_the_instrumentation_records_them(faulty: Outcome) -> None:
    """What llm-operations.test.yml and docs/own-app.md state: provider "gemini" (not the semconv
    value gcp.gemini), operation generate_content, HTTP status codes as error_type, the base
    URL's host as server_address (no port), a time-to-first-chunk histogram."""
    labels = faulty.labels
    assert labels["gen_ai_provider_name"] == {"gemini"}
    assert labels["gen_ai_operation_name"] == {"generate_content"}
    assert labels["error_type"] - {""} == {"429", "500"}
    assert labels["server_address"] == {"127.0.0.1"} and "server_port" not in labels
    assert any(
        n.startswith("gen_ai_client_operation_time_to_first_chunk") for n in labels["__name__"]
    )


def test_error_and_rate_limit_alerts_fire(faulty: Outcome) -> None:
    # Pending or firing: the expression is true; `for:` (2m) is not waited for here.
    for alert in ("LLMErrorRatioHigh", "LLMProviderRateLimited", "LLMTTFTP95High"):
        assert alert in faulty.alerts, (alert, faulty.alerts)
    assert "llm-chat-success" in faulty.alerts.get("SLOFastBurn", set()), faulty.alerts


@pytest.mark.parametrize("which", ["faulty", "healthy"])
def test_model_call_slos_have_series(which: str, request: pytest.FixtureRequest) -> None:
    outcome: Outcome = request.getfixturevalue(which)
    assert outcome.slos.get("llm-chat-success") is True, outcome.slos
    assert outcome.slos.get("llm-ttft") is True, outcome.slos


def test_alerts_silent_without_faults(healthy: Outcome) -> None:
    quiet = ("LLMErrorRatioHigh", "LLMProviderRateLimited", "LLMTTFTP95High", "SLOFastBurn")
    assert not set(quiet) & set(healthy.alerts), healthy.alerts
    assert "SLIMetricsAbsent" not in healthy.alerts, healthy.alerts
