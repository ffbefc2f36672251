"""PromQL label matchers: parse (with a port of Prometheus' own parser), render, `le` forms.

promql-parser is Rust: its regexes and label names accept more than Prometheus (Go) does, so
matchers are checked again here: regexes with RE2 (google-re2, the syntax Go's regexp follows),
label names against the classic grammar Prometheus 2 reads unquoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import promql_parser
import re2

_OPS = (
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
)


def match_op(op: promql_parser.MatchOp) -> str:
    return next(text for known, text in _OPS if known == op)


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class Matcher(NamedTuple):
    """One PromQL label matcher: name, operator (= != =~ !~) and the unescaped value."""

    name: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"


# Label names Prometheus 2 reads (3 also reads quoted UTF-8 names; the rules must suit both).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the reason goes into our message, not onto stderr


def _go_only_problem(pattern: str) -> str | None:
    """What RE2 (C++) takes and Go's regexp refuses: `\\C` always, `(?<name>` before Go 1.22
    (Debian's Prometheus 2.42 is built with Go 1.19)."""
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "C":
                return "\\C (any byte) is not in Go's regexp syntax"
            end = pattern.find("\\E", i + 2) if nxt == "Q" else -1  # \Q…\E is literal text
            i = len(pattern) if nxt == "Q" and end < 0 else (end + 2 if nxt == "Q" else i + 2)
            continue
        if c == "[" and not in_class:
            in_class = True
            i += 2 if pattern[i + 1 : i + 2] == "]" else 1  # a leading ] is literal
            continue
        if c == "]":
            in_class = False
        elif not in_class and pattern.startswith("(?<", i):
            return "(?<name>…) needs Go 1.22; write (?P<name>…)"
        i += 1
    return None


def regex_problem(pattern: str) -> str | None:
    """Why Prometheus would refuse `pattern` (RE2 syntax, anchored as Prometheus anchors it)."""
    try:
        re2.compile(f"^(?:{pattern})$", options=_RE2_OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"{pattern!r} is not a regex Prometheus accepts (RE2 syntax: {why})"
    if why := _go_only_problem(pattern):
        return f"{pattern!r} is not a regex Prometheus accepts ({why})"
    return None


def matcher_problem(name: str, op: str, value: str) -> str | None:
    """What Prometheus (2.42 and 3.x) would refuse in one matcher that promql-parser took."""
    if not LABEL_NAME.match(name):
        return (
            f"label name {name!r}: label names must be [a-zA-Z_][a-zA-Z0-9_]*; "
            "Prometheus 2 cannot read quoted names"
        )
    if op in ("=~", "!~"):
        return regex_problem(value)
    return None


def render_matchers(matchers: tuple[Matcher, ...]) -> str:
    return ", ".join(map(str, matchers))


_NO_NAME = "must not match on __name__: the generator picks the metric"


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """`job="x", route=~"/v1/.*"` → Matchers; ValueError with the parser's reason if invalid."""
    if not text.strip():
        return ()
    try:
        expr = promql_parser.parse("m{" + text + "}")
    except ValueError as exc:
        if "metric name must not be set twice" in str(exc):  # `__name__="x"` beside our `m`
            raise ValueError(_NO_NAME) from None
        raise ValueError(f"not valid PromQL label matchers: {exc}") from None
    if (
        not isinstance(expr, promql_parser.VectorSelector)
        or expr.name != "m"
        or expr.offset is not None
        or expr.at is not None
        or expr.matchers.or_matchers
    ):
        raise ValueError(
            'must be a comma-separated list of label matchers such as job="my-app" '
            "(no braces, no `or`, nothing after them)"
        )
    out = tuple(Matcher(m.name, match_op(m.op), m.value) for m in expr.matchers.matchers)
    if any(m.name == "__name__" for m in out):
        raise ValueError(_NO_NAME)
    for m in out:
        if problem := matcher_problem(*m):
            raise ValueError(problem)
    return out


def value_type(expr: promql_parser.Expr) -> str:
    """The result type of a parsed expression: vector, matrix, scalar or string."""
    if isinstance(expr, promql_parser.NumberLiteral):
        return "scalar"
    if isinstance(expr, promql_parser.StringLiteral):
        return "string"
    if isinstance(expr, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        return "matrix"
    if isinstance(expr, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return value_type(expr.expr)
    if isinstance(expr, promql_parser.Call):
        return str(expr.func.return_type).rsplit(".", 1)[-1].lower()
    if isinstance(expr, promql_parser.BinaryExpr):
        sides = {value_type(expr.lhs), value_type(expr.rhs)}
        return "vector" if "vector" in sides else "scalar"
    return "vector"  # VectorSelector, AggregateExpr


def expr_matchers(expr: promql_parser.Expr) -> list[tuple[str, str, str]]:
    """(name, op, value) of every label matcher of every selector in a parsed expression."""
    if isinstance(expr, promql_parser.VectorSelector):
        groups = [expr.matchers.matchers, *expr.matchers.or_matchers]
        return [(m.name, match_op(m.op), m.value) for g in groups for m in g]
    if isinstance(expr, promql_parser.MatrixSelector):
        return expr_matchers(expr.vector_selector)
    children = [getattr(expr, a, None) for a in ("expr", "lhs", "rhs", "param")]
    children += list(getattr(expr, "args", None) or ())
    return [m for c in children if isinstance(c, promql_parser.Expr) for m in expr_matchers(c)]


def le_forms(bound: float) -> tuple[str, ...]:
    """Every way exporters write a bucket bound in `le`: Go formatting (prometheus-client and
    Prometheus 3 normalisation: "1.0", "1.048576e+06"), the OTel exporter's integers ("1"),
    and Python's repr ("1.0")."""
    from prometheus_client.utils import floatToGoString

    forms = [floatToGoString(bound)]
    if float(bound).is_integer():
        forms += [str(int(bound)), f"{int(bound)}.0"]
    forms.append(repr(float(bound)))
    return tuple(dict.fromkeys(forms))


def le_matcher(bound: float) -> Matcher:
    """`le` matching the bound however it is written: le="5.12", or le=~"5(\\.0)?" for 5."""
    forms = le_forms(bound)
    if len(forms) == 1:
        return Matcher("le", "=", forms[0])
    if set(forms) == {str(int(bound)), f"{int(bound)}.0"}:
        return Matcher("le", "=~", f"{int(bound)}(\\.0)?")
    return Matcher("le", "=~", "|".join(re.escape(f) for f in forms))


# --- Selector injection ---------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    |(?P<comment>\#[^\n]*)
    |(?P<num>\.?[0-9][0-9a-zA-Z_.]*)
    |(?P<var>\$\{?\w+\}?)
    |(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    |(?P<open>[{(\[])
    |(?P<close>[})\]])
    |(?P<space>\s+)
    |(?P<other>.)""",
    re.X | re.S,
)
# Words that are never metric names where they stand: operators, modifiers, literals.
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS = _LABEL_LISTS | {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"}
_KEYWORDS |= {"start", "end"}
_AGGREGATIONS = frozenset(
    {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"}
    | {"count_values", "group", "limitk", "limit_ratio"}
)


def _tokens(expr: str) -> list[tuple[str, str, int]]:
    return [(m.lastgroup or "", m.group(), m.start()) for m in _TOKEN.finditer(expr)]


def selectors(expr: str) -> list[tuple[str, int, bool]]:
    """(metric name, position after the name, has braces) of every named vector selector.

    Enough of the PromQL lexer for generated queries and hand-written SLIs: strings, comments,
    label lists of by/on/…, ranges and functions are skipped. Grafana variables are tolerated.
    """
    toks = [t for t in _tokens(expr) if t[0] not in ("space", "comment")]
    out = []
    stack: list[str] = []  # "{", "[", "(" or "L" for a label list
    for i, (kind, text, pos) in enumerate(toks):
        if kind == "open":
            prev = toks[i - 1][1] if i else ""
            stack.append("L" if text == "(" and prev in _LABEL_LISTS else text)
            continue
        if kind == "close":
            if stack:
                stack.pop()
            continue
        if kind != "ident" or (stack and stack[-1] in "{[L"):
            continue
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if text in _KEYWORDS or text in _AGGREGATIONS or nxt == "(":
            continue
        out.append((text, pos + len(text), nxt == "{"))
    return out


def metric_names(expr: str) -> set[str]:
    return {name for name, _, _ in selectors(expr)}


def inject(expr: str, matchers: str, only: Callable[[str], bool] = lambda _: True) -> str:
    """Add `matchers` (PromQL text without braces) to every vector selector whose metric
    satisfies `only`: `m{a="b"}` → `m{<matchers>, a="b"}`, `m` → `m{<matchers>}`."""
    if not matchers:
        return expr
    return _insert(expr, matchers, lambda name, _labels: only(name))


def scope(expr: str, label: str, value: str, only: Callable[[str], bool]) -> str:
    """`label="value"` on every selector of a metric satisfying `only` that does not match on
    `label` already (a dashboard's `service=~"$service"` stays as it is)."""
    matcher = str(Matcher(label, "=", value))
    return _insert(expr, matcher, lambda name, labels: only(name) and label not in labels)


def _insert(expr: str, matchers: str, wanted: Callable[[str, set[str]], bool]) -> str:
    """`matchers` into every selector for which wanted(metric, labels it matches on) holds."""
    out = expr
    for name, end, braces in reversed(selectors(expr)):
        brace = out.index("{", end) if braces else -1
        if not wanted(name, _braced_labels(out, brace) if braces else set()):
            continue
        if braces:
            empty = out[brace + 1 :].lstrip().startswith("}")
            out = out[: brace + 1] + matchers + ("" if empty else ", ") + out[brace + 1 :]
        else:
            out = out[:end] + "{" + matchers + "}" + out[end:]
    return out


def _braced_labels(expr: str, brace: int) -> set[str]:
    """Label names matched inside the braces opening at `brace` (values are strings)."""
    names = set()
    for kind, text, _ in _tokens(expr[brace + 1 :]):
        if kind == "close":
            break
        if kind == "ident":
            names.add(text)
    return names


# Prometheus' model.ParseDuration: units in this order, each at most once; "0" alone is allowed.
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNIT_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
_MAX_MS = 2**63 - 1  # time.Duration is an int64 of nanoseconds; Prometheus checks ms overflow


def duration_problem(text: str) -> str | None:
    """Why `text` is not a Prometheus duration, or None."""
    if text == "0":
        return None
    match = _DURATION.match(text)
    if not text or match is None:
        return f"{text!r} is not a Prometheus duration (units in order y w d h m s ms, e.g. 1h30m)"
    total = sum(int(v) * unit for v, unit in zip(match.groups(), _UNIT_MS, strict=True) if v)
    if total * 1_000_000 > _MAX_MS:
        return f"{text!r} is out of range (Prometheus durations are below 292 years)"
    return None
