"""docs/dashboards.md, generated next to the JSON so the panel list can never drift from it.

Every panel must have a question here: generation fails on a panel without one (and on a
question for a panel that no longer exists).
"""

from __future__ import annotations

import re
from typing import Any

from genai_telemetry import semconv as sc
from genobs.context import current
from genobs.contract import EXTRAS, STANDARD, base, is_app_metric
from genobs.promql import metric_names

from . import limits
from .core import REGENERATE

# Titles with {placeholders} name a threshold of slo/slos.yaml (filled in by questions()).
QUESTIONS: dict[str, dict[str, str]] = {
    "llm-overview": {
        "Requests/s": "How much chat traffic is the API serving right now?",
        "Error % (5xx)": "What share of chat requests fail the user (what the availability "
        "SLO counts)?",
        "p95 latency": "How long do the slowest 5% of /v1/chat requests take?",
        "TTFT p95": "How long do streaming users wait before the first token appears?",
        "Cost per hour": "How fast are we spending money on model calls?",
        "Tokens/s": "How many tokens per second are we consuming?",
        "In-flight model calls": "How many model calls are running at this moment (saturation)?",
        "Error budget left (worst SLO)": "Which SLO is closest to being missed this period?",
        "API requests by route and status": "Which routes get traffic and with which status codes?",
        "Model call errors by model and type": "Which model/provider is failing, and how "
        "(timeout, rate limit, server error)?",
        "Model call error ratio by model": "Is any model failing beyond its error budget?",
        "Chat latency p50 / p95 / p99 by model": "Which model is slow, and which trace shows it?",
        "Time to first token p50 / p95 by model": "Which model makes streaming users wait?",
        "Time per output chunk p50 / p95 by model": "Once text flows, how fast does each "
        "model stream it?",
        "Output tokens per second by model": "Which model generates fastest end to end?",
        "Tokens per second by model and type": "Which model consumes the tokens, input or output?",
        "Cost per hour by model": "Which model costs the most right now?",
        "Provider rate limiting (429)": "Are we hitting a provider's quota?",
        "Response cache hit ratio": "How much traffic does the response cache absorb?",
        "Recent errors and warnings (logs)": "What exactly went wrong in the last minutes?",
        "Alerts firing or pending (Prometheus)": "Which alerts are about to fire or firing?",
        "Alertmanager: active alert groups": "What has Alertmanager routed, silenced or inhibited?",
    },
    "llm-cost": {
        "Spend in range": "How much did we spend in the selected period?",
        "Spend, last 24 h": "How much did the last day cost?",
        "Projected 30-day spend": "What will a month cost at this rate?",
        "Cost per chat request": "What does one answered chat cost on average?",
        "Cache savings in range": "How much money did the response cache save?",
        "Unpriced tokens in range": "Are we using models whose cost we cannot see?",
        "Cost per hour by model": "Which model drives the spend?",
        "Cost per hour by feature": "Which product feature drives the spend?",
        "Cost per hour by user tier": "Which customer tier drives the spend?",
        "Cost per day by model": "How does daily spend trend per model?",
        "Cost per day by feature": "How does daily spend trend per product feature?",
        "Cost per day by user tier": "How does daily spend trend per customer tier?",
        "Cost per chat call by model": "Which model is expensive per call, not just in total?",
        "Top spend by feature and tier (range)": "Which feature × tier combination costs most?",
        "Cache savings per hour": "Is the cache saving more or less than before?",
        "Tokens per second by model and type": "Where do the tokens (input vs output) go?",
        "Tokens per call p50 / p95 by type": "How big are typical and large prompts and answers?",
        "Output tokens per call (distribution)": "Did answers get longer (runaway generation)?",
        "Unpriced tokens per second by model": "Which model is missing from the price table?",
        "Output/input token ratio by model": "Did a prompt change make answers longer?",
    },
    "llm-slos": {
        "SLO status": "For each SLO: are we meeting the objective over the period, and how "
        "much budget is left?",
        "Error budget left": "Which SLO is running out of budget?",
        "Burn rate per alert window (now)": "Which alert windows are above their burn-rate "
        "threshold right now?",
        "SLO alerts pending or firing": "Is an SLO page or ticket about to fire?",
        "Burn rate: page windows": "Is a fast burn (page) happening or starting?",
        "Burn rate: ticket windows": "Is a slow, steady burn (ticket) eating the budget?",
        "SLI (1h window) and objective": "When did the service dip below its objective?",
        "Error budget left over time": "When was the budget spent (which incident)?",
        "Event volume (5m rate)": "Is there enough traffic for the burn rate to mean something?",
    },
    "rag-pipeline": {
        "p95 latency per stage": "Which pipeline stage makes slow requests slow?",
        "Mean latency per stage": "Where does an average request spend its time?",
        "Operations per second per stage": "How often does each stage run (tool calls, agent "
        "hops per request)?",
        "Stage error ratio": "Which stage fails?",
        "Documents retrieved per query (range)": "How many documents does retrieval return?",
        "Empty retrieval ratio": "How often does the model answer without any context?",
        "Documents per query (mean)": "Did retrieval start returning fewer documents?",
        "Top retrieval score distribution": "Is retrieval finding relevant documents?",
        "Top retrieval score p10 / p50": "Did retrieval quality drop?",
        "Evaluation scores p10 / p50": "Are answers faithful and relevant?",
        "Low-score ratio (score ≤ {quality:g})": "What share of answers is poor "
        "(the answer-quality SLO)?",
        "Faithfulness score distribution (range)": "How are faithfulness scores spread?",
        "Answer relevancy score distribution (range)": "How are answer-relevancy scores spread?",
        "Context relevancy score distribution (range)": "How are context-relevancy scores spread?",
        "Low-quality answers (logs)": "Which requests produced unfaithful answers (to open "
        "their traces)?",
        "Tool calls per second by tool": "Which tools do the agents call, and how often?",
        "Tool error ratio by tool": "Which tool fails?",
        "Tool latency p50 / p95 by tool": "Which tool is slow, and which trace shows it?",
        "Tool errors by type (range)": "How do tool calls fail (bad input, timeout, tool bug)?",
        "Guardrail triggers per second": "Which guardrail is flagging or blocking chats?",
        "Guardrail triggered share": "Is a guardrail spiking (probing, PII leaks, false "
        "positives)?",
        "Blocked chats (range)": "How many chats did the guardrails refuse?",
        "Guardrail events (logs)": "Which requests tripped a guardrail (to open their traces)?",
        "Spend per chat by version": "Does the new prompt/agent version cost more per call?",
        "Chat latency p95 by version": "Is the new prompt/agent version slower?",
        "Low-faithfulness share by version (score ≤ {quality:g})": "Does the new "
        "prompt/agent version answer worse?",
        "Satisfied (range)": "How many users liked their answers?",
        "Dissatisfied (range)": "Is the share of unhappy users within the satisfaction SLO?",
        "Feedback per second by sentiment": "How much feedback arrives, and how does it lean?",
        "Satisfied share by model (1h)": "Which model's answers do users like best?",
        "Satisfied share by retrieval quality (range)": "Do users dislike answers built on "
        "poor retrieval?",
        "Satisfied share by prompt version (1h)": "Do users like the new prompt/agent version?",
        "Feedback on unknown requests": "Is feedback losing its join to the answer (index too "
        "small, another replica)?",
        "Negative feedback (logs)": "What did unhappy users say, about which answer?",
    },
    "llm-traces": {
        "Failed traces": "Which requests failed, and where in the call tree?",
        "Slow traces (> {latency:g} s)": "Which requests broke the latency SLO threshold, and why?",
        "Model calls (GenAI chat spans)": "What did recent model calls use and cost?",
        "Failed model calls": "Which provider errors hit which requests?",
        "Slow first token (> {ttft:g} s)": "Which streamed answers started too slowly?",
        "Tool and agent steps that failed": "Which tool or agent step broke a request?",
        "Service graph": "What calls what, at which rate and error share?",
        "Span calls per second by span name": "Which operations run most?",
        "Span error ratio by span name": "Which operation fails?",
        "Span duration p95 by span name": "Which operation is slow?",
        "Service graph requests and failures": "Is a dependency failing?",
        "Logs with trace links": "What did a request log, and what is its trace?",
        "Log lines per level": "Did errors or warnings spike?",
    },
    "stack-health": {
        "Target up": "Is every component being scraped?",
        "Scrape duration by job": "Are scrapes getting slow (close to timing out)?",
        "Samples per scrape by job": "Did a component's cardinality explode?",
        "Receiver: spans accepted / refused": "Does the collector accept the app's spans?",
        "Receiver: log records accepted / refused": "Does the collector accept the app's logs?",
        "Processors: items dropped": "Is the collector dropping data inside the pipeline?",
        "Exporters: sent / failed": "Do spans and logs reach Tempo and Loki?",
        "Exporter queue fill": "Is an exporter falling behind?",
        "Loki: lines received": "Are logs arriving in Loki?",
        "Loki: discarded lines by reason": "Is Loki rejecting logs, and why?",
        "Loki: 5xx responses by route": "Is Loki failing pushes or queries?",
        "Tempo: spans received / refused": "Are spans arriving in Tempo?",
        "Tempo: discarded spans by reason": "Is Tempo dropping spans, and why?",
        "Tempo: 5xx responses by route": "Is Tempo failing pushes or queries?",
        "Rule evaluation failures": "Are recording rules and alerts actually evaluated?",
        "Prometheus head series": "How many series is Prometheus holding (cardinality cost)?",
        "Alertmanager notifications sent / failed": "Do notifications reach their receivers?",
        "Alertmanager alerts by state": "How many alerts are active, silenced or inhibited?",
    },
}


