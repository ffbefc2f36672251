"""Load and validate the SLO spec (slo/slos.yaml); the alert thresholds are slo/thresholds.py.

Every problem is reported as `file:line: slo 'name': field 'a.b': reason` so a person can fix the
spec without reading a stack trace. Structure is checked with the JSON schema next to this file;
what a schema cannot express (bucket bounds, the window placeholder) is checked here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import promql_parser

from genai_telemetry import semconv
from genobs.contract import ALWAYS_RECORDED, base
from genobs.promql import (
    LABEL_NAME,
    expr_matchers,
    le_matcher,
    matcher_problem,
    metric_names,
    parse_matchers,
    value_type,
)
from genobs.yamlspec import (
    Path_,
    Reporter,
    SpecError,
    load_yaml_with_lines,
    schema_errors,
)

PACKAGE_DIR = Path(__file__).resolve().parent
SPEC_PATH = PACKAGE_DIR / "slos.yaml"
SPEC_SCHEMA_PATH = PACKAGE_DIR / "slos.schema.json"

WINDOW_PLACEHOLDER = "{{window}}"
# Placeholders for the selectors of genai-obs.yaml (substituted when rules are rendered).
SELECTOR_PLACEHOLDERS = ("http_chat_route", "http_unary_chat_route", "llm_chat_operation")
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Bucket bounds of every histogram in the telemetry contract: a latency/score threshold must be
# one of them, otherwise "slower than X" cannot be counted exactly from `_bucket` series.
CONTRACT_BUCKETS: dict[str, tuple[float, ...]] = {
    semconv.HTTP_SERVER_DURATION: semconv.DURATION_BUCKETS,
    semconv.GENAI_OPERATION_DURATION: semconv.DURATION_BUCKETS,
    semconv.GENAI_TIME_TO_FIRST_CHUNK: semconv.DURATION_BUCKETS,
    semconv.GENAI_TOKEN_USAGE: tuple(float(b) for b in semconv.TOKEN_BUCKETS),
    semconv.RAG_RETRIEVAL_DOCUMENTS: tuple(float(b) for b in semconv.RETRIEVAL_DOCUMENT_BUCKETS),
    semconv.RAG_RETRIEVAL_TOP_SCORE: semconv.SCORE_BUCKETS,
    semconv.RAG_EVALUATION_SCORE: semconv.SCORE_BUCKETS,
    semconv.GENAI_INVOKE_AGENT_DURATION: semconv.AGENT_DURATION_BUCKETS,
    semconv.GENAI_EXECUTE_TOOL_DURATION: semconv.DURATION_BUCKETS,
}

# Labels the generator sets itself; an SLO's extra labels must not override them.
RESERVED_LABELS = frozenset({"service", "slo", "severity", "alertname", "le", "job", "instance"})


# --- The SLO spec --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventsSLI:
    error_query: str
    total_query: str

    def errors(self, window: str) -> str:
        return self.error_query.replace(WINDOW_PLACEHOLDER, window)

    def total(self, window: str) -> str:
        return self.total_query.replace(WINDOW_PLACEHOLDER, window)


@dataclass(frozen=True)
class HistogramSLI:
    """Good events are observations at or below (`good: below`) or above the threshold bucket."""

    metric: str
    selector: str
    threshold: float
    good: str  # "below" | "above"

    def _matchers(self, extra: str = "") -> str:
        parts = [p for p in (self.selector.strip(), extra) if p]
        return "{" + ", ".join(parts) + "}"

    def bucket(self, window: str) -> str:
        # le written either way ("5" by the OTel exporter, "5.0" by prometheus-client)
        le = str(le_matcher(self.threshold))
        return f"sum(rate({self.metric}_bucket{self._matchers(le)}[{window}]))"

    def total(self, window: str) -> str:
        return f"sum(rate({self.metric}_count{self._matchers()}[{window}]))"

    def errors(self, window: str) -> str:
        if self.good == "below":
            return f"{self.total(window)} - {self.bucket(window)}"
        return self.bucket(window)


@dataclass(frozen=True)
class SLO:
    name: str
    description: str
    objective: Decimal
    period: str
    sli: EventsSLI | HistogramSLI
    min_events_for_paging: int
    runbook: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def error_budget(self) -> Decimal:
        return Decimal(1) - self.objective

    def selector(self, service: str) -> str:
        return f'{{service="{service}", slo="{self.name}"}}'

    def all_labels(self, service: str) -> dict[str, str]:
        return {"service": service, "slo": self.name, **self.labels}

    def metrics(self) -> set[str]:
        """Metric names the SLI reads."""
        if isinstance(self.sli, HistogramSLI):
            return {self.sli.metric}
        return metric_names(self.sli.error_query) | metric_names(self.sli.total_query)


@dataclass(frozen=True)
class Spec:
    path: Path
    slos: tuple[SLO, ...]

    def unfed(self, skipped: tuple[str, ...]) -> frozenset[str]:
        """Metrics (base names) only the SLOs in `skipped` read: skipping an SLO says the app
        does not record what it alone reads (llm-ttft: no time to first chunk), unless every
        instrumented app records it (llm-chat-success: the model calls' duration)."""
        gone = {base(m) for s in self.slos if s.name in skipped for m in s.metrics()}
        kept = {base(m) for s in self.slos if s.name not in skipped for m in s.metrics()}
        return frozenset(gone - kept - set(ALWAYS_RECORDED))


def _decimal(value: float | int) -> Decimal:
    # Through str(): 0.995 stays 0.995 (Decimal(0.995) would expose the binary float).
    return Decimal(str(value))


def _placeholder_problems(reporter: Reporter, at: Path_, text: str) -> list[str]:
    allowed = ("window", *SELECTOR_PLACEHOLDERS)
    return [
        str(
            reporter.error(
                at, f"unknown placeholder {{{{{name}}}}} (allowed: {', '.join(allowed)})"
            )
        )
        for name in PLACEHOLDER.findall(text)
        if name not in allowed
    ]


def _stand_ins(text: str) -> str:
    """`text` with its placeholders filled with stand-ins PromQL can parse."""
    return PLACEHOLDER.sub('__placeholder__=""', text.replace(WINDOW_PLACEHOLDER, "5m"))


def _promql_problems(reporter: Reporter, at: Path_, query: str) -> list[str]:
    """The query must parse as PromQL (placeholders filled with stand-ins), be an instant
    vector (the rules wrap it in sum()), and hold only matchers Prometheus accepts."""
    try:
        expr = promql_parser.parse(_stand_ins(query))
    except ValueError as exc:
        return [str(reporter.error(at, f"not valid PromQL: {exc}"))]
    if isinstance(expr, (promql_parser.NumberLiteral, promql_parser.StringLiteral)):
        return [str(reporter.error(at, "must be a query of the SLI's events, not a literal"))]
    if (kind := value_type(expr)) != "vector":
        why = f"must be an instant vector (e.g. sum(rate(...))), not a {kind}"
        return [str(reporter.error(at, why))]
    problems = (matcher_problem(*m) for m in expr_matchers(expr))
    return [str(reporter.error(at, p)) for p in dict.fromkeys(problems) if p]


def _label_problems(reporter: Reporter, at: Path_, raw: dict[str, Any]) -> list[str]:
    return [
        str(
            reporter.error(
                (*at, "labels", key),
                "not allowed as an extra label (reserved, or not a Prometheus label name)",
            )
        )
        for key in raw.get("labels", {})
        if key in RESERVED_LABELS or not LABEL_NAME.match(key)
    ]


def _events_sli(reporter: Reporter, at: Path_, ev: dict[str, Any]) -> tuple[EventsSLI, list[str]]:
    problems: list[str] = []
    for key in ("error_query", "total_query"):
        where = (*at, "sli", "events", key)
        if WINDOW_PLACEHOLDER not in ev[key]:
            problems.append(
                str(
                    reporter.error(
                        where, f"missing the {WINDOW_PLACEHOLDER} placeholder for the rate window"
                    )
                )
            )
        problems += _placeholder_problems(reporter, where, ev[key])
        problems += _promql_problems(reporter, where, ev[key])
    return EventsSLI(ev["error_query"].strip(), ev["total_query"].strip()), problems


def _selector_problems(reporter: Reporter, at: Path_, selector: str) -> list[str]:
    """A histogram SLI's selector: label matchers ({{placeholders}} of genai-obs.yaml's
    selectors allowed), not on `le`."""
    problems = _placeholder_problems(reporter, at, selector)
    if problems:
        return problems
    try:
        matchers = parse_matchers(_stand_ins(selector))
    except ValueError as exc:
        return [str(reporter.error(at, str(exc)))]
    if any(m.name == "le" for m in matchers):
        why = "must not match on 'le': the generator picks the threshold bucket"
        return [str(reporter.error(at, why))]
    return []


def _histogram_sli(
    reporter: Reporter, at: Path_, h: dict[str, Any]
) -> tuple[HistogramSLI, list[str]]:
    problems: list[str] = []
    where = (*at, "sli", "histogram")
    buckets = tuple(float(b) for b in h["buckets"]) if "buckets" in h else None
    if buckets is None:
        buckets = CONTRACT_BUCKETS.get(h["metric"])
    if buckets is None:
        problems.append(
            str(
                reporter.error(
                    (*where, "metric"),
                    f"{h['metric']!r} is not a histogram of the telemetry contract; "
                    "list its bucket bounds in 'buckets'",
                )
            )
        )
    elif float(h["threshold"]) not in buckets:
        problems.append(
            str(
                reporter.error(
                    (*where, "threshold"),
                    f"{h['threshold']} is not a bucket bound of {h['metric']} "
                    f"({', '.join(semconv.le(b) for b in buckets)})",
                )
            )
        )
    selector = h.get("selector", "")
    problems += _selector_problems(reporter, (*where, "selector"), selector)
    sli = HistogramSLI(h["metric"], selector, float(h["threshold"]), h.get("good", "below"))
    return sli, problems


def load_spec(path: Path = SPEC_PATH) -> Spec:
    data, lines = load_yaml_with_lines(path)
    reporter = Reporter(path, data, lines, "slos")
    schema_errors(reporter, json.loads(SPEC_SCHEMA_PATH.read_text()))
    problems: list[str] = []
    slos: list[SLO] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["slos"]):
        at: Path_ = ("slos", i)
        if raw["name"] in seen:
            problems.append(
                str(
                    reporter.error(
                        (*at, "name"), f"duplicate SLO name (also slos[{seen[raw['name']]}])"
                    )
                )
            )
        seen[raw["name"]] = i
        problems += _label_problems(reporter, at, raw)
        sli_raw = raw["sli"]
        sli: EventsSLI | HistogramSLI
        if "events" in sli_raw:
            sli, more = _events_sli(reporter, at, sli_raw["events"])
        else:
            sli, more = _histogram_sli(reporter, at, sli_raw["histogram"])
        problems += more
        slos.append(
            SLO(
                name=raw["name"],
                description=raw["description"].strip(),
                objective=_decimal(raw["objective"]),
                period=raw["period"],
                sli=sli,
                min_events_for_paging=raw["min_events_for_paging"],
                runbook=raw["runbook"],
                labels=dict(raw.get("labels", {})),
            )
        )
    if problems:
        raise SpecError("\n".join(problems))
    return Spec(path, tuple(slos))
