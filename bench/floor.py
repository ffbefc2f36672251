"""Benchmark 5 — the contract's floor: the least CPU its telemetry can cost per request.

The overhead budget (≤ 5 % throughput loss) allows the telemetry at most 0.05 / 0.95 of the
app's own CPU time per request with telemetry off. This benchmark asks whether any
implementation of the telemetry contract (docs/telemetry.md) can fit in that, in this runtime:
  1. count what one steady POST /v1/chat emits on the real app: spans (and their attributes),
     OTLP log records, histogram observations (decoded by the loopback OTLP receiver and read
     from /metrics);
  2. time the cheapest library call behind each, in this process: a recording span with that
     many attributes and NO span processor, a log record emitted with NO processor, one
     histogram observation with an exemplar;
  3. measure the app's CPU per request with telemetry off (the budget's base);
and prints counts × costs against the budget. The floor leaves out everything a real
implementation also pays (export encoding, HTTP, redaction, the ASGI server span's middleware,
counters, gauges), so the true cost is higher; a floor above the budget means no optimisation
of the code around these calls can meet it at 100 % trace sampling.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.parser import text_string_to_metric_families

from bench import cli, common, inprocess
from demo_app.app import QUIET_PATHS
from genai_telemetry import semconv as sc
from harness.otlp_receiver import OTLPReceiver

LOSS_GOAL = 0.05
TRACE_ID_HEX = "4bf92f3577b34da6a3ce929d0e0e4736"


def budget_us(off_cpu_us: float, loss: float = LOSS_GOAL) -> float:
    """Telemetry CPU per request that costs exactly `loss` of a CPU-bound app's throughput:
    throughput ∝ 1 / CPU, so 1 - off / (off + t) = loss  ⇔  t = off · loss / (1 - loss)."""
    return off_cpu_us * loss / (1 - loss)


def histogram_observations(metrics_text: str) -> float:
    """Sum of every contract histogram's `_count` samples on a /metrics page, leaving out the
    scrapes and probes (QUIET_PATHS) the benchmark itself sends."""
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.type == "histogram" and family.name in sc.METRIC_LABELS:
            total += sum(
                s.value
                for s in family.samples
                if s.name.endswith("_count") and s.labels.get(sc.L_HTTP_ROUTE) not in QUIET_PATHS
            )
    return total


def best_us(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Fastest of `repeat` timings, µs per call: a floor, not a typical cost."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _attributes(n: int) -> dict[str, Any]:
    base: dict[str, Any] = {
        sc.A_OPERATION_NAME: "chat",
        sc.A_PROVIDER_NAME: "simulated",
        sc.A_REQUEST_MODEL: "gpt-4o-mini",
    }
    for i in range(max(0, n - len(base))):
        base[f"llm.bench.attr_{i}"] = i if i % 2 else f"value-{i}"
    return dict(list(base.items())[: max(n, 0)])


def span_lifecycle(attributes: int, *, recording: bool) -> Callable[[], trace.Span]:
    """One span's life with no span processor: start_span with `attributes` attributes, attach
    and detach as current, end. Recording (default sampler) or unsampled (always_off)."""
    provider = TracerProvider(sampler=None if recording else ALWAYS_OFF)
    tracer = provider.get_tracer("bench.floor")
    attrs = _attributes(attributes)

    def one() -> trace.Span:
        span = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs)
        token = otel_context.attach(trace.set_span_in_context(span))
        otel_context.detach(token)
        span.end()
        return span

    return one


def span_cost_us(attributes: int, *, recording: bool, number: int) -> float:
    return best_us(span_lifecycle(attributes, recording=recording), number)


def log_emit(attributes: int) -> Callable[[], None]:
    """One OTel log record emitted with no processor."""
    logger = LoggerProvider().get_logger("bench.floor")
    attrs = _attributes(attributes)

    def one() -> None:
        logger.emit(
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body="chat_answered",
            attributes=attrs,
        )

    return one


def log_cost_us(attributes: int, *, number: int) -> float:
    return best_us(log_emit(attributes), number)


def observe_one() -> Callable[[], None]:
    """One observation on a cached histogram child, with a trace_id exemplar."""
    labels = sc.METRIC_LABELS[sc.GENAI_OPERATION_DURATION]
    hist = Histogram(
        "bench_floor_seconds",
        "bench",
        labels,
        buckets=sc.DURATION_BUCKETS,
        registry=CollectorRegistry(),
    )
    child = hist.labels(*(f"v{i}" for i in range(len(labels))))
    exemplar = {"trace_id": TRACE_ID_HEX}
    return lambda: child.observe(0.042, exemplar)


def observe_cost_us(*, number: int) -> float:
    return best_us(observe_one(), number)


def cpu_us(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """CPU time of this thread per call, µs, median of `repeat` runs: the same measure as the
    apps' CPU time per request, so a busy machine inflates both alike."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.thread_time()
        for _ in range(number):
            fn()
        runs.append((time.thread_time() - t0) / number * 1e6)
    return statistics.median(runs)


