"""The LLM Agents & Tools dashboard and LLMToolErrorRatioHigh on agent apps (official
instrumentations only, measured live), for two frameworks:

- tests/ownapp/agents_app.py: an OpenAI Agents SDK agent under
  `opentelemetry-instrumentation-genai-openai-agents` and
  `opentelemetry-instrumentation-genai-openai` 1.3b0;
- tests/ownapp/langchain_app.py: a LangChain `create_agent` agent, as the one step of a LangGraph
  workflow, under `opentelemetry-instrumentation-genai-langchain` 1.3b0.

Both run an agent `weather_agent` with one `get_weather` function tool against the loopback fake
OpenAI API: every run is a model call answering with the tool call, the tool, and a model call
answering with text. A real Prometheus scrapes the app with the rules rendered for it
(livecheck.running). Traffic: two passes of RUNS runs; the tool raises in one run of TOOL_FAILS
(both frameworks hand the error to the model and the run goes on), and one run of MODEL_FAILS
starts with a provider error, 429 and 500 in turn (the run fails before its tool). The rules are
rendered as these apps' users would configure them: the agent route is the chat route, and
llm-ttft is skipped (nothing streams). What differs between the two instrumentations is in
`Framework`, measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from harness import require_binary
from harness.fake_openai import FakeOpenAI, fake_openai_server, tool_call
from tests.grafana import dashlib, livestack
from tests.ownapp import livecheck

ROUTE = 'http_route="/api/agent"'
CONFIG = {
    "selectors": {"http_chat_route": ROUTE, "http_unary_chat_route": ROUTE},
    "skip_slos": ["chat-latency", "llm-ttft"],
}
AGENT, TOOL = "weather_agent", "get_weather"


@dataclass(frozen=True)
class Framework:
    """An agent app, and what its instrumentation records (measured)."""

    app: livecheck.App
    model_errors: frozenset[str]  # error_type of the failed model calls (429, 500)
    agent_errors: frozenset[str]  # error_type of the agent runs those calls failed
    tool_error: str  # error_type of a tool call that raised
    tool_has_agent: bool  # tool calls carry gen_ai_agent_name (the Agent filter keeps them)
    workflow: str  # gen_ai_workflow_name of every run
    workflow_errors: bool  # a failed run's workflow carries error_type


_LANGCHAIN_ERRORS = frozenset(
    f"langchain_openai.chat_models.base.{cls}" for cls in ("OpenAIRateLimitError", "OpenAIAPIError")
)
FRAMEWORKS = {
    # The SDK's spans become "_OTHER" on failure, its tools name no agent, and its workflow
    # records no error_type when a run fails.
    "openai-agents": Framework(
        livecheck.App("tests.ownapp.agents_app", "OWNAPP_OPENAI_URL", fake_openai_server, CONFIG),
        model_errors=frozenset({"openai.RateLimitError", "openai.InternalServerError"}),
        agent_errors=frozenset({"_OTHER"}),
        tool_error="_OTHER",
        tool_has_agent=False,
        workflow="Agent workflow",
        workflow_errors=False,
    ),
    # LangChain names the exception class (its own wrappers of the OpenAI errors) everywhere.
    "langchain": Framework(
        livecheck.App(
            "tests.ownapp.langchain_app", "OWNAPP_OPENAI_URL", fake_openai_server, CONFIG
        ),
        model_errors=_LANGCHAIN_ERRORS,
        agent_errors=_LANGCHAIN_ERRORS,
        tool_error="RuntimeError",
        tool_has_agent=True,
        workflow="weather_workflow",
        workflow_errors=True,
    ),
}
RUNS = 24  # per pass: with the second pass alone, more than the alerts' 10-event guards
TOOL_FAILS = 4  # every 4th run's tool raises: 25 % of the tool calls, over the alert's 10 %
MODEL_FAILS = 12  # every 12th run's first model call fails: a 429, then a 500
MODEL_ERRORS = ("429", "500")
AGENT_METRICS = ("invoke_agent", "execute_tool", "invoke_workflow")
# Without error_type on failed workflows this panel stays empty (its failure ratio reads 0).
WORKFLOW_FAILURES = "Workflow failures by type (range)"
# Model-call and HTTP queries without data here, and why: the model is priced; nothing streams.
STREAMING = re.compile(r"time_to_first_chunk|time_per_output_chunk")
NOT_FOR_THIS_APP = re.compile(rf"unpriced|{STREAMING.pattern}")


def _drive(run: livecheck.Run[FakeOpenAI]) -> None:
    with httpx.Client(base_url=run.app.url, timeout=30) as client:

        def one_pass(n: int) -> None:
            for i in range(RUNS):
                failing = i % MODEL_FAILS == MODEL_FAILS - 1
                error = MODEL_ERRORS[i // MODEL_FAILS % len(MODEL_ERRORS)]
                run.fake.script = [error] if failing else []
                run.fake.script.append(tool_call(TOOL, {"city": "Paris"}))
                body = {"question": f"pass {n} run {i}", "fail_tool": i % TOOL_FAILS == 1}
                status = client.post("/api/agent", json=body).status_code
                run.statuses[status] = run.statuses.get(status, 0) + 1

        livecheck.two_passes(run, one_pass)


def _agent_queries(run: livecheck.Run[FakeOpenAI]) -> Iterator[tuple[dashlib.Query, Any]]:
    """The PromQL queries of LLM Agents & Tools rendered for the app, with their dashboard."""
    dashboards = dashlib.load(run.artifacts / "grafana" / "dashboards")
    by_uid = {d["uid"]: d for d in dashboards.values()}
    for q in dashlib.queries(dashboards):
        if q.dashboard == "llm-agents" and q.lang == "promql":
            yield q, by_uid[q.dashboard]


def _failure_peaks(run: livecheck.Run[FakeOpenAI]) -> dict[str, float]:
    """The largest value of each failure query (error_type!="") of LLM Agents & Tools, filters at
    All: "has data" cannot tell a failure ratio's `or 0 * ...` fallback from real failures."""
    peaks = {}
    for q, dashboard in _agent_queries(run):
        if 'error_type!=""' in q.text:
            result = run.query(dashlib.substitute(q.text, dashboard))
            peaks[f"{q.where}: {q.text}"] = max((float(s["value"][1]) for s in result), default=0)
    return peaks


