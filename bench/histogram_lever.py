"""The `histogram` lever of `bench levers`: prometheus-client's Histogram vs genai_telemetry's.

  per observation  one labelled series (its child looked up once, as Metrics caches them),
                   values spread over the duration buckets, with a `trace_id` exemplar and
                   without; µs per observation
  per request      the histogram calls one steady POST /v1/chat makes on a real in-process
                   rag-api (recorded there, with their real arguments and trace ids), replayed
                   on two `Metrics`: one as shipped, one whose histograms are prometheus-client's;
                   µs per request. The observations are counted on the real app's /metrics and on
                   each replay's registry, so the figure is about the same work.
Best of several repeats, the two sides alternated.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import prometheus_client
from prometheus_client import CollectorRegistry

from bench import common, floor
from genai_telemetry import metrics as metrics_module
from genai_telemetry import semconv as sc
from genai_telemetry.histogram import Histogram

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
_Call = tuple[str, tuple[Any, ...], dict[str, Any]]


def per_observation(values: int = 200, number: int = 20) -> dict[str, float]:
    """µs per observation of one series: (library, ours) × (with exemplar, without)."""
    rng = random.Random(0)
    amounts = [10 ** rng.uniform(-2.5, 2.0) for _ in range(values)]  # 3 ms .. 100 s
    exemplar = {"trace_id": TRACE_ID}
    lib = prometheus_client.Histogram(
        "lib", "d", ("a",), buckets=sc.DURATION_BUCKETS, registry=None
    ).labels("x")
    ours = Histogram("ours", "d", ("a",), buckets=sc.DURATION_BUCKETS).labels("x")

    def run(child: Any, ex: dict[str, str] | None) -> Callable[[], None]:
        def many() -> None:
            for amount in amounts:
                child.observe(amount, ex)

        return many

    out = {}
    for key, ex in (("exemplar", exemplar), ("bare", None)):
        lib_us, our_us = common.best_pair_us(run(lib, ex), run(ours, ex), number)
        out[f"lib_{key}_us"], out[f"ours_{key}_us"] = lib_us / values, our_us / values
    return out


def _observations(registry: CollectorRegistry, text: str | None = None) -> float:
    """bench.floor's count of observations, on `text` if given, else on the registry."""
    body = text if text is not None else prometheus_client.generate_latest(registry).decode()
    return floor.histogram_observations(body)


@contextmanager
def _recording(target: metrics_module.Metrics, calls: list[_Call]) -> Iterator[None]:
    """Remember every `observe_*` call made on `target` (then made as usual)."""
    names = [n for n in dir(metrics_module.Metrics) if n.startswith("observe_")]

    def recorder(name: str) -> Callable[..., None]:
        original = getattr(target, name)

        def record(*args: Any, **kwargs: Any) -> None:
            calls.append((name, args, kwargs))
            original(*args, **kwargs)

        return record

    for name in names:
        setattr(target, name, recorder(name))
    try:
        yield
    finally:
        for name in names:
            delattr(target, name)


def record_chat() -> tuple[list[_Call], float, metrics_module.Metrics]:
    """The histogram calls of one steady /v1/chat on an in-process rag-api, the observations
    that request added to its /metrics, and the app's Metrics (for its models/providers)."""
    from fastapi.testclient import TestClient

    from harness import poll

    app = common.in_process_app()
    calls: list[_Call] = []
    with TestClient(app) as client:
        poll("rag-api /readyz", lambda: client.get("/readyz").status_code == 200, 30, every=0.05)
        target = app.state.rag.telemetry.metrics
        client.post("/v1/chat", json={"question": "How is TTFT measured? (warm)"})
        before = _observations(target.registry, client.get("/metrics").text)
        with _recording(target, calls):
            question = "How is time to first token measured?"
            client.post("/v1/chat", json={"question": question}).raise_for_status()
        added = _observations(target.registry, client.get("/metrics").text) - before
    return calls, added, target


def _metrics(app_metrics: metrics_module.Metrics, library: bool) -> metrics_module.Metrics:
    """A fresh Metrics with the app's models and providers; `library`: its histograms are
    prometheus-client's (Metrics builds them with the same arguments)."""
    models, providers = app_metrics.models, app_metrics.providers
    if not library:
        return metrics_module.Metrics(models, providers)
    with mock.patch.object(metrics_module, "Histogram", prometheus_client.Histogram):
        return metrics_module.Metrics(models, providers)


def _replay(target: metrics_module.Metrics, calls: list[_Call]) -> Callable[[], None]:
    bound = [(getattr(target, name), args, kwargs) for name, args, kwargs in calls]

    def one() -> None:
        for method, args, kwargs in bound:
            method(*args, **kwargs)

    return one


def per_request(number: int = 200) -> dict[str, float]:
    """µs per request of one /v1/chat's recorded histogram calls, replayed on a Metrics with
    prometheus-client's histograms and on one as shipped; observations counted on the app's
    /metrics and on one replay of each side."""
    calls, added, app_metrics = record_chat()
    counted = {}
    for name, library in (("lib", True), ("ours", False)):
        once = _metrics(app_metrics, library)
        _replay(once, calls)()
        counted[name] = _observations(once.registry)
    lib, ours = _metrics(app_metrics, True), _metrics(app_metrics, False)
    lib_us, our_us = common.best_pair_us(_replay(lib, calls), _replay(ours, calls), number)
    return {
        "calls": len(calls),
        "observations_on_app": added,
        "observations_replayed_lib": counted["lib"],
        "observations_replayed_ours": counted["ours"],
        "lib_us": lib_us,
        "ours_us": our_us,
    }


def histogram(quick: bool = False) -> dict[str, Any]:
    return {
        "observation": per_observation(number=10 if quick else 20),
        "request": per_request(100 if quick else 200),
    }
