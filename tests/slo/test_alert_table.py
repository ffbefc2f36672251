"""The alert tables' text fields: `{name}` is ours and must exist, `{{ ... }}` is Prometheus'."""

from __future__ import annotations

import pytest

from slo.alerting import fill


def test_fill_leaves_prometheus_templates_alone() -> None:
    text = fill(
        "{{ $value | humanize }} > {threshold} ({{ $labels.job }})", {"threshold": "2"}, "A"
    )
    assert text == "{{ $value | humanize }} > 2 ({{ $labels.job }})"


def test_fill_rejects_an_unknown_field() -> None:
    with pytest.raises(KeyError, match=r"LLMCostSpike: no field \{floor\}"):
        fill("above {floor} USD/h", {"threshold": "2"}, "LLMCostSpike")
