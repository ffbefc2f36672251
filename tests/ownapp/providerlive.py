"""The shipped rules against a provider's own app (Gemini, Anthropic, Bedrock), measured alike.

An app instrumented only with its provider's official OpenTelemetry instrumentation calls a
loopback fake of the provider's API (harness.fake_gemini, harness.fake_anthropic,
harness.fake_bedrock: the real wire format, scripted errors, late first chunks); a real
Prometheus (Debian 2.42 here) scrapes it and loads the rules rendered for it from the shipped
genai-obs.yaml (livecheck.running: the user's step 4 of docs/own-app.md). Two runs, side by
side (each its own app and Prometheus): a third of the calls failing with the provider's error
statuses then a few late first chunks, and a healthy one.

A test module subclasses `Checks`, sets `provider` and asserts the labels it measured; the
alerts, SLOs and dashboard queries every such app must get are asserted here once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from genai_telemetry.semconv import L_PROVIDER
from genobs.contract import L_SYSTEM
from harness import require_binary
from harness.fake_provider import ScriptedFake
from tests.ownapp import livecheck

CALLS = 48  # per pass; the second pass alone clears the SLO pages' 30-event guard
# Streamed chats started together after the second pass, every one with its first chunk held
# back SLOW_FIRST_CHUNK_S (p95 above LLMTTFTP95High's 1.28 s, in the 2.56 s bucket); with the
# second pass's 8 successful streams they clear the alert's 10-event guard.
LATE_STREAMS = 4
SLOW_FIRST_CHUNK_S = 1.5
# The series whose labels are collected.
MEASURED = (
    "operation_duration_seconds_count",
    "operation_time_to_first_chunk_seconds_count",
    "token_usage_count",
)
QUIET = ("LLMErrorRatioHigh", "LLMProviderRateLimited", "LLMTTFTP95High", "SLOFastBurn")


@dataclass(frozen=True)
class Provider:
    app: livecheck.App
    model: str
    errors: tuple[str, ...]  # the fake's error steps, taken in turn by a faulty pass's failures
    embeds: bool = False  # the app serves POST /api/embed {text}: every sixth call adds one
    # Dashboards whose every filter is checked on the faulty run (livecheck.filter_problems).
    filtered: tuple[str, ...] = ()


@dataclass
class Outcome:
    statuses: dict[int, int] = field(default_factory=dict)
    alerts: dict[str, set[str]] = field(default_factory=dict)
    slos: dict[str, bool] = field(default_factory=dict)
    labels: dict[str, set[str]] = field(default_factory=dict)
    # Dashboard queries that need only standard metrics and returned no data (faulty run):
    # "dashboard: where" → query.
    empty_panels: dict[str, str] = field(default_factory=dict)
    # "dashboard: $variable" → the values it lists (faulty run).
    variables: dict[str, set[str]] = field(default_factory=dict)
    filter_problems: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)  # every gen_ai_operation_name


def _drive(run: livecheck.Run[ScriptedFake], provider: Provider, *, faults: bool) -> None:
    with httpx.Client(base_url=run.app.url, timeout=30) as client:

        def call(path: str, question: str) -> None:
            body = {"question": question, "model": provider.model}
            r = client.post(path, json={"text": question} if path == "/api/embed" else body)
            run.statuses[r.status_code] = run.statuses.get(r.status_code, 0) + 1

        if faults:
            livecheck.prime(run, lambda: call("/api/ask", "primer"), provider.errors)

        def one_pass(n: int) -> None:
            for i in range(CALLS):
                if faults and i % 3 == 2:
                    run.fake.script.append(provider.errors[i // 3 % len(provider.errors)])
                call("/api/ask/stream" if i % 4 == 1 else "/api/ask", f"pass {n} question {i}")
                if provider.embeds and i % 6 == 0:
                    call("/api/embed", f"pass {n} document {i}")
            if n and faults:
                run.fake.first_chunk_delay_s = SLOW_FIRST_CHUNK_S
                with ThreadPoolExecutor(LATE_STREAMS) as pool:
                    questions = [f"late question {i}" for i in range(LATE_STREAMS)]
                    list(pool.map(lambda q: call("/api/ask/stream", q), questions))
                run.fake.first_chunk_delay_s = 0.0

        livecheck.two_passes(run, one_pass)


def run(provider: Provider, tmp: Path, *, faults: bool) -> Outcome:
    with livecheck.running(tmp, provider.app) as live:
        _drive(live, provider, faults=faults)
        out = Outcome(dict(live.statuses), livecheck.active_alerts(live))
        out.slos = livecheck.slo_series(live)
        out.operations = livecheck.operation_names(live)
        if faults:
            for r in livecheck.panel_results(live):
                if r["kind"] == "standard" and r["result"] != "data":
                    out.empty_panels[f"{r['dashboard']}: {r['where']}"] = r["query"]
            out.variables = livecheck.variable_values(live)
            out.filter_problems = livecheck.filter_problems(live, provider.filtered)
        for metric in MEASURED:
            for s in live.query(f'{{__name__="gen_ai_client_{metric}", job="{livecheck.JOB}"}}'):
                for k, v in s["metric"].items():
                    out.labels.setdefault(k, set()).add(v)
    return out


def run_both(provider: Provider, tmp: pytest.TempPathFactory, name: str) -> dict[str, Outcome]:
    """The faulty and the healthy run at the same time (they share nothing but the fixtures'
    wall time)."""
    require_binary("prometheus")
    with ThreadPoolExecutor(2) as pool:
        futures = {
            which: pool.submit(run, provider, tmp.mktemp(f"{name}-{which}"), faults=faulty)
            for which, faulty in (("faulty", True), ("healthy", False))
        }
        return {which: f.result() for which, f in futures.items()}


class Checks:
    """What every provider app must get from the shipped rules; `provider` set by the subclass."""

    provider: ClassVar[Provider]

    @pytest.fixture(scope="class")
    @classmethod
    def outcomes(cls, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
        return run_both(cls.provider, tmp_path_factory, cls.__name__.lower())

    @pytest.fixture(scope="class")
    @classmethod
    def faulty(cls, outcomes: dict[str, Outcome]) -> Outcome:
        return outcomes["faulty"]

    @pytest.fixture(scope="class")
    @classmethod
    def healthy(cls, outcomes: dict[str, Outcome]) -> Outcome:
        return outcomes["healthy"]

    def test_traffic_had_successes_and_provider_errors(self, faulty: Outcome) -> None:
        """200s, 503s for the 429s and 502s for the other errors (the app maps them so)."""
        statuses = faulty.statuses
        assert statuses.get(200, 0) >= 60, statuses
        assert statuses.get(503, 0) >= 8 and statuses.get(502, 0) >= 8, statuses

    def test_error_and_rate_limit_alerts_fire(self, faulty: Outcome) -> None:
        # Pending or firing: the expression is true; `for:` (2m) is not waited for here.
        for alert in ("LLMErrorRatioHigh", "LLMProviderRateLimited", "LLMTTFTP95High"):
            assert alert in faulty.alerts, (alert, faulty.alerts)
        assert "llm-chat-success" in faulty.alerts.get("SLOFastBurn", set()), faulty.alerts

    @pytest.mark.parametrize("which", ["faulty", "healthy"])
    def test_model_call_slos_have_series(self, which: str, outcomes: dict[str, Outcome]) -> None:
        slos = outcomes[which].slos
        assert slos.get("llm-chat-success") is True, slos
        assert slos.get("llm-ttft") is True, slos

    def test_standard_dashboard_queries_have_data(self, faulty: Outcome) -> None:
        """Every dashboard query that needs only standard metrics returns data, but the
        unpriced-token ones: this traffic's model is in the price table."""
        empty = {k: q for k, q in faulty.empty_panels.items() if "unpriced" not in q}
        assert not empty, empty
        assert faulty.empty_panels, "an unpriced-token query had data: is the model priced?"

    def test_provider_variables_list_the_provider(self, faulty: Outcome) -> None:
        """The *Provider* drop-downs list the provider the series name, under either label
        (gen_ai_provider_name, or the older gen_ai_system); picking a value keeps exactly its
        rows under every filter (livecheck.filter_problems, on provider.filtered)."""
        named = faulty.labels.get(L_PROVIDER, set()) | faulty.labels.get(L_SYSTEM, set())
        lists = {k: v for k, v in faulty.variables.items() if k.endswith(": $provider")}
        assert len(lists) == 2 and all(v and v <= named - {""} for v in lists.values()), (
            lists,
            named,
        )
        assert faulty.filter_problems == []

    @pytest.mark.parametrize("which", ["faulty", "healthy"])
    def test_operation_names_are_the_conventions(
        self, which: str, outcomes: dict[str, Outcome]
    ) -> None:
        operations = outcomes[which].operations
        assert operations and operations <= livecheck.OPERATIONS, operations

    def test_alerts_silent_without_faults(self, healthy: Outcome) -> None:
        assert not set(QUIET) & set(healthy.alerts), healthy.alerts
        assert "SLIMetricsAbsent" not in healthy.alerts, healthy.alerts


def has_ttft(outcome: Outcome) -> bool:
    """Whether any time-to-first-chunk series was scraped."""
    names = outcome.labels.get("__name__", set())
    return any(n.startswith("gen_ai_client_operation_time_to_first_chunk") for n in names)
