"""genai_telemetry.histogram against prometheus-client's Histogram: the same observations render
the same /metrics text in both formats (exemplar timestamps aside), counts survive threads, a
scrape sees one consistent state, and misuse raises the library's errors."""

from __future__ import annotations

import math
import random
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from genai_telemetry import metrics
from genai_telemetry import semconv as sc
from genai_telemetry.histogram import Histogram

# Every bucket table of the contract, plus shapes it does not use today but the class accepts.
BUCKET_SETS: dict[str, Sequence[float]] = {
    "duration": sc.DURATION_BUCKETS,
    "chunk": sc.CHUNK_BUCKETS,
    "tokens": sc.TOKEN_BUCKETS,  # ints, > 1e6 (exponent spelling of le)
    "score": sc.SCORE_BUCKETS,
    "documents": sc.RETRIEVAL_DOCUMENT_BUCKETS,  # starts at int 0
    "explicit_inf": (0.5, 1, float("inf")),
    "negative": (-2.5, -1, 0, 1.5),  # the library drops _sum (keeps _count) for these
}
_EXEMPLAR_TS = re.compile(r"^(.* # \{[^}]*\} \S+) \S+$", re.M)


def _values(rng: random.Random, bounds: Sequence[float]) -> list[float]:
    """Random values across the buckets plus every edge: each bound itself (le is inclusive),
    just above it, negatives, ints, 0."""
    finite = [float(b) for b in bounds if math.isfinite(b)]
    top = max(finite) * 2 if finite[-1] > 0 else 10.0
    out: list[float] = [rng.uniform(-1.0, top) for _ in range(60)]
    out += [rng.randint(-3, int(top) + 3) for _ in range(20)]
    out += finite + [math.nextafter(b, math.inf) for b in finite] + [0, 0.0, -0.0, -7]
    rng.shuffle(out)
    return out


def _trace_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _render(registry: CollectorRegistry) -> tuple[str, str]:
    text = prometheus_client.generate_latest(registry).decode()
    om = openmetrics_latest(registry).decode()
    return text, _EXEMPLAR_TS.sub(r"\1 <ts>", om)


def _pair(
    name: str, bounds: Sequence[float], labels: Sequence[str]
) -> tuple[tuple[CollectorRegistry, Any], tuple[CollectorRegistry, Histogram]]:
    """The library's histogram and ours, same arguments, each on its own registry."""
    lib_registry, our_registry = CollectorRegistry(), CollectorRegistry(auto_describe=True)
    doc = f"Help for {name}, with a \\ and a\nnewline."
    lib = prometheus_client.Histogram(name, doc, labels, buckets=bounds, registry=lib_registry)
    ours = Histogram(name, doc, labels, buckets=bounds, registry=our_registry)
    return (lib_registry, lib), (our_registry, ours)


def _observations(rng: random.Random, bounds: Sequence[float]) -> Iterator[tuple[str, float, Any]]:
    """(series, value, exemplar or None): random and edge values spread over three series in a
    random creation order, then one series per special float (each poisons its own _sum)."""
    series = ["b", "a", "c"]
    rng.shuffle(series)
    for value in _values(rng, bounds):
        exemplar = {"trace_id": _trace_id(rng)} if rng.random() < 0.6 else None
        yield rng.choice(series), value, exemplar
    for special in ("inf", "-inf", "nan"):
        for _ in range(2):
            yield special, float(special), {"trace_id": _trace_id(rng)}
    yield "nan", 0.5, {"trace_id": _trace_id(rng)}  # counted; the sum stays NaN
    yield "empty_exemplar", 0.5, {}  # falsy: no exemplar, as the library


@pytest.mark.parametrize("kind", sorted(BUCKET_SETS))
def test_same_exposition_as_prometheus_client(kind: str) -> None:
    bounds = BUCKET_SETS[kind]
    name = f"parity_{kind}"
    (lib_reg, lib), (our_reg, ours) = _pair(name, bounds, ("zone", "shard"))
    rng = random.Random(f"parity {kind}")
    for series, value, exemplar in _observations(rng, bounds):
        shard = rng.choice((1, "1"))  # label values are str()-ed: one series for both
        lib.labels(series, shard).observe(value, exemplar)
        ours.labels(series, shard).observe(value, exemplar)
    assert _render(our_reg) == _render(lib_reg)
    text, om = _render(our_reg)
    assert "_created" not in text, "metrics.py turns _created off process-wide; both lack it"
    assert om.count("# {trace_id=") >= 5 and 'le="+Inf"' in text  # the comparison saw them


@pytest.mark.parametrize("kind", ["duration", "documents", "negative"])
def test_same_exposition_without_labels(kind: str) -> None:
    bounds = BUCKET_SETS[kind]
    (lib_reg, lib), (our_reg, ours) = _pair(f"bare_{kind}", bounds, ())
    assert _render(our_reg) == _render(lib_reg), "before any observation"
    rng = random.Random(f"bare {kind}")
    for _, value, exemplar in _observations(rng, bounds):
        if math.isfinite(value):
            lib.observe(value, exemplar)
            ours.observe(value, exemplar)
    assert _render(our_reg) == _render(lib_reg)


