"""Process helpers shared by the benchmarks: the app, the OTLP sink and the load generator.

The app is started with the test harness (`harness.procs.start_rag_api`), so benchmarks
measure exactly what the tests run: `python -m demo_app` under uvicorn on a loopback port.
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench import stats
from harness import ROOT
from harness.procs import Proc, start_rag_api

# Every benchmark measures the app, not the simulated LLM, not the rate limiter, not the cache.
BENCH_ENV: dict[str, str] = {
    "SIM_LATENCY_SCALE": "0",
    "RATE_LIMIT_ENABLED": "false",
    "CACHE_ENABLED": "false",
}


def bench_settings(**env: str) -> Any:
    """rag-api's settings for an in-process benchmark: this environment plus BENCH_ENV (and
    `env`)."""
    from demo_app.config import Settings  # only the in-process benchmarks need the app

    return Settings.from_env({**os.environ, **BENCH_ENV, **env})


def in_process_app(span_exporter: Any = None, log_exporter: Any = None, **env: str) -> Any:
    """rag-api built in this process on `bench_settings(**env)`, exporting to the given
    exporters, its stdout lines written to a buffer nobody reads."""
    from demo_app.app import create_app

    return create_app(
        bench_settings(**env),
        span_exporter=span_exporter,
        log_exporter=log_exporter,
        log_stream=io.StringIO(),
        configure_logging=False,
    )


def best_pair_us(
    a: Callable[[], object], b: Callable[[], object], number: int, repeat: int = 15
) -> tuple[float, float]:
    """Best µs per call of a and b, their repeats alternated (a busy machine hits both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((a, times[0]), (b, times[1])):
            out.append(timeit.timeit(fn, number=number))
    return min(times[0]) / number * 1e6, min(times[1]) / number * 1e6


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as d:
        yield Path(d)


@contextmanager
def app(
    tmp: Path,
    env: Mapping[str, str],
    name: str = "rag-api",
    source: Path = ROOT,
    module: str = "demo_app",
) -> Iterator[Proc]:
    """The app from `source` (a directory holding `demo_app`; default: this checkout), run by
    `module` (bench.floor_app: with the contract's floor calls in every request)."""
    proc = start_rag_api(tmp, {**BENCH_ENV, **env}, name=name, source=source, module=module)
    try:
        yield proc
    finally:
        proc.stop()


# What rag-api runs from (genai_telemetry/ exists from the ref that split it out of demo_app/).
APP_PACKAGES = ("demo_app", "genai_telemetry")


def checkout_app(ref: str, dest: Path) -> Path:
    """The app's packages (`demo_app/` and, from the ref that has it, `genai_telemetry/`) as of
    git `ref`, extracted under `dest`; returns the directory to run it from."""
    dest.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise SystemExit(f"cannot read demo_app at {ref!r}: {listing.stderr.strip()}")
    paths = [p for p in APP_PACKAGES if p in listing.stdout.split()]
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, *paths],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"cannot read demo_app at {ref!r}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


