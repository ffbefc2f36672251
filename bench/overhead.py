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
trace sampler, without any OTLP export, metrics only (no OTLP export, always_off sampler), the
same without the FastAPI server-span middleware, and with 10% head sampling.
`--baseline REF` runs every variant twice, with this checkout's demo_app and with demo_app as of
git REF, all in the same rounds, so a change's effect is measured side by side.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from bench import cli, common, stats

# Throughput loss allowed with telemetry on at a model latency of ~80 ms (latency scale 0.05).
LATENCY_LOSS_GOAL = 0.01

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
    # What is left without traces or OTLP logs: metrics, unsampled spans, the ASGI middleware.
    "metrics only": {
        "TELEMETRY_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_TRACES_SAMPLER": "always_off",
    },
    # ... and without the FastAPI instrumentation's server-span middleware.
    "metrics only, no server span": {
        "TELEMETRY_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_TRACES_SAMPLER": "always_off",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "fastapi",
    },
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
    baseline: str | None = None,
) -> dict[str, Any]:
    rounds = rounds if rounds is not None else (1 if quick else 3)
    seconds = seconds if seconds is not None else (6.0 if quick else 10.0)
    if rounds < 1 or not seconds > 0 or concurrency < 1:
        raise ValueError(f"rounds {rounds}, seconds {seconds}, concurrency {concurrency}: each > 0")
    variants = list(VARIANTS) if breakdown else ["on", "off"]
    # label suffix → variant names run with that version ("" = this checkout)
    suffixes = ["", f" @{baseline}"] if baseline else [""]
    names = [v + suffix for suffix in suffixes for v in variants]
    print(
        f"[overhead] {rounds} round(s) x {len(names)} variants x {seconds:.0f}s, "
        f"c={concurrency}, SIM_LATENCY_SCALE={latency_scale:g}, order rotated and reversed by round"
    )
    segments, exported = _measure(
        names, suffixes, baseline, rounds, seconds, latency_scale, concurrency
    )
    res = {k: common.merge(v) for k, v in segments.items()}
    off = res["off"]
    loss = 1 - res["on"]["throughput_rps"] / off["throughput_rps"]
    cpu_cost = res["on"]["cpu_us_per_request"] - off["cpu_us_per_request"]
    _print_table(res, suffixes)
    # The goal is stated with a realistic model (~80 ms, latency scale 0.05); at zero latency
    # the loss is the CPU-bound worst case, compared with the official stack by `bench peers`.
    goal = f" (goal at ~80 ms model latency: <= {LATENCY_LOSS_GOAL:.0%})" if latency_scale else ""
    print(f"throughput loss with telemetry on: {loss * 100:.1f}%{goal}")
    by_round = common.loss_by_round(segments["on"], segments["off"])
    if by_round is not None:  # on and off of one round run back to back, in alternating order
        print(f"  round by round: {stats.describe(by_round, '.1%')}")
    print(f"telemetry CPU cost: {cpu_cost:.0f} µs per request")
    print(f"OTLP exports received by the sink: {exported['requests']} ({exported['bytes']} bytes)")
    baseline_cost = None
    if baseline:
        ref = suffixes[1]
        base_on, base_off = res["on" + ref], res["off" + ref]
        baseline_cost = base_on["cpu_us_per_request"] - base_off["cpu_us_per_request"]
        change = cpu_cost - baseline_cost
        print(
            f"telemetry CPU cost at {baseline}: {baseline_cost:.0f} µs per request; this checkout: "
            f"{cpu_cost:.0f} µs ({change:+.0f} µs, {change / baseline_cost:+.1%})"
        )
    return {
        "variants": res,
        "throughput_loss": loss,
        "throughput_loss_by_round": by_round,
        "telemetry_cpu_us_per_request": cpu_cost,
        "sink": exported,
        "goal_met": loss <= LATENCY_LOSS_GOAL if latency_scale else None,
        "rounds": rounds,
        "seconds_per_segment": seconds,
        "concurrency": concurrency,
        "sim_latency_scale": latency_scale,
        "baseline": baseline,
        "baseline_telemetry_cpu_us_per_request": baseline_cost,
    }


def _measure(
    names: list[str],
    suffixes: list[str],
    baseline: str | None,
    rounds: int,
    seconds: float,
    latency_scale: float,
    concurrency: int,
) -> tuple[dict[str, list[common.Segment]], dict[str, Any]]:
    """One app per variant, loaded in turns; their segments and what the OTLP sink received."""
    with (
        common.workdir("overhead") as tmp,
        common.otlp_sink("ok") as (sink, _),
        contextlib.ExitStack() as stack,
    ):
        sources = {"": common.ROOT}
        if baseline:
            sources[suffixes[1]] = common.checkout_app(baseline, tmp / "baseline")
        apps = {}
        for i, name in enumerate(names):
            variant, suffix = _split(name, suffixes)
            env = {k: v.replace("{sink}", sink) for k, v in VARIANTS[variant].items()}
            env["SIM_LATENCY_SCALE"] = f"{latency_scale:g}"
            apps[name] = stack.enter_context(
                common.app(tmp, env, name=f"variant{i}", source=sources[suffix])
            )
        for proc in apps.values():  # warm-up: imports, BM25 index, caches
            common.run_load(proc.url, duration=2.0, concurrency=concurrency, raw=False)
        segments = common.load_in_turns(
            "overhead", apps, rounds, duration=seconds, concurrency=concurrency
        )
        common.wait_quiet(2.0)  # let the batch processors flush before reading the sink
        return segments, common.sink_stats(sink)


HEADERS = [
    "telemetry",
    "requests",
    "200 OK",
    "req/s",
    "loss vs off",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "CPU µs/req vs off",
]


def _print_table(res: dict[str, dict[str, Any]], suffixes: list[str]) -> None:
    rows = []
    for name, m in res.items():
        same_off = res["off" + _split(name, suffixes)[1]]  # compare within one version
        rows.append(
            [
                name,
                f"{m['requests']}",
                f"{m['ok']}",
                f"{m['throughput_rps']:.1f}",
                f"{(1 - m['throughput_rps'] / same_off['throughput_rps']) * 100:.1f}%",
                f"{m['p50_ms']:.2f}",
                f"{m['p99_ms']:.2f}",
                f"{m['cpu_us_per_request']:.0f}",
                f"{m['cpu_us_per_request'] - same_off['cpu_us_per_request']:.0f}",
            ]
        )
    print()
    print(common.table(rows, HEADERS))


def _split(name: str, suffixes: list[str]) -> tuple[str, str]:
    """(variant, version suffix) of a row label such as "on @HEAD~3"."""
    for suffix in sorted(suffixes, key=len, reverse=True):
        if suffix and name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=cli.positive_int)
    parser.add_argument("--seconds", type=cli.positive_float)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run telemetry on without tracing, without OTLP export, metrics only (with "
        "and without the server span), and with 10%% sampling",
    )
    parser.add_argument(
        "--latency-scale",
        type=float,
        default=0.0,
        help="SIM_LATENCY_SCALE for both apps (default 0: CPU-bound worst case)",
    )
    parser.add_argument(
        "--concurrency", type=cli.positive_int, default=8, help="connections (default 8)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also run demo_app as of this git ref (commit, tag, branch) in the same rounds",
    )
    args = parser.parse_args(argv)
    run(
        args.quick,
        args.rounds,
        args.seconds,
        args.breakdown,
        latency_scale=args.latency_scale,
        concurrency=args.concurrency,
        baseline=args.baseline,
    )
