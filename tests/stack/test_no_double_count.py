"""rag-api is scraped, never pushed: the collector's metrics pipeline cannot double-count it.

The real rag-api runs with the OTel environment compose.yaml gives it, its OTLP endpoint pointed
at a loopback OTLP/HTTP receiver (the collector cannot run here). Traces arrive there; metric
exports never do, even with a metrics exporter switched on through the standard variable.
(The collector also drops a pushed copy: test_collector.py checks that filter.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.otlp_receiver import OTLPReceiver
from harness.procs import start_rag_api

EXPORT_INTERVAL_MS = 200  # a metrics exporter, if any, would push several times below


def _compose_otel_env(compose: dict[str, Any]) -> dict[str, str]:
    env = compose["services"]["rag-api"]["environment"]
    return {k: str(v) for k, v in env.items() if k.startswith("OTEL_")}


@pytest.mark.parametrize("metrics_exporter", ["compose", "otlp"])
def test_rag_api_pushes_traces_but_never_metrics(
    tmp_path: Path, compose: dict[str, Any], metrics_exporter: str
) -> None:
    env = _compose_otel_env(compose)
    assert env["OTEL_METRICS_EXPORTER"] == "none"
    if metrics_exporter == "otlp":
        env["OTEL_METRICS_EXPORTER"] = "otlp"  # someone flips the standard switch
    with OTLPReceiver() as receiver:
        env.update(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_METRIC_EXPORT_INTERVAL": str(EXPORT_INTERVAL_MS),
            }
        )
        app = start_rag_api(tmp_path, env=env, name=f"rag-api-{metrics_exporter}")
        try:
            with httpx.Client(base_url=app.url, timeout=10) as client:
                for i in range(3):
                    r = client.post("/v1/chat", json={"question": f"What is a burn rate? {i}"})
                    assert r.status_code == 200, r.text
            assert receiver.wait_for(lambda: bool(receiver.spans())), "no spans: wiring broken"
            time.sleep(5 * EXPORT_INTERVAL_MS / 1000)
            # ... while /metrics has the series Prometheus scrapes
            scraped = httpx.get(app.url + "/metrics", timeout=5).text
        finally:
            app.stop()
    assert "gen_ai_client_token_usage_sum" in scraped
    paths = set(receiver.requests)
    assert not {p for p in paths if p.endswith("/v1/metrics")}, paths
    assert any(p.endswith("/v1/traces") for p in paths)
