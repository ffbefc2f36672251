"""What the dashboards share: uids, titles, variables, alert annotations, log selectors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from genai_telemetry import semconv as sc
from genobs.context import current

from . import core, limits
from .promql import matchers, provider_values

OVERVIEW = ("llm-overview", "LLM Overview")
COST = ("llm-cost", "LLM Cost & Usage")
SLOS = ("llm-slos", "LLM SLOs")
RAG = ("rag-pipeline", "RAG Pipeline & Quality")
AGENTS = ("llm-agents", "LLM Agents & Tools")
TRACES = ("llm-traces", "LLM Traces & Logs")
STACK = ("stack-health", "Observability Stack Health")
ALL = [OVERVIEW, COST, SLOS, RAG, AGENTS, TRACES, STACK]

# Name of the provisioned Alertmanager datasource (uid `alertmanager`); the Alert groups panel
# selects its Alertmanager by name. tests/grafana checks it against grafana/provisioning.
ALERTMANAGER_DATASOURCE_NAME = "Alertmanager"


def service() -> str:
    """The watched service's name (genai-obs.yaml `service_name`): its queries and panel text."""
    return current().service_name


def trace_service() -> str:
    """TraceQL: the watched service's spans. Every spanset starts with it: a shared Tempo holds
    other apps' chat spans too."""
    return f'resource.service.name = "{service()}"'


# --- LogQL. rag-api exports each structlog record as an OTLP log: body = the event name
# (`chat_answered`, `chat_failed` …), severity_text = the level upper-cased (INFO, WARNING, ERROR),
# trace/span ids from the active span, every other field as a log attribute. Loki's OTLP ingest
# makes service.name the index label `service_name` and stores everything else as structured
# metadata (dots → underscores), filtered with `| name="value"` after the stream selector.
def log_stream() -> str:
    """The watched service's OTLP logs (service_name from genai-obs.yaml)."""
    return f'{{service_name="{service()}"}}'


# Any case: severity texts are the logging library's level names (Python's WARNING, Java's WARN,
# .NET's Warning, winston's warn), and the OpenTelemetry SDKs' own (WARN, FATAL).
ERROR_SEVERITIES = "(?i)warn|warning|error|critical|fatal"


def error_logs() -> str:
    return f'{log_stream()} | severity_text=~"{ERROR_SEVERITIES}"'


def traced_logs() -> str:
    return f'{log_stream()} | trace_id != ""'


def log_rate_by_level() -> str:
    return f"sum by (severity_text) (rate({log_stream()} [$__auto]))"


def low_quality_logs() -> str:
    """Answers whose faithfulness evaluation is at or below the rag-answer-quality threshold."""
    return (
        f'{log_stream()} |= "chat_answered" | faithfulness != "" '
        f"| faithfulness <= {limits.quality_score():g}"
    )


def guardrail_logs() -> str:
    """guardrail_triggered events (docs/telemetry.md § Logs)."""
    return f'{log_stream()} |= "guardrail_triggered" | guardrail != ""'


def render(ident: tuple[str, str], rows: Iterable[core.Row], **fields: Any) -> core.Json:
    """A dashboard of the table above: its uid and title, links to the others, then each row
    function in order; `fields` are the rest of `core.Dashboard`'s."""
    uid, title = ident
    dashboard = core.Dashboard(uid=uid, title=title, links=links(uid), **fields)
    for row in rows:
        row(dashboard)
    return dashboard.render()


def links(uid: str) -> list[core.Json]:
    return core.dashboard_links(uid, ALL)


def firing_alerts(selector: str) -> core.Json:
    return core.alerts_annotation("Firing alerts", 'alertstate="firing", ' + selector)


def app_alerts(selector: str = 'alertname!="Watchdog"') -> str:
    """ALERTS matchers for the watched service's own alerts (rules stamp `service`): the
    Prometheus these dashboards run on may evaluate a whole cluster's alerts."""
    return f'service="{service()}", {selector}'


def model_variables(*, feature_tier: bool = False) -> list[core.Json]:
    """provider → model chained variables (+ feature and tier for cost views). The provider list
    reads the older gen_ai_system too, as the panels' provider filter does (promql._tolerant):
    OpenTelemetry JS, botocore's Bedrock calls and openai-v2's embeddings name it only there.
    Every operation's models (chat and embeddings): picking models must not silently drop the
    embeddings spend the cost panels add up (chat-only panels just show nothing for an
    embeddings model). The model list also takes series without gen_ai_provider_name (`|`
    matches the empty value), which a label_values selector cannot match on gen_ai_system
    instead."""
    calls = sc.GENAI_OPERATION_DURATION + "_count"
    chained = matchers(**{sc.L_PROVIDER: "~$provider|"})
    out = [
        core.datasource_var("prometheus"),
        core.result_var("provider", "Provider", provider_values(calls), sc.L_PROVIDER),
        core.query_var("model", "Model", calls + chained, sc.L_MODEL),
    ]
    if feature_tier:
        out += [
            core.query_var("feature", "Feature", sc.LLM_COST, sc.L_FEATURE),
            core.query_var("tier", "User tier", sc.LLM_COST, sc.L_USER_TIER),
        ]
    return out
