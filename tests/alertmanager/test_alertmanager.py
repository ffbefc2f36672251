"""alertmanager/: both files pass amtool, every severity routes to its receiver, and inhibition
works on a real Alertmanager (loopback, API v2)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness import ROOT, free_port, require_binary
from harness.procs import start_alertmanager

AM_DIR = ROOT / "alertmanager"
CONFIG = AM_DIR / "alertmanager.yml"
PRODUCTION = AM_DIR / "alertmanager.production-example.yml"
CONFIGS = [CONFIG, PRODUCTION]
WEBHOOK = "http://rag-api:8000"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_amtool_check_config(config: Path) -> None:
    amtool = require_binary("amtool")
    res = subprocess.run(
        [amtool, "check-config", config.name], capture_output=True, text=True, cwd=AM_DIR
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 templates" in res.stdout  # the template glob matched a file


ROUTES = [
    ({"alertname": "SLOFastBurn", "severity": "page", "service": "rag-api"}, "pager"),
    ({"alertname": "LLMErrorRatioHigh", "severity": "page", "service": "rag-api"}, "pager"),
    ({"alertname": "SLOSlowBurn", "severity": "ticket", "service": "rag-api"}, "tickets"),
    ({"alertname": "TargetDown", "severity": "ticket", "service": "loki"}, "tickets"),
    ({"alertname": "Watchdog", "severity": "info", "service": "prometheus"}, "heartbeat"),
    # unknown severities still reach a person
    ({"alertname": "Unlabelled", "service": "x"}, "tickets"),
    ({"alertname": "SomethingInfo", "severity": "info", "service": "x"}, "tickets"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=lambda v: str(v))
def test_routes(config: Path, labels: dict[str, str], receiver: str) -> None:
    amtool = require_binary("amtool")
    args = [f"{k}={v}" for k, v in labels.items()]
    res = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}",
         f"--verify.receivers={receiver}", *args],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    # and a wrong expectation fails, so the check above can fail
    wrong = "pager" if receiver != "pager" else "tickets"
    res = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}",
         f"--verify.receivers={wrong}", *args],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert res.returncode != 0


def test_both_files_share_the_routing_tree() -> None:
    demo = yaml.safe_load(CONFIG.read_text())
    prod = yaml.safe_load(PRODUCTION.read_text())
    assert demo["route"] == prod["route"]
    assert demo["inhibit_rules"] == prod["inhibit_rules"]
    assert {r["name"] for r in demo["receivers"]} == {r["name"] for r in prod["receivers"]}


def test_demo_receivers_are_rag_api_webhooks_with_resolved() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    assert cfg["receivers"], "no receivers: the loop below would prove nothing"
    for receiver in cfg["receivers"]:
        hooks = receiver["webhook_configs"]
        assert hooks == [
            {
                "url": f"{WEBHOOK}/v1/alerts",
                "send_resolved": True,
                "max_alerts": 100,
                # rag-api's webhook wants a bearer credential (the compose secret's file).
                "http_config": {
                    "authorization": {"credentials_file": "/run/secrets/alerts_webhook_token"}
                },
            }
        ]


def test_no_keys_newer_than_alertmanager_0_25() -> None:
    for config in CONFIGS:
        cfg = yaml.safe_load(config.read_text())
        assert all("name" not in r for r in cfg["inhibit_rules"])

        def walk(route: dict[str, Any]) -> None:
            assert "labels" not in route and "match" not in route and "match_re" not in route
            for child in route.get("routes", []):
                walk(child)

        walk(cfg["route"])


NOTIFICATION = Path(__file__).parent / "notification.json"  # one firing, one resolved alert


def _render(data: Path) -> tuple[str, str]:
    """amtool renders the on-call title and text for a webhook payload: (title, text)."""
    amtool = require_binary("amtool")
    res = subprocess.run(
        [amtool, "template", "render", "--template.glob=templates/*.tmpl",
         f"--template.data={data}",
         '--template.text={{ template "genai.title" . }}\n---\n{{ template "genai.text" . }}'],
        capture_output=True,
        text=True,
        cwd=AM_DIR,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    title, text = res.stdout.split("\n---\n", 1)
    return title, text


def test_templates_render_for_a_person_on_call() -> None:
    title, text = _render(NOTIFICATION)
    assert title == "[FIRING:1] SLOFastBurn · rag-api · SLO chat-availability (page)"
    lines = text.splitlines()
    assert lines[0] == "🔥 SLO chat-availability of rag-api is burning its error budget fast"
    assert "33.33× faster" in lines[1]
    assert "Since: 2026-11-27 03:04 UTC" in lines
    assert any(line.startswith("Runbook: https://") for line in lines)
    assert "Dashboard: http://localhost:3000/d/llm-slos?var-slo=chat-availability" in lines
    assert "✅ An earlier burn" in lines
    assert "Model: gpt-4o-mini (openai)" in lines
    assert "Since: 2026-11-27 01:00 UTC · resolved 01:30 UTC" in lines
    assert lines[-1] == "Alertmanager: http://alertmanager:9093"


# --- inhibition on a real Alertmanager --------------------------------------------------------
def _alert(**labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": labels,
        "annotations": {"summary": labels["alertname"]},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


def _statuses(url: str, expected: int) -> dict[tuple[str, str, str], list[str]]:
    """(alertname, service, slo) → inhibitedBy, once Alertmanager holds `expected` alerts."""
    deadline = time.monotonic() + 20
    while True:
        got = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
        if len(got) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(got) == expected, got
    return {
        (a["labels"]["alertname"], a["labels"]["service"], a["labels"].get("slo", "")): a["status"][
            "inhibitedBy"
        ]
        for a in got
    }


def test_inhibition_on_a_real_alertmanager(tmp_path: Path) -> None:
    # Notifications go to a closed loopback port: only routing state matters here.
    dead = f"http://127.0.0.1:{free_port()}"
    with start_alertmanager(tmp_path, rewrite={WEBHOOK: dead}) as am:
        page = _alert(
            alertname="SLOFastBurn", severity="page", service="rag-api", slo="chat-availability"
        )
        alerts = [
            page,
            _alert(
                alertname="SLOSlowBurn",
                severity="ticket",
                service="rag-api",
                slo="chat-availability",
            ),
            _alert(alertname="SLOSlowBurn", severity="ticket", service="rag-api", slo="llm-ttft"),
            _alert(
                alertname="LLMErrorRatioHigh",
                severity="page",
                service="rag-api",
                gen_ai_request_model="gpt-4o-mini",
            ),
            _alert(alertname="LLMCostSpike", severity="ticket", service="rag-api"),
            _alert(alertname="SLIMetricsAbsent", severity="ticket", service="rag-api"),
            _alert(alertname="TargetDown", severity="ticket", service="otel-collector"),
            _alert(
                alertname="OtelCollectorExportFailing", severity="ticket", service="otel-collector"
            ),
            _alert(alertname="LokiIngestionErrors", severity="ticket", service="loki"),
        ]
        r = httpx.post(f"{am.url}/api/v2/alerts", json=alerts, timeout=5)
        assert r.status_code == 200, r.text
        s = _statuses(am.url, len(alerts))
        # a page inhibits the ticket of the same service and SLO, and only that one
        assert s[("SLOSlowBurn", "rag-api", "chat-availability")]
        assert not s[("SLOSlowBurn", "rag-api", "llm-ttft")]
        # a page without an slo label does not mute slo-less tickets of its service
        assert not s[("LLMCostSpike", "rag-api", "")]
        assert not s[("SLIMetricsAbsent", "rag-api", "")]
        # a down target mutes the tickets of its own service only
        assert s[("OtelCollectorExportFailing", "otel-collector", "")]
        assert not s[("TargetDown", "otel-collector", "")]
        assert not s[("LokiIngestionErrors", "loki", "")]
        assert not s[("SLOFastBurn", "rag-api", "chat-availability")]

        # rag-api itself goes down: its tickets are muted, its pages are not
        down = _alert(alertname="TargetDown", severity="ticket", service="rag-api")
        assert httpx.post(f"{am.url}/api/v2/alerts", json=[down], timeout=5).status_code == 200
        s = _statuses(am.url, len(alerts) + 1)
        assert s[("SLIMetricsAbsent", "rag-api", "")]
        assert s[("LLMCostSpike", "rag-api", "")]
        assert not s[("SLOFastBurn", "rag-api", "chat-availability")]
        assert not s[("LLMErrorRatioHigh", "rag-api", "")]


def test_pages_of_one_service_are_one_incident(tmp_path: Path) -> None:
    """A provider outage raises LLMErrorRatioHigh and two SLO pages: one pager group (one dedup
    key, one incident), while tickets keep their own groups per alert and SLO."""
    dead = f"http://127.0.0.1:{free_port()}"
    with start_alertmanager(tmp_path, rewrite={WEBHOOK: dead}) as am:
        alerts = [
            _alert(alertname="LLMErrorRatioHigh", severity="page", service="rag-api",
                   gen_ai_request_model="gpt-4o-mini"),
            _alert(alertname="SLOFastBurn", severity="page", service="rag-api",
                   slo="chat-availability"),
            _alert(alertname="SLOFastBurn", severity="page", service="rag-api",
                   slo="llm-chat-success"),
            _alert(alertname="SLOFastBurn", severity="page", service="checkout", slo="checkout"),
            _alert(alertname="LLMProviderRateLimited", severity="ticket", service="rag-api"),
            _alert(alertname="SLOTrafficStopped", severity="ticket", service="rag-api",
                   slo="llm-ttft"),
        ]  # fmt: skip
        r = httpx.post(f"{am.url}/api/v2/alerts", json=alerts, timeout=5)
        assert r.status_code == 200, r.text
        _statuses(am.url, len(alerts))
        groups = httpx.get(f"{am.url}/api/v2/alerts/groups", timeout=5).json()
        pager = {
            g["labels"]["service"]: sorted(a["labels"]["alertname"] for a in g["alerts"])
            for g in groups
            if g["receiver"]["name"] == "pager"
        }
        assert pager == {
            "rag-api": ["LLMErrorRatioHigh", "SLOFastBurn", "SLOFastBurn"],
            "checkout": ["SLOFastBurn"],
        }
        tickets = [g for g in groups if g["receiver"]["name"] == "tickets"]
        assert len(tickets) == 2 and all(len(g["alerts"]) == 1 for g in tickets)


def test_title_of_a_service_incident_with_several_alerts(tmp_path: Path) -> None:
    """The pager groups by service alone: alerts of different names share no alertname, and the
    title still says what and where instead of an empty name."""
    payload = json.loads(NOTIFICATION.read_text())
    payload["groupLabels"] = {"service": "rag-api"}
    payload["commonLabels"] = {"severity": "page", "service": "rag-api"}
    payload["alerts"][1]["labels"]["alertname"] = "LLMErrorRatioHigh"
    del payload["alerts"][1]["labels"]["slo"]
    data = tmp_path / "incident.json"
    data.write_text(json.dumps(payload))
    title, _ = _render(data)
    assert title == "[FIRING:1] incident · rag-api (page)"
