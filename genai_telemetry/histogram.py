"""Storage for the contract histograms: prometheus-client's exposition, a cheaper `observe`.

rag-api records 16 histogram observations per chat request. prometheus-client's `Histogram`
takes a lock for the sum and another for the bucket, checks on every call that the metric has
its label values, validates each exemplar and builds an `Exemplar` for it: about twice this
module's cost per observation, 4-5 times with an exemplar (`python -m bench levers`). This
module replaces only that storage (one lock per series, the bucket found by bisection, the
exemplar kept as a tuple until a scrape). Everything around it stays the library's: `collect()`
yields prometheus-client's `HistogramMetricFamily`, so its registry, duplicate-name checks,
content negotiation and both encoders (text 0.0.4, OpenMetrics) render these histograms as they
render a `prometheus_client.Histogram` fed the same observations, exemplar timestamps aside
(tests/genai_telemetry/test_histogram.py compares the two).

Matches prometheus-client on purpose: bounds are floats with +Inf appended (`le` spelled by its
`floatToGoString`); `le` is inclusive; NaN is added to `_sum` but counted in no bucket (nor
`_count`); a bucket's exemplar is the last one observed in it; `_sum` is left out when the
lowest bound is negative. No `_created` series: a custom collector's family never has one,
whatever `disable_created_metrics()` says, and metrics.py turns them off process-wide for the
library's counters, so the exposition is the same as the library's there too. Single process
only (no `PROMETHEUS_MULTIPROC_DIR` mode; rag-api runs one uvicorn process per container).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client import Histogram as _LibraryHistogram
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar, Sample
from prometheus_client.utils import INF, floatToGoString

# One exemplar as stored: (labels, observed value, unix time); an `Exemplar` only when scraped.
_Stored = tuple[dict[str, str], float, float]


class HistogramChild:
    """One series (one set of label values): counts per bucket (not cumulative), the sum, and
    the last exemplar of each bucket, all behind one lock so a scrape sees one consistent state
    (`_count` is always the +Inf bucket; `_sum` belongs to the same observations)."""

    __slots__ = ("_counts", "_exemplars", "_lock", "_sum", "_upper")

    def __init__(self, upper: tuple[float, ...]) -> None:
        self._upper = upper
        self._counts = [0] * len(upper)
        self._sum = 0.0
        self._exemplars: list[_Stored | None] = [None] * len(upper)
        self._lock = threading.Lock()

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        """Record one value. `exemplar`: its labels, kept for the value's bucket.

        The exemplar is not checked against OpenMetrics' 128-character limit here, unlike
        prometheus-client (which validates every one): the only caller is `Metrics`, whose
        exemplars are always `{"trace_id": <32 lowercase hex>}` (40 characters, formatted from a
        span context in tracing.py), so the check could never fail, yet would cost about as
        much as the rest of this method (~0.25 µs here)."""
        i = bisect_left(self._upper, amount)  # first bound >= amount (NaN: 0, see below)
        with self._lock:
            self._sum += amount
            if amount <= self._upper[i]:  # false only for NaN, counted in no bucket
                self._counts[i] += 1
                if exemplar:
                    self._exemplars[i] = (exemplar, amount, time.time())

    def snapshot(self) -> tuple[list[int], float, list[_Stored | None]]:
        """(counts per bucket, sum, exemplar per bucket), taken together under the lock."""
        with self._lock:
            return list(self._counts), self._sum, list(self._exemplars)


class Histogram(Collector):
    """A histogram family on a registry: `labels(*values)` gives the series of those values;
    a histogram without label names is observed directly with `observe`.

    Constructor arguments and their validation are prometheus-client's `Histogram`'s (a
    throwaway, unregistered instance of it checks name, label names and buckets, so a bad one
    raises the library's ValueError)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        labelnames = tuple(labelnames)
        _LibraryHistogram(name, documentation, labelnames, buckets=buckets, registry=None)
        upper = [float(b) for b in buckets]
        if upper[-1] != INF:
            upper.append(INF)
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._upper = tuple(upper)
        self._le = tuple(floatToGoString(b) for b in upper)
        self._children: dict[tuple[str, ...], HistogramChild] = {}
        self._lock = threading.Lock()
        self._only = None if labelnames else HistogramChild(self._upper)
        if registry is not None:
            registry.register(self)

    def labels(self, *values: object) -> HistogramChild:
        """The series of these label values (created on first use), as prometheus-client:
        values are turned into strings; a wrong count is a ValueError."""
        if self._only is not None:
            raise ValueError(f"No label names were set when constructing histogram:{self.name}")
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            if len(key) != len(self.labelnames):
                raise ValueError(
                    f"Incorrect label count: {self.name} has labels {list(self.labelnames)}, "
                    f"got {len(key)} values"
                )
            with self._lock:
                child = self._children.setdefault(key, HistogramChild(self._upper))
        return child

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        """Observe on a histogram without label names (with them: ValueError, as the library)."""
        if self._only is None:
            raise ValueError("histogram metric is missing label values")
        self._only.observe(amount, exemplar)

    # --- collector ---------------------------------------------------------------------------
    def describe(self) -> Iterable[Metric]:
        """The family without samples: the registry's duplicate-name check reads it."""
        return [HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self._series():
            self._add(family, values, *child.snapshot())
        yield family

    def _series(self) -> list[tuple[tuple[str, ...], HistogramChild]]:
        """Every series in creation order (the order prometheus-client renders them in)."""
        if self._only is not None:
            return [((), self._only)]
        with self._lock:
            return list(self._children.items())

    def _add(
        self,
        family: HistogramMetricFamily,
        values: tuple[str, ...],
        counts: list[int],
        total: float,
        exemplars: list[_Stored | None],
    ) -> None:
        """One series' samples: cumulative buckets (float, as the library's), `_count`, `_sum`."""
        buckets = []
        acc = 0.0
        for le, count, stored in zip(self._le, counts, exemplars, strict=True):
            acc += count
            buckets.append((le, acc, Exemplar(*stored) if stored else None))
        if self._upper[0] >= 0:
            family.add_metric(values, buckets, total)
            return
        # A negative lowest bound: prometheus-client keeps `_count` and drops `_sum`; the
        # family helper would drop both.
        family.add_metric(values, buckets, None)
        labels = dict(zip(self.labelnames, values, strict=True))
        family.samples.append(Sample(self.name + "_count", labels, acc, None, None))