def questions() -> dict[str, dict[str, str]]:
    """Dashboard uid (without prefix) → panel title → the question the panel answers."""
    values = {
        "quality": limits.QUALITY_SCORE,
        "latency": limits.LATENCY_S,
        "ttft": limits.TTFT_S,
    }
    return {
        uid: {title.format(**values): q for title, q in panels.items()}
        for uid, panels in QUESTIONS.items()
    }


def intro() -> str:
    cfg = current()
    return f"""# Dashboards

<!-- Generated by `{REGENERATE}` (python -m generators) from grafana/dashgen/ and
     genai-obs.yaml — do not edit: edit those, then run `{REGENERATE}`. A test fails when
     this file is stale. -->

Six Grafana dashboards ship in `grafana/dashboards/` and are provisioned into the folder
*{cfg.folder}*; **LLM Overview** is the home dashboard. Each one links to the others
(top-right links and the *Dashboards* drop-down) and keeps the time range and variables.

How they are built and checked:

- Generated by `python -m generators` (names from `genai_telemetry/semconv.py`; which service they
  watch from `genai-obs.yaml`, here `{cfg.service_selector}`; threshold lines from
  `slo/slos.yaml` and `slo/thresholds.yaml`, the files the alert rules come from), so every
  panel has a unit and a description, and the histogram math is uniform:
  quantiles are `histogram_quantile(q, sum by (le, …) (rate(…_bucket[$__rate_interval])))`,
  means are `rate(_sum) / rate(_count)`, cost is `rate`/`increase` of `llm_cost_usd_total`
  where the app reports it, else of `gen_ai_client_token_usage_sum` × `llm:price_usd_per_token`
  (the price table as recording rules, [own app](own-app.md)).
- Every selector of an app metric carries the service matchers of `genai-obs.yaml`; LogQL
  selects `service_name`, TraceQL `resource.service.name` and span metrics `service` by its
  `service_name`. Provider filters also accept series labelled with the older `gen_ai_system`
  (older instrumentations; the OpenAI one still uses it for embeddings), and the rate-limit
  panel matches every `error_type` form configured in `error_types.rate_limited`.
- `make test` runs every PromQL query (panels, variables, annotations) against a real
  Prometheus scraping the real rag-api after steady traffic and injected faults; each must
  return data. The only exceptions (listed with reasons in `tests/grafana/promql_allowlist.yaml`)
  need components that cannot run without Docker: Tempo's metrics-generator, the collector's,
  Loki's and Tempo's self-metrics. LogQL and TraceQL are parsed with Grafana's own grammars,
  may only use labels and attributes of the telemetry contract (`docs/telemetry.md`), and are
  evaluated (with Loki's and Tempo's data model) over the OTLP logs and spans the real rag-api
  exports: each must select at least one log line or span.
- Latency panels have exemplars on: dots link to the trace of a concrete slow request.
- Firing Prometheus alerts are drawn as red annotations (*Firing alerts* toggle at the top).

Variables: a datasource picker per kind (`prometheus`, `loki`, `tempo`; defaulting to the
provisioned uids) and, where they help, *Provider* → *Model* (chained), *Feature*, *User tier*,
*Service*/*SLO* and *Job*. All variables are multi-value with *All* (= regex `.*`).

## What each panel needs

The *Needs* column is derived from each panel's queries:

- **standard GenAI semconv**: only metrics any app instrumented with the OpenTelemetry GenAI
  and HTTP semantic conventions emits ({", ".join(f"`{m}`" for m in STANDARD)}), the
  generated `slo:*` recording rules or Prometheus' `ALERTS`. They work for any service the
  selectors of `genai-obs.yaml` point at. Cost panels that read the app's own cost counter also
  price standard token usage (`prometheus/rules/llm-prices.yml`), so they count as standard.
  The official OpenAI instrumentation (2.4b0) records no time-to-first-chunk metric, so TTFT
  panels stay empty for it.
- **needs rag-api extras**: rag-api's own metrics ({", ".join(f"`{m}`" for m in EXTRAS)}) or
  fields of its logs (cost, cache, retrieval, evaluation). Another app shows no data there
  unless it emits the same names (`docs/telemetry.md`).
- **OTLP logs** / **OTLP traces**: the service's logs in Loki or spans in Tempo.
- **Tempo metrics-generator** and **stack self-metrics**: the stack's own components.
"""


