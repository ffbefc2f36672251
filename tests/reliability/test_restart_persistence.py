"""Prometheus and Alertmanager restarted on the same storage keep their state (real binaries).

`docker compose restart`, an image upgrade or a host reboot restarts these containers on their
named volumes; the history behind the 30-day SLO windows and the silences an operator set must
survive that. Each test stops the process the way Docker does (SIGTERM) and starts a new one on
the same data directory with the shipped configuration.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from harness import poll
from harness.procs import start_alertmanager, start_prometheus

PROBE = "hardening:restart_probe"  # recorded only by the first Prometheus


def _query(url: str, expr: str, at: float | None = None) -> list[dict[str, Any]]:
    params: dict[str, str] = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    r = httpx.get(f"{url}/api/v1/query", params=params, timeout=10)
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_prometheus_restart_keeps_history(tmp_path: Path) -> None:
    data_dir = tmp_path / "tsdb"
    probe_rules = tmp_path / "probe.yml"
    probe_rules.write_text(
        "groups:\n"
        "  - name: restart-probe\n"
        "    rules:\n"
        f"      - record: {PROBE}\n"
        "        expr: vector(42)\n"
    )
    with start_prometheus(
        tmp_path, targets={}, rule_files=[probe_rules], data_dir=data_dir, name="prom-before"
    ) as prom:
        # A handful of evaluations at the 1 s interval are on disk (WAL) before the restart.
        samples = poll(
            "5 probe samples",
            lambda: [
                r
                for r in _query(prom.url, f"count_over_time({PROBE}[10m])")
                if float(r["value"][1]) >= 5
            ],
        )
        last = _query(prom.url, f"timestamp({PROBE})")
        assert last, "probe series vanished"
        before_count = float(samples[0]["value"][1])
        last_ts = float(last[0]["value"][1])

    # The new process has no probe rule: whatever it answers about the probe comes from disk.
    with start_prometheus(
        tmp_path, targets={}, rule_files=[], data_dir=data_dir, name="prom-after"
    ) as prom:
        at_last = _query(prom.url, PROBE, at=last_ts)
        assert [r["value"][1] for r in at_last] == ["42"], at_last
        history = _query(prom.url, f"count_over_time({PROBE}[10m])", at=last_ts)
        assert history, "no probe history after the restart"
        assert float(history[0]["value"][1]) >= before_count


def test_alertmanager_restart_keeps_silences(tmp_path: Path) -> None:
    data_dir = tmp_path / "am-data"
    # The shipped config, its webhook pointed at a closed loopback port (nothing listens there).
    rewrite = {"http://rag-api:8000": "http://127.0.0.1:9"}
    now = time.time()
    silence = {
        "matchers": [
            {"name": "alertname", "value": "LLMCostSpike", "isRegex": False, "isEqual": True},
            {"name": "service", "value": "rag-api", "isRegex": False, "isEqual": True},
        ],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 4 * 3600)),
        "createdBy": "tests/reliability",
        "comment": "maintenance window that must survive a restart",
    }
    with start_alertmanager(tmp_path, rewrite=rewrite, data_dir=data_dir, name="am-before") as am:
        r = httpx.post(f"{am.url}/api/v2/silences", json=silence, timeout=10)
        assert r.status_code == 200, r.text
        silence_id = r.json()["silenceID"]

    with start_alertmanager(tmp_path, rewrite=rewrite, data_dir=data_dir, name="am-after") as am:
        r = httpx.get(f"{am.url}/api/v2/silence/{silence_id}", timeout=10)
        assert r.status_code == 200, f"silence {silence_id} lost across the restart: {r.text}"
        restored = r.json()
        assert restored["status"]["state"] == "active"
        assert restored["comment"] == silence["comment"]
        assert {(m["name"], m["value"]) for m in restored["matchers"]} == {
            ("alertname", "LLMCostSpike"),
            ("service", "rag-api"),
        }
        # And it still does its job: a matching alert is reported as silenced.
        alert = {"labels": {"alertname": "LLMCostSpike", "service": "rag-api"}}
        assert httpx.post(f"{am.url}/api/v2/alerts", json=[alert], timeout=10).status_code == 200
        silenced = poll(
            "the posted alert to be silenced",
            lambda: [
                a
                for a in httpx.get(f"{am.url}/api/v2/alerts", timeout=10).json()
                if silence_id in a["status"]["silencedBy"]
            ],
        )
        assert silenced
