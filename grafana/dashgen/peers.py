"""docs/dashboards.md § Compared with peers: point by point, what this stack and six peers show.

Peer cells cite the peer's own documentation (read in December 2026); "not found in its docs"
means exactly that, not "impossible". Our cells are backed by the dashboards themselves: each
point names a title pattern, and the panels matching it are listed (a point with no matching
panel says so), so the comparison cannot claim a panel that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

PEERS = ("OpenLIT", "Langfuse", "Phoenix", "Helicone", "Traceloop", "Grafana AI Observability")

OPENLIT_GUARD = "https://docs.openlit.io/latest/sdk/features/guardrails"
OPENLIT_PROMPTS = "https://docs.openlit.io/latest/openlit/prompts-experiments/prompt-hub/overview"
OPENLIT_SDK = "https://pypi.org/project/openlit/"
LF_USERS = "https://langfuse.com/docs/observability/features/users"
LF_SESSIONS = "https://langfuse.com/docs/observability/features/sessions"
LF_ALERTS = "https://langfuse.com/docs/observability/features/alerts"
LF_SCORE_ALERTS = "https://langfuse.com/faq/all/alerts-on-scores"
LF_PROMPTS = "https://langfuse.com/faq/all/prompt-management-langfuse"
PX_SESSIONS = "https://arize.com/docs/phoenix/tracing/how-to-tracing/setup-tracing/setup-sessions"
PX_FEEDBACK = "https://arize.com/docs/phoenix/tracing/how-to-tracing/feedback-and-annotations/capture-feedback"
PX_PROMPTS = "https://github.com/Arize-ai/phoenix/releases/tag/arize-phoenix-v17.16.0"
HC_USERS = "https://docs.helicone.ai/features/advanced-usage/user-metrics"
HC_ALERTS = "https://docs.helicone.ai/features/alerts"
TL_SESSIONS = "https://traceloop.com/docs/openllmetry/tracing/sessions"
TL_MONITORS = "https://traceloop.com/docs/monitoring/introduction"
TL_BLOG = (
    "https://traceloop.com/blog/beyond-spreadsheets-building-a-scalable-framework-for-"
    "evaluating-faithfulness-relevance-in-llms"
)
GF_AGENTS = "https://grafana.com/docs/grafana-cloud/machine-learning/ai-observability/"
GF_INTEGRATION = (
    "https://grafana.com/docs/grafana-cloud/monitor-infrastructure/integrations/"
    "integration-reference/integration-ai-observability/"
)


def cite(text: str, url: str) -> str:
    return f"{text} ([docs]({url}))"


# (point, our panels' title regex, what ours does, {peer: what it does, with its docs}).
POINTS: list[tuple[str, str, str, dict[str, str]]] = [
    (
        "Cost per user / tenant",
        r"^Top 10 (users|tenants)",
        "Top 10 users and tenants by cost, tokens, errors and p95 latency over any range, from "
        "the logs (LogQL `topk`); users are pseudonymised, and neither is a metric label, so "
        "10,000 users add no Prometheus series. Behind: no per-user alert and no per-user "
        "page of its own (the $user textbox filters traces and logs).",
        {
            "OpenLIT": cite(
                "cost per request and model on spans and metrics; no per-user "
                "view found in its docs",
                OPENLIT_SDK,
            ),
            "Langfuse": cite(
                "**ahead**: a Users view with cost, tokens, traces and feedback "
                "per userId, and a page per user",
                LF_USERS,
            ),
            "Phoenix": "cost on spans; no per-user view found in its docs",
            "Helicone": cite(
                "**ahead**: user metrics per Helicone-User-Id (cost, requests, "
                "active users) and custom properties for tenants",
                HC_USERS,
            ),
            "Traceloop": "no per-user view found in its docs",
            "Grafana AI Observability": cite("cost tracking per conversation and agent", GF_AGENTS),
        },
    ),
    (
        "Sessions / conversations",
        r"[Cc]onversation",
        "Turns, tokens and cost per conversation (mean, maximum, distributions), the costliest "
        "conversations, and one conversation's traces (TraceQL on `gen_ai.conversation.id`) "
        "and logs. Behind: no transcript replay (message content is opt-in and never shown).",
        {
            "OpenLIT": "not found in its docs",
            "Langfuse": cite(
                "**ahead**: sessions with a replay of the whole interaction and scores per session",
                LF_SESSIONS,
            ),
            "Phoenix": cite("sessions of traces with a turn-by-turn view", PX_SESSIONS),
            "Helicone": cite("sessions, with session cost and duration", HC_USERS),
            "Traceloop": cite("sessions grouped by conversation id", TL_SESSIONS),
            "Grafana AI Observability": cite(
                "browse conversations and drill into their traces", GF_AGENTS
            ),
        },
    ),
    (
        "User feedback",
        r"[Ff]eedback|[Ss]atisf",
        "Satisfaction and feedback panels.",
        {
            "OpenLIT": "LLM-as-judge evaluations; no end-user feedback found in its docs",
            "Langfuse": cite(
                "scores (user feedback, annotations, evaluators) on traces and "
                "sessions, with alerts on scores",
                LF_SCORE_ALERTS,
            ),
            "Phoenix": cite(
                "annotations from end users, humans, LLMs and code on spans and traces", PX_FEEDBACK
            ),
            "Helicone": cite("feedback scores among its user metrics", HC_USERS),
            "Traceloop": cite(
                "evaluator monitors score outputs; no end-user feedback API found in its docs",
                TL_MONITORS,
            ),
            "Grafana AI Observability": cite("online evaluation rules", GF_AGENTS),
        },
    ),
    (
        "Agents and tools",
        r"^(Agent|Tool|Workflow)",
        "Runs, failure ratio, p50/p95 duration and failures by type per agent, per tool and per "
        "workflow as metrics (the histograms the official agent-framework instrumentations "
        "record; rag-api records the agent and tool ones), which agent calls which tool, and "
        "the failed agent and tool spans.",
        {
            "OpenLIT": cite(
                "tool and MCP calls traced; an MCP dashboard in Grafana's integration",
                GF_INTEGRATION,
            ),
            "Langfuse": "tool calls as observations in traces",
            "Phoenix": "TOOL spans in traces (OpenInference span kinds)",
            "Helicone": "tool calls inside logged requests; no per-tool metrics found",
            "Traceloop": "tool spans in traces",
            "Grafana AI Observability": cite(
                "agent tool calls in traces, MCP dashboard", GF_INTEGRATION
            ),
        },
    ),
    (
        "Generation speed",
        r"^(Time per output chunk|Output tokens per second|Time to first token)",
        "Time to first token and time per output chunk (p50/p95, client side, semconv "
        "histograms) and output tokens per second per model.",
        {
            "OpenLIT": cite("latency and streaming timings per request", OPENLIT_SDK),
            "Langfuse": "latency and time to first token per generation",
            "Phoenix": "span latency; no chunk-rate view found in its docs",
            "Helicone": cite("latency and time-to-first-token alerts", HC_ALERTS),
            "Traceloop": "span latency; no chunk-rate view found in its docs",
            "Grafana AI Observability": cite("response times and throughput", GF_INTEGRATION),
        },
    ),
    (
        "Prompt / agent versions",
        r"by version",
        "A bounded version label: spend per chat, p95 latency and low-faithfulness share per "
        "version, with an annotation when the version changes. Behind: no prompt registry or "
        "editor (versions come from the app's configuration).",
        {
            "OpenLIT": cite(
                "**ahead** on management: Prompt Hub with versions fetched at runtime",
                OPENLIT_PROMPTS,
            ),
            "Langfuse": cite(
                "**ahead**: prompt management linked to traces, metrics per prompt version",
                LF_PROMPTS,
            ),
            "Phoenix": cite("**ahead** on management: versioned prompts with tags", PX_PROMPTS),
            "Helicone": "prompt management with versions",
            "Traceloop": cite("prompt registry with versions", TL_BLOG),
            "Grafana AI Observability": cite("compare agent versions", GF_AGENTS),
        },
    ),
    (
        "Guardrails",
        r"[Gg]uardrail|Blocked",
        "rag-api's PII, prompt-injection and answer-without-sources checks counted by "
        "guardrail and action, the triggered share, an alert on a spike and the events in the "
        "logs. Behind: heuristics, no LLM-based detection.",
        {
            "OpenLIT": cite(
                "**ahead** on detection: LLM- or regex-based prompt injection, "
                "sensitive topics and topic restriction, with metrics",
                OPENLIT_GUARD,
            ),
            "Langfuse": "evaluators score outputs; no built-in guardrail found in its docs",
            "Phoenix": "evaluations; no built-in guardrail found in its docs",
            "Helicone": "not found in its docs",
            "Traceloop": cite("built-in evaluators include safety checks", TL_MONITORS),
            "Grafana AI Observability": cite(
                "a quality and safety evaluations dashboard", GF_INTEGRATION
            ),
        },
    ),
    (
        "SLOs and alerts",
        r"SLO|[Bb]urn|[Ee]rror budget",
        "**Ahead**: availability, latency, TTFT, chat-success, answer-quality and "
        "user-satisfaction SLOs with multi-window burn-rate alerts and error budgets, every "
        "alert with promtool tests, a runbook and Alertmanager routing.",
        {
            "OpenLIT": "none of its own (alerting is left to the backend it exports to)",
            "Langfuse": cite(
                "threshold alerts on cost, latency and scores to Slack, "
                "webhooks or GitHub Actions; no SLOs or error budgets",
                LF_ALERTS,
            ),
            "Phoenix": "no alerting found in its docs",
            "Helicone": cite(
                "threshold alerts on error rate, cost, latency and tokens; no SLOs", HC_ALERTS
            ),
            "Traceloop": cite("alerts on monitor results", TL_MONITORS),
            "Grafana AI Observability": "Grafana alerting is available; no LLM SLOs shipped "
            "found in its docs",
        },
    ),
    (
        "RAG quality",
        r"[Rr]etriev|[Ff]aithful|relevancy|Low-score",
        "**Ahead** on production monitoring: documents per query, empty retrievals, top "
        "retrieval score, faithfulness and relevancy distributions, a quality SLO and alert, "
        "and the low-quality answers' logs. Behind: no offline experiments or datasets.",
        {
            "OpenLIT": cite("evaluations (hallucination, bias, toxicity)", OPENLIT_SDK),
            "Langfuse": "evaluators, datasets and experiments",
            "Phoenix": "**ahead** on evaluation: retrieval and hallucination evals, datasets "
            "and experiments",
            "Helicone": "evaluation scores",
            "Traceloop": cite("faithfulness and relevance evaluators as monitors", TL_MONITORS),
            "Grafana AI Observability": cite(
                "vector database and evaluation dashboards", GF_INTEGRATION
            ),
        },
    ),
    (
        "Self-monitoring",
        r"^(Target up|Receiver|Processors|Exporter|Loki|Tempo|Rule evaluation|Alertmanager)",
        "**Ahead**: a dashboard of the pipeline itself (scrapes, collector refusals, drops "
        "and queues, Loki and Tempo discards, rule evaluation failures, notifications) and a "
        "Watchdog alert.",
        {
            "OpenLIT": "not found in its docs",
            "Langfuse": "run for you on Langfuse Cloud; for self-hosting, not found in its docs",
            "Phoenix": "not found in its docs",
            "Helicone": "run for you (SaaS)",
            "Traceloop": "run for you (SaaS)",
            "Grafana AI Observability": "run for you on Grafana Cloud",
        },
    ),
]


def _ours(pattern: str, dashboards: list[dict[str, Any]]) -> list[str]:
    found = []
    for dash in dashboards:
        for panel in dash["panels"]:
            if panel["type"] != "row" and re.search(pattern, panel["title"]):
                found.append(f"{panel['title']} ({dash['title']})")
    return found


def render(dashboards: list[dict[str, Any]]) -> str:
    out = [
        "## Compared with peers",
        "",
        "Point by point, what this stack's dashboards show next to "
        + ", ".join(PEERS[:-1])
        + f" and {PEERS[-1]}. Peer cells cite the peer's documentation as read in December 2026; "
        "*not found in its docs* means only that. Where a peer is ahead, it says so.",
    ]
    for point, pattern, ours, peers in POINTS:
        panels = _ours(pattern, dashboards)
        backed = "; ".join(panels[:6]) + (f" and {len(panels) - 6} more" if len(panels) > 6 else "")
        ours_line = f"{ours} Panels: {backed}." if panels else "Not in these dashboards yet."
        out += ["", f"### {point}", "", f"- **This stack**: {ours_line}"]
        out += [f"- **{peer}**: {peers[peer]}" for peer in PEERS]
    return "\n".join(out) + "\n"
