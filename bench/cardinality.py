"""Benchmark 2 — cardinality: series on /metrics after hostile traffic.

A baseline of steady, valid traffic is followed by thousands of requests that each carry fresh
model, feature, tier, user and conversation values (half with an unknown model → 422), JSON and
streamed, plus requests to random raw paths (→ 404) and with odd methods (→ 405). A Prometheus
scrape of /metrics afterwards must hold a fixed number of series, whatever the clients sent.
Goal: ≤ 1,500 series.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import cli, common

LIMIT = 1500
# Fragments of the hostile values (see bench.loadgen.hostile_requests): none may become a label.
LEAK = re.compile(r"^(?:model|feature|tier|user|conv|req)-\d+|^/v1/chat/\d+/")


def scrape(url: str) -> tuple[int, Counter[str], list[str]]:
    """(series, series per metric family, label values that leaked a client-chosen value)."""
    text = httpx.get(url + "/metrics", timeout=30).text
    per_family: Counter[str] = Counter()
    leaks: list[str] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            per_family[family.name] += 1
            leaks.extend(
                f"{sample.name}{{{k}={v!r}}}" for k, v in sample.labels.items() if LEAK.match(v)
            )
    return sum(per_family.values()), per_family, leaks


def run(quick: bool = False, requests: int | None = None) -> dict[str, Any]:
    hostile = requests or (2000 if quick else 6000)
    with common.workdir("cardinality") as tmp, common.app(tmp, {}) as proc:
        steady = common.run_load(
            proc.url, duration=120, concurrency=8, limit=500, traffic="steady", raw=False
        )
        base_total, _, _ = scrape(proc.url)
        print(f"[cardinality] after {steady['requests']} steady requests: {base_total} series")
        # Two batches with disjoint values: a fixed bound means the second adds nothing.
        first = common.run_load(
            proc.url, duration=300, concurrency=8, limit=hostile // 2, traffic="hostile", raw=False
        )
        mid_total, _, _ = scrape(proc.url)
        print(f"[cardinality] after {first['requests']} hostile requests: {mid_total} series")
        load = common.run_load(
            proc.url,
            duration=300,
            concurrency=8,
            limit=hostile - hostile // 2,
            start=hostile // 2,
            traffic="hostile",
            raw=False,
        )
        total, per_family, leaks = scrape(proc.url)
        load["requests"] += first["requests"]
        for status, n in first["statuses"].items():
            load["statuses"][status] = load["statuses"].get(status, 0) + n

    print(f"[cardinality] hostile requests: {load['requests']} (statuses {load['statuses']})")
    rows = [[name, str(n)] for name, n in per_family.most_common()]
    print()
    print(common.table(rows, ["metric family", "series"]))
    print(
        f"series: {base_total} after steady traffic, {mid_total} after half the hostile traffic, "
        f"{total} after all {load['requests']} hostile requests (goal <= {LIMIT}); "
        f"client-chosen values found in labels: {len(leaks)}"
    )
    for leak in leaks[:10]:
        print(f"  LEAK {leak}")
    return {
        "steady_requests": steady["requests"],
        "series_after_steady": base_total,
        "hostile_requests": load["requests"],
        "hostile_statuses": load["statuses"],
        "series_after_hostile": total,
        "series_after_first_hostile_half": mid_total,
        "growth": total - base_total,
        "growth_second_half": total - mid_total,
        "per_family": dict(per_family),
        "leaked_label_values": leaks[:50],
        "goal_met": total <= LIMIT and not leaks and total == mid_total,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=cli.positive_int, help="hostile requests to send")
    args = parser.parse_args(argv)
    run(args.quick, args.requests)
