"""The LLM Agents & Tools dashboard and LLMToolErrorRatioHigh on an agent app (official
instrumentations only, measured live).

tests/ownapp/agents_app.py runs an OpenAI Agents SDK agent (`weather_agent`, one `get_weather`
function tool) under `opentelemetry-instrumentation-genai-openai-agents` and
`opentelemetry-instrumentation-genai-openai` 1.3b0 against the loopback fake OpenAI API: every
run is a model call answering with the tool call, the tool, and a model call answering with text.
A real Prometheus scrapes it with the rules rendered for it (livecheck.running). Traffic: two
passes of RUNS runs; the tool raises in one run of TOOL_FAILS, and one run of MODEL_FAILS starts
with a provider error, 429 and 500 in turn (the run fails before its tool). The rules are
rendered as this app's user would configure them: its route is the chat route, and llm-ttft is
skipped (it streams nothing).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness import require_binary
from harness.fake_openai import FakeOpenAI, fake_openai_server, tool_call
from tests.grafana import dashlib
from tests.ownapp import livecheck

ROUTE = 'http_route="/api/agent"'
AGENTS_APP = livecheck.App(
    "tests.ownapp.agents_app",
    "OWNAPP_OPENAI_URL",
    fake_openai_server,
    config={
        "selectors": {"http_chat_route": ROUTE, "http_unary_chat_route": ROUTE},
        "skip_slos": ["chat-latency", "llm-ttft"],
    },
)
RUNS = 24  # per pass: with the second pass alone, more than the alerts' 10-event guards
TOOL_FAILS = 4  # every 4th run's tool raises: 25 % of the tool calls, over the alert's 10 %
MODEL_FAILS = 12  # every 12th run's first model call fails: a 429, then a 500
MODEL_ERRORS = ("429", "500")
AGENT_METRICS = ("invoke_agent", "execute_tool", "invoke_workflow")
# Measured: the SDK's workflow records no error_type when its run fails, so the workflow
# failures panel stays empty (its failure ratio reads 0).
NO_WORKFLOW_ERRORS = "Workflow failures by type (range)"
# Model-call and HTTP queries without data here, and why: the model is priced; nothing streams.
STREAMING = re.compile(r"time_to_first_chunk|time_per_output_chunk")
NOT_FOR_THIS_APP = re.compile(rf"unpriced|{STREAMING.pattern}")


def _drive(run: livecheck.Run[FakeOpenAI]) -> None:
    with httpx.Client(base_url=run.app.url, timeout=30) as client:
        for n in range(2):
            if n:
                time.sleep(2.5)  # > 2 scrapes: pass 1's series are in Prometheus
            for i in range(RUNS):
                failing = i % MODEL_FAILS == MODEL_FAILS - 1
                error = MODEL_ERRORS[i // MODEL_FAILS % len(MODEL_ERRORS)]
                run.fake.script = [error] if failing else []
                run.fake.script.append(tool_call("get_weather", {"city": "Paris"}))
                body = {"question": f"pass {n} run {i}", "fail_tool": i % TOOL_FAILS == 1}
                status = client.post("/api/agent", json=body).status_code
                run.statuses[status] = run.statuses.get(status, 0) + 1
    time.sleep(4)  # scrapes after the last run, and rule evaluations on top of them


def _failure_peaks(run: livecheck.Run[FakeOpenAI]) -> dict[str, float]:
    """The largest value of each failure query (error_type!="") of LLM Agents & Tools, filters at
    All: "has data" cannot tell a failure ratio's `or 0 * ...` fallback from real failures."""
    dashboards = dashlib.load(run.artifacts / "grafana" / "dashboards")
    by_uid = {d["uid"]: d for d in dashboards.values()}
    peaks = {}
    for q in dashlib.queries(dashboards):
        if q.dashboard == "llm-agents" and q.lang == "promql" and 'error_type!=""' in q.text:
            result = run.query(dashlib.substitute(q.text, by_uid[q.dashboard]))
            peaks[f"{q.where}: {q.text}"] = max((float(s["value"][1]) for s in result), default=0)
    return peaks


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_binary("prometheus")
    with livecheck.running(tmp_path_factory.mktemp("agents"), AGENTS_APP) as run:
        _drive(run)
        labels = {
            m: [
                s["metric"]
                for s in run.query(f'gen_ai_{m}_duration_seconds_count{{job="{livecheck.JOB}"}}')
            ]
            for m in AGENT_METRICS
        }
        yield {
            "statuses": dict(run.statuses),
            "panels": livecheck.panel_results(run),
            "failure_peaks": _failure_peaks(run),
            "labels": labels,
            "alerts": [s["metric"] for s in run.query('ALERTS{alertstate=~"pending|firing"}')],
            "model_errors": {
                s["metric"].get("error_type", "")
                for s in run.query(
                    f'gen_ai_client_operation_duration_seconds_count{{job="{livecheck.JOB}"}}'
                )
            },
            "slos": livecheck.slo_series(run),
        }


