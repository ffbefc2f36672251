"""One live run of a user's app on an official GenAI instrumentation (test_gemini_live.py,
test_anthropic_live.py): the app calls a loopback fake of its provider's API over real HTTP, a
real Prometheus (Debian 2.42 here) scrapes it and loads the rules rendered for it from the
shipped genai-obs.yaml (livecheck.render_artifacts: the user's step 4 of docs/own-app.md).

Two runs per app: a third of the calls failing (the provider's error statuses in turn) then late
first chunks, and a healthy one. What each run saw (HTTP statuses, active alerts, SLOs with a
recorded error ratio, the model-call series' labels) is returned for the tests to assert."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import poll, require_binary
from harness.procs import Proc, start_prometheus, start_python_app
from harness.scripted_fake import ScriptedFake
from tests.ownapp import livecheck

JOB = livecheck.JOB
CALLS = 48  # per pass; the second pass alone clears the SLO pages' 30-event guard
LATE_STREAMS = 12  # with the passes' own streams, over LLMTTFTP95High's 10-event guard
SLOW_FIRST_CHUNK_S = 1.5  # above the 1.28 s threshold (in the 2.56 s bucket)


@dataclass(frozen=True)
class OfficialApp:
    module: str  # the app, `python -m module --port N`
    url_env: str  # the variable that points it at the fake
    fake: Callable[[], AbstractContextManager[ScriptedFake]]
    model: str
    errors: tuple[str, ...]  # the fake's failure steps, used in turn


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
    fake: ScriptedFake

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.prometheus.url}/api/v1/query", params={"query": expr}, timeout=30)
        body = r.json()
        assert body["status"] == "success", body
        return body["data"]["result"]


@contextmanager
def _running(spec: OfficialApp, tmp: Path) -> Iterator[_Run]:
    rules = sorted((livecheck.render_artifacts(tmp / "artifacts") / "prometheus/rules").glob("*"))
    with spec.fake() as fake:
        env = {spec.url_env: fake.url, "OTEL_SERVICE_NAME": JOB}
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"  # the FastAPI server metric; not GenAI
        app = start_python_app(tmp, spec.module, env=env, name=JOB, ready_path="/healthz")
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


def _drive(spec: OfficialApp, run: _Run, out: Outcome, *, faults: bool) -> None:
    with httpx.Client(base_url=run.app.url, timeout=30) as client:

        def call(path: str, question: str) -> None:
            r = client.post(path, json={"question": question, "model": spec.model})
            out.statuses[r.status_code] = out.statuses.get(r.status_code, 0) + 1

        failures = 0
        for n in range(2):
            if n:
                time.sleep(2.5)  # > 2 scrapes: pass 1's series are in Prometheus
            for i in range(CALLS):
                if faults and i % 3 == 2:
                    run.fake.script.append(spec.errors[failures % len(spec.errors)])
                    failures += 1
                call("/api/ask/stream" if i % 4 == 1 else "/api/ask", f"pass {n} question {i}")
        if faults:  # half of them late
            for i in range(LATE_STREAMS):
                run.fake.first_chunk_delay_s = SLOW_FIRST_CHUNK_S if i % 2 == 0 else 0.0
                call("/api/ask/stream", f"late question {i}")
            run.fake.first_chunk_delay_s = 0.0
    time.sleep(4)  # scrapes after the last request, and rule evaluations on top of them


def run(spec: OfficialApp, tmp: Path, *, faults: bool) -> Outcome:
    require_binary("prometheus")
    out = Outcome()
    with _running(spec, tmp) as live:
        _drive(spec, live, out, faults=faults)
        for s in live.query('ALERTS{alertstate=~"pending|firing"}'):
            out.alerts.setdefault(s["metric"]["alertname"], set()).add(s["metric"].get("slo", ""))
        names = {s["metric"]["slo"] for s in live.query("slo:info")}
        ratios = live.query("slo:error_ratio:rate5m")
        recorded = {s["metric"]["slo"] for s in ratios if s["value"][1] not in ("NaN", "+Inf")}
        out.slos = {name: name in recorded for name in sorted(names)}
        for metric in ("operation_duration_seconds_count", "operation_time_to_first_chunk_seconds"):
            for s in live.query(f'{{__name__=~"gen_ai_client_{metric}.*", job="{JOB}"}}'):
                for k, v in s["metric"].items():
                    out.labels.setdefault(k, set()).add(v)
    return out


def run_both(spec: OfficialApp, tmp: Path) -> dict[str, Outcome]:
    """The faulty and the healthy run at once (each its own fake, app and Prometheus): they
    mostly wait on scrapes, so together they take the time of the longer one."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            name: pool.submit(run, spec, tmp / name, faults=name == "faulty")
            for name in ("faulty", "healthy")
        }
        return {name: future.result() for name, future in runs.items()}


def outcome_fixtures(spec: OfficialApp) -> tuple[Any, Any, Any]:
    """A test module's fixtures `outcomes` (both runs, once per module), `faulty` and `healthy`:
    `outcomes, faulty, healthy = outcome_fixtures(SPEC)` at its top level."""

    @pytest.fixture(scope="module", name="outcomes")
    def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
        return run_both(spec, tmp_path_factory.mktemp(spec.module.rsplit(".", 1)[-1]))

    @pytest.fixture(scope="module", name="faulty")
    def faulty(outcomes: dict[str, Outcome]) -> Outcome:
        return outcomes["faulty"]

    @pytest.fixture(scope="module", name="healthy")
    def healthy(outcomes: dict[str, Outcome]) -> Outcome:
        return outcomes["healthy"]

    return outcomes, faulty, healthy


# What both apps must show (each test module asserts its own labels on top).
PAGED = ("LLMErrorRatioHigh", "LLMProviderRateLimited", "LLMTTFTP95High")
QUIET = (*PAGED, "SLOFastBurn")


def assert_faults_alert(faulty: Outcome) -> None:
    # Pending or firing: the expression is true; `for:` (2m) is not waited for here.
    for alert in PAGED:
        assert alert in faulty.alerts, (alert, faulty.alerts)
    assert "llm-chat-success" in faulty.alerts.get("SLOFastBurn", set()), faulty.alerts


def assert_slos_recorded(outcome: Outcome) -> None:
    assert outcome.slos.get("llm-chat-success") is True, outcome.slos
    assert outcome.slos.get("llm-ttft") is True, outcome.slos


def assert_quiet(healthy: Outcome) -> None:
    assert not set(QUIET) & set(healthy.alerts), healthy.alerts
    assert "SLIMetricsAbsent" not in healthy.alerts, healthy.alerts
