"""LLM Traces & Logs: which requests failed or were slow, what did they call, what did they log?

TraceQL tables read Tempo directly; the service graph and span-metrics panels read the series
Tempo's metrics-generator remote-writes into Prometheus (traces_spanmetrics_*,
traces_service_graph_*; default dimensions service, span_name, span_kind, status_code).
"""

from __future__ import annotations

from genai_telemetry import semconv as sc
from genobs.context import current
from genobs.promql import quote

from . import common, core, limits, usage
from .core import GREEN, RED, loki, prom, thresholds
from .promql import quantile, share_by, sum_rate

CALLS = "traces_spanmetrics_calls_total"
LATENCY = "traces_spanmetrics_latency"
GRAPH = "traces_service_graph_request_total"
GRAPH_FAILED = "traces_service_graph_request_failed_total"
BY_SPAN = ("span_name",)


def span(attr: str) -> str:
    return f"span.{attr}"


def chat_spans() -> str:
    """The gen_ai_operation_name matchers of selectors.llm_chat_operation, on span attributes."""
    ops = (m for m in current().llm_chat_operation if m.name == sc.L_OPERATION)
    return " && ".join(f"{span(sc.A_OPERATION_NAME)} {m.op} {quote(m.value)}" for m in ops)


def trace_tables(d: core.Dashboard) -> None:
    SERVICE = common.trace_service()
    SLOW = f"{round(limits.LATENCY_S * 1000)}ms"  # the latency SLO threshold
    d.row("Traces (TraceQL)")
    d.add(
        core.trace_table(
            "Failed traces",
            f"Recent traces of {common.service()} with a span in error status. Click a trace ID "
            "to open the waterfall; from a span, jump to its logs.",
            f"{{ {SERVICE} && status = error }}",
        ),
        core.trace_table(
            f"Slow traces (> {limits.LATENCY_S:g} s)",
            f"Recent {common.service()} traces with a span longer than {SLOW}: the latency SLO "
            "threshold.",
            f"{{ {SERVICE} && duration > {SLOW} }}",
        ),
    )
    d.add(
        core.trace_table(
            "Model calls (GenAI chat spans)",
            "Recent chat spans with model, token usage and cost attributes (OpenTelemetry GenAI "
            "semantic conventions).",
            f"{{ {SERVICE} && {chat_spans()} }} | select("
            + ", ".join(
                span(a)
                for a in (
                    sc.A_REQUEST_MODEL,
                    sc.A_PROVIDER_NAME,
                    sc.A_INPUT_TOKENS,
                    sc.A_OUTPUT_TOKENS,
                    sc.A_LLM_COST_USD,
                )
            )
            + ")",
        ),
        core.trace_table(
            "Failed model calls",
            "Chat spans that failed, with error.type (timeout, rate_limited, server_error …) and "
            "the provider.",
            f"{{ {SERVICE} && {chat_spans()} && status = error }}"
            " | select("
            f"{span(sc.A_ERROR_TYPE)}, {span(sc.A_PROVIDER_NAME)}, {span(sc.A_REQUEST_MODEL)})",
        ),
    )
    d.add(
        core.trace_table(
            f"Slow first token (> {limits.TTFT_S:g} s)",
            f"Streamed chat spans whose first chunk took longer than {limits.TTFT_S} s (the TTFT "
            "SLO threshold).",
            f"{{ {SERVICE} && {chat_spans()} && "
            f"{span(sc.A_TIME_TO_FIRST_CHUNK)} > {limits.TTFT_S} }} | select("
            f"{span(sc.A_REQUEST_MODEL)}, {span(sc.A_TIME_TO_FIRST_CHUNK)})",
        ),
        failed_steps(),
    )