@contextmanager
def _serving(module: str, *args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`python -m module *args` in its own process, which prints its port on its first line."""
    popen = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert popen.stdout is not None
        line = popen.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"{module} did not start (exit code {popen.poll()})")
        yield int(line), popen
    finally:
        popen.terminate()
        popen.wait(timeout=10)


@contextmanager
def otlp_sink(mode: str = "ok") -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The harness's OTLP receiver in its own process, counting only; yields (endpoint, process)."""
    with _serving("harness.otlp_receiver", "--mode", mode, "--no-decode") as (port, popen):
        yield f"http://127.0.0.1:{port}", popen


@contextmanager
def fake_openai(latency_ms: float = 0.0) -> Iterator[str]:
    """The harness's fake OpenAI-compatible API in its own process; yields its base URL (…/v1)."""
    with _serving("harness.fake_openai", f"--latency-ms={latency_ms:g}") as (port, _):
        yield f"http://127.0.0.1:{port}/v1"


def sink_stats(endpoint: str) -> dict[str, Any]:
    import httpx

    return httpx.get(endpoint + "/stats", timeout=5).json()


def run_load(
    url: str,
    *,
    duration: float,
    concurrency: int,
    traffic: str = "steady",
    limit: int = 0,
    raw: bool = True,
    start: int = 0,
) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            f"--url={url}",
            f"--duration={duration}",
            f"--concurrency={concurrency}",
            f"--traffic={traffic}",
            f"--limit={limit}",
            f"--start={start}",
            *(["--raw"] if raw else []),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def cpu_seconds(proc: Proc) -> float:
    t = psutil.Process(proc.popen.pid).cpu_times()
    return t.user + t.system


def rss_mib(proc: Proc) -> float:
    return psutil.Process(proc.popen.pid).memory_info().rss / 2**20


@dataclass
class Segment:
    """One load run against one app, with the app's CPU time over the run."""

    label: str
    load: dict[str, Any]
    cpu_s: float

    @property
    def ok_requests(self) -> int:
        return int(self.load["statuses"].get("200", 0))

    @property
    def cpu_us_per_request(self) -> float:
        n = self.load["requests"]
        return self.cpu_s / n * 1e6 if n else float("nan")


def loss_by_round(on: list[Segment], off: list[Segment]) -> dict[str, float] | None:
    """Throughput loss of `on` against `off`, round by round (the two segments of a round share
    its window), as a `stats.summary`; None when no round has an `off` throughput to compare."""
    pairs = zip(on, off, strict=True)
    losses = [
        1 - a.load["throughput_rps"] / b.load["throughput_rps"]
        for a, b in pairs
        if b.load["throughput_rps"] > 0
    ]
    return stats.summary(losses) if losses else None


def measure(label: str, proc: Proc, **load_args: Any) -> Segment:
    before = cpu_seconds(proc)
    load = run_load(proc.url, **load_args)
    return Segment(label, load, cpu_seconds(proc) - before)


def round_order(groups: Sequence[Sequence[str]], r: int) -> list[str]:
    """Round r's load order. A group's items run back to back (twins whose difference is the
    figure share the machine's state); the groups rotate by one every other round and odd rounds
    run in reverse, so over 2 × len(groups) rounds every item takes every place alike and within
    a group the order alternates every round."""
    shift = (r // 2) % len(groups)
    order = [item for group in [*groups[shift:], *groups[:shift]] for item in group]
    return order[::-1] if r % 2 else order


def load_in_turns(
    tag: str,
    apps: Mapping[str, Proc],
    rounds: int,
    after_round: Callable[[], None] = lambda: None,
    **load_args: Any,
) -> dict[str, list[Segment]]:
    """Each app loaded alone in turn (`measure` with `load_args`, a quiet second before), in
    round_order, `rounds` times; `after_round` runs after every round. Segments per app."""
    segments: dict[str, list[Segment]] = {name: [] for name in apps}
    width = max(map(len, apps))
    for r in range(rounds):
        for name in round_order([[name] for name in apps], r):
            wait_quiet(1.0)
            seg = measure(name, apps[name], **load_args)
            segments[name].append(seg)
            print(
                f"[{tag}] round {r + 1} {name:>{width}}: {seg.load['throughput_rps']:.0f} req/s, "
                f"p99 {seg.load['p99_ms']:.1f} ms, {seg.load['statuses']}"
            )
        after_round()
    return segments


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def merge(segments: list[Segment]) -> dict[str, float]:
    """Totals over several segments: throughput = requests / time, percentiles over all."""
    latencies = [x for s in segments for x in s.load.get("latencies_ms", [])]
    requests = sum(s.load["requests"] for s in segments)
    elapsed = sum(s.load["elapsed_s"] for s in segments)
    cpu = sum(s.cpu_s for s in segments)
    return {
        "requests": requests,
        "ok": sum(s.ok_requests for s in segments),
        "throughput_rps": requests / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "cpu_us_per_request": cpu / requests * 1e6 if requests else float("nan"),
    }


def wait_quiet(seconds: float) -> None:
    """Let background exporters flush between segments so one segment's work is not billed to
    the next."""
    time.sleep(seconds)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, sep, *body])


def load_average() -> str:
    """1/5/15-minute load average: figures measured on a busy machine must say so."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