def call_costs(rag_sink: dict[str, Any] | None, quick: bool) -> dict[str, float]:
    """bench.floor's three bare SDK calls, timed now (between rounds), with the attribute
    counts rag-api on has sent so far."""
    items = (rag_sink or {}).get("items", {})
    span_attrs = round(items.get("span_attributes", 0) / max(items.get("spans", 0), 1))
    log_attrs = round(items.get("log_attributes", 0) / max(items.get("logs", 0), 1))
    number = 1_000 if quick else 3_000
    return {
        "span_us": cpu_us(span_lifecycle(span_attrs, recording=True), number),
        "log_us": cpu_us(log_emit(log_attrs), number),
        "observation_us": cpu_us(observe_one(), number),
    }


def contract_floor(rag: dict[str, float], costs: dict[str, float]) -> float:
    """The floor's cost for the items rag-api on emitted per request."""
    return (
        rag["spans"] * costs["span_us"]
        + rag["logs_with_trace"] * costs["log_us"]
        + rag["observations"] * costs["observation_us"]
    )


def count_per_request(requests: int) -> dict[str, float]:
    """Spans, span attributes, log records and histogram observations per steady request."""
    with common.workdir("floor-count") as tmp, OTLPReceiver("ok") as receiver:
        env = {
            "TELEMETRY_ENABLED": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        with common.app(tmp, env, name="floor-on") as proc:
            before = histogram_observations(httpx.get(proc.url + "/metrics", timeout=10).text)
            n_spans, n_logs = len(receiver.spans()), len(receiver.logs())
            load = common.run_load(proc.url, duration=120, concurrency=4, limit=requests)
            after = histogram_observations(httpx.get(proc.url + "/metrics", timeout=10).text)

            def settled() -> bool:
                # every request has its server span and its access log record
                spans = receiver.spans()[n_spans:]
                logs = receiver.logs()[n_logs:]
                servers = sum(1 for s in spans if s.kind == "SERVER")
                access = sum(1 for r in logs if r.body == "http_request")
                return servers >= load["requests"] and access >= load["requests"]

            if not receiver.wait_for(settled, timeout=30):
                raise RuntimeError("the app did not export every request's telemetry in 30 s")
            common.wait_quiet(0.5)
            spans = receiver.spans()[n_spans:]
            # records written while serving a request (startup/shutdown lines carry no trace)
            logs = [r for r in receiver.logs()[n_logs:] if r.trace_id]
    done = load["requests"]
    if done != requests or load["statuses"].get("200", 0) != done:
        raise RuntimeError(f"expected {requests} answered requests, got {load['statuses']}")
    return {
        "requests": done,
        "spans": len(spans) / done,
        "span_attributes": statistics.fmean(len(s.attributes) for s in spans),
        "logs": len(logs) / done,
        "log_attributes": statistics.fmean(len(r.attributes) for r in logs),
        "observations": (after - before) / done,
    }


def off_cpu_us(seconds: float) -> float:
    off = {"TELEMETRY_ENABLED": "false"}
    with common.workdir("floor-off") as tmp, common.app(tmp, off, name="floor-off") as proc:
        common.run_load(proc.url, duration=2.0, concurrency=8, raw=False)  # warm-up
        return common.measure("off", proc, duration=seconds, concurrency=8).cpu_us_per_request


def run(quick: bool = False, requests: int | None = None, seconds: float | None = None) -> dict:
    requests = requests or (100 if quick else 300)
    seconds = seconds or (5.0 if quick else 10.0)
    number = 2_000 if quick else 10_000
    print(f"[floor] counting telemetry of {requests} steady requests on the real app")
    counts = count_per_request(requests)
    print(f"[floor] app CPU per request with telemetry off ({seconds:.0f} s of load)")
    off = off_cpu_us(seconds)
    span_attrs = round(counts["span_attributes"])
    log_attrs = round(counts["log_attributes"])
    costs = {
        "span_recording_us": span_cost_us(span_attrs, recording=True, number=number),
        "span_non_recording_us": span_cost_us(span_attrs, recording=False, number=number),
        "log_record_us": log_cost_us(log_attrs, number=number),
        "observation_us": observe_cost_us(number=number),
    }
    spans_us = counts["spans"] * costs["span_recording_us"]
    unsampled_us = counts["spans"] * costs["span_non_recording_us"]
    logs_us = counts["logs"] * costs["log_record_us"]
    obs_us = counts["observations"] * costs["observation_us"]
    floor_full = spans_us + logs_us + obs_us
    floor_unsampled = unsampled_us + logs_us + obs_us
    budget = budget_us(off)
    rows = [
        [
            "spans (recording, no processor)",
            f"{counts['spans']:.2f}",
            f"{costs['span_recording_us']:.2f} ({span_attrs} attributes)",
            f"{spans_us:.0f}",
        ],
        [
            "  same spans unsampled (always_off)",
            f"{counts['spans']:.2f}",
            f"{costs['span_non_recording_us']:.2f}",
            f"{unsampled_us:.0f}",
        ],
        [
            "OTLP log records (emit, no processor)",
            f"{counts['logs']:.2f}",
            f"{costs['log_record_us']:.2f} ({log_attrs} attributes)",
            f"{logs_us:.0f}",
        ],
        [
            "histogram observations (with exemplar)",
            f"{counts['observations']:.2f}",
            f"{costs['observation_us']:.2f}",
            f"{obs_us:.0f}",
        ],
    ]
    print()
    print(common.table(rows, ["per steady request", "count", "µs each (best of 5)", "µs"]))
    libs = ", ".join(
        f"{p} {version(p)}" for p in ("opentelemetry-sdk", "prometheus-client", "structlog")
    )
    print(f"({libs})")
    print(f"app CPU per request, telemetry off: {off:.0f} µs")
    print(f"budget for {LOSS_GOAL:.0%} throughput loss: {budget:.0f} µs of telemetry per request")
    print(
        f"floor, traces sampled 100 %: {floor_full:.0f} µs = {floor_full / budget:.1f}x the budget"
        f" ({_loss(off, floor_full):.1%} loss)"
    )
    print(
        f"floor, no trace sampled:     {floor_unsampled:.0f} µs = "
        f"{floor_unsampled / budget:.1f}x the budget ({_loss(off, floor_unsampled):.1%} loss)"
    )
    return {
        "in_process": _in_process(quick, floor_full),
        "counts_per_request": counts,
        "costs_us": costs,
        "off_cpu_us_per_request": off,
        "budget_us": budget,
        "floor_full_sampling_us": floor_full,
        "floor_no_sampling_us": floor_unsampled,
        "floor_full_sampling_loss": _loss(off, floor_full),
        "floor_no_sampling_loss": _loss(off, floor_unsampled),
        "budget_reachable_at_full_sampling": floor_full <= budget,
    }


def _in_process(quick: bool, floor_us: float) -> dict[str, float]:
    """rag-api's whole telemetry timed like the floor (bench/inprocess.py), printed against it."""
    print("[floor] rag-api's whole telemetry in this process, timed alike (bench/inprocess.py)")
    ours = inprocess.telemetry_us(100 if quick else 300, 3 if quick else 7)
    print(
        f"rag-api's telemetry in process (no sockets; every span and record encoded, not sent): "
        f"{ours['telemetry_us']:.0f} µs = {ours['telemetry_us'] / floor_us:.1f}x the floor at "
        "100 % sampling"
    )
    gc_us = ours["gc_on_us"] - ours["gc_off_us"]
    print(
        f"  of it: encoding to OTLP {ours['encoding_us']:.0f} µs (in the export thread); the "
        f"garbage collector {gc_us:.0f} µs more than with telemetry off "
        f"({ours['gc_on_us']:.0f} vs {ours['gc_off_us']:.0f} µs per request, medians)"
    )
    return ours


def _loss(off_us: float, telemetry_us: float) -> float:
    return 1 - off_us / (off_us + telemetry_us)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--requests", type=cli.positive_int, help="steady requests to count (default 300)"
    )
    parser.add_argument(
        "--seconds", type=cli.positive_float, help="load on the telemetry-off app (10)"
    )
    args = parser.parse_args(argv)
    run(args.quick, args.requests, args.seconds)


