"""Benchmark 6 — rag-api's telemetry against the official OpenTelemetry stack, on the same work.

Four apps side by side, all calling the same loopback fake OpenAI-compatible API (its own
process) for one embeddings call and one chat completion per request, and a fifth for the floor:
  rag-api on      the full telemetry contract (docs/telemetry.md): Prometheus metrics, every
                  trace sampled and exported, OTLP logs; LLM_PROVIDER=openai_compatible
  rag-api off     TELEMETRY_ENABLED=false (its stdout JSON logs remain)
  rag-api floor   rag-api off running, in every request, the contract's floor for what rag-api
                  on sent per request (bench.floor_app; started after the warm-up has shown it)
  official on     bench.peer_app --otel: the official `openai` client with
                  opentelemetry-instrumentation-genai-openai, the FastAPI instrumentation, the SDK
                  and OTLP/HTTP exporters for traces, metrics and logs, every trace sampled
  official off    bench.peer_app bare: the same app without OpenTelemetry
Each instrumented app exports to its own counting OTLP sink (harness.otlp_receiver, own
process), so the spans, log records and histogram observations it really sent are counted per
request (rag-api's metrics are scraped, so its observations are counted on /metrics).
Rounds are interleaved (each app's variants back to back, the order reversed every round, the
apps swapped every other round); each variant's cost per round is its CPU time per request
minus its own off twin's in that round; the figures are medians over rounds with the range.
`--together` loads all five apps at once in each round instead (a busy machine then changes
under all of them alike; their throughputs become shared-CPU figures).
The contract's floor (bench.floor's bare SDK calls for what rag-api on emitted: recording spans
and log records with no processor, no export; histogram observations with an exemplar) is
given two ways: timed in a tight loop of this process after every round, as CPU time like the
apps' figures; and run inside rag-api off's requests under the same load (rag-api floor − rag-api
off), where it pays what every call in a loaded app pays.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import cli, common, floor, floor_app
from bench.peer_figures import (
    FLOOR,
    PAIRS,
    costs,
    loss_beyond_floor,
    loss_pairs,
    per_request,
    round_losses,
    round_ratios,
)
from bench.stats import describe
from harness.procs import Proc, start_python_app

API_KEY = "sk-bench-not-a-secret"  # the fake accepts anything; the same header for both apps
TRAFFIC = "default"  # steady questions without a model: both apps use their default model

# name → (app, telemetry on)
VARIANTS: dict[str, tuple[str, bool]] = {
    "rag-api on": ("rag-api", True),
    "rag-api off": ("rag-api", False),
    FLOOR: ("rag-api", False),
    "official on": ("official", True),
    "official off": ("official", False),
}
# Loaded back to back within a group: each variant next to the off twin it is compared with.
GROUPS = (("rag-api on", "rag-api off", FLOOR), ("official on", "official off"))


@dataclass
class Variant:
    name: str
    proc: Proc
    sink: str | None  # OTLP endpoint it exports to (None: no export)
    requests: int = 0  # every request sent, warm-up included (to normalise the sink's counts)


def rag_api_env(fake_url: str, sink: str | None) -> dict[str, str]:
    env = {
        "LLM_PROVIDER": "openai_compatible",
        "OPENAI_BASE_URL": fake_url,
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_MAX_RETRIES": "0",
        "TELEMETRY_ENABLED": "true" if sink else "false",
    }
    if sink:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink
    return env


@contextlib.contextmanager
def start(
    name: str,
    tmp: Path,
    fake_url: str,
    sink: str | None,
    floor_counts: dict[str, float] | None = None,
) -> Iterator[Proc]:
    """One variant's app; FLOOR needs `floor_counts` (what rag-api on sends per request)."""
    app, _ = VARIANTS[name]
    label = name.replace(" ", "-")
    if app == "rag-api":
        env = rag_api_env(fake_url, sink)
        module = "demo_app"
        if name == FLOOR:
            assert floor_counts is not None
            env |= floor_app.counts_env(floor_counts)
            module = "bench.floor_app"
        with common.app(tmp, env, name=label, module=module) as proc:
            yield proc
        return
    args = ["--base-url", fake_url, *(["--otel"] if sink else [])]
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink} if sink else {}
    proc = start_python_app(tmp, "bench.peer_app", args, env, name=label)
    try:
        yield proc
    finally:
        proc.stop()


