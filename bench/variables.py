"""Benchmark 8 — dashboard variables: how long the shipped dashboards' Prometheus variable
lookups take over long time ranges, on a real Prometheus.

Most variables are `label_values(selector, label)`: Grafana asks Prometheus's label-values API,
which reads the index only. The *Provider* variable is a `query_result` (it also lists providers
named only in the older `gen_ai_system`, which a label lookup cannot rename): an instant query
that reads every sample of the range (`last_over_time(…[$__range])`). This benchmark measures
both side by side, asked the way Grafana asks them (grafana-prometheus `metric_find_query`:
label values with `match[]`, `start` and `end`; query_result at the range's end, `$__range` in
seconds), on a TSDB backfilled (`promtool tsdb create-blocks-from openmetrics`) with --days of
`gen_ai_client_operation_duration_seconds_count` series for --series label sets (providers ×
models × operations × error types, an eighth naming the provider in `gen_ai_system` only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench import cli, common
from harness import ROOT
from harness.grafana_interpolation import Interpolation, Json, substitute
from harness.grafana_variables import definition, variable_query
from harness.procs import start_prometheus

METRIC = "gen_ai_client_operation_duration_seconds_count"
DASHBOARDS = ROOT / "grafana" / "dashboards"
TRIES = 7


def backfill(data_dir: Path, work: Path, series: int, days: float, step: int) -> int:
    """`days` (and an hour more) of the operation histogram's count for `series` label sets,
    one sample every `step` seconds, ending 10 minutes ago. Returns the number of samples."""
    end = int(time.time()) - 600
    times = range(end - int(days * 86400) - 3600, end, step)
    om = work / "history.om"
    with om.open("w") as f:
        f.write(f"# TYPE {METRIC} gauge\n")  # the type is not stored
        for n in range(series):
            provider = (
                f'gen_ai_system="p{n % 3}"' if n % 8 == 7 else f'gen_ai_provider_name="p{n % 3}"'
            )
            labels = (
                f'job="rag-api",{provider},gen_ai_request_model="m{n // 3 % 4}",'
                f'gen_ai_operation_name="{("chat", "embeddings")[n // 12 % 2]}",'
                f'error_type="{("", "429", "500")[n // 24 % 3]}",instance="i{n}"'
            )
            f.writelines(f"{METRIC}{{{labels}}} {i} {t}\n" for i, t in enumerate(times))
        f.write("# EOF\n")
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(data_dir)],
        check=True,
        capture_output=True,
    )
    om.unlink()
    return series * len(times)


def variable_queries() -> dict[str, tuple[Json, Json]]:
    """ "dashboard $name" → (dashboard, variable), for the Prometheus query variables over METRIC
    (one entry per distinct definition)."""
    out: dict[str, tuple[Json, Json]] = {}
    seen: set[str] = set()
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for var in dashboard.get("templating", {}).get("list", []):
            text = definition(var)
            if var.get("type") == "query" and METRIC in text and text not in seen:
                seen.add(text)
                out[f"{dashboard['uid']} ${var['name']}"] = (dashboard, var)
    return out


def _ask(client: httpx.Client, found: tuple[Json, Json], seconds: int, end: float) -> float:
    """One lookup as Grafana sends it; seconds it took. Other variables at their All value."""
    dashboard, var = found
    query = variable_query(var)
    if query is None:
        raise ValueError(f"unsupported variable query {definition(var)!r}")
    promql = substitute(query.promql, dashboard, Interpolation(range=f"{seconds}s"))
    if query.instant:
        path, params = "/api/v1/query", {"query": promql, "time": str(end)}
    else:
        path = f"/api/v1/label/{query.label}/values"
        params = {"start": str(end - seconds), "end": str(end)}
        params |= {"match[]": promql} if promql else {}
    t0 = time.perf_counter()
    body = client.get(path, params=params).json()
    elapsed = time.perf_counter() - t0
    data = body.get("data")
    if body.get("status") != "success" or not (data.get("result") if "result" in data else data):
        raise RuntimeError(f"{definition(var)!r} over {seconds} s: no values ({body})")
    return elapsed


def run(
    quick: bool = False, days: float | None = None, series: int | None = None, step: int = 30
) -> dict[str, Any]:
    days = days or (2.0 if quick else 7.0)
    series = series or 48
    ranges = [r for r in (3600, 86400, 7 * 86400) if r <= days * 86400]
    with common.workdir("variables") as tmp:
        t0 = time.monotonic()
        samples = backfill(tmp / "tsdb", tmp, series, days, step)
        print(f"[variables] backfilled {series} series × {days:g} d at {step} s "
              f"({samples:,} samples) in {time.monotonic() - t0:.0f} s")  # fmt: skip
        prom = start_prometheus(
            tmp,
            targets={},
            data_dir=tmp / "tsdb",
            rule_files=[],
            extra_args=["--storage.tsdb.retention.time=35d"],
        )
        # One client, kept alive: a new one per request costs more than a label lookup.
        try:
            end = time.time() - 600
            queries = variable_queries()
            with httpx.Client(base_url=prom.url, timeout=120) as client:
                ms = {
                    (name, r): statistics.median(
                        _ask(client, found, r, end) * 1000 for _ in range(TRIES)
                    )
                    for name, found in queries.items()
                    for r in ranges
                }
        finally:
            prom.stop()
    rows = [
        [name, definition(var).split("(", 1)[0], *(f"{ms[name, r]:.1f}" for r in ranges)]
        for name, (_, var) in queries.items()
    ]
    print(common.table(rows, ["variable", "kind", *(f"{r // 3600} h ms" for r in ranges)]))
    in_range = {r: samples * r / (days * 86400 + 3600) for r in ranges}
    for r in ranges:
        slowest = max(ms[name, r] for name in queries)
        print(f"{r // 3600} h: {in_range[r]:,.0f} samples in range; slowest lookup "
              f"{slowest:.1f} ms = {slowest * 1e6 / in_range[r]:.0f} ns per sample")  # fmt: skip
    return {
        "series": series,
        "days": days,
        "step_s": step,
        "samples": samples,
        "median_ms": {f"{name} {r}s": v for (name, r), v in ms.items()},
        "samples_in_range": {str(r): round(n) for r, n in in_range.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--days", type=cli.positive_float, help="history (default 7; quick 2)")
    parser.add_argument("--series", type=cli.positive_int, help="label sets (default 48)")
    parser.add_argument("--step", type=cli.positive_int, default=30, help="seconds per sample")
    args = parser.parse_args(argv)
    run(args.quick, args.days, args.series, args.step)
