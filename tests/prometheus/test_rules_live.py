"""The shipped rules on a real Prometheus scraping the real rag-api: every rule evaluates without
error, every SLO records data from the app's actual series, and a provider fault shows up in
the error ratios. (The alert → Alertmanager → webhook path is proven in tests/e2e.)"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest

from genai_telemetry import semconv
from harness import poll
from harness.procs import start_prometheus, start_rag_api

ADMIN_TOKEN = "test-admin-token-rules-live"
SLOS = {"chat-availability", "chat-latency", "llm-chat-success", "llm-ttft",
        "rag-answer-quality", "rag-user-satisfaction"}  # fmt: skip


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    r.raise_for_status()
    return r.json()["data"]["result"]


def _wait_for(
    prom: str, expr: str, ok: Any, traffic: Any = None, timeout: float = 40
) -> list[dict[str, Any]]:
    """Query until `ok(result)`, sending `traffic()` meanwhile (Prometheus finds its targets
    only after a few seconds, and rate() needs the counters to move between two scrapes)."""

    def probe() -> list[dict[str, Any]] | None:
        if traffic:
            traffic()
        result = _query(prom, expr)
        return result if ok(result) else None

    try:
        return poll(expr, probe, timeout, every=0.5)
    except TimeoutError:
        return _query(prom, expr)


_QUESTION = itertools.count()


def _chat(app: str, stream: bool = False, n: int = 1) -> None:
    path = "/v1/chat/stream" if stream else "/v1/chat"
    with httpx.Client(base_url=app, timeout=10) as c:
        for _ in range(n):
            # a new question each time: a cache hit would skip the model call
            r = c.post(path, json={"question": f"What does burn rate {next(_QUESTION)} measure?"})
            # the user likes it (the satisfaction SLO's events)
            verdict = {"request_id": r.headers["x-request-id"], "thumbs": "up"}
            c.post("/v1/feedback", json=verdict).raise_for_status()


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    app = start_rag_api(tmp_path, env={"ADMIN_TOKEN": ADMIN_TOKEN, "RATE_LIMIT_ENABLED": "false"})
    try:
        prom = start_prometheus(
            tmp_path,
            targets={"rag-api:8000": app.address},
            rule_group_interval="1s",  # the long-window group runs every 1m when shipped
        )
        try:
            yield app, prom
        finally:
            prom.stop()
    finally:
        app.stop()


def test_rules_evaluate_on_the_real_app(stack: Any) -> None:
    app, prom = stack

    def traffic() -> None:
        _chat(app.url, n=3)
        _chat(app.url, stream=True, n=2)

    # every SLO records an error ratio from the app's real series; healthy → 0
    result = _wait_for(
        prom.url,
        "slo:error_ratio:rate5m",  # NaN (0/0) until a rate window holds two different samples
        lambda r: {s["metric"]["slo"] for s in r if s["value"][1] != "NaN"} == SLOS,
        traffic,
    )
    assert {s["metric"]["slo"] for s in result} == SLOS, result
    ratios = {s["metric"]["slo"]: float(s["value"][1]) for s in result}
    assert ratios["chat-availability"] == 0
    assert ratios["llm-chat-success"] == 0
    assert ratios["rag-user-satisfaction"] == 0
    for long in ("slo:error_ratio:rate30d", "slo:error_budget_remaining:ratio"):
        got = _wait_for(prom.url, long, lambda r: len(r) == len(SLOS))
        assert len(got) == len(SLOS), long

    # a provider outage reaches the SLIs with the labels the app really uses
    r = httpx.put(
        f"{app.url}/admin/faults",
        json={"error_rate": 1.0},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    for slo in ("chat-availability", "llm-chat-success"):
        got = _wait_for(
            prom.url,
            f'slo:error_ratio:rate5m{{slo="{slo}"}} > 0',
            lambda r: len(r) == 1,
            traffic,
        )
        assert len(got) == 1, slo
    errors = _query(
        prom.url,
        f"sum by ({semconv.L_ERROR_TYPE}) ({semconv.GENAI_OPERATION_DURATION}_count"
        f'{{{semconv.L_OPERATION}="{semconv.OP_CHAT}", {semconv.L_ERROR_TYPE}!=""}})',
    )
    assert {s["metric"][semconv.L_ERROR_TYPE] for s in errors} == {semconv.ERROR_SERVER}

    # no rule failed to evaluate, none is left unevaluated
    groups = httpx.get(f"{prom.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    rules = [rule for g in groups for rule in g["rules"]]
    assert len(rules) > 200
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert bad == []