def run(
    quick: bool = False,
    rounds: int | None = None,
    seconds: float | None = None,
    concurrency: int = 8,
    latency_ms: float = 0.0,
    together: bool = False,
) -> dict[str, Any]:
    rounds = rounds or (3 if quick else 5)
    seconds = seconds or (5.0 if quick else 8.0)
    names = list(VARIANTS)
    print(
        f"[peers] {rounds} round(s) x {len(names)} apps x {seconds:.0f}s, c={concurrency}, "
        f"fake model latency {latency_ms:g} ms per call, "
        + ("all apps loaded at once" if together else "on/off twins back to back")
    )
    with (
        common.workdir("peers") as tmp,
        common.fake_openai(latency_ms) as fake_url,
        contextlib.ExitStack() as sinks,
    ):
        variants: dict[str, Variant] = {}
        with contextlib.ExitStack() as apps:
            for name in names:
                _, on = VARIANTS[name]
                if name == FLOOR:  # started once rag-api on has shown what it sends
                    continue
                sink = sinks.enter_context(common.otlp_sink("ok"))[0] if on else None
                proc = apps.enter_context(start(name, tmp, fake_url, sink))
                variants[name] = Variant(name, proc, sink)
            rag_url = variants["rag-api on"].proc.url + "/metrics"
            observed_before = floor.histogram_observations(httpx.get(rag_url, timeout=10).text)
            for v in variants.values():
                _warm_up(v, concurrency)
            sent = _sent_so_far(variants["rag-api on"], rag_url, observed_before)
            proc = apps.enter_context(start(FLOOR, tmp, fake_url, None, sent))
            variants[FLOOR] = Variant(FLOOR, proc, None)
            _warm_up(variants[FLOOR], concurrency)
            variants = {name: variants[name] for name in names}
            segments, floor_costs = _rounds(variants, rounds, seconds, concurrency, quick, together)
            observed = floor.histogram_observations(httpx.get(rag_url, timeout=10).text)
        # Apps stopped: every exporter flushed on shutdown (the peer's metrics only then).
        stats = {n: common.sink_stats(v.sink) if v.sink else None for n, v in variants.items()}
    counts = {n: per_request(stats[n], v.requests) for n, v in variants.items()}
    rag_requests = variants["rag-api on"].requests
    # (readiness probes before the first request are observed too: counted from there on)
    counts["rag-api on"]["observations"] = (observed - observed_before) / rag_requests
    return report(segments, counts, stats, floor_costs) | {
        "rounds": rounds,
        "seconds_per_segment": seconds,
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "together": together,
    }


def _warm_up(v: Variant, concurrency: int) -> None:
    """Imports, connection pools, caches: 2 s of the same load, counted as requests sent."""
    warm = common.run_load(
        v.proc.url, duration=2.0, concurrency=concurrency, traffic=TRAFFIC, raw=False
    )
    v.requests += warm["requests"]


EXPORT_SETTLE_S = 1.5  # longer than rag-api's export interval (OTEL_BSP_SCHEDULE_DELAY, 1 s)


def _sent_so_far(rag: Variant, metrics_url: str, observed_before: float) -> dict[str, float]:
    """What rag-api on sent per request so far (spans, log records with a trace, their
    attributes, histogram observations): the floor variant's counts."""
    time.sleep(EXPORT_SETTLE_S)
    assert rag.sink is not None
    counts = per_request(common.sink_stats(rag.sink), rag.requests)
    observed = floor.histogram_observations(httpx.get(metrics_url, timeout=10).text)
    counts["observations"] = (observed - observed_before) / rag.requests
    counts["logs"] = counts["logs_with_trace"]  # as contract_floor counts them
    return counts


def round_order(r: int) -> list[str]:
    """Round r's order (common.round_order): each app's variants back to back, the off twin
    next to each variant compared with it (their difference is the figure, so they should share
    the machine's state), the order within a group reversed every round, the two apps swapped
    every other round."""
    return common.round_order(GROUPS, r)


def _rounds(
    variants: dict[str, Variant],
    rounds: int,
    seconds: float,
    concurrency: int,
    quick: bool,
    together: bool,
) -> tuple[dict[str, list[common.Segment]], list[dict[str, float]]]:
    segments: dict[str, list[common.Segment]] = {n: [] for n in variants}
    floor_costs = []

    def one(name: str) -> common.Segment:
        v = variants[name]
        return common.measure(
            name, v.proc, duration=seconds, concurrency=concurrency, traffic=TRAFFIC
        )

    for r in range(rounds):
        common.wait_quiet(1.0)
        if together:  # all five at once: every app sees the same machine at the same time
            with ThreadPoolExecutor(len(variants)) as pool:
                done = dict(zip(variants, pool.map(one, variants), strict=True))
        else:
            done = {}
            for name in round_order(r):
                common.wait_quiet(1.0)
                done[name] = one(name)
        for name, seg in done.items():
            variants[name].requests += seg.load["requests"]
            segments[name].append(seg)
            print(
                f"[peers] round {r + 1} {name:>12}: {seg.load['throughput_rps']:.0f} req/s, "
                f"{seg.cpu_us_per_request:.0f} µs CPU/req, statuses {seg.load['statuses']}"
            )
        sink = variants["rag-api on"].sink
        floor_costs.append(floor.call_costs(common.sink_stats(sink) if sink else None, quick))
    return segments, floor_costs