IMPORT = """## Importing into another Grafana (10 – 13)

The JSON uses the classic dashboard model (schemaVersion 39) and no `__inputs`/`${DS_…}`
placeholders, so it imports as is:

1. *Dashboards → New → Import*, upload a file from `grafana/dashboards/` (or paste it), pick a
   folder, *Import*. Keep the uid so the links between the dashboards keep working (import all
   six). Over the API: `POST /api/dashboards/db` with the body
   `{"dashboard": <file content>, "overwrite": true, "folderUid": "<folder>"}`.
2. Datasources: each dashboard has a datasource variable per kind. If your Grafana has no
   datasource with uid `prometheus` / `loki` / `tempo`, the variable falls back to one of yours
   of that type (the default datasource when it has that type); pick another in the drop-down
   and save the dashboard to keep it. No panel names a datasource uid directly.
3. File provisioning works too: copy the files into a folder read by a dashboard provider
   (`grafana/provisioning/dashboards/dashboards.yaml` is ours).
4. What your stack must provide: the metric names of `docs/telemetry.md` (Prometheus; the
   *Needs* column above says which panels need only the standard GenAI semconv ones), OTLP logs
   in Loki with `service_name` as index label and `trace_id`/`severity_text` as structured
   metadata, Tempo with the metrics-generator (span metrics and service graphs, `trace_id`
   exemplars), and the `slo:*` recording rules of `prometheus/rules/`. For another service,
   regenerate with its selectors first (`genai-obs.yaml`, [own-app.md](own-app.md)).
5. The *Alertmanager: active alert groups* panel selects its Alertmanager by datasource *name*
   (`Alertmanager`, ours); Grafana panel options cannot use variables, so edit that panel if your
   Alertmanager datasource has another name.
"""