def test_metrics_histograms_render_as_the_library_would() -> None:
    """Every histogram row of metrics.INSTRUMENTS, built by Metrics (ours) and as a library
    Histogram from the same row, fed the same observations: same exposition."""
    app = metrics.Metrics(["gpt-4o-mini"], ["openai"])
    lib_reg = CollectorRegistry()
    rows = [row for row in metrics.INSTRUMENTS if row.kind == "histogram"]
    rng = random.Random("metrics rows")
    for row in rows:
        ours = getattr(app, row.attr)
        assert isinstance(ours, Histogram), row.attr
        labels = sc.METRIC_LABELS[row.name]
        lib = prometheus_client.Histogram(
            row.name, row.help, labels, buckets=row.buckets, registry=lib_reg
        )
        if row.attr == "evaluation_score":  # Metrics pre-creates these series (at 0)
            for name in sc.EVALUATION_NAMES:
                lib.labels(name)
        for value in _values(rng, row.buckets)[:20]:
            exemplar = {"trace_id": _trace_id(rng)}
            values = [rng.choice(("x", "y")) for _ in labels]
            for h in (lib, ours):
                (h.labels(*values) if labels else h).observe(value, exemplar)
    names = {row.name for row in rows}

    def ours_only(registry: CollectorRegistry) -> tuple[str, str]:
        text, om = _render(registry)
        keep = re.compile(r"^(# (HELP|TYPE) )?(" + "|".join(names) + r")[_{ ]")
        return tuple(  # type: ignore[return-value]
            "\n".join(line for line in body.splitlines() if keep.match(line)) for body in (text, om)
        )

    assert ours_only(app.registry) == ours_only(lib_reg)


class _SlowFloat(float):
    """A float whose addition runs Python code: the interpreter may switch threads inside
    `sum += amount` (as a free-threaded build may anywhere), so an unlocked update gets lost."""

    def __radd__(self, other: float) -> float:
        return float(other) + float(self)


def test_threads_never_lose_counts() -> None:
    """8 threads observe into the same series (created by whichever asks first) with the
    interpreter switching threads as often as it can: every count and the sum are exact."""
    registry = CollectorRegistry()
    h = Histogram("threads", "d", ("k",), buckets=(1, 2, 4), registry=registry)
    threads, per_thread = 8, 4_000
    start = threading.Barrier(threads)

    def work(i: int) -> None:
        start.wait()
        for n in range(per_thread):
            h.labels("same").observe(_SlowFloat((n % 4) + 0.5), {"trace_id": f"{i:032x}"})

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(old)
    counts, total, exemplars = h.labels("same").snapshot()
    quarter = threads * per_thread // 4
    assert counts == [quarter, quarter, quarter * 2, 0]  # 0.5 | 1.5 | 2.5, 3.5 | +Inf
    assert total == quarter * (0.5 + 1.5 + 2.5 + 3.5)
    assert all(e is not None for e in exemplars[:3]) and exemplars[3] is None
    (family,) = registry.collect()
    assert len(family.samples) == 6, "one series"


def test_a_scrape_sees_one_consistent_state() -> None:
    """A thread observes 0.25 (exact in binary) while the main thread scrapes: every scrape
    has _count == the +Inf bucket and _sum == 0.25 × _count."""
    registry = CollectorRegistry()
    h = Histogram("scraped", "d", buckets=(0.1, 1), registry=registry)
    stop = threading.Event()

    def observe() -> None:
        while not stop.is_set():
            for _ in range(100):
                h.observe(0.25)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    worker = threading.Thread(target=observe)
    worker.start()
    try:
        seen: set[float] = set()
        # Scrape until the worker has been seen mid-stream many times: a loop of fixed length
        # saw only 7 counts once on a loaded CI machine, where the worker barely ran.
        deadline, scrapes = time.monotonic() + 60, 0
        while (scrapes < 3_000 or len(seen) <= 10) and time.monotonic() < deadline:
            scrapes += 1
            samples = {
                s.name + s.labels.get("le", ""): s.value for s in h.collect().__next__().samples
            }
            count = samples["scraped_count"]
            assert count == samples["scraped_bucket+Inf"] == samples["scraped_bucket1.0"]
            assert samples["scraped_sum"] == 0.25 * count, samples
            seen.add(count)
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(old)
    assert len(seen) > 10, "the scrapes overlapped the observations"


def test_misuse_raises_as_the_library_does() -> None:
    registry = CollectorRegistry()  # no auto_describe: name clashes are found by describe()
    labelled = Histogram("used", "d", ("a", "b"), buckets=(1,), registry=registry)
    bare = Histogram("bare", "d", buckets=(1,), registry=registry)
    with pytest.raises(ValueError, match="label count"):
        labelled.labels("only one")
    with pytest.raises(ValueError, match="label count"):
        labelled.labels("1", "2", "3")
    with pytest.raises(ValueError, match="missing label values"):
        labelled.observe(1)
    with pytest.raises(ValueError, match="No label names"):
        bare.labels()
    assert labelled.labels(1, None) is labelled.labels("1", "None")
    # Construction is checked by the library's own rules.
    for args, kwargs in (
        (("", "d"), {"buckets": (1,)}),
        (("x", "d", ("le",)), {"buckets": (1,)}),
        (("x", "d", ("__reserved",)), {"buckets": (1,)}),
        (("x", "d"), {"buckets": (2, 1)}),
        (("x", "d"), {"buckets": (float("inf"),)}),
    ):
        with pytest.raises(ValueError):
            Histogram(*args, **kwargs)
    # The registry sees our series names: a clash with _count or the family name is refused.
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Gauge("used_count", "d", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Histogram("bare", "d", buckets=(1,), registry=registry)
