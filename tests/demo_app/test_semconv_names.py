"""genai_telemetry/semconv.py names what the `opentelemetry-semantic-conventions` package names.

Attribute names are taken from the package (so a typo cannot exist); Prometheus metric names
are the package's OTel metric names translated the way Prometheus translates OTLP (dots →
underscores, unit suffix), which this test does independently of semconv.py. Starts no process.
"""

from __future__ import annotations

import pytest
from opentelemetry.semconv._incubating.attributes import enduser_attributes
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import (
    error_attributes,
    exception_attributes,
    http_attributes,
    server_attributes,
    url_attributes,
)
from opentelemetry.semconv.metrics import http_metrics
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.util.genai import _instruments as util_instruments

from genai_telemetry import semconv as sc

# Translation of an OTel metric name + unit to its Prometheus name.
UNIT_SUFFIX = {"s": "_seconds", "{token}": ""}


def prometheus_name(otel_name: str, unit: str) -> str:
    return otel_name.replace(".", "_") + UNIT_SUFFIX[unit]


@pytest.mark.parametrize(
    ("ours", "otel", "unit"),
    [
        (sc.HTTP_SERVER_DURATION, http_metrics.HTTP_SERVER_REQUEST_DURATION, "s"),
        (sc.GENAI_OPERATION_DURATION, gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION, "s"),
        (sc.GENAI_TOKEN_USAGE, gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE, "{token}"),
        (
            sc.GENAI_TIME_TO_FIRST_CHUNK,
            gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            "s",
        ),
        (
            sc.GENAI_TIME_PER_OUTPUT_CHUNK,
            gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
            "s",
        ),
    ],
)
def test_metric_names_are_the_package_names_translated(ours: str, otel: str, unit: str) -> None:
    assert ours == prometheus_name(otel, unit)


@pytest.mark.parametrize(
    ("ours", "constant"),
    [
        (sc.GENAI_INVOKE_AGENT_DURATION, "_GEN_AI_INVOKE_AGENT_DURATION"),
        (sc.GENAI_EXECUTE_TOOL_DURATION, "_GEN_AI_EXECUTE_TOOL_DURATION"),
        (sc.GENAI_INVOKE_WORKFLOW_DURATION, "_GEN_AI_INVOKE_WORKFLOW_DURATION"),
    ],
)
def test_agent_metric_names_are_util_genais_translated(ours: str, constant: str) -> None:
    """Not in the semconv package: the names the official agent-framework instrumentations
    record are opentelemetry-util-genai's (pinned in constraints.txt), and so are the buckets."""
    assert ours == prometheus_name(getattr(util_instruments, constant), "s")


def test_agent_duration_buckets_are_util_genais() -> None:
    assert list(sc.AGENT_DURATION_BUCKETS) == util_instruments._GEN_AI_INVOKE_AGENT_DURATION_BUCKETS


def test_metric_label_names_are_the_package_attribute_names_translated() -> None:
    for label, attribute in (
        (sc.L_OPERATION, gen_ai.GEN_AI_OPERATION_NAME),
        (sc.L_PROVIDER, gen_ai.GEN_AI_PROVIDER_NAME),
        (sc.L_MODEL, gen_ai.GEN_AI_REQUEST_MODEL),
        (sc.L_TOKEN_TYPE, gen_ai.GEN_AI_TOKEN_TYPE),
        (sc.L_EVALUATION_NAME, gen_ai.GEN_AI_EVALUATION_NAME),
        (sc.L_TOOL_NAME, gen_ai.GEN_AI_TOOL_NAME),
        (sc.L_TOOL_TYPE, gen_ai.GEN_AI_TOOL_TYPE),
        (sc.L_AGENT_NAME, gen_ai.GEN_AI_AGENT_NAME),
        (sc.L_WORKFLOW_NAME, gen_ai.GEN_AI_WORKFLOW_NAME),
        (sc.L_ERROR_TYPE, error_attributes.ERROR_TYPE),
        (sc.L_HTTP_METHOD, http_attributes.HTTP_REQUEST_METHOD),
        (sc.L_HTTP_ROUTE, http_attributes.HTTP_ROUTE),
        (sc.L_HTTP_STATUS, http_attributes.HTTP_RESPONSE_STATUS_CODE),
        (sc.L_URL_SCHEME, url_attributes.URL_SCHEME),
    ):
        assert label == attribute.replace(".", "_")


def test_every_semconv_attribute_outside_llm_is_a_package_constant() -> None:
    package = {
        value
        for module in (
            gen_ai,
            enduser_attributes,
            error_attributes,
            exception_attributes,
            server_attributes,
        )
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str)
    }
    ours = {name: value for name, value in vars(sc).items() if name.startswith("A_")}
    assert ours, "semconv.py lost its attribute constants"
    foreign = {n: v for n, v in ours.items() if v not in package and not v.startswith("llm.")}
    assert not foreign, f"not in opentelemetry-semantic-conventions: {foreign}"


def test_deprecated_genai_names_are_not_used() -> None:
    # Renamed before v1.41: gen_ai.system → gen_ai.provider.name, prompt/completion tokens →
    # input/output tokens.
    used = {value for name, value in vars(sc).items() if name.startswith("A_")}
    for old in (
        gen_ai.GEN_AI_SYSTEM,
        gen_ai.GEN_AI_USAGE_PROMPT_TOKENS,
        gen_ai.GEN_AI_USAGE_COMPLETION_TOKENS,
    ):
        assert old not in used


def test_schema_url_is_the_one_of_the_version_followed() -> None:
    assert Schemas.V1_41_0.value == sc.SCHEMA_URL
    assert sc.SCHEMA_URL.endswith("/" + sc.SEMCONV_VERSION)
