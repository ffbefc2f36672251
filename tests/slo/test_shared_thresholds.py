"""Numbers that several parts must agree on, held to their one source (slo/slos.yaml).

The faithfulness cut appears in the rag-answer-quality SLO, the RAGAnswerQualityDrop alert
(`score_bound`), the app's pass/fail label on evaluation results and the dashboards' log query;
the latency SLO threshold also drives the collector's "always keep slow traces" policy.
"""

from __future__ import annotations

import yaml

from demo_app import evaluation
from genai_telemetry import semconv
from harness import ROOT
from slo.spec import HistogramSLI, load_spec
from slo.thresholds import load_thresholds

SLOS = {s.name: s for s in load_spec().slos}


def _threshold(slo: str) -> float:
    sli = SLOS[slo].sli
    assert isinstance(sli, HistogramSLI), slo
    return float(sli.threshold)


def test_faithfulness_cut_is_one_number() -> None:
    cut = _threshold("rag-answer-quality")
    assert float(load_thresholds()["RAGAnswerQualityDrop"].extra["score_bound"]) == cut
    assert cut == evaluation.PASS_THRESHOLD  # "pass" label == good event of the SLO
    assert cut in semconv.SCORE_BUCKETS


def test_dashboard_low_quality_logs_use_the_slo_cut() -> None:
    cut = _threshold("rag-answer-quality")
    dashboards = "".join(p.read_text() for p in (ROOT / "grafana" / "dashboards").glob("*.json"))
    assert f"faithfulness <= {cut:g}" in dashboards


def test_collector_keeps_every_trace_slower_than_the_latency_slo() -> None:
    config = yaml.safe_load((ROOT / "otel-collector" / "config.yaml").read_text())
    policies = {p["type"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    assert policies["latency"]["latency"]["threshold_ms"] / 1000 == _threshold("chat-latency")