def report_floors(
    rag: dict[str, float],
    ours_us: float,
    loaded: dict[str, float] | None,
    floor_costs: list[dict[str, float]],
    loaded_name: str,
) -> tuple[float, float]:
    """Print the contract floor for what rag-api sent (`rag`: its counts per request) two ways
    and rag-api's telemetry (`ours_us`) against each: timed in a tight loop after every round
    (`floor_costs`), and in the app under the same load (`loaded`: the `loaded_name` variant's
    CPU minus rag-api off's, median and range). Returns (tight-loop floor µs, ratio to the
    floor under load)."""
    floors = [contract_floor(rag, c) for c in floor_costs]
    floor_us = statistics.median(floors)
    print(
        f"contract floor for what rag-api sent ({rag['spans']:.2f} spans, "
        f"{rag['logs_with_trace']:.2f} log records with a trace, {rag['observations']:.2f} "
        "observations; bare SDK calls, no processor):"
    )
    print(
        f"  in a tight loop of this process, CPU time, after every round: {floor_us:.0f} µs "
        f"(rounds {min(floors):.0f}–{max(floors):.0f}); rag-api telemetry = "
        f"{ours_us / floor_us:.1f}x (goal <= 3)"
    )
    loaded_ratio = ours_us / loaded["median"] if loaded and loaded["median"] > 0 else float("nan")
    if loaded:
        print(
            f"  in every request of rag-api off under the same load ({loaded_name} − rag-api "
            f"off): {loaded['median']:.0f} µs (rounds {loaded['min']:.0f}–{loaded['max']:.0f}); "
            f"rag-api telemetry = {loaded_ratio:.1f}x (goal <= 3)"
        )
    return floor_us, loaded_ratio
