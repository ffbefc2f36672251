"""Grafana's variable interpolation, as it rewrites a query before sending it: the builtins
(`$__rate_interval`, `$__range` …), the All value, and values picked in a variable, escaped the
way its Prometheus datasource escapes them. One copy for the tests (tests/grafana) and the
benchmark of the variables' lookups (bench/variables.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
# `$1` (label_replace's capture group) is no variable: Grafana leaves names it does not know.
VAR_REF = re.compile(r"\$\{(\w+)(?::[\w-]+)?\}|\$(?!\d+\b)(\w+)|\[\[(\w+)(?::[\w-]+)?\]\]")


# --- Variable substitution (what Grafana does before sending a query) --------------------------
@dataclass(frozen=True)
class Interpolation:
    rate_interval: str = "2m"
    interval: str = "15s"
    range: str = "1h"

    def builtins(self) -> dict[str, str]:
        seconds = _seconds(self.range)
        return {
            "__rate_interval": self.rate_interval,
            "__interval": self.interval,
            "__interval_ms": str(_seconds(self.interval) * 1000),
            "__range": self.range,
            "__range_s": str(seconds),
            "__range_ms": str(seconds * 1000),
            "__auto": self.interval,
        }


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    m = re.fullmatch(r"(\d+)([smhdw])", duration)
    if not m:
        raise ValueError(f"unsupported duration {duration!r}")
    return int(m.group(1)) * units[m.group(2)]


def referenced_vars(text: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in VAR_REF.finditer(text)}


def prometheus_regex_escape(value: str) -> str:
    """A selected value as Grafana's Prometheus datasource writes it for a multi-value or All
    variable (its classic escaping): backslashes doubled twice, every regex metacharacter after
    two backslashes, so that the PromQL string holds `\\.` for a `.` in `gpt-4.1`."""
    return re.sub(r"[$^*{}\[\]+?.()|]", r"\\\\\g<0>", value.replace("\\", "\\" * 4))


def prometheus_selection(var: Json, values: Sequence[str]) -> str:
    """How Grafana interpolates `values` selected in `var` into a PromQL query."""
    if not var.get("multi") and not var.get("includeAll"):
        return values[0].replace("\\", "\\\\").replace("'", "\\\\'")
    escaped = [prometheus_regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(
    text: str,
    dashboard: Json,
    interp: Interpolation = Interpolation(),
    selected: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Replace Grafana variables: builtins by `interp`, the variables in `selected` by those
    values (as Grafana writes them into PromQL), other query variables by their All value."""
    builtins = interp.builtins()
    defined = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}

    def value(m: re.Match[str]) -> str:
        name = next(g for g in m.groups() if g)
        if name in builtins:
            return builtins[name]
        var = defined.get(name)
        if var is None:
            raise KeyError(f"undefined variable ${name}")
        if selected and name in selected:
            return prometheus_selection(var, selected[name])
        if var.get("includeAll"):
            return var.get("allValue") or ".*"
        current = var.get("current", {}).get("value")
        if isinstance(current, list):
            current = current[0] if current else ""
        return str(current)

    return VAR_REF.sub(value, text)