def failed_steps(*, w: int = 12) -> core.Panel:
    """Failed tool and agent spans (also on LLM Agents & Tools)."""
    return core.trace_table(
        "Tool and agent steps that failed",
        "Failed execute_tool and invoke_agent spans: which tool or agent broke a request.",
        f"{{ {common.trace_service()} && {span(sc.A_OPERATION_NAME)} =~ "
        f'"{sc.OP_EXECUTE_TOOL}|{sc.OP_INVOKE_AGENT}" && '
        f"status = error }} | select({span(sc.A_TOOL_NAME)}, {span(sc.A_AGENT_NAME)})",
        w=w,
    )


def span_metrics(d: core.Dashboard) -> None:
    SPAN = {"service": common.service()}  # Tempo's span metrics name it `service`
    d.row("Service graph and span metrics (Tempo metrics-generator)")
    d.add(
        core.node_graph(
            "Service graph",
            "Services and the calls between them, with request rate and error share per edge "
            "(Tempo service-graphs processor, read back from Prometheus).",
            h=10,
        ),
    )
    d.add(
        core.timeseries(
            "Span calls per second by span name",
            f"Spans per second per operation name for {common.service()} "
            "(traces_spanmetrics_calls_total).",
            [prom(sum_rate(CALLS, SPAN, by=BY_SPAN), "{{span_name}}")],
            "ops",
            w=8,
        ),
        core.timeseries(
            "Span error ratio by span name",
            "Share of spans in error status per operation name.",
            [
                prom(
                    share_by(CALLS, {"status_code": "STATUS_CODE_ERROR"}, SPAN, by=BY_SPAN),
                    "{{span_name}}",
                )
            ],
            "percentunit",
            w=8,
            thresholds_=thresholds((None, GREEN), (0.01, RED)),
            threshold_style="line",
        ),
        core.timeseries(
            "Span duration p95 by span name",
            "95th percentile span duration per operation name (traces_spanmetrics_latency "
            "histogram). Exemplars link to traces.",
            [
                prom(
                    quantile(0.95, LATENCY, SPAN, by=BY_SPAN),
                    "{{span_name}}",
                    exemplar=True,
                )
            ],
            "s",
            w=8,
        ),
    )
    d.add(
        core.timeseries(
            "Service graph requests and failures",
            "Requests per second between client and server services, and the failed ones.",
            [
                prom(sum_rate(GRAPH, by=("client", "server")), "{{client}} → {{server}}"),
                prom(
                    sum_rate(GRAPH_FAILED, by=("client", "server")),
                    "{{client}} → {{server}} failed",
                ),
            ],
            "reqps",
            w=24,
        ),
    )


def logs_row(d: core.Dashboard) -> None:
    d.row("Logs")
    d.add(
        core.logs(
            "Logs with trace links",
            f"{common.service()} log lines written while serving a request (they carry "
            "trace_id). Expand a line: the trace_id field links to the trace in Tempo.",
            common.traced_logs(),
            w=16,
            h=12,
        ),
        core.timeseries(
            "Log lines per level",
            f"{common.service()} log lines per second by severity (Loki metric query): a burst "
            "of errors or warnings usually comes with an incident.",
            [loki(common.log_rate_by_level(), "{{severity_text}}")],
            "suffix:lines/s",
            w=8,
            h=12,
            stack=True,
        ),
    )


ROWS: tuple[core.Row, ...] = (
    trace_tables,
    span_metrics,
    logs_row,
    usage.users_and_tenants,
    usage.conversations,
    usage.one_user_or_conversation,
)


def build() -> core.Json:
    return common.render(
        common.TRACES,
        ROWS,
        description="Failed and slow traces (TraceQL), GenAI model-call spans, the service graph "
        "and span metrics from Tempo's metrics-generator, logs linked to traces, and per user, "
        "tenant and conversation views from the logs.",
        tags=["llm", "traces", "logs"],
        variables=[
            core.datasource_var("prometheus"),
            core.datasource_var("tempo"),
            core.datasource_var("loki"),
            *usage.variables(),
        ],
        annotations=[common.firing_alerts(common.app_alerts())],
    )
