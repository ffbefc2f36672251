"""The runbooks are written by hand, their numbers come from slo/thresholds.yaml: each LLM alert's
runbook states the threshold and guards the generated rule uses, so a changed threshold cannot
leave an on-call engineer reading the old one."""

from __future__ import annotations

import re

import pytest

from harness import ROOT
from slo.alerting import Threshold
from slo.llm_alerts import LLM_ALERTS
from slo.thresholds import load_thresholds

THRESHOLDS = load_thresholds()


def _runbook(alert: str) -> str:
    return " ".join((ROOT / "docs" / "runbooks" / f"{alert}.md").read_text().split())


def _number(value: float) -> str:
    return f"{value:g}"


def expected_phrases(t: Threshold) -> list[str]:
    """How a runbook writes each number of a threshold row."""
    phrases = {
        "ratio": [f"{_number(float(t.value or 0) * 100)}%"],
        "seconds": [f"{_number(float(t.value or 0))} s"],
        "USD/day": [f"{_number(float(t.value or 0))} USD/day"],
        "factor": ["twice" if t.value == 2 else f"{_number(float(t.value or 0))}×"],
    }.get(t.unit, [])
    extra = t.extra
    if "min_events" in extra:
        phrases.append(f"at least {extra['min_events']} ")
    if "score_bound" in extra:
        phrases.append(f"faithfulness of {_number(float(extra['score_bound']))} or less")
    if "floor_usd_per_hour" in extra:
        phrases.append(f"below {_number(float(extra['floor_usd_per_hour']))} USD/h")
    if "baseline_exclude" in extra:
        minutes = re.fullmatch(r"(\d+)m", str(extra["baseline_exclude"]))
        assert minutes, "baseline_exclude: write the runbook's phrase for this duration"
        phrases.append(f"ending {minutes.group(1)} minutes ago")
    return phrases


def test_the_phrases_follow_the_units() -> None:
    t = Threshold(value=0.05, unit="ratio", note="", extra={"min_events": 10})
    assert expected_phrases(t) == ["5%", "at least 10 "]
    t = Threshold(value=2, unit="factor", note="", extra={"floor_usd_per_hour": 0.5})
    assert expected_phrases(t) == ["twice", "below 0.5 USD/h"]


@pytest.mark.parametrize("alert", [row.name for row in LLM_ALERTS])
def test_runbook_states_the_threshold_and_guards(alert: str) -> None:
    text = _runbook(alert)
    missing = [p for p in expected_phrases(THRESHOLDS[alert]) if p not in text]
    assert not missing, f"docs/runbooks/{alert}.md does not say {missing}"


def test_every_numbered_llm_alert_is_checked() -> None:
    numbered = [row.name for row in LLM_ALERTS if expected_phrases(THRESHOLDS[row.name])]
    assert len(numbered) >= 10, numbered
