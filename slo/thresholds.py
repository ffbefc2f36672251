"""Load and validate the alert thresholds (slo/thresholds.yaml) against the alert tables.

Each row of slo/llm_alerts.py and slo/stack_alerts.py declares the threshold keys it reads; a key
missing, or given but read by no alert, is reported as `file:line: alerts 'name': reason`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genai_telemetry import semconv
from genobs.promql import duration_problem
from genobs.yamlspec import Reporter, SpecError, load_yaml_with_lines, schema_errors
from slo.alerting import Threshold
from slo.llm_alerts import LLM_ALERTS
from slo.stack_alerts import STACK_ALERTS

PACKAGE_DIR = Path(__file__).resolve().parent
THRESHOLDS_PATH = PACKAGE_DIR / "thresholds.yaml"
THRESHOLDS_SCHEMA_PATH = PACKAGE_DIR / "thresholds.schema.json"


def _key_problems(reporter: Reporter, alerts: dict[str, Any]) -> list[str]:
    """Every key an alert reads is given, and no key it does not read (it would be ignored)."""
    problems = []
    for row in (*LLM_ALERTS, *STACK_ALERTS):
        name, needs, raw = row.name, row.needs, alerts.get(row.name, {})
        problems += [
            str(reporter.error(("alerts", name), f"{key!r} is a required property of {name}"))
            for key in needs
            if key not in raw
        ]
        allowed = ", ".join(sorted({*needs, "unit", "note"}))
        problems += [
            str(reporter.error(("alerts", name, key), f"not read by {name} (allowed: {allowed})"))
            for key in raw
            if key not in needs and key not in ("unit", "note")
        ]
    return problems


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, Threshold]:
    data, lines = load_yaml_with_lines(path)
    reporter = Reporter(path, data, lines, "alerts")
    schema_errors(reporter, json.loads(THRESHOLDS_SCHEMA_PATH.read_text()))
    if problems := _key_problems(reporter, data["alerts"]):
        raise SpecError("\n".join(problems))
    out: dict[str, Threshold] = {}
    for name, raw in data["alerts"].items():
        bound = raw.get("score_bound")
        if bound is not None and float(bound) not in semconv.SCORE_BUCKETS:
            raise reporter.error(
                ("alerts", name, "score_bound"),
                f"{bound} is not a bucket bound of {semconv.RAG_EVALUATION_SCORE} "
                f"({', '.join(semconv.le(b) for b in semconv.SCORE_BUCKETS)})",
            )
        exclude = raw.get("baseline_exclude")
        if exclude is not None and (reason := duration_problem(exclude)):
            raise reporter.error(("alerts", name, "baseline_exclude"), reason)
        extra = {k: v for k, v in raw.items() if k not in ("threshold", "unit", "note")}
        out[name] = Threshold(
            value=raw.get("threshold"), unit=raw["unit"], note=raw.get("note", ""), extra=extra
        )
    return out
