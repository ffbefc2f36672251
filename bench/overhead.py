"""Benchmark 1 — instrumentation overhead: telemetry fully on versus off, in one run.

Two rag-api processes run side by side with the simulated provider at zero latency
(SIM_LATENCY_SCALE=0), no rate limiter and no response cache, so every request runs the whole
RAG pipeline:
  on   TELEMETRY_ENABLED=true: Prometheus metrics, traces (always-on sampler) and OTLP logs
       exported over OTLP/HTTP to a loopback sink (its own process) that accepts and discards
  off  TELEMETRY_ENABLED=false
They are loaded in turns (on/off, then off/on, ...: alternating cancels drift on a shared
machine) by a load generator in a separate process. The telemetry layer's CPU cost per request
is the difference of the app's process CPU time per request between the two.
`--breakdown` adds variants that show where the cost goes: telemetry on with the always_off
trace sampler, without any OTLP export, and with 10% head sampling.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from bench import common

# name → env on top of common.BENCH_ENV; "{sink}" is replaced by the sink's endpoint.
VARIANTS: dict[str, dict[str, str]] = {
    "on": {"TELEMETRY_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "{sink}"},
    "off": {"TELEMETRY_ENABLED": "false"},
    # --breakdown: where the cost of "on" goes.
    "on, no tracing": {
        "TELEMETRY_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "{sink}",
        "OTEL_TRACES_SAMPLER": "always_off",
    },
    "on, no OTLP export": {"TELEMETRY_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": ""},
    # Head sampling as production would run it: cost scales with the sampled fraction.
    "on, 10% traces": {
        "TELEMETRY_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "{sink}",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
}


def run(
    quick: bool = False,
    rounds: int | None = None,
    seconds: float | None = None,
    breakdown: bool = False,
    latency_scale: float = 0.0,
    concurrency: int = 8,
) -> dict[str, Any]:
    rounds = rounds or (1 if quick else 3)
    seconds = seconds or (6.0 if quick else 10.0)
    names = list(VARIANTS) if breakdown else ["on", "off"]
    print(
        f"[overhead] {rounds} round(s) x {len(names)} variants x {seconds:.0f}s, "
        f"c={concurrency}, SIM_LATENCY_SCALE={latency_scale:g}, order rotated every round"
    )
    with (
        common.workdir("overhead") as tmp,
        common.otlp_sink("ok") as (sink, _),
        contextlib.ExitStack() as stack,
    ):
        apps = {}
        for i, name in enumerate(names):
            env = {k: v.replace("{sink}", sink) for k, v in VARIANTS[name].items()}
            env["SIM_LATENCY_SCALE"] = f"{latency_scale:g}"
            apps[name] = stack.enter_context(common.app(tmp, env, name=f"variant{i}"))
        for proc in apps.values():  # warm-up: imports, BM25 index, caches
            common.run_load(proc.url, duration=2.0, concurrency=concurrency, raw=False)
        segments: dict[str, list[common.Segment]] = {n: [] for n in names}
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            if r % 2:
                order.reverse()
            for name in order:
                common.wait_quiet(1.0)
                seg = common.measure(name, apps[name], duration=seconds, concurrency=concurrency)
                segments[name].append(seg)
                print(
                    f"[overhead] round {r + 1} {name:>18}: "
                    f"{seg.load['throughput_rps']:.0f} req/s, p99 {seg.load['p99_ms']:.1f} ms"
                )
        common.wait_quiet(2.0)  # let the batch processors flush before reading the sink
        exported = common.sink_stats(sink)

    res = {k: common.merge(v) for k, v in segments.items()}
    off = res["off"]
    loss = 1 - res["on"]["throughput_rps"] / off["throughput_rps"]
    cpu_cost = res["on"]["cpu_us_per_request"] - off["cpu_us_per_request"]
    rows = [
        [
            name,
            f"{m['requests']}",
            f"{m['ok']}",
            f"{m['throughput_rps']:.1f}",
            f"{(1 - m['throughput_rps'] / off['throughput_rps']) * 100:.1f}%",
            f"{m['p50_ms']:.2f}",
            f"{m['p99_ms']:.2f}",
            f"{m['cpu_us_per_request']:.0f}",
            f"{m['cpu_us_per_request'] - off['cpu_us_per_request']:.0f}",
        ]
        for name, m in res.items()
    ]
    print()
    print(
        common.table(
            rows,
            [
                "telemetry",
                "requests",
                "200 OK",
                "req/s",
                "loss vs off",
                "p50 ms",
                "p99 ms",
                "CPU µs/req",
                "CPU µs/req vs off",
            ],
        )
    )
    print(f"throughput loss with telemetry on: {loss * 100:.1f}% (goal <= 5%)")
    print(f"telemetry CPU cost: {cpu_cost:.0f} µs per request")
    print(f"OTLP exports received by the sink: {exported['requests']} ({exported['bytes']} bytes)")
    return {
        "variants": res,
        "throughput_loss": loss,
        "telemetry_cpu_us_per_request": cpu_cost,
        "sink": exported,
        "goal_met": loss <= 0.05,
        "rounds": rounds,
        "seconds_per_segment": seconds,
        "concurrency": concurrency,
        "sim_latency_scale": latency_scale,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run telemetry on without tracing, without OTLP export, with 10% sampling",
    )
    parser.add_argument(
        "--latency-scale",
        type=float,
        default=0.0,
        help="SIM_LATENCY_SCALE for both apps (default 0: CPU-bound worst case)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    args = parser.parse_args(argv)
    run(
        args.quick,
        args.rounds,
        args.seconds,
        args.breakdown,
        latency_scale=args.latency_scale,
        concurrency=args.concurrency,
    )
