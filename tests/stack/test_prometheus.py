"""prometheus/prometheus.yml: valid for the real promtool, with the scrape jobs the stack needs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from harness import ROOT, require_binary

# Cross-team convention (team brief): job -> the one static target.
EXPECTED_JOBS = {
    "rag-api": "rag-api:8000",
    "otel-collector": "otel-collector:8888",
    "loki": "loki:3100",
    "tempo": "tempo:3200",
    "alertmanager": "alertmanager:9093",
    "grafana": "grafana:3000",
    "prometheus": "localhost:9090",
}


def test_promtool_accepts_shipped_config(tmp_path: Path, prometheus: dict[str, Any]) -> None:
    promtool = require_binary("promtool")
    # Only the rule paths change: in the container they live under /etc/prometheus/rules,
    # here under the repo's prometheus/rules (no rules yet -> the glob simply matches nothing).
    cfg = dict(prometheus)
    assert cfg["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    cfg["rule_files"] = [str(ROOT / "prometheus" / "rules" / "*.yml")]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_promtool_rejects_a_broken_copy(tmp_path: Path, prometheus: dict[str, Any]) -> None:
    # Guards the test above: promtool really validates what we hand it.
    promtool = require_binary("promtool")
    cfg = dict(prometheus, rule_files=[])
    cfg["scrape_configs"] = [*cfg["scrape_configs"], {"job_name": "rag-api"}]  # duplicate job
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0


def test_scrape_jobs_exactly_as_agreed(prometheus: dict[str, Any]) -> None:
    jobs = {}
    for job in prometheus["scrape_configs"]:
        assert set(job) <= {"job_name", "static_configs"}, "static_configs only, nothing exotic"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        jobs[job["job_name"]] = targets
    assert jobs == {name: [target] for name, target in EXPECTED_JOBS.items()}


def test_globals_rules_and_alerting(prometheus: dict[str, Any]) -> None:
    assert prometheus["global"] == {"scrape_interval": "5s", "evaluation_interval": "5s"}
    text = (ROOT / "prometheus" / "prometheus.yml").read_text()
    assert "Production" in text, "say what the production intervals are"
    targets = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]


def test_no_prometheus3_only_keys(prometheus: dict[str, Any]) -> None:
    # promtool 2.42 rejects these; 3.x features belong in compose.yaml flags.
    assert "otlp" not in prometheus
    assert "scrape_native_histograms" not in prometheus["global"]
    assert "scrape_protocols" not in prometheus["global"]
    for job in prometheus["scrape_configs"]:
        assert "scrape_protocols" not in job
