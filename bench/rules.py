"""Benchmark 3 — rule evaluation: how long every shipped rule group takes on a real Prometheus.

The real Prometheus binary loads the shipped prometheus.yml and prometheus/rules/*.yml (via the
test harness, with 1 s scrape and evaluation intervals) and scrapes a real rag-api under steady
demo traffic. Figures come from Prometheus itself: `prometheus_rule_group_last_duration_seconds`
(sampled every second; the maximum and the median are reported) and, per rule,
`evaluationTime` from /api/v1/rules.

Before Prometheus starts, its TSDB is backfilled (`promtool tsdb create-blocks-from
openmetrics`) with --history-days of the series the long-window SLO rules read
(`avg_over_time(slo:…:rate5m[30d])`), one sample per shipped evaluation interval, so those
rules scan as many samples as they would after a month of operation. Raw app metrics are not
backfilled (their longest windows are hours), so rules over them see minutes of data.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import cli, common
from harness import ROOT
from harness.procs import PROMETHEUS_CONFIG, PROMETHEUS_RULES, start_prometheus

# avg_over_time(slo:error_events:rate5m{service="rag-api", slo="x"}[30d]) → metric, labels
LONG_WINDOW_INPUT = re.compile(r"_over_time\((slo:[\w:]+)\{([^}]*)\}\[(\d+)d\]")


def _duration_s(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(text[:-1]) * units[text[-1]]


def backfill(data_dir: Path, days: int, work: Path) -> tuple[int, int]:
    """Write `days` of history for the long-window SLO inputs into a TSDB at data_dir.

    Returns (series, samples). One sample per shipped evaluation interval, ending 10 minutes
    ago so the running Prometheus' head never overlaps the blocks.
    """
    import yaml

    interval = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["global"]["evaluation_interval"]
    step = _duration_s(interval)
    # The inputs are recorded by the short groups: backfill exactly the label sets those
    # rules write (service, slo and any extra labels such as team), so history and live
    # samples are one series.
    recorded: dict[str, list[dict[str, str]]] = defaultdict(list)
    inputs: set[tuple[str, str]] = set()
    for rules in PROMETHEUS_RULES.glob("*.yml"):
        text = rules.read_text()
        inputs.update((m, matchers) for m, matchers, _ in LONG_WINDOW_INPUT.findall(text))
        for group in (yaml.safe_load(text) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "record" in rule:
                    recorded[rule["record"]].append(rule.get("labels") or {})
    series: set[tuple[str, str]] = set()
    for metric, matchers in inputs:
        wanted = dict(re.findall(r'(\w+)="([^"]*)"', matchers))
        for labels in recorded.get(metric, []):
            if all(labels.get(k) == v for k, v in wanted.items()):
                rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                series.add((metric, "{" + rendered + "}"))
    end = int(time.time()) - 600
    start = end - days * 86400
    by_metric: dict[str, list[str]] = defaultdict(list)
    for metric, labels in sorted(series):
        by_metric[metric].append(labels)
    om = work / "history.om"
    samples = 0
    with om.open("w") as f:
        for metric, label_sets in by_metric.items():
            base = 0.02 if "error" in metric else 4.0  # req/s of a busy demo, 0.5% errors
            f.write(f"# TYPE {metric} gauge\n")
            for labels in label_sets:
                # A daily wave (XOR-compressed chunks of varying values, like real data).
                f.writelines(
                    f"{metric}{labels} {base * (1 + 0.5 * math.sin(t / 13751)):.6g} {t}\n"
                    for t in range(start, end, step)
                )
                samples += len(range(start, end, step))
        f.write("# EOF\n")
    subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            str(om),
            str(data_dir),
        ],
        check=True,
        capture_output=True,
    )
    om.unlink()
    return len(series), samples


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


def _sample(prom_url: str, app_url: str, seconds: float) -> dict[tuple[str, str], list[float]]:
    """Steady traffic for `seconds` while sampling every group's last evaluation duration."""
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    load = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            f"--url={app_url}",
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
        for key, value in _group_durations(prom_url).items():
            if value > 0:  # 0 until the group's first evaluation
                samples[key].append(value)
    load.wait(timeout=60)
    return samples


def _group_rows(
    rules_api: dict[str, Any], samples: dict[tuple[str, str], list[float]]
) -> list[dict[str, Any]]:
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
    return groups


def _print_groups(groups: list[dict[str, Any]]) -> None:
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


def run(
    quick: bool = False, seconds: float | None = None, history_days: int | None = None
) -> dict[str, Any]:
    seconds = seconds or (20.0 if quick else 60.0)
    history_days = (3 if quick else 30) if history_days is None else history_days
    with common.workdir("rules") as tmp, common.app(tmp, {}) as app:
        data_dir = tmp / "tsdb"
        backfilled = (0, 0)
        if history_days:
            t0 = time.monotonic()
            backfilled = backfill(data_dir, history_days, tmp)
            print(
                f"[rules] backfilled {history_days} d of {backfilled[0]} long-window SLO input "
                f"series ({backfilled[1]:,} samples) in {time.monotonic() - t0:.0f} s"
            )
        prom = start_prometheus(
            tmp,
            targets={"rag-api:8000": app.address},
            data_dir=data_dir,
            # Every group at 2 s (also the 1m long-window SLO groups): many evaluations in a
            # short run; the cost of one evaluation does not depend on the interval.
            rule_group_interval="2s",
            # As compose.yaml: the default 15d would delete the backfilled month.
            extra_args=["--storage.tsdb.retention.time=35d"],
        )
        try:
            samples = _sample(prom.url, app.url, seconds)
            rules_api = httpx.get(prom.url + "/api/v1/rules", timeout=10).json()["data"]
            failures = _failures(prom.url)
            head_series = _self_metric(prom.url, "prometheus_tsdb_head_series")
        finally:
            prom.stop()

    groups = _group_rows(rules_api, samples)
    _print_groups(groups)
    total_median = sum(g["median_ms"] for g in groups if g["median_ms"] == g["median_ms"])
    print(
        f"{len(groups)} groups, {sum(g['rules'] for g in groups)} rules; sum of medians "
        f"{total_median:.1f} ms per evaluation cycle; rule evaluation failures: {failures:.0f}; "
        f"head series: {head_series:.0f}"
    )
    if history_days:
        print(
            f"with {history_days} d of history for the long-window SLO inputs "
            f"({backfilled[1]:,} samples); raw app series: minutes"
        )
    else:
        print("caveat: no backfilled history: long-window rules touch few samples")
    return {
        "groups": groups,
        "sum_of_medians_ms": total_median,
        "evaluation_failures": failures,
        "head_series": head_series,
        "seconds": seconds,
        "history_days": history_days,
        "backfilled_series": backfilled[0],
        "backfilled_samples": backfilled[1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=cli.positive_float)
    parser.add_argument(
        "--history-days", type=int, help="days of backfilled SLO history (default 30; quick 3)"
    )
    args = parser.parse_args(argv)
    run(args.quick, args.seconds, args.history_days)
