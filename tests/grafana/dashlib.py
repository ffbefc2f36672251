"""Checkers for the Grafana dashboard JSON: loading, queries, variable substitution, grammars;
the lint is in dashlint.py.

Every checker takes a dashboards directory, so the tests run them on the shipped files AND on
deliberately broken copies (proving each check can fail).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import promql_parser

from harness import ROOT, require_binary
from harness.grafana_interpolation import VAR_REF, Interpolation, referenced_vars, substitute
from harness.grafana_variables import QUERY_RESULT, definition, variable_query

DASHBOARDS = ROOT / "grafana" / "dashboards"
GRAMMARS = ROOT / "tools" / "grammars"
PROVISIONED_UIDS = {"prometheus": "prometheus", "loki": "loki", "tempo": "tempo"}
ALERTMANAGER_UID = "alertmanager"
BUILTIN_DATASOURCES = {"-- Grafana --": "grafana", "-- Mixed --": "mixed", "-- Dashboard --": None}
MIN_SCHEMA_VERSION = 39
GRID_COLUMNS = 24
# Panels whose values are numbers: they must say what unit the numbers are in.
NUMERIC_PANELS = {
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "table",
    "heatmap",
    "barchart",
    "piechart",
    "histogram",
    "state-timeline",
    "status-history",
}
# Core panel plugins shipped with every Grafana 10–13 (no plugin installs for importers; the
# Angular `graph`/`singlestat`/`table-old` panels are gone in Grafana 11+).
CORE_PANELS = NUMERIC_PANELS | {"row", "text", "logs", "nodeGraph", "alertGroups", "alertlist"}
# Variables Grafana itself defines.
GRAFANA_BUILTIN_VARS = {
    "__rate_interval",
    "__interval",
    "__interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
    "__auto",
    "__from",
    "__to",
    "__dashboard",
    "__user",
    "__org",
    "__timeFilter",
    "__all",
    "__url_time_range",
    "__all_variables",
}
VARIABLE_LANGS = ("label_values", "query_result")  # Query.lang of Prometheus query variables

Json = dict[str, Any]


@dataclass(frozen=True)
class Query:
    """One query found in a dashboard: where it is, its language and its text (unsubstituted)."""

    dashboard: str
    where: str
    lang: str  # promql | logql | traceql | label_values | query_result
    text: str
    format: str = ""  # Prometheus target format (time_series, table, heatmap)

    @property
    def id(self) -> str:
        return f"{self.dashboard}: {self.where}"


# --- Loading -------------------------------------------------------------------------------------
def load(directory: Path = DASHBOARDS) -> dict[str, Json]:
    """File name → parsed dashboard. Raises ValueError naming the file on invalid JSON."""
    out = {}
    for path in sorted(directory.glob("*.json")):
        try:
            out[path.name] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: invalid JSON: {exc}") from exc
    return out


def copy_dashboards(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for path in DASHBOARDS.glob("*.json"):
        shutil.copy(path, dest / path.name)
    return dest


def all_panels(dashboard: Json) -> Iterator[Json]:
    """Every panel, including the ones nested in (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables(dashboard: Json) -> dict[str, Json]:
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def variable_of(q: Query, dashboard: Json) -> Json:
    """The variable a variable query (lang in VARIABLE_LANGS) belongs to."""
    return variables(dashboard)[q.where.removeprefix("variable $")]


def datasource_kind(ref: Any, dashboard: Json) -> str | None:
    """Plugin type of a datasource reference ({type, uid}, `${var}` resolved via the variable)."""
    if not isinstance(ref, dict):
        return None
    uid = str(ref.get("uid", ""))
    m = re.fullmatch(r"\$\{?(\w+)\}?", uid)
    if m and m.group(1) in variables(dashboard):
        return variables(dashboard)[m.group(1)].get("query")
    return ref.get("type")


def queries(dashboards: dict[str, Json]) -> list[Query]:
    """Every query of every panel target, query variable and annotation."""
    out: list[Query] = []
    for name, dash in dashboards.items():
        uid = dash.get("uid", name)
        for panel in all_panels(dash):
            for target in panel.get("targets", []):
                kind = datasource_kind(target.get("datasource") or panel.get("datasource"), dash)
                where = (
                    f"panel {panel.get('id')} {panel.get('title')!r} target {target.get('refId')}"
                )
                if kind == "prometheus" and "expr" in target:
                    out.append(
                        Query(uid, where, "promql", target["expr"], target.get("format", ""))
                    )
                elif kind == "loki" and "expr" in target:
                    out.append(Query(uid, where, "logql", target["expr"]))
                elif kind == "tempo" and target.get("queryType") == "traceql":
                    out.append(Query(uid, where, "traceql", target.get("query", "")))
        for var in variables(dash).values():
            if var.get("type") != "query":
                continue
            text = definition(var)
            if datasource_kind(var.get("datasource"), dash) == "prometheus":
                lang = "query_result" if QUERY_RESULT.match(text) else "label_values"
                out.append(Query(uid, f"variable ${var['name']}", lang, text))
        for ann in dash.get("annotations", {}).get("list", []):
            if datasource_kind(ann.get("datasource"), dash) == "prometheus" and ann.get("expr"):
                out.append(Query(uid, f"annotation {ann.get('name')!r}", "promql", ann["expr"]))
    return out


# --- Ratios: both sides filtered alike -----------------------------------------------------------
def children(node: Any) -> Iterator[Any]:
    for attr in ("lhs", "rhs", "expr", "param"):
        child = getattr(node, attr, None)
        if child is not None:
            yield child
    yield from getattr(node, "args", None) or ()


def strip_fallback(side: Any) -> Any:
    """Of `(x or fallback)` only x: the fallback, `vector(0)` or `0 * denominator`, only fills
    gaps."""
    while isinstance(side, promql_parser.ParenExpr) or (
        isinstance(side, promql_parser.BinaryExpr) and str(side.op) == "or"
    ):
        side = side.expr if isinstance(side, promql_parser.ParenExpr) else side.lhs
    return side


F = TypeVar("F", bound=Hashable)


def ratio_problems(
    expr: str,
    filters: Callable[[Any], set[F]],
    describe: Callable[[set[F], set[F]], str],
) -> list[str]:
    """Divisions whose sides have different `filters` (of each side without its fallback),
    described by `describe(numerator's, denominator's)`; a constant over a series (0.5 / budget)
    is a scale, not a ratio. Parsed with Prometheus' parser (port), interval variables filled."""
    builtins = Interpolation().builtins()
    text = VAR_REF.sub(lambda m: builtins.get(next(g for g in m.groups() if g), m[0]), expr)
    try:
        nodes = [promql_parser.parse(text)]
    except ValueError as exc:
        return [f"not valid PromQL: {exc}"]
    problems = []
    while nodes:
        node = nodes.pop()
        nodes.extend(children(node))
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "/":
            a, b = filters(strip_fallback(node.lhs)), filters(strip_fallback(node.rhs))
            if a != b and not isinstance(node.lhs, promql_parser.NumberLiteral):
                problems.append(describe(a, b))
    return problems


def _variables(side: Any) -> set[str]:
    """Dashboard variables that filter one side of a division."""
    return {v for v in referenced_vars(str(side)) if not v.startswith("__")}


def ratio_filter_problems(expr: str) -> list[str]:
    """Divisions whose two sides are not restricted by the same dashboard variables: under some
    filter such a ratio divides a filtered count by an unfiltered one."""
    return ratio_problems(
        expr,
        _variables,
        lambda a, b: (
            f"ratio sides filter differently: numerator by {sorted(a)}, denominator by {sorted(b)}"
        ),
    )


# --- Lint ----------------------------------------------------------------------------------------
def lint(directory: Path = DASHBOARDS, provisioning: Path | None = None) -> list[str]:
    """All problems found in the dashboards of `directory` (empty list = clean); the checks are
    in tests/grafana/dashlint.py (imported here, not at the top: it builds on this module)."""
    from tests.grafana import dashlint

    return dashlint.lint(directory, provisioning)


# --- Grammars (Grafana's lezer parsers, run with Node) -----------------------------------------
def parse_with_grammars(items: list[tuple[str, str, str]]) -> list[Json]:
    """[(id, lang, query)] → check.mjs results (errors, labels, attributes per query)."""
    node = require_binary("node")
    if not (GRAMMARS / "node_modules" / "@grafana" / "lezer-logql").is_dir():
        raise AssertionError(
            "tools/grammars/node_modules missing: run `make bootstrap` (npm ci in tools/grammars)"
        )
    payload = [{"id": i, "lang": lang, "query": q} for i, lang, q in items]
    proc = subprocess.run(
        [node, str(GRAMMARS / "check.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise AssertionError(f"check.mjs failed ({proc.returncode}): {proc.stderr}")
    return json.loads(proc.stdout)


# --- Telemetry contract for LogQL and TraceQL (docs/telemetry.md) -------------
def _span_attributes() -> set[str]:
    from genai_telemetry import semconv as sc

    return {v for k, v in vars(sc).items() if k.startswith("A_") and isinstance(v, str)}


# Loki (OTLP ingest): the index label and the OTLP LogRecord fields Loki keeps as structured
# metadata (severity_text is the level, upper-cased: INFO, WARNING, ERROR).
LOG_OTLP_FIELDS = {"service_name", "severity_text", "severity_number", "trace_id", "span_id"}
TELEMETRY_DOC = ROOT / "docs" / "telemetry.md"


def _logs_section() -> str:
    return TELEMETRY_DOC.read_text().split("\n## Logs", 1)[1].split("\n## ", 1)[0]


def log_fields() -> set[str]:
    """Fields rag-api puts on its log records, as documented in docs/telemetry.md § Logs (every
    field except timestamp/level/event becomes an OTLP attribute → Loki structured metadata):
    the JSON example's keys and the names in the events table's description column."""
    names: set[str] = set()
    for line in _logs_section().splitlines():
        if line.startswith("| `"):
            line = "|".join(line.split("|")[2:])  # skip the event-name column
        names |= set(re.findall(r"`([a-z_][a-z0-9_]*)`", line))
        names |= set(re.findall(r'"([a-z_][a-z0-9_]*)":', line))
    return names - {"timestamp", "level", "event"}


def log_events() -> set[str]:
    """Event names (the OTLP log body): the first column of the events table."""
    events: set[str] = set()
    for line in _logs_section().splitlines():
        if line.startswith("| `"):
            events |= set(re.findall(r"`([a-z_][a-z0-9_]*)`", line.split("|")[1]))
    return events


def log_label_allowed(label: str) -> bool:
    # `__error__`: Loki's own label on lines a parser or unwrap failed on (`| __error__=""`).
    return label in LOG_OTLP_FIELDS or label == "__error__" or label in log_fields()


TRACE_INTRINSICS = {"status", "duration", "name", "kind", "statusMessage", "traceDuration"}
RESOURCE_ATTRIBUTES = {"service.name", "service.version", "deployment.environment.name"}


def trace_attribute_allowed(field: str) -> bool:
    if field in TRACE_INTRINSICS:
        return True
    scope, _, name = field.partition(".")
    if scope == "resource":
        return name in RESOURCE_ATTRIBUTES
    if scope == "span":
        return name in _span_attributes()
    return False


def grammar_problems(directory: Path = DASHBOARDS) -> list[str]:
    """LogQL/TraceQL/PromQL syntax errors (Grafana's grammars) and names outside the contract."""
    dashboards = load(directory)
    by_uid = {d["uid"]: d for d in dashboards.values()}
    items = []
    for q in queries(dashboards):
        text = q.text
        lang = q.lang
        if lang in VARIABLE_LANGS:
            var = variable_query(variable_of(q, by_uid[q.dashboard]))
            if var is None:
                items.append((q.id, "promql", f"{lang}(<unparseable>"))
                continue
            text, lang = var.promql or "up", "promql"
        items.append((q.id, lang, substitute(text, by_uid[q.dashboard])))
    problems = []
    for result in parse_with_grammars(items):
        where = f"{result['id']} ({result['lang']})"
        for e in result["errors"]:
            problems.append(f"{where}: syntax error near {e['near']!r} in {result['query']!r}")
        if result["lang"] == "logql":
            for label in result["labels"]:
                if not log_label_allowed(label):
                    problems.append(f"{where}: log label/field {label!r} not in the contract")
            for text in result["lineFilters"]:
                if text not in log_events():
                    problems.append(f"{where}: line filter {text!r} is not a documented event")
        if result["lang"] == "traceql":
            for field in result["attributes"]:
                if not trace_attribute_allowed(field):
                    problems.append(f"{where}: span attribute {field!r} not in the contract")
    return problems
