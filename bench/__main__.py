"""`python -m bench [NAME ...] [--quick] [--json FILE]`: run benchmarks and print their figures.

SIGTERM stops a run like Ctrl-C: the servers it started are stopped first (bench/cli.py)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from bench import cli
from bench.common import load_average, machine

BENCHMARKS = {
    "peers": "telemetry CPU per request: rag-api vs the official OpenTelemetry stack, same work",
    "overhead": "instrumentation overhead: telemetry on vs off",
    "cardinality": "series on /metrics after hostile traffic",
    "rules": "rule group evaluation time on real Prometheus",
    "backend_down": "throughput, p99 and RSS with the OTLP backend down vs up",
    "floor": "least CPU the telemetry contract can cost per request, vs the overhead budget",
    "levers": "the library parts rag-api replaces, timed against the originals in process",
    "variables": "dashboard variable lookups over long time ranges on real Prometheus",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own_options = [a for a in argv[1:] if a.startswith("-") and a not in ("--quick", "--json")]
    if argv and argv[0] in BENCHMARKS and own_options:
        # One benchmark with its own options: `python -m bench overhead --rounds 5`.
        sys.argv[0] = f"python -m bench {argv[0]}"  # argparse's prog in usage messages
        importlib.import_module(f"bench.{argv[0]}").main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="rag-api benchmarks: " + "; ".join(f"{k} ({v})" for k, v in BENCHMARKS.items()),
        epilog="One benchmark's own options (rounds, seconds, latency, ...):"
        " python -m bench NAME --help, e.g. python -m bench peers --help.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier figures)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}"
        )
    if args.json and (problem := cli.output_file_problem(args.json)):
        parser.error(f"--json {args.json}: {problem}")  # now, not after the whole run
    names = args.names or list(BENCHMARKS)
    print(f"machine: {machine()}; load average {load_average()}")
    results: dict[str, object] = {"machine": machine()}
    for name in names:
        print(f"\n=== {name}: {BENCHMARKS[name]} ===")
        t0 = time.monotonic()
        results[name] = importlib.import_module(f"bench.{name}").run(quick=args.quick)
        print(f"({name} took {time.monotonic() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run_main(main, "python -m bench"))