_EXTRA_LOG_FIELDS = re.compile(r"\b(faithfulness|chat_answered)\b")
# rag-api's own metrics a panel reads next to standard token usage × price, its stand-in for
# apps without them.
FALLBACK = {sc.LLM_COST, sc.LLM_UNPRICED_TOKENS}
_SELF = re.compile(r"^(up|scrape_|otelcol_|loki_|tempo_|prometheus_|alertmanager_)")


def needs(panel: dict[str, Any]) -> tuple[str, list[str]]:
    """(what the panel needs, the metrics it reads) from its queries."""
    metrics: set[str] = set()
    kinds: set[str] = set()
    for target in panel.get("targets", []):
        kind = target.get("datasource", {}).get("type")
        if kind == "prometheus":
            for name in metric_names(target["expr"]):
                if name.startswith("slo:"):
                    name = "slo:* (generated SLO rules)"
                metrics.add(base(name) if is_app_metric(name) else name)
        elif kind == "loki":
            kinds.add("extras" if _EXTRA_LOG_FIELDS.search(target["expr"]) else "OTLP logs")
        elif kind == "tempo":
            kinds.add("OTLP traces" if target.get("queryType") == "traceql" else "tempo")
    for m in metrics:
        if m in FALLBACK and metrics & set(STANDARD):
            continue  # the cost rules stand in with standard token usage × price
        if m in EXTRAS:
            kinds.add("extras")
        elif m.startswith("traces_"):
            kinds.add("tempo")
        elif _SELF.match(m):
            kinds.add("self")
        elif m in STANDARD or m.startswith("slo:") or m == "ALERTS":
            kinds.add("standard")
    if panel["type"] == "alertGroups":
        kinds.add("standard")
    for label, kind in (
        ("needs rag-api extras", "extras"),
        ("Tempo metrics-generator", "tempo"),
        ("stack self-metrics", "self"),
        ("OTLP traces", "OTLP traces"),
        ("OTLP logs", "OTLP logs"),
        ("standard GenAI semconv", "standard"),
    ):
        if kind in kinds:
            return label, sorted(metrics)
    raise ValueError(f"panel {panel['title']!r}: cannot tell what it needs")


