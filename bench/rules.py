"""Benchmark 3 — rule evaluation: how long every shipped rule group takes on a real Prometheus.

The real Prometheus binary loads the shipped prometheus.yml and prometheus/rules/*.yml (via the
test harness, with 1 s scrape and evaluation intervals) and scrapes a real rag-api under steady
demo traffic. Figures come from Prometheus itself: `prometheus_rule_group_last_duration_seconds`
(sampled every second; the maximum and the median are reported) and, per rule,
`evaluationTime` from /api/v1/rules.

Caveat printed with the figures: the TSDB holds minutes of data, not 30 days, so range
functions over long windows touch few samples; rule cost grows with the samples in the window.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import common
from tests.support import ROOT
from tests.support.procs import start_prometheus


def _group_durations(prom_url: str) -> dict[tuple[str, str], float]:
    """{(rule file name, group name): last evaluation duration in seconds}."""
    text = httpx.get(prom_url + "/metrics", timeout=10).text
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "prometheus_rule_group_last_duration_seconds":
            for s in family.samples:
                path, _, group = s.labels["rule_group"].rpartition(";")
                out[(path.rsplit("/", 1)[-1], group)] = s.value
    return out


def _self_metric(prom_url: str, name: str) -> float:
    text = httpx.get(prom_url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == name:
            return sum(s.value for s in family.samples)
    return float("nan")


def _failures(prom_url: str) -> float:
    text = httpx.get(prom_url + "/metrics", timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == "prometheus_rule_evaluation_failures":
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


def run(quick: bool = False, seconds: float | None = None) -> dict[str, Any]:
    seconds = seconds or (20.0 if quick else 60.0)
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    with (
        common.workdir("rules") as tmp,
        common.app(tmp, {}) as app,
        # Every group at 2 s, also the long-window SLO groups shipped at 1m: each gets evaluated
        # many times in a short run (the cost of one evaluation does not depend on the interval).
        start_prometheus(
            tmp, targets={"rag-api:8000": app.address}, rule_group_interval="2s"
        ) as prom,
    ):
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                f"--url={app.url}",
                f"--duration={seconds}",
                "--concurrency=4",
                "--rate=20",  # demo-like traffic, not a CPU hog next to Prometheus
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        print(f"[rules] steady traffic + 1 s evaluation for {seconds:.0f} s")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(1.0)
            for key, value in _group_durations(prom.url).items():
                if value > 0:  # 0 until the group's first evaluation
                    samples[key].append(value)
        load.wait(timeout=60)
        rules_api = httpx.get(prom.url + "/api/v1/rules", timeout=10).json()["data"]
        failures = _failures(prom.url)
        head_series = _self_metric(prom.url, "prometheus_tsdb_head_series")

    groups: list[dict[str, Any]] = []
    for g in rules_api["groups"]:
        values = samples.get((g["file"].rsplit("/", 1)[-1], g["name"]), [])
        slowest = max(g["rules"], key=lambda r: r.get("evaluationTime", 0), default=None)
        groups.append(
            {
                "group": g["name"],
                "file": g["file"].rsplit("/", 1)[-1],
                "rules": len(g["rules"]),
                "median_ms": statistics.median(values) * 1000 if values else float("nan"),
                "max_ms": max(values) * 1000 if values else float("nan"),
                "evaluations_sampled": len(values),
                "unhealthy_rules": sum(1 for r in g["rules"] if r.get("health") != "ok"),
                "slowest_rule": (slowest or {}).get("name", ""),
                "slowest_rule_ms": (slowest or {}).get("evaluationTime", 0) * 1000,
            }
        )
    groups.sort(key=lambda g: -g["max_ms"])
    rows = [
        [
            g["group"],
            g["file"],
            str(g["rules"]),
            f"{g['median_ms']:.2f}",
            f"{g['max_ms']:.2f}",
            f"{g['slowest_rule']} ({g['slowest_rule_ms']:.2f})",
            str(g["unhealthy_rules"]),
        ]
        for g in groups
    ]
    print()
    print(
        common.table(
            rows,
            ["group", "file", "rules", "median ms", "max ms", "slowest rule (ms)", "unhealthy"],
        )
    )
    total_median = sum(g["median_ms"] for g in groups if g["median_ms"] == g["median_ms"])
    print(
        f"{len(groups)} groups, {sum(g['rules'] for g in groups)} rules; sum of medians "
        f"{total_median:.1f} ms per evaluation cycle; rule evaluation failures: {failures:.0f}; "
        f"head series: {head_series:.0f}"
    )
    print("caveat: minutes of data, not 30 days: long-window rules touch few samples here")
    return {
        "groups": groups,
        "sum_of_medians_ms": total_median,
        "evaluation_failures": failures,
        "head_series": head_series,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    run(args.quick, args.seconds)
