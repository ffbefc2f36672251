"""Benchmark 4 — backend down: rag-api with its OTLP endpoint unreachable versus reachable.

Three rag-api processes, telemetry fully on, differ only in where OTLP goes:
  reachable    a loopback sink that accepts (its own process)
  unreachable  a closed loopback port (connection refused: the collector container is down)
  hanging      a loopback sink that accepts the connection and never answers (a wedged
               collector or a black-holed network: the exporter's timeout is what protects us)
They are loaded in turns (common.round_order: rotated and reversed from round to round).
Throughput and p99 are compared with the reachable case (goal: ratio ≥ 0.95), and each process's
RSS is sampled over the whole run (goal: no growth once warm: the exporters' bounded queues drop
instead of buffering forever).
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from typing import Any

from bench import cli, common
from harness import free_port


class RssSampler:
    """Samples the RSS of some processes every `period` seconds in a background thread."""

    def __init__(self, procs: dict[str, Any], period: float = 0.5) -> None:
        self.procs = procs
        self.period = period
        self.samples: dict[str, list[float]] = {k: [] for k in procs}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            for name, proc in self.procs.items():
                self.samples[name].append(common.rss_mib(proc))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


LABELS = ("reachable", "unreachable", "hanging")
CONCURRENCY = 8
HEADERS = [
    "OTLP endpoint",
    "requests",
    "200 OK",
    "req/s",
    "ratio",
    "p99 ms",
    "RSS warm MiB",
    "RSS after each round",
    "RSS max",
]


def _measure(rounds: int, seconds: float) -> dict[str, Any]:
    """The three apps under load: segments, RSS (warm, after each round, sampled) and exports."""
    with (
        common.workdir("backend-down") as tmp,
        common.otlp_sink("ok") as (ok_sink, _),
        common.otlp_sink("hang") as (hang_sink, _),
    ):
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        endpoints = dict(zip(LABELS, (ok_sink, closed, hang_sink), strict=True))
        with contextlib.ExitStack() as stack:
            apps = {
                label: stack.enter_context(
                    common.app(tmp, {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoints[label]}, label)
                )
                for label in LABELS
            }
            for proc in apps.values():
                common.run_load(proc.url, duration=2.0, concurrency=CONCURRENCY, raw=False)
            warm_rss = {k: common.rss_mib(p) for k, p in apps.items()}
            after: dict[str, list[float]] = {k: [] for k in LABELS}

            def record_rss() -> None:
                for label, proc in apps.items():
                    after[label].append(common.rss_mib(proc))

            with RssSampler(apps) as sampler:
                load = {"duration": seconds, "concurrency": CONCURRENCY}
                segments = common.load_in_turns("backend_down", apps, rounds, record_rss, **load)
            return {
                "segments": segments,
                "warm_rss": warm_rss,
                "rss_after_round": after,
                "rss_samples": sampler.samples,
                "exports": common.sink_stats(ok_sink)["total"],
            }


def run(quick: bool = False, rounds: int | None = None, seconds: float | None = None) -> dict:
    rounds = rounds or (2 if quick else 5)
    seconds = seconds or (4.0 if quick else 6.0)
    print(f"[backend_down] {rounds} round(s) x {len(LABELS)} x {seconds:.0f}s, c={CONCURRENCY}")
    m = _measure(rounds, seconds)
    res = {k: common.merge(v) for k, v in m["segments"].items()}
    base = res["reachable"]
    rows = []
    out: dict[str, Any] = {"sink_exports_reachable": m["exports"]}
    for label in LABELS:
        r, rss, after = res[label], m["rss_samples"][label], m["rss_after_round"][label]
        ratio = r["throughput_rps"] / base["throughput_rps"]
        # Once the exporters' queues are full, RSS must stay flat: growth over the second half.
        late_growth = after[-1] - after[len(after) // 2] if len(after) > 1 else 0.0
        out[label] = {
            **r,
            "throughput_ratio": ratio,
            "rss_warm_mib": m["warm_rss"][label],
            "rss_max_mib": max(rss),
            "rss_after_each_round_mib": after,
            "rss_growth_first_to_last_round_mib": after[-1] - after[0],
            "rss_growth_second_half_mib": late_growth,
        }
        rows.append(
            [
                label,
                f"{r['requests']}",
                f"{r['ok']}",
                f"{r['throughput_rps']:.1f}",
                f"{ratio:.3f}",
                f"{r['p99_ms']:.2f}",
                f"{m['warm_rss'][label]:.1f}",
                " → ".join(f"{x:.1f}" for x in after),
                f"{max(rss):.1f}",
            ]
        )
    print()
    print(common.table(rows, HEADERS))
    worst = min(out[k]["throughput_ratio"] for k in LABELS[1:])
    late = max(out[k]["rss_growth_second_half_mib"] for k in LABELS)
    print(f"largest RSS growth over the second half of the run: {late:.1f} MiB")
    print(
        f"worst throughput ratio (down / reachable): {worst:.3f} (goal >= 0.95); "
        f"sink received {m['exports']} exports from the reachable app"
    )
    out["worst_ratio"] = worst
    out["worst_rss_growth_second_half_mib"] = late
    out["goal_met"] = worst >= 0.95 and late < 5.0
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=cli.positive_int)
    parser.add_argument("--seconds", type=cli.positive_float)
    args = parser.parse_args(argv)
    run(args.quick, args.rounds, args.seconds)