def report(
    segments: dict[str, list[common.Segment]],
    counts: dict[str, dict[str, float]],
    stats: dict[str, Any],
    floor_costs: list[dict[str, float]],
) -> dict[str, Any]:
    merged = {n: common.merge(s) for n, s in segments.items()}
    cost = costs(segments)
    rows = []
    for name, m in merged.items():
        c = counts[name]
        cpu = [s.cpu_us_per_request for s in segments[name]]
        rows.append(
            [
                name,
                f"{m['requests']}",
                f"{m['ok']}",
                f"{m['throughput_rps']:.0f}",
                f"{statistics.median(cpu):.0f} ({min(cpu):.0f}–{max(cpu):.0f})",
                f"{c['spans']:.2f}",
                f"{c['logs']:.2f}",
                f"{c['observations']:.2f}",
            ]
        )
    print()
    header = ["app", "requests", "200 OK", "req/s", "CPU µs/req median (range)"]
    print(common.table(rows, [*header, "spans/req", "logs/req", "observations/req"]))
    records = {app: counts[f"{app} on"]["spans"] + counts[f"{app} on"]["logs"] for app, *_ in PAIRS}
    print()
    for app, *_ in PAIRS:
        c = cost[app]
        per_record = c["median"] / records[app] if records[app] else float("nan")
        print(
            f"{app} telemetry: {c['median']:.0f} µs CPU per request "
            f"(rounds {c['min']:.0f}–{c['max']:.0f}); {per_record:.0f} µs per span or log record"
        )
    loss = {
        name: 1 - merged[on]["throughput_rps"] / merged[off]["throughput_rps"]
        for name, on, off in loss_pairs({n for n, s in segments.items() if s})
    }
    print(
        "throughput loss with telemetry on: "
        + ", ".join(f"{app} {value:.1%}" for app, value in loss.items() if app != FLOOR)
        + (f"; the floor's bare calls in rag-api off: {loss[FLOOR]:.1%}" if FLOOR in loss else "")
    )
    by_round = round_losses(segments)
    for app, values in by_round.items():  # each round's on and off twins share its window
        if values is not None:
            print(f"  {app}, round by round: {describe(values, '.1%')}")
    beyond = loss_beyond_floor(segments)
    if beyond is not None:
        print(f"  rag-api's loss beyond the floor's, round by round: {describe(beyond, '+.1%')}")
    # A median at or below 0 µs is noise (CPU accounting on a busy or throttled machine): no ratio.
    official = cost["official"]["median"]
    ratio = cost["rag-api"]["median"] / official if official > 0 else float("nan")
    print(f"rag-api / official telemetry CPU per request: {ratio:.2f} (goal <= 0.5)")
    paired = round_ratios(segments)
    if paired is not None:  # the same, round by round: each ratio's two figures share a window
        print(f"  round by round: {describe(paired)}")
    floor_us, loaded_ratio = floor.report_floors(
        counts["rag-api on"], cost["rag-api"]["median"], cost.get(FLOOR), floor_costs, FLOOR
    )
    return {
        "variants": merged,
        "counts_per_request": counts,
        "sinks": stats,
        "telemetry_cpu_us_per_request": cost,
        "throughput_loss": loss,
        "throughput_loss_by_round": by_round,
        "loss_beyond_floor_by_round": beyond,
        "ratio_to_official": ratio,
        "ratio_to_official_by_round": paired,
        "floor_us": floor_us,
        "floor_call_costs_us": floor_costs,
        "ratio_to_floor": cost["rag-api"]["median"] / floor_us,
        "ratio_to_floor_under_load": loaded_ratio,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=cli.positive_int, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--seconds", type=cli.positive_float, help="load per app and round (default 8)"
    )
    parser.add_argument(
        "--concurrency", type=cli.positive_int, default=8, help="connections (default 8)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the fake model's delay per call (0)"
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="load all five apps at the same time in each round (on a busy machine: every app "
        "then sees the same load; throughput figures are shared-CPU figures)",
    )
    args = parser.parse_args(argv)
    run(args.quick, args.rounds, args.seconds, args.concurrency, args.latency_ms, args.together)
