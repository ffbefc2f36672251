"""The e2e tier may only rewrite hosts, ports and demo intervals of the shipped configs."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.openmetrics.exposition import generate_latest

from genobs.promql import metric_names
from harness import require_binary
from harness.procs import ALERTMANAGER_CONFIG, PROMETHEUS_RULES, start_prometheus
from slo import prices, rules
from tests.e2e.harness import render_alertmanager_config
from tests.e2e.history import (
    COST_BASELINE_HOURS,
    SLI_HISTORY_HOURS,
    backfill,
    cost_baseline_openmetrics,
    counters,
    history_openmetrics,
    moved,
    rates,
    read_by_rules,
    recorded_prices,
    sample_times,
    slos_without_history,
)

pytestmark = pytest.mark.e2e  # part of `make e2e`; fast

INTERVAL_KEYS = {"group_wait", "group_interval"}


def _strip(node: Any) -> Any:
    """The config without the keys the e2e tier may rewrite."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in INTERVAL_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def test_alertmanager_rewrite_touches_only_webhook_host_and_group_timings(tmp_path: Path) -> None:
    shipped = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    text = render_alertmanager_config("http://127.0.0.1:5555")
    rendered = yaml.safe_load(text)
    assert "rag-api:8000" not in text and "http://127.0.0.1:5555/v1/alerts" in text
    expected = yaml.safe_load(
        yaml.safe_dump(shipped).replace("http://rag-api:8000", "http://127.0.0.1:5555")
    )
    assert _strip(rendered) == _strip(expected)

    def timings(route: dict[str, Any]) -> list[tuple[str, str]]:
        out = [(route["group_wait"], route["group_interval"])]
        for child in route.get("routes", []):
            out += timings(child)
        return out

    assert set(timings(rendered["route"])) == {("1s", "2s")}
    # Still a valid config for the real Alertmanager (templates resolved next to the shipped file).
    amtool = require_binary("amtool")
    cfg = tmp_path / "alertmanager.yml"
    rendered["templates"] = [str(ALERTMANAGER_CONFIG.parent / t) for t in rendered["templates"]]
    cfg.write_text(yaml.safe_dump(rendered))
    out = subprocess.run([amtool, "check-config", str(cfg)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _exposition(requests: int) -> str:
    """A real OpenMetrics exposition (prometheus_client) after `requests` requests."""
    registry = CollectorRegistry()
    hist = Histogram(
        "http_server_request_duration_seconds",
        "d",
        ["http_route"],
        buckets=(0.05, 0.5, 5.12),  # nothing falls in the first
        registry=registry,
    )
    errors = Counter("llm_guardrail_checks", "g", ["guardrail"], registry=registry)
    unread = Counter("not_read_by_any_rule", "u", registry=registry)
    for i in range(requests):
        hist.labels(http_route='/v1/"chat"').observe(0.1 if i % 4 else 1.0)
        errors.labels(guardrail="pii").inc()
        unread.inc()
    return generate_latest(registry).decode()


def test_history_rates_keep_labels_and_drop_what_no_rule_reads() -> None:
    before, after = counters(_exposition(0)), counters(_exposition(60))
    per_second = read_by_rules(rates(before, after, 30.0))
    route = (("http_route", '/v1/"chat"'),)
    assert per_second[("http_server_request_duration_seconds_count", route)] == 2.0
    assert (
        per_second[("http_server_request_duration_seconds_bucket", (*route, ("le", "0.5")))] == 1.5
    )
    assert per_second[("llm_guardrail_checks_total", (("guardrail", "pii"),))] == 2.0
    # a bucket no event fell in stays in the history, flat: its rate reads 0, not absent
    assert (
        per_second[("http_server_request_duration_seconds_bucket", (*route, ("le", "0.05")))] == 0
    )
    assert "http_server_request_duration_seconds_bucket" in moved(per_second)
    assert moved({("flat_total", ()): 0.0}) == set()
    assert not any(name.startswith("not_read") for name, _ in per_second)
    assert not any(
        name.endswith(("_created", "_sum")) and "request" in name for name, _ in per_second
    )


def test_history_names_the_slos_whose_events_the_sample_lacks() -> None:
    """The sample lasts until this is empty: feedback, a share of the answers, may be missing."""
    from slo.spec import load_spec

    slos = load_spec().slos
    every_total = {name for s in slos for name in metric_names(s.sli.total("5m"))}
    assert slos_without_history(every_total) == []
    assert {"rag-user-satisfaction", "chat-availability"} <= set(slos_without_history([]))
    without_feedback = every_total - {"llm_user_feedback_total"}
    assert slos_without_history(without_feedback) == ["rag-user-satisfaction"]


def test_history_backfill_gives_prometheus_the_measured_rates(tmp_path: Path) -> None:
    """Backfilled with promtool, a real Prometheus reads every window back at the sampled rate."""
    per_second = read_by_rules(rates(counters(_exposition(0)), counters(_exposition(60)), 30.0))
    end = time.time() - 60
    target = {"job": "rag-api", "instance": "127.0.0.1:5555"}
    data = tmp_path / "data"
    backfill(data, history_openmetrics(per_second, target, end), "sli")
    backfill(data, cost_baseline_openmetrics("rag-api", 8.0, end), "cost")
    promtool = require_binary("promtool")
    out = subprocess.run(
        [promtool, "tsdb", "list", str(data)], capture_output=True, text=True, check=True
    )
    rows = [line.split() for line in out.stdout.strip().splitlines()[1:]]
    # BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
    expected = len(per_second) * len(sample_times(end, SLI_HISTORY_HOURS))
    price_samples = len(recorded_prices(end)) - 1  # a TYPE line, then one line per sample
    assert sum(int(r[4]) for r in rows) == (
        expected + COST_BASELINE_HOURS * 60 + 1 + price_samples
    ), out.stdout
    # history, not the present: Prometheus's head starts after the blocks (max time exclusive)
    assert (max(int(r[2]) for r in rows) - 1) / 1000 <= end + 0.001, out.stdout
    with start_prometheus(tmp_path, targets={}, rule_files=[], data_dir=data) as prom:
        for window in ("5m", "30m", "1h", "6h"):
            for (name, labels), rate in per_second.items():
                pairs = (*labels, *target.items())
                selector = ",".join(f"{k}={json.dumps(v)}" for k, v in pairs)
                query = f"rate({name}{{{selector}}}[{window}])"
                r = httpx.get(f"{prom.url}/api/v1/query", params={"query": query, "time": end})
                got = [float(v["value"][1]) for v in r.json()["data"]["result"]]
                assert got and abs(got[0] - rate) <= 0.03 * rate, (query, got, rate)
        baseline = 'avg_over_time(llm:cost_usd_per_hour:rate5m{service="rag-api"}[1d])'
        r = httpx.get(f"{prom.url}/api/v1/query", params={"query": baseline, "time": end})
        assert float(r.json()["data"]["result"][0]["value"][1]) == 8.0
        # the prices a running stack has recorded: no model reads as unpriced before the price
        # group's first evaluation (LLMUnpricedModelTokens would go pending)
        shipped = yaml.safe_load((PROMETHEUS_RULES / prices.RULES_FILE).read_text())
        want = {
            (r["labels"]["gen_ai_request_model"], r["labels"]["gen_ai_token_type"]): float(
                r["expr"].strip().removeprefix("vector(").removesuffix(")")
            )
            for g in shipped["groups"]
            for r in g["rules"]
            if r.get("record") == prices.PRICE
        }
        r = httpx.get(f"{prom.url}/api/v1/query", params={"query": prices.PRICE, "time": end + 5})
        got = {
            (s["metric"]["gen_ai_request_model"], s["metric"]["gen_ai_token_type"]): float(
                s["value"][1]
            )
            for s in r.json()["data"]["result"]
        }
        assert want and got == want
    # every page window holds a running stack's past
    page = next(a for a in rules.BURN_ALERTS if a.severity == "page")
    longest = max(rules.SECONDS[w] for c in page.conditions for w in c.windows)
    assert longest < SLI_HISTORY_HOURS * 3600
