"""The running stack is wired end to end: health, targets, datasources, dashboards, then one
request's trace, logs, metrics and exemplars found where Grafana will look for them.

Run with `make up && make smoke` (Docker with Compose v2). Polls are bounded; a failure names
what was not seen and the last answer.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from harness import ROOT
from tests.smoke.conftest import Stack, poll

pytestmark = pytest.mark.docker

HEALTHY = {"grafana", "prometheus", "alertmanager", "loki", "tempo", "rag-api"}
NO_HEALTHCHECK = {"otel-collector"}  # FROM scratch image; probed over the network below
JOBS = {"rag-api", "otel-collector", "loki", "tempo", "alertmanager", "grafana", "prometheus"}
DATASOURCES = ("prometheus", "loki", "tempo", "alertmanager")


def test_every_service_running_and_healthy(stack: Stack) -> None:
    def states() -> dict[str, tuple[str, str]] | None:
        got = {c["Service"]: (c.get("State", ""), c.get("Health", "")) for c in stack.containers()}
        ready = all(got.get(s, ("", ""))[1] == "healthy" for s in HEALTHY) and all(
            got.get(s, ("", ""))[0] == "running" for s in NO_HEALTHCHECK
        )
        return got if ready else None

    poll("all services running/healthy", states, timeout=180)


def test_collector_health_endpoint(stack: Stack) -> None:
    # :13133 is not published; ask from inside the network (the Prometheus image has wget).
    def healthy() -> bool:
        proc = stack.compose(
            "exec", "-T", "prometheus", "wget", "-q", "-O", "-", "http://otel-collector:13133/"
        )
        return proc.returncode == 0

    poll("collector health_check on :13133", healthy, timeout=60)


def test_prometheus_targets_up(stack: Stack, http: httpx.Client) -> None:
    def all_up() -> dict[str, str] | None:
        targets = http.get(f"{stack.prometheus}/api/v1/targets").json()["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        return health if set(health) == JOBS and set(health.values()) == {"up"} else None

    poll("every Prometheus target up", all_up, timeout=120)


def test_grafana_health(stack: Stack, http: httpx.Client) -> None:
    body = http.get(f"{stack.grafana}/api/health").json()
    assert body["database"] == "ok"
    assert body["version"].startswith("13.")


@pytest.mark.parametrize("uid", DATASOURCES)
def test_datasource_health(stack: Stack, http: httpx.Client, uid: str) -> None:
    auth = stack.grafana_auth
    ds = http.get(f"{stack.grafana}/api/datasources/uid/{uid}", auth=auth)
    assert ds.status_code == 200, f"datasource {uid} not provisioned: {ds.text}"
    if uid == "alertmanager":
        # The Alertmanager datasource has no backend health check: go through Grafana's
        # datasource proxy to the Alertmanager API instead.
        r = http.get(f"{stack.grafana}/api/datasources/proxy/uid/{uid}/api/v2/status", auth=auth)
        assert r.status_code == 200 and r.json()["cluster"], r.text
        return

    def ok() -> dict[str, Any] | None:
        r = http.get(f"{stack.grafana}/api/datasources/uid/{uid}/health", auth=auth)
        body = r.json()
        return body if r.status_code == 200 and body.get("status") == "OK" else None

    poll(f"Grafana datasource {uid} health OK", ok, timeout=90)


def test_every_dashboard_provisioned(stack: Stack, http: httpx.Client) -> None:
    uids = sorted(
        json.loads(p.read_text())["uid"] for p in (ROOT / "grafana" / "dashboards").glob("*.json")
    )
    assert uids, "no dashboards in grafana/dashboards"
    for uid in uids:

        def found(uid: str = uid) -> dict[str, Any] | None:
            r = http.get(f"{stack.grafana}/api/dashboards/uid/{uid}", auth=stack.grafana_auth)
            return r.json() if r.status_code == 200 else None

        body = poll(f"dashboard {uid}", found, timeout=60)
        assert body["meta"]["folderTitle"] == "GenAI Observability"


# --- one request, followed through every signal --------------------------------------------------


@pytest.fixture(scope="module")
def trace_ids(stack: Stack, http: httpx.Client) -> list[str]:
    ids: list[str] = []
    for i in range(6):
        r = http.post(
            f"{stack.rag_api}/v1/chat",
            json={"question": f"How do I keep LLM latency low? (smoke {i})", "user_tier": "pro"},
            timeout=60.0,
        )
        if r.status_code == 200 and r.json().get("trace_id"):
            ids.append(r.json()["trace_id"])
        time.sleep(0.5)
    assert ids, "no /v1/chat request succeeded with a trace_id"
    return ids


def test_loki_has_the_request_logs_with_trace_id(
    stack: Stack, http: httpx.Client, trace_ids: list[str]
) -> None:
    def logs() -> list[Any] | None:
        now = time.time_ns()
        query = f'{{service_name="rag-api"}} | trace_id="{trace_ids[0]}"'
        r = http.get(
            f"{stack.loki}/loki/api/v1/query_range",
            params={"query": query, "start": now - 15 * 60 * 10**9, "end": now, "limit": 50},
        )
        streams = r.json().get("data", {}).get("result", []) if r.status_code == 200 else []
        return streams or None

    # The label filter matched, so trace_id is stored as structured metadata on those lines.
    streams = poll("rag-api logs carrying the response's trace_id in Loki", logs)
    assert trace_ids[0] in json.dumps(streams)


def test_tempo_has_the_trace(stack: Stack, http: httpx.Client, trace_ids: list[str]) -> None:
    def trace() -> dict[str, Any] | None:
        r = http.get(f"{stack.tempo}/api/v2/traces/{trace_ids[0]}")
        return r.json() if r.status_code == 200 else None

    # Tail sampling waits decision_wait (15 s) before forwarding, then Tempo indexes it.
    body = poll(f"trace {trace_ids[0]} in Tempo", trace, timeout=180, every=5)
    assert "rag-api" in json.dumps(body)


def test_prometheus_has_span_metrics(
    stack: Stack, http: httpx.Client, trace_ids: list[str]
) -> None:
    def series() -> list[Any] | None:
        r = http.get(
            f"{stack.prometheus}/api/v1/query",
            params={"query": 'traces_spanmetrics_calls_total{service="rag-api"}'},
        )
        return r.json()["data"]["result"] or None

    poll("traces_spanmetrics_calls_total from Tempo's metrics-generator", series, timeout=180)


def test_collector_counters_carry_total_suffix(
    stack: Stack, http: httpx.Client, trace_ids: list[str]
) -> None:
    # The stack alerts and the stack-health dashboard query otelcol_*_total; the collector
    # drops the suffix unless its reader says otherwise (otel-collector/config.yaml).
    def series() -> list[Any] | None:
        r = http.get(
            f"{stack.prometheus}/api/v1/query",
            params={
                "query": 'otelcol_receiver_accepted_spans_total{job="otel-collector"}'
                ' or otelcol_exporter_sent_spans_total{job="otel-collector"}'
            },
        )
        return r.json()["data"]["result"] or None

    poll("collector counters named *_total in Prometheus", series, timeout=120)


def test_prometheus_has_trace_id_exemplars(
    stack: Stack, http: httpx.Client, trace_ids: list[str]
) -> None:
    def exemplars() -> list[Any] | None:
        now = time.time()
        r = http.get(
            f"{stack.prometheus}/api/v1/query_exemplars",
            params={
                "query": "http_server_request_duration_seconds_bucket",
                "start": now - 15 * 60,
                "end": now,
            },
        )
        found = [
            e
            for s in r.json().get("data") or []
            for e in s.get("exemplars", [])
            if e.get("labels", {}).get("trace_id")
        ]
        return found or None

    poll("trace_id exemplars on rag-api's request histogram", exemplars, timeout=90)


def test_alertmanager_holds_watchdog(stack: Stack, http: httpx.Client) -> None:
    def watchdog() -> list[Any] | None:
        r = http.get(
            f"{stack.alertmanager}/api/v2/alerts", params={"filter": 'alertname="Watchdog"'}
        )
        return r.json() or None

    poll("Watchdog alert in Alertmanager", watchdog, timeout=180, every=5)


def test_watchdog_reaches_rag_api_with_the_webhook_credential(
    stack: Stack, http: httpx.Client
) -> None:
    """Alertmanager 0.34 reads the compose secret and presents it: rag-api stores the heartbeat
    (a wrong or missing credential would be a 401/403 and nothing stored)."""

    def delivered() -> list[Any] | None:
        r = http.get(
            f"{stack.rag_api}/v1/alerts", params={"receiver": "heartbeat", "alertname": "Watchdog"}
        )
        return (r.json()["alerts"] or None) if r.status_code == 200 else None

    poll("Watchdog delivered to rag-api's webhook", delivered, timeout=180, every=5)


def test_no_container_oom_killed_or_restarted(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs last (file order, after test_otlp_metrics.py): the memory limits in compose.yaml
    (Grafana 1 GiB, collector 512 MiB, Alertmanager 128 MiB, ...) held through the smoke
    traffic. Prints each container's memory use, the figure docs/stack.md asks for."""
    ids = stack.compose("ps", "--quiet").stdout.split()
    assert ids, "no running containers"
    inspect = stack.docker("inspect", *ids)
    assert inspect.returncode == 0, inspect.stderr
    bad = {
        c["Name"]: {"OOMKilled": c["State"]["OOMKilled"], "RestartCount": c["RestartCount"]}
        for c in json.loads(inspect.stdout)
        if c["State"]["OOMKilled"] or c["RestartCount"]
    }
    stats = stack.docker("stats", "--no-stream", "--format", "{{.Name}}: {{.MemUsage}}", *ids)
    with capsys.disabled():  # shown on every run, not only on failure
        print("\n[smoke] memory use / limit:\n" + stats.stdout)
    assert not bad, bad
