"""Alerts as data: one AlertRow per alert (its query shape and texts), rendered into rules.

The tables are slo/llm_alerts.py (the LLM app) and slo/stack_alerts.py (the telemetry stack).
Every number comes from slo/thresholds.yaml; `for:`, runbook links and the watched service from
genai-obs.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slo.render import dashboard, runbook_url

if TYPE_CHECKING:
    from genobs.config import Config


@dataclass(frozen=True)
class Threshold:
    """One tunable number of llm-alerts.yml (its `for:` is per profile, in genai-obs.yaml)."""

    value: float | None
    unit: str
    note: str
    extra: dict[str, Any]


# The `service` label of an alert about a scraped stack component: its job.
JOB = "{{ $labels.job }}"
# Our own template fields, `{name}`; Prometheus' `{{ ... }}` is never one of them.
_FIELD = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")


def num(value: float | int) -> str:
    """A threshold as a PromQL literal: 0.05, 5.12, 2, 0 (never 2.0 or 5e-02)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def pct(ratio: float) -> str:
    """A ratio threshold as a percentage for descriptions (0.3 → "30", no float noise)."""
    return num(round(ratio * 100, 6))


Query = Callable[[Threshold, "Config"], str]


@dataclass(frozen=True)
class AlertRow:
    """One alert. `summary`, `description` and `meaning` may name `{threshold}`, `{pct}` (the
    threshold as a percentage), any other key of the alert in thresholds.yaml (`{score_bound}`)
    and the table's own fields (`{per_model}`); `{{ ... }}` is left to Prometheus."""

    name: str
    severity: str  # page | ticket | info
    dashboard: str  # uid without the genai-obs.yaml prefix
    expr: Query
    summary: str
    description: str
    meaning: str  # one line for docs/alerts.md
    service: str | None = None  # the `service` label; None: the watched app's
    # The keys its query and texts read from its entry in thresholds.yaml, besides unit and
    # note: required there, and no other key is allowed (slo.thresholds.load_thresholds checks).
    needs: tuple[str, ...] = ("threshold",)


@dataclass(frozen=True)
class Alert:
    """An AlertRow rendered for one thresholds.yaml and genai-obs.yaml."""

    name: str
    severity: str
    expr: str
    summary: str
    description: str
    dashboard: str
    labels: dict[str, str]
    meaning: str  # one line for docs/alerts.md


def fill(template: str, fields: dict[str, str], alert: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match[1] not in fields:
            raise KeyError(f"{alert}: no field {{{match[1]}}} (have: {', '.join(fields)})")
        return fields[match[1]]

    return _FIELD.sub(one, template)


def _fields(t: Threshold, extra: dict[str, str]) -> dict[str, str]:
    fields = {k: num(v) if isinstance(v, int | float) else str(v) for k, v in t.extra.items()}
    if t.value is not None:
        fields |= {"threshold": num(t.value), "pct": pct(t.value)}
    return fields | extra


def render(row: AlertRow, t: Threshold, cfg: Config, extra: dict[str, str]) -> Alert:
    fields = _fields(t, extra)
    return Alert(
        name=row.name,
        severity=row.severity,
        expr=row.expr(t, cfg),
        summary=fill(row.summary, fields, row.name),
        description=fill(row.description, fields, row.name),
        dashboard=dashboard(cfg, row.dashboard),
        labels={"service": row.service or cfg.service_name},
        meaning=fill(row.meaning, fields, row.name),
    )


def rule(a: Alert, cfg: Config) -> dict[str, Any]:
    return {
        "alert": a.name,
        "expr": a.expr,
        "for": cfg.for_of(a.name),
        "labels": {"severity": a.severity, **a.labels},
        "annotations": {
            "summary": a.summary,
            "description": a.description,
            "runbook_url": runbook_url(cfg, a.name),
            "dashboard": a.dashboard,
        },
    }
