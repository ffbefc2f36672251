"""A running stack's past for a fresh e2e Prometheus, backfilled with promtool before it starts.

The history is the scenario's own healthy traffic: the live rag-api's counters and histograms
are read (/metrics, in the OpenMetrics format Prometheus scrapes) before and after a short sample
of that traffic, which lasts until every SLO's events are in it (`slos_without_history`: user
feedback comes from a share of the answers, so a short sample may hold none yet), and every
series that moved is written back in time at its measured rate, under
the labels the live scrape gives it (same job, same instance). To Prometheus it looks like the
same rag-api having served that traffic for hours and restarted when the sample began: the
history ends there, the live counters start from zero, and rate() counts the restart as one.
So every window, from 5m to 6h, holds a running stack's past from the first evaluation on, per
model, route and tier alike, with no live warm-up and no hole before the first scrape.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from genobs.promql import metric_names
from harness import require_binary
from harness.procs import PROMETHEUS_RULES
from slo import prices
from slo.llm_alerts import COST_RATE
from slo.spec import load_spec

# Longer than the longest page window (6h): every page window holds a running stack's past and
# detection takes as long as in a running stack. Only raw series: the recorded long windows
# (1d, 3d) stay young, as the slow-burn ticket's history guard expects.
SLI_HISTORY_HOURS = 7
# The previous day of spend LLMCostSpike compares with (its baseline ends 10 minutes ago).
COST_BASELINE_HOURS = 25
COST_RECORD = COST_RATE  # the recording rule LLMCostSpike reads (slo/llm_alerts.py)
# Sample spacing: the stack's scrape interval (5 s) over the last minutes, which the 5m windows
# read; further back a step of 1/40 of the age, so a window starting there misses at most 2.5%
# of its healthy events (rate() extrapolates little to a window start when the live samples
# are dense) at a fraction of the samples, which keeps promtool quick.
RECENT_S, RECENT_STEP_S, OLD_STEP_DIVISOR = 420, 5, 40
# What Prometheus 2.42 asks a target for: the history keeps the labels that format gives.
SCRAPE_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
# Recorded prices before the history's end: longer than the lookback (5 m) Prometheus reads an
# instant vector with.
PRICE_HISTORY_S = 600
_VECTOR = re.compile(r"vector\(([0-9.eE+-]+)\)")
BACKFILLED_TYPES = ("counter", "histogram")  # gauges are the live process's own

Series = tuple[str, tuple[tuple[str, str], ...]]  # sample name, sorted labels


def counters(exposition: str) -> dict[Series, float]:
    """Counter and histogram samples of an OpenMetrics exposition, by series."""
    out: dict[Series, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.type not in BACKFILLED_TYPES:
            continue
        for s in family.samples:
            if not s.name.endswith("_created"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def rates(before: Mapping[Series, float], after: Mapping[Series, float], seconds: float):
    """Per-second increase of every series of the later reading, 0 for those that did not move:
    a running process exposes a histogram's every bucket, so the past holds the bucket of bad
    events (flat) even when the sample held none, and its rate reads 0, not absent."""
    return {k: max(v - before.get(k, 0.0), 0.0) / seconds for k, v in after.items()}


def moved(per_second: Mapping[Series, float]) -> set[str]:
    """Sample names of the series that counted events in the sample."""
    return {name for (name, _), rate in per_second.items() if rate > 0}


def sample_times(end: float, hours: float) -> list[float]:
    """Ascending sample times of a history ending exactly at `end`."""
    ages = list(range(0, RECENT_S + 1, RECENT_STEP_S))
    while ages[-1] < hours * 3600:
        ages.append(min(ages[-1] + max(RECENT_STEP_S, ages[-1] // OLD_STEP_DIVISOR), hours * 3600))
    return [end - ago for ago in reversed(ages)]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: Iterable[tuple[str, str]]) -> str:
    return name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def read_by_rules(per_second: Mapping[Series, float]) -> dict[Series, float]:
    """The series of the families the shipped rules read (the others cannot change an alert)."""
    rules = "\n".join(p.read_text() for p in sorted(PROMETHEUS_RULES.glob("*.yml")))
    names = {name for name, _ in per_second}
    read = {n for n in names if re.search(rf"\b{re.escape(n)}\b", rules)}
    return {k: v for k, v in per_second.items() if k[0] in read}


def slos_without_history(names: Iterable[str]) -> list[str]:
    """SLOs whose total query reads none of the sample names `names`: a history of those names
    would hold none of their events."""
    have = set(names)
    return [s.name for s in load_spec().slos if not metric_names(s.sli.total("5m")) & have]


def history_openmetrics(
    per_second: Mapping[Series, float], target: Mapping[str, str], end: float
) -> str:
    """Every series at its rate for SLI_HISTORY_HOURS up to `end`, its value growing from 0 (a
    process's counter), under the `target` labels (job, instance) of the live scrape."""
    times = sample_times(end, SLI_HISTORY_HOURS)
    lines = []
    # Typed gauge: OpenMetrics would want whole counter/histogram families (_created, _sum);
    # Prometheus stores samples, and rate() does not read the type.
    by_name: dict[str, list[Series]] = {}
    for key in sorted(per_second):
        by_name.setdefault(key[0], []).append(key)
    for name, keys in by_name.items():
        lines.append(f"# TYPE {name} gauge")
        for key in keys:
            series = _series(name, sorted({**dict(key[1]), **target}.items()))
            r = per_second[key]
            lines += [f"{series} {r * (t - times[0]):.6f} {t:.3f}" for t in times]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def cost_baseline_openmetrics(service: str, usd_per_hour: float, end: float) -> str:
    """COST_BASELINE_HOURS of the recorded spend, one sample a minute up to `end` (its own file:
    promtool reads its input once per 2h block, so the long baseline stays apart), and the
    recorded prices of the last minutes."""
    series = _series(COST_RECORD, [("service", service)])
    ages = range(COST_BASELINE_HOURS * 3600, -1, -60)
    lines = [f"# TYPE {COST_RECORD} gauge"]
    lines += [f"{series} {usd_per_hour} {end - ago:.3f}" for ago in ages]
    return "\n".join([*lines, *recorded_prices(end), "# EOF"]) + "\n"


def recorded_prices(end: float) -> list[str]:
    """The price series of the shipped llm-prices.yml, as a running stack has them recorded
    (one sample a minute, PRICE_HISTORY_S up to `end`). A fresh Prometheus has none until its
    price group first runs, and a group evaluated before it would see every model unpriced
    (LLMUnpricedModelTokens pending on its first evaluation); a restarted one still sees the
    recorded prices within the lookback window."""
    doc = yaml.safe_load((PROMETHEUS_RULES / prices.RULES_FILE).read_text())
    lines = [f"# TYPE {prices.PRICE} gauge"]
    for rule in (r for g in doc["groups"] for r in g["rules"] if r.get("record") == prices.PRICE):
        value = _VECTOR.fullmatch(rule["expr"].strip())
        assert value, f"{prices.RULES_FILE}: a price that is not vector(number): {rule['expr']}"
        series = _series(prices.PRICE, sorted(rule["labels"].items()))
        lines += [f"{series} {value[1]} {end - ago:.3f}" for ago in range(PRICE_HISTORY_S, -1, -60)]
    return lines


def backfill(data_dir: Path, openmetrics: str, name: str) -> None:
    """TSDB blocks from an OpenMetrics text, into the data directory Prometheus will start on."""
    promtool = require_binary("promtool")
    data_dir.mkdir(parents=True, exist_ok=True)
    src = data_dir.parent / f"{name}.om"
    src.write_text(openmetrics)
    out = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(src), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {out.stderr[-2000:]}")