def _filtered(run: livecheck.Run[FakeOpenAI]) -> dict[str, bool]:
    """Whether each agent/tool/workflow query has data with the agent and its tool picked in
    the dashboard's Agent and Tool filters."""
    picked = {"agent": [AGENT], "tool": [TOOL]}
    return {
        f"{q.where}: {q.text}": livestack.has_data(
            run.live().query(dashlib.substitute(q.text, dashboard, selected=picked))
        )
        for q, dashboard in _agent_queries(run)
        if livecheck.kind(q.text) == "agents"
    }


@pytest.fixture(scope="module", params=sorted(FRAMEWORKS))
def measured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    require_binary("prometheus")
    framework = FRAMEWORKS[request.param]
    with livecheck.running(tmp_path_factory.mktemp(request.param), framework.app) as run:
        _drive(run)
        labels = {
            m: [
                s["metric"]
                for s in run.query(f'gen_ai_{m}_duration_seconds_count{{job="{livecheck.JOB}"}}')
            ]
            for m in AGENT_METRICS
        }
        yield {
            "framework": framework,
            "statuses": dict(run.statuses),
            "panels": livecheck.panel_results(run),
            "failure_peaks": _failure_peaks(run),
            "filtered": _filtered(run),
            "labels": labels,
            "alerts": [s["metric"] for s in run.query('ALERTS{alertstate=~"pending|firing"}')],
            "model_errors": {
                s["metric"].get("error_type", "")
                for s in run.query(
                    f'gen_ai_client_operation_duration_seconds_count{{job="{livecheck.JOB}"}}'
                )
            },
            "slos": livecheck.slo_series(run),
            "operations": livecheck.operation_names(run),
        }


def test_operation_names_are_the_conventions(measured: dict[str, Any]) -> None:
    """Only the model calls carry gen_ai_operation_name (the agent and tool histograms are
    named by their operation instead)."""
    assert measured["operations"] == {"chat"}, measured["operations"]