def test_runs_succeeded_and_failed_as_driven(measured: dict[str, Any]) -> None:
    """Tool failures answer 200 (the SDK hands the error to the model); 429s answer 503, 500s
    502 (as many of each: RUNS // MODEL_FAILS == len(MODEL_ERRORS))."""
    assert measured["statuses"] == {200: 2 * (RUNS - RUNS // MODEL_FAILS), 503: 2, 502: 2}
    assert measured["model_errors"] == {"", "openai.RateLimitError", "openai.InternalServerError"}


def test_model_call_and_http_queries_have_data(measured: dict[str, Any]) -> None:
    """The genai-openai instrumentation next to the agent one: every dashboard query that needs
    only standard metrics returns data (as for the provider apps), but the unpriced-token and
    streaming ones (this app's model is priced, it streams nothing); the streaming ones have
    none."""
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
    dashboard's filters at All, returns data; but the workflow failures panel (measured: no
    error_type on the SDK's workflow)."""
    agents = [p for p in measured["panels"] if p["kind"] == "agents"]
    # A misspelled histogram would make its query another kind, out of this check: none may be.
    dashboard = [p for p in measured["panels"] if p["dashboard"] == "llm-agents"]
    assert dashboard and {p["kind"] for p in dashboard} <= {"agents", "alerts"}, dashboard
    assert len(agents) >= 15, agents
    empty = {p["where"]: p["query"] for p in agents if p["result"] != "data"}
    assert set(empty) == {w for w in empty if NO_WORKFLOW_ERRORS in w}, empty
    assert len(empty) == 1, empty


def test_failure_queries_show_the_failures(measured: dict[str, Any]) -> None:
    """The agent and tool failure queries read above 0 (a quarter of the tools raise, and a
    failed model call fails its agent run); the workflow ones read 0 (no error_type on them)."""
    peaks = measured["failure_peaks"]
    workflow = {q: v for q, v in peaks.items() if "invoke_workflow" in q}
    others = {q: v for q, v in peaks.items() if q not in workflow}
    assert len(others) >= 4 and all(v > 0 for v in others.values()), others
    assert workflow and all(v == 0 for v in workflow.values()), workflow


def test_series_are_labelled_as_the_instrumentation_records_them(measured: dict[str, Any]) -> None:
    """Agent runs by gen_ai_agent_name, tool calls by tool name and type without an agent name,
    workflows by name; failures carry error_type "_OTHER" (agents, tools), none on workflows."""
    labels = measured["labels"]
    agent, tool, workflow = (labels[m] for m in AGENT_METRICS)
    assert {s["gen_ai_agent_name"] for s in agent} == {"weather_agent"}
    assert {s.get("error_type", "") for s in agent} == {"", "_OTHER"}
    assert {(s["gen_ai_tool_name"], s["gen_ai_tool_type"]) for s in tool} == {
        ("get_weather", "function")
    }
    assert {s.get("error_type", "") for s in tool} == {"", "_OTHER"}
    assert not any("gen_ai_agent_name" in s for s in tool)
    assert {s["gen_ai_workflow_name"] for s in workflow} == {"Agent workflow"}
    assert not any(s.get("error_type") for s in workflow)


def test_failing_tool_raises_the_tool_alert_and_no_model_call_alert(
    measured: dict[str, Any],
) -> None:
    """25 % of the tool calls fail: LLMToolErrorRatioHigh (pending or firing) for get_weather.
    The failed tools and agent runs enter no model-call error ratio: LLMErrorRatioHigh stays
    silent (the model-call errors, two 429s and two 500s, stay under its alert's 10 %)."""
    active = {(a["alertname"], a.get("gen_ai_tool_name", "")) for a in measured["alerts"]}
    assert ("LLMToolErrorRatioHigh", "get_weather") in active, active
    assert not {name for name, _ in active} & {"LLMErrorRatioHigh", "LLMProviderRateLimited"}
    assert measured["slos"].get("llm-chat-success") is True, measured["slos"]
