"""Run the dashboards' TraceQL and LogQL filters over real exported spans and log records.

Tempo and Loki cannot run here, so these small evaluators implement exactly the subset of the
languages the dashboards use (spanset filters joined by `&&` plus `| select(…)`; a stream
selector, line filters and label filters) with the backends' data model:
- Tempo: `resource.x` / `span.x` attributes, intrinsics `status`, `duration`, `name`, `kind`;
  regex matches are anchored.
- Loki OTLP ingest: resource `service.name` → index label `service_name`; other resource
  attributes, the record's severity_text/severity_number/trace_id/span_id and every log
  attribute → structured metadata, dots → underscores, values stringified; body → the line.
Anything outside that subset raises Unsupported, so a new query shape fails loudly here instead
of passing unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.otlp_receiver import SPAN_KINDS, LogRecord, Span


class Unsupported(ValueError):
    """The query uses syntax these evaluators do not implement."""


# --- Spans ---------------------------------------------------------------------------------------
KINDS = {k.lower() for k in SPAN_KINDS.values()}  # TraceQL spells intrinsics in lower case


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
_COND = re.compile(
    r"\s*(?P<field>[A-Za-z_.][\w.]*)\s*(?P<op>=~|!~|!=|>=|<=|=|>|<)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|`[^`]*`|[\w.]+)\s*'
)
_TRACEQL = re.compile(r"\s*\{(?P<body>[^{}]*)\}\s*(?:\|\s*select\((?P<select>[^()]*)\))?\s*")


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    if op in ("=~", "!~"):
        hit = re.fullmatch(str(expected), str(actual)) is not None
        return hit if op == "=~" else not hit
    if op in ("=", "=="):
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    try:
        a, e = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {">": a > e, "<": a < e, ">=": a >= e, "<=": a <= e}[op]


def span_field(span: Span, name: str) -> Any:
    if name == "status":
        return span.status.lower()
    if name == "duration":
        return span.duration_ns
    if name == "name":
        return span.name
    if name == "kind":
        return span.kind.lower()
    scope, _, attr = name.partition(".")
    if scope == "resource":
        return span.resource.get(attr)
    if scope == "span":
        return span.attributes.get(attr)
    if scope == "":  # unscoped `.attr`: span first, then resource
        return span.attributes.get(attr, span.resource.get(attr))
    raise Unsupported(f"TraceQL field {name!r}")


def _traceql_value(field_name: str, raw: str) -> Any:
    if raw.startswith('"'):
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if raw.startswith("`"):  # a raw string: no escapes
        return raw[1:-1]
    if field_name == "status" and raw in ("error", "ok", "unset"):
        return raw
    if field_name == "kind" and raw in KINDS:
        return raw
    m = _DURATION.fullmatch(raw)
    if m:
        return float(m.group(1)) * _NS[m.group(2)]
    try:
        return float(raw)
    except ValueError:
        raise Unsupported(f"TraceQL value {raw!r}") from None


@dataclass
class TraceQL:
    conditions: list[tuple[str, str, Any]]
    select: list[str] = field(default_factory=list)

    def matches(self, span: Span) -> bool:
        return all(_compare(span_field(span, f), op, v) for f, op, v in self.conditions)


def parse_traceql(query: str) -> TraceQL:
    m = _TRACEQL.fullmatch(query)
    if not m:
        raise Unsupported(f"TraceQL shape {query!r}")
    conditions = []
    for part in m.group("body").split("&&"):
        c = _COND.fullmatch(part)
        if not c:
            raise Unsupported(f"TraceQL condition {part!r}")
        conditions.append((c["field"], c["op"], _traceql_value(c["field"], c["value"])))
    select = [s.strip() for s in (m.group("select") or "").split(",") if s.strip()]
    return TraceQL(conditions, select)


# --- Logs ----------------------------------------------------------------------------------------
@dataclass
class LogLine:
    labels: dict[str, str]  # index labels + structured metadata, as Loki exposes them
    line: str


def _loki_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def _loki_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def log_lines(records: Iterable[LogRecord]) -> list[LogLine]:
    """Log records (harness.otlp_receiver) as Loki stores them."""
    out = []
    for r in records:
        labels = {_loki_name(k): _loki_value(v) for k, v in {**r.resource, **r.attributes}.items()}
        if r.severity:
            labels["severity_text"] = r.severity
        labels["severity_number"] = str(r.severity_number)
        if r.trace_id:
            labels["trace_id"] = r.trace_id
        if r.span_id:
            labels["span_id"] = r.span_id
        out.append(LogLine(labels, str(r.body or "")))
    return out


_MATCHER = re.compile(
    r"\s*(?P<name>[A-Za-z_]\w*)\s*(?P<op>=~|!~|!=|==|>=|<=|=|>|<)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|`[^`]*`|-?[\d.]+)\s*'
)
_LINE_FILTER = re.compile(r'\s*(?P<op>\|=|!=|\|~|!~)\s*"(?P<value>(?:[^"\\]|\\.)*)"')
_UNWRAP = re.compile(r"\s*\|\s*unwrap\s+(?P<field>[A-Za-z_]\w*)")
_LABEL_STAGE = re.compile(
    r"\s*\|\s*(?P<cond>[A-Za-z_]\w*\s*(?:=~|!~|!=|==|>=|<=|=|>|<)\s*"
    r'(?:"(?:[^"\\]|\\.)*"|`[^`]*`|-?[\d.]+))'
)


Predicate = Callable[[LogLine], bool]


def _label_predicate(cond: str) -> Predicate:
    m = _MATCHER.fullmatch(cond)
    if not m:
        raise Unsupported(f"LogQL matcher {cond!r}")
    name, op, raw = m["name"], m["op"], m["value"]
    if raw.startswith(('"', "`")):
        value: Any = raw[1:-1] if raw[0] == "`" else raw[1:-1].replace('\\"', '"')
        if op in ("==",):
            op = "="
        return lambda ln: _compare(ln.labels.get(name, ""), op, value)
    number = float(raw)
    return lambda ln: name in ln.labels and _compare(ln.labels[name], op, number)


def parse_logql(query: str) -> list[Predicate]:
    """Predicates of the log pipeline (a metric query's inner log query is used)."""
    if not query.lstrip().startswith("{"):
        inner = re.search(r"(\{[^{}]*\}[^\[\]]*?)\s*\[", query)
        if not inner:
            raise Unsupported(f"LogQL metric query shape {query!r}")
        query = inner.group(1)
    m = re.match(r"\s*\{(?P<sel>[^{}]*)\}", query)
    if not m:
        raise Unsupported(f"LogQL selector in {query!r}")
    preds: list[Predicate] = [_label_predicate(c) for c in m.group("sel").split(",") if c.strip()]
    rest = query[m.end() :]
    while rest.strip():
        lf = _LINE_FILTER.match(rest)
        if lf:
            op, text = lf["op"], lf["value"]
            if op == "|=":
                preds.append(lambda ln, t=text: t in ln.line)
            elif op == "!=":
                preds.append(lambda ln, t=text: t not in ln.line)
            elif op == "|~":
                preds.append(lambda ln, t=text: re.search(t, ln.line) is not None)
            else:
                preds.append(lambda ln, t=text: re.search(t, ln.line) is None)
            rest = rest[lf.end() :]
            continue
        uw = _UNWRAP.match(rest)
        if uw:  # a line whose field is no number gets __error__ (dropped by `| __error__=""`)
            preds.append(lambda ln, f=uw["field"]: _number(ln.labels.get(f)))
            rest = rest[uw.end() :]
            continue
        ls = _LABEL_STAGE.match(rest)
        if ls:
            preds.append(_label_predicate(ls["cond"]))
            rest = rest[ls.end() :]
            continue
        raise Unsupported(f"LogQL stage at {rest!r}")
    return preds


def _number(value: str | None) -> bool:
    try:
        float(value or "")
    except ValueError:
        return False
    return True


_PIPELINE = re.compile(r"\{[^{}]*\}[^\[\]{}]*?(?=\s*\[)")
_GROUPING = re.compile(r"\bby\s*\((?P<labels>[^()]*)\)")


def metric_pipelines(query: str) -> list[list[Predicate]]:
    """The predicates of every log pipeline of a LogQL metric query (`A + B` has two)."""
    found = [parse_logql(m.group(0)) for m in _PIPELINE.finditer(query)]
    if not found:
        raise Unsupported(f"LogQL metric query shape {query!r}")
    return found


def grouping_labels(query: str) -> set[str]:
    """Labels a metric query groups by: every matched line must carry them, or the query
    returns one series with an empty label instead of one per user / conversation."""
    return {
        label.strip()
        for m in _GROUPING.finditer(query)
        for label in m["labels"].split(",")
        if label.strip()
    }