def test_runs_succeeded_and_failed_as_driven(measured: dict[str, Any]) -> None:
    """Tool failures answer 200 (the framework hands the error to the model); 429s answer 503,
    500s 502 (as many of each: RUNS // MODEL_FAILS == len(MODEL_ERRORS))."""
    assert measured["statuses"] == {200: 2 * (RUNS - RUNS // MODEL_FAILS), 503: 2, 502: 2}
    assert measured["model_errors"] == {"", *measured["framework"].model_errors}


def test_model_call_and_http_queries_have_data(measured: dict[str, Any]) -> None:
    """The model calls the agent makes: every dashboard query that needs only standard metrics
    returns data (as for the provider apps), but the unpriced-token and streaming ones (this
    app's model is priced, it streams nothing); the streaming ones have none."""
    standard = [p for p in measured["panels"] if p["kind"] == "standard"]
    assert len(standard) >= 60, len(standard)
    empty = {
        f"{p['dashboard']}: {p['where']}": p["query"] for p in standard if p["result"] != "data"
    }
    assert {w for w, q in empty.items() if not NOT_FOR_THIS_APP.search(q)} == set(), empty
    streaming = [p for p in standard if STREAMING.search(p["query"])]
    assert streaming and all(p["result"] == "no data" for p in streaming), streaming


def test_every_slo_configured_has_data(measured: dict[str, Any]) -> None:
    """With the app's route as the chat route and llm-ttft skipped, every SLO left has an SLI
    (SLIMetricsAbsent silent): agent runs need no more than a model-call app."""
    slos = measured["slos"]
    assert slos and all(slos.values()), slos
    assert "chat-availability" in slos and "llm-ttft" not in slos, slos
    assert "SLIMetricsAbsent" not in {a["alertname"] for a in measured["alerts"]}


def test_every_agent_dashboard_query_has_data(measured: dict[str, Any]) -> None:
    """Every query of the agent, tool and workflow histograms (LLM Agents & Tools), with the
    dashboard's filters at All, returns data; but the workflow failures panel where failed
    workflows carry no error_type."""
    agents = [p for p in measured["panels"] if p["kind"] == "agents"]
    # A misspelled histogram would make its query another kind, out of this check: none may be.
    dashboard = [p for p in measured["panels"] if p["dashboard"] == "llm-agents"]
    assert dashboard and {p["kind"] for p in dashboard} <= {"agents", "alerts"}, dashboard
    assert len(agents) >= 15, agents
    empty = {p["where"]: p["query"] for p in agents if p["result"] != "data"}
    if measured["framework"].workflow_errors:
        assert empty == {}, empty
    else:
        assert len(empty) == 1 and all(WORKFLOW_FAILURES in w for w in empty), empty


def test_agent_and_tool_filters_keep_what_the_instrumentation_names(
    measured: dict[str, Any],
) -> None:
    """With the agent and its tool picked, the agent and workflow queries keep their data, and
    the tool queries keep theirs where tool calls name their agent (LangChain); the OpenAI
    Agents SDK's tool calls name none, so its tool panels empty (docs/dashboards.md says so)."""
    framework, filtered = measured["framework"], measured["filtered"]
    tools = {q for q in filtered if "execute_tool" in q}
    assert len(tools) >= 4 and len(filtered) - len(tools) >= 8, filtered
    empty = {q for q, has in filtered.items() if not has}
    expected = set() if framework.tool_has_agent else tools
    if not framework.workflow_errors:
        expected |= {q for q in filtered if WORKFLOW_FAILURES in q}
    assert empty == expected, empty


def test_failure_queries_show_the_failures(measured: dict[str, Any]) -> None:
    """The agent and tool failure queries read above 0 (a quarter of the tools raise, and a
    failed model call fails its agent run); the workflow ones too where failed workflows carry
    error_type, 0 where they do not."""
    peaks, framework = measured["failure_peaks"], measured["framework"]
    workflow = {q: v for q, v in peaks.items() if "invoke_workflow" in q}
    others = {q: v for q, v in peaks.items() if q not in workflow}
    assert len(others) >= 4 and all(v > 0 for v in others.values()), others
    assert workflow, peaks
    if framework.workflow_errors:
        assert all(v > 0 for v in workflow.values()), workflow
    else:
        assert all(v == 0 for v in workflow.values()), workflow


def test_series_are_labelled_as_the_instrumentation_records_them(measured: dict[str, Any]) -> None:
    """Agent runs by gen_ai_agent_name, tool calls by tool name and type (with or without the
    agent's name), workflows by name; error_type as each instrumentation writes it."""
    framework, labels = measured["framework"], measured["labels"]
    agent, tool, workflow = (labels[m] for m in AGENT_METRICS)
    assert {s["gen_ai_agent_name"] for s in agent} == {AGENT}
    assert {s.get("error_type", "") for s in agent} == {"", *framework.agent_errors}
    assert {(s["gen_ai_tool_name"], s["gen_ai_tool_type"]) for s in tool} == {(TOOL, "function")}
    assert {s.get("error_type", "") for s in tool} == {"", framework.tool_error}
    named = {s.get("gen_ai_agent_name", "") for s in tool}
    assert named == ({AGENT} if framework.tool_has_agent else {""}), named
    assert {s["gen_ai_workflow_name"] for s in workflow} == {framework.workflow}
    errors = {s.get("error_type", "") for s in workflow} - {""}
    assert errors == (set(framework.agent_errors) if framework.workflow_errors else set())


def test_failing_tool_raises_the_tool_alert_and_no_model_call_alert(
    measured: dict[str, Any],
) -> None:
    """25 % of the tool calls fail: LLMToolErrorRatioHigh (pending or firing) for get_weather.
    The failed tools and agent runs enter no model-call error ratio: LLMErrorRatioHigh stays
    silent (the model-call errors, two 429s and two 500s, stay under its alert's 10 %)."""
    active = {(a["alertname"], a.get("gen_ai_tool_name", "")) for a in measured["alerts"]}
    assert ("LLMToolErrorRatioHigh", TOOL) in active, active
    assert not {name for name, _ in active} & {"LLMErrorRatioHigh", "LLMProviderRateLimited"}
    assert measured["slos"].get("llm-chat-success") is True, measured["slos"]