def render(dashboards: list[dict[str, Any]]) -> str:
    """The markdown for `dashboards` (rendered dashboard JSON, in order)."""
    prefix = current().uid_prefix
    out = [intro()]
    problems = []
    all_questions = questions()
    for dash in dashboards:
        base_uid = dash["uid"].removeprefix(prefix)
        qs = all_questions.get(base_uid, {})
        out.append(f"## {dash['title']} (`{dash['uid']}`)\n")
        out.append(dash["description"].split(" Generated by ")[0] + "\n")
        seen = set()
        for panel in dash["panels"]:
            if panel["type"] == "row":
                out.append(
                    f"\n**{panel['title']}**\n\n| Panel | Question it answers | Needs | Metrics |"
                    "\n|---|---|---|---|"
                )
                continue
            title = panel["title"]
            seen.add(title)
            question = qs.get(title)
            if question is None:
                problems.append(f"{dash['uid']}: no question for panel {title!r}")
                continue
            need, metrics = needs(panel)
            names = ", ".join(f"`{m}`" for m in metrics) or "—"
            out.append(f"| {title} | {question} | {need} | {names} |")
        for title in sorted(set(qs) - seen):
            problems.append(f"{dash['uid']}: question for missing panel {title!r}")
        out.append("")
    if problems:
        raise ValueError("docs/dashboards.md: " + "; ".join(problems))
    out.append(IMPORT)
    return "\n".join(out)
