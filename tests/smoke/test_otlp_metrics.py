"""Your own app's OTLP metrics reach Prometheus through the collector (make up && make smoke).

An SDK MeterProvider stands in for an instrumented app and pushes the standard GenAI metrics to
the collector's published OTLP/HTTP port (a second one to the OTLP/gRPC port). Then Prometheus
(3.14, OTLP receiver) must hold them under the names the dashboards query, with job =
service.name, instance = service.instance.id and the other resource attributes on target_info;
the shipped price rule, pointed at the app's job as `make generate` would, must turn the token
usage into a cost; and a pushed copy claiming to be the scraped rag-api must be dropped by the
collector.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
import yaml
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from genobs.config import load_config
from harness import ROOT
from tests.smoke.conftest import Stack, otlp_grpc_endpoint, otlp_http_url, poll

pytestmark = pytest.mark.docker

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
}
PROBE = "genai_obs_smoke_probe"  # pushed as service rag-api: the collector must drop it


def _provider(url: str, resource: dict[str, str], *, grpc: bool = False) -> MeterProvider:
    exporter = (
        GrpcMetricExporter(endpoint=url, insecure=True, timeout=10)
        if grpc
        else OTLPMetricExporter(endpoint=f"{url}/v1/metrics", timeout=10)
    )
    # A long interval: the test flushes explicitly, twice (rate() needs two samples).
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    return MeterProvider(resource=Resource.create(resource), metric_readers=[reader])


@pytest.fixture(scope="module")
def pushed(stack: Stack) -> dict[str, str]:
    service = f"smoke-ownapp-{uuid.uuid4().hex[:8]}"
    instance = uuid.uuid4().hex
    resource = {
        "service.name": service,
        "service.instance.id": instance,
        "deployment.environment": "smoke",
    }
    app = _provider(otlp_http_url(stack), resource)
    impostor = _provider(otlp_http_url(stack), {"service.name": "rag-api"})
    over_grpc = _provider(otlp_grpc_endpoint(stack), {"service.name": f"{service}-grpc"}, grpc=True)
    grpc_tokens = over_grpc.get_meter("smoke.genai").create_histogram(
        "gen_ai.client.token.usage", unit="{token}"
    )
    meter = app.get_meter("smoke.genai")
    tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    probe = impostor.get_meter("smoke.impostor").create_counter(PROBE)
    try:
        for _ in range(2):
            tokens.record(1000, {**CHAT, "gen_ai.token.type": "input"})
            tokens.record(100, {**CHAT, "gen_ai.token.type": "output"})
            duration.record(0.5, CHAT)
            probe.add(1)
            grpc_tokens.record(10, {**CHAT, "gen_ai.token.type": "input"})
            assert impostor.force_flush(10_000)
            assert over_grpc.force_flush(10_000), "the collector refused the OTLP/gRPC export"
            assert app.force_flush(10_000), "the collector refused the OTLP/HTTP export"
            time.sleep(12)  # > 2 scrape/evaluation intervals of the stack (5 s)
    finally:
        app.shutdown()
        impostor.shutdown()
        over_grpc.shutdown()
    return {"job": service, "instance": instance, "grpc_job": f"{service}-grpc"}


def _query(stack: Stack, http: httpx.Client, expr: str) -> list[dict[str, Any]]:
    r = http.get(f"{stack.prometheus}/api/v1/query", params={"query": expr})
    return r.json()["data"]["result"]


def test_standard_names_and_job_from_service_name(
    stack: Stack, http: httpx.Client, pushed: dict[str, str]
) -> None:
    job = pushed["job"]

    def series() -> list[Any] | None:
        found = _query(stack, http, f'gen_ai_client_token_usage_sum{{job="{job}"}}')
        return found if len(found) == 2 else None

    found = poll("pushed gen_ai_client_token_usage in Prometheus", series, timeout=90)
    by_type = {s["metric"]["gen_ai_token_type"]: float(s["value"][1]) for s in found}
    assert by_type == {"input": 2000.0, "output": 200.0}
    assert {s["metric"]["instance"] for s in found} == {pushed["instance"]}
    assert {s["metric"]["gen_ai_request_model"] for s in found} == {"gpt-4o-mini"}
    assert _query(stack, http, f'gen_ai_client_operation_duration_seconds_count{{job="{job}"}}'), (
        "duration histogram under its _seconds name"
    )


def test_grpc_endpoint_delivers_metrics_too(
    stack: Stack, http: httpx.Client, pushed: dict[str, str]
) -> None:
    def series() -> list[Any] | None:
        expr = f'gen_ai_client_token_usage_sum{{job="{pushed["grpc_job"]}"}}'
        return _query(stack, http, expr) or None

    (found,) = poll("metrics pushed over OTLP/gRPC in Prometheus", series, timeout=90)
    assert float(found["value"][1]) == 20.0


def test_resource_attributes_on_target_info(
    stack: Stack, http: httpx.Client, pushed: dict[str, str]
) -> None:
    def info() -> list[Any] | None:
        return _query(stack, http, f'target_info{{job="{pushed["job"]}"}}') or None

    (series,) = poll("target_info of the pushed app", info, timeout=90)
    assert series["metric"]["deployment_environment"] == "smoke"


def _shipped_token_cost_expr(job: str) -> str:
    """The shipped llm:token_cost_usd:rate5m rule, pointed at `job` the way `make generate` does
    for your app (its service selector swapped): the shipped rules watch only rag-api."""
    groups = yaml.safe_load((ROOT / "prometheus" / "rules" / "llm-prices.yml").read_text())
    (expr,) = (
        r["expr"]
        for g in groups["groups"]
        for r in g["rules"]
        if r.get("record") == "llm:token_cost_usd:rate5m"
    )
    selector = load_config().service_selector
    assert selector in expr, (selector, expr)
    return expr.replace(selector, f'job="{job}"')


def test_cost_from_standard_token_usage(
    stack: Stack, http: httpx.Client, pushed: dict[str, str]
) -> None:
    # Joins the pushed tokens with the llm:price_usd_per_token series the stack records.
    expr = f"({_shipped_token_cost_expr(pushed['job'])}) > 0"

    def cost() -> list[Any] | None:
        return _query(stack, http, expr) or None

    (found,) = poll("the price rule pricing the pushed tokens", cost, timeout=90)
    assert found["metric"]["gen_ai_request_model"] == "gpt-4o-mini"


def test_pushed_copy_of_the_scraped_service_is_dropped(
    stack: Stack, http: httpx.Client, pushed: dict[str, str]
) -> None:
    # Pushed in the same flushes as the app's metrics, which have arrived by now.
    assert _query(stack, http, f'gen_ai_client_token_usage_sum{{job="{pushed["job"]}"}}')
    assert _query(stack, http, f"{{__name__=~'{PROBE}.*'}}") == []
