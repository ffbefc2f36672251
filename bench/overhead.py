"""Benchmark 1 — instrumentation overhead: telemetry fully on versus off, in one run.

Two rag-api processes run side by side with the simulated provider at zero latency
(SIM_LATENCY_SCALE=0), no rate limiter and no response cache, so every request runs the whole
RAG pipeline:
  on   TELEMETRY_ENABLED=true: Prometheus metrics, traces (always-on sampler) and OTLP logs
       exported over OTLP/HTTP to a loopback sink (its own process) that accepts and discards
  off  TELEMETRY_ENABLED=false
They are loaded alternately (on/off, then off/on: ABBA cancels drift on a shared machine) by a
load generator in a separate process. The telemetry layer's CPU cost per request is the
difference of the app's process CPU time per request between the two.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import common


def run(quick: bool = False, rounds: int | None = None, seconds: float | None = None) -> dict:
    rounds = rounds or (1 if quick else 3)
    seconds = seconds or (6.0 if quick else 10.0)
    concurrency = 8
    print(f"[overhead] {rounds} ABBA round(s) x {seconds:.0f}s per segment, c={concurrency}")
    with (
        common.workdir("overhead") as tmp,
        common.otlp_sink("ok") as (sink, _),
        common.app(
            tmp, {"TELEMETRY_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": sink}, name="on"
        ) as on,
        common.app(tmp, {"TELEMETRY_ENABLED": "false"}, name="off") as off,
    ):
        apps = {"on": on, "off": off}
        for label, proc in apps.items():  # warm-up: imports, BM25 index, JIT-less caches
            common.run_load(proc.url, duration=2.0, concurrency=concurrency, raw=False)
            print(f"[overhead] warmed up {label}")
        segments: dict[str, list[common.Segment]] = {"on": [], "off": []}
        for r in range(rounds):
            for label in ("on", "off") if r % 2 == 0 else ("off", "on"):
                common.wait_quiet(1.0)
                seg = common.measure(label, apps[label], duration=seconds, concurrency=concurrency)
                segments[label].append(seg)
                print(
                    f"[overhead] round {r + 1} {label:>3}: "
                    f"{seg.load['throughput_rps']:.0f} req/s, p99 {seg.load['p99_ms']:.1f} ms"
                )
        common.wait_quiet(2.0)  # let the batch processors flush before reading the sink
        exported = common.sink_stats(sink)

    res = {k: common.merge(v) for k, v in segments.items()}
    loss = 1 - res["on"]["throughput_rps"] / res["off"]["throughput_rps"]
    cpu_cost = res["on"]["cpu_us_per_request"] - res["off"]["cpu_us_per_request"]
    rows = [
        [
            label,
            f"{m['requests']}",
            f"{m['ok']}",
            f"{m['throughput_rps']:.1f}",
            f"{m['p50_ms']:.2f}",
            f"{m['p99_ms']:.2f}",
            f"{m['cpu_us_per_request']:.0f}",
        ]
        for label, m in res.items()
    ]
    print()
    print(
        common.table(
            rows, ["telemetry", "requests", "200 OK", "req/s", "p50 ms", "p99 ms", "CPU µs/req"]
        )
    )
    print(f"throughput loss with telemetry on: {loss * 100:.1f}% (goal <= 5%)")
    print(f"telemetry CPU cost: {cpu_cost:.0f} µs per request")
    print(f"OTLP exports received by the sink: {exported['requests']} ({exported['bytes']} bytes)")
    result: dict[str, Any] = {
        "on": res["on"],
        "off": res["off"],
        "throughput_loss": loss,
        "telemetry_cpu_us_per_request": cpu_cost,
        "sink": exported,
        "goal_met": loss <= 0.05,
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    run(args.quick, args.rounds, args.seconds)
