"""The shared harness rewrites only hosts, ports and intervals of the shipped configs, and the
shipped scrape config ingests the app's trace_id exemplars on a real Prometheus.
(Every rule evaluating cleanly is proven in tests/prometheus/test_rules_live.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import yaml

from genai_telemetry import semconv
from harness import poll
from harness.procs import (
    PROMETHEUS_CONFIG,
    SELF,
    render_prometheus_config,
    start_prometheus,
    start_rag_api,
)


def test_render_keeps_shipped_config_but_hosts_ports_intervals() -> None:
    shipped = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    cfg = render_prometheus_config(
        targets={"rag-api:8000": "127.0.0.1:1234"},
        alertmanager="127.0.0.1:9999",
        interval="1s",
        rule_files=[Path("/x/rules.yml")],
    )
    assert [j["job_name"] for j in cfg["scrape_configs"]] == ["rag-api"]
    assert cfg["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:1234"]
    assert cfg["global"]["scrape_interval"] == cfg["global"]["evaluation_interval"] == "1s"
    assert cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9999"]
    assert cfg["rule_files"] == ["/x/rules.yml"]
    shipped_job = next(j for j in shipped["scrape_configs"] if j["job_name"] == "rag-api")
    rendered_job = cfg["scrape_configs"][0]
    assert {k: v for k, v in rendered_job.items() if k != "static_configs"} == {
        k: v for k, v in shipped_job.items() if k not in ("static_configs", "scrape_interval")
    }


def test_shipped_scrape_config_ingests_trace_id_exemplars(tmp_path: Path) -> None:
    with (
        start_rag_api(tmp_path) as app,
        start_prometheus(
            tmp_path,
            targets={"rag-api:8000": app.address, "localhost:9090": SELF},
            rule_group_interval="1s",
        ) as prom,
    ):
        for _ in range(3):
            r = httpx.post(f"{app.url}/v1/chat", json={"question": "What is TTFT?"}, timeout=30)
            assert r.status_code == 200, r.text

        def targets_up() -> bool:
            data = httpx.get(f"{prom.url}/api/v1/targets").json()["data"]["activeTargets"]
            return {t["labels"]["job"]: t["health"] for t in data} == {
                "rag-api": "up",
                "prometheus": "up",
            }

        poll("every scrape target up", targets_up)

        def exemplars() -> list:
            now = time.time()
            return httpx.get(
                f"{prom.url}/api/v1/query_exemplars",
                params={
                    "query": semconv.HTTP_SERVER_DURATION + "_bucket",
                    "start": now - 120,
                    "end": now,
                },
            ).json()["data"]

        found = poll("trace_id exemplars", exemplars)
        labels = found[0]["exemplars"][0]["labels"]
        assert len(labels["trace_id"]) == 32, labels
