"""LLM Agents & Tools: which agent or tool is slow or failing, how often does each run, which
agent calls which tool?

Reads the per-name durations the official agent-framework instrumentations record
(opentelemetry-util-genai: gen_ai.invoke_agent.duration, gen_ai.execute_tool.duration,
gen_ai.invoke_workflow.duration), which rag-api records too (but for workflows). Model calls are
not here: an agent's model calls are on the LLM Overview and Cost dashboards like any other.
"""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core, limits, traces
from .core import GREEN, RED, prom, thresholds
from .promql import Labels, matchers, quantile, share_by, sum_increase, sum_rate

AGENT = sc.GENAI_INVOKE_AGENT_DURATION
TOOL = sc.GENAI_EXECUTE_TOOL_DURATION
WORKFLOW = sc.GENAI_INVOKE_WORKFLOW_DURATION
FAILED: Labels = {sc.L_ERROR_TYPE: "!"}
# Agent and workflow failure ratios: a red line at 5% (what LLMErrorRatioHigh calls high for
# model calls); tools: at LLMToolErrorRatioHigh's threshold.
FAILURE_LINE = 0.05


def _agents() -> Labels:
    return {sc.L_AGENT_NAME: "~$agent"}


def _tools() -> Labels:
    """Tool series of the picked agents and tools. Under All (`.*`) tool series without an agent
    name (the OpenAI Agents SDK instrumentation records none) are kept: `.*` matches ""."""
    return {**_agents(), sc.L_TOOL_NAME: "~$tool"}


def _four(
    what: str,
    metric: str,
    labels: Labels,
    name: str,
    *,
    runs: str,
    text: dict[str, str],
    line: float = FAILURE_LINE,
) -> list[core.Panel]:
    """Rate, failure ratio, p50/p95 and failures by type of one histogram, per `name` label."""
    by = (name,)
    legend = "{{" + name + "}}"
    return [
        core.timeseries(
            f"{runs} per second by {what}",
            text["rate"],
            [prom(sum_rate(metric + "_count", labels, by=by), legend)],
            "ops",
            w=6,
        ),
        core.timeseries(
            f"{what.capitalize()} failure ratio by {what}",
            text["ratio"],
            [prom(share_by(metric + "_count", FAILED, labels, by=by), legend)],
            "percentunit",
            w=6,
            max_=1,
            thresholds_=thresholds((None, GREEN), (line, RED)),
            threshold_style="line",
        ),
        core.timeseries(
            f"{what.capitalize()} duration p50 / p95 by {what}",
            text["latency"],
            [
                prom(
                    quantile(q, metric, labels, by=by), f"p{round(q * 100)} {legend}", exemplar=True
                )
                for q in (0.5, 0.95)
            ],
            "s",
            w=6,
        ),
        core.bargauge(
            f"{what.capitalize()} failures by type (range)",
            text["errors"],
            [
                prom(
                    sum_increase(
                        metric + "_count",
                        {**labels, **FAILED},
                        by=(*by, sc.L_ERROR_TYPE),
                        window="$__range",
                    ),
                    f"{legend} {{{{error_type}}}}",
                    instant=True,
                )
            ],
            "short",
            w=6,
        ),
    ]


def agents(d: core.Dashboard) -> None:
    d.row("Agents")
    d.add(
        *_four(
            "agent",
            AGENT,
            _agents(),
            sc.L_AGENT_NAME,
            runs="Agent runs",
            text={
                "rate": "invoke_agent runs per second per gen_ai.agent.name: a supervisor runs "
                "once per request, the workers it hands off to once each.",
                "ratio": "Share of agent runs that ended in an error (error_type set). A failing "
                "worker fails its supervisor too, unless the supervisor recovers.",
                "latency": "End-to-end duration of one agent run (all its model and tool calls). "
                "Exemplars link to the trace of a slow run.",
                "errors": "Failed agent runs over the selected range per agent and error_type "
                "(the exception class or the provider's error code).",
            },
        )
    )


def tools(d: core.Dashboard) -> None:
    d.row("Tools")
    d.add(
        *_four(
            "tool",
            TOOL,
            _tools(),
            sc.L_TOOL_NAME,
            runs="Tool calls",
            text={
                "rate": "execute_tool calls per second per gen_ai.tool.name.",
                "ratio": "Share of tool calls that failed per tool (error_type set). A tool "
                "failure enters no model-call error ratio or SLO; LLMToolErrorRatioHigh fires "
                f"above {limits.pct(limits.TOOL_ERROR_ALERT)} (red line).",
                "latency": "Duration of one tool execution. Exemplars link to the trace of a "
                "slow call.",
                "errors": "Failed tool calls over the selected range per tool and error_type "
                "(the exception class, or a code such as client_error: the tool refused its "
                "input).",
            },
            line=limits.TOOL_ERROR_ALERT,
        )
    )
    d.add(
        core.bargauge(
            "Tool calls by agent and tool (range)",
            "Which agent calls which tool, over the selected range. An empty agent name: the "
            "instrumentation records none on tool calls (OpenAI Agents SDK).",
            [
                prom(
                    sum_increase(
                        TOOL + "_count",
                        _tools(),
                        by=(sc.L_AGENT_NAME, sc.L_TOOL_NAME),
                        window="$__range",
                    ),
                    "{{gen_ai_agent_name}} → {{gen_ai_tool_name}}",
                    instant=True,
                )
            ],
            "short",
            w=12,
        ),
        traces.failed_steps(w=12),
    )


def workflows(d: core.Dashboard) -> None:
    d.row("Workflows")
    d.add(
        *_four(
            "workflow",
            WORKFLOW,
            {},
            sc.L_WORKFLOW_NAME,
            runs="Workflow runs",
            text={
                "rate": "invoke_workflow runs per second per gen_ai.workflow.name (recorded by "
                "agent frameworks that run a named workflow, e.g. the OpenAI Agents SDK; empty "
                "for an app that runs none).",
                "ratio": "Share of workflow runs that ended in an error (error_type set). The "
                "OpenAI Agents SDK instrumentation (1.3b0) sets none on a failed run: 0 there; "
                "read the agent failure ratio instead.",
                "latency": "End-to-end duration of one workflow run. Exemplars link to its "
                "trace where the app records them.",
                "errors": "Failed workflow runs over the selected range per workflow and "
                "error_type.",
            },
        )
    )


ROWS: tuple[core.Row, ...] = (agents, tools, workflows)


def build() -> core.Json:
    return common.render(
        common.AGENTS,
        ROWS,
        description="Runs, failures and durations per agent, tool and workflow (the "
        "gen_ai.invoke_agent / execute_tool / invoke_workflow durations of the official "
        "agent-framework instrumentations), which agent calls which tool, and the failed "
        "steps' traces.",
        tags=["llm", "agents"],
        variables=[
            core.datasource_var("prometheus"),
            core.datasource_var("tempo"),
            core.query_var("agent", "Agent", AGENT + "_count", sc.L_AGENT_NAME),
            # Chained: the tools the picked agents call (All keeps tools no agent name is on).
            core.query_var("tool", "Tool", TOOL + "_count" + matchers(**_agents()), sc.L_TOOL_NAME),
        ],
        annotations=[
            common.firing_alerts(
                common.app_alerts('alertname=~"LLMToolErrorRatioHigh|LLMErrorRatioHigh"')
            )
        ],
    )
