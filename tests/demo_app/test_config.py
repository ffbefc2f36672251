"""Settings from the environment: defaults, OTel endpoint rules, errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.util.genai.types import ContentCapturingMode

from demo_app.config import ConfigError, Settings
from genai_telemetry.config import ExportSchedule
from genai_telemetry.semconv import CAPTURE_CONTENT_ENV
from harness import ROOT, free_port


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.llm_provider, s.llm_default_model) == (
        "127.0.0.1",
        8000,
        "simulated",
        "gpt-4o-mini",
    )
    assert s.service_name == "rag-api"
    assert s.otlp_traces_endpoint is None and s.otlp_logs_endpoint is None
    assert s.capture_message_content is False and s.rate_limit_enabled is True
    tiers = s.rate_limits
    assert tiers["free"].rate_per_s < tiers["pro"].rate_per_s < tiers["enterprise"].rate_per_s


_SWITCHES = {  # variable → Settings field; each defaults to true
    "RATE_LIMIT_ENABLED": "rate_limit_enabled",
    "CACHE_ENABLED": "cache_enabled",
    "TELEMETRY_ENABLED": "telemetry_enabled",
}


@pytest.mark.parametrize("raw", ["", "  "])
@pytest.mark.parametrize("name", sorted(_SWITCHES))
def test_an_empty_switch_is_unset_not_false(name: str, raw: str) -> None:
    """docs/configuration.md: an empty value means "unset" — `TELEMETRY_ENABLED=` must not
    switch telemetry off."""
    assert getattr(Settings.from_env({name: raw}), _SWITCHES[name]) is True
    assert getattr(Settings.from_env({name: "off"}), _SWITCHES[name]) is False


def test_otlp_endpoints_follow_the_spec() -> None:
    s = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    assert s.otlp_traces_endpoint == "http://collector:4318/v1/traces"
    assert s.otlp_logs_endpoint == "http://collector:4318/v1/logs"
    s = Settings.from_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318/custom",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "rag-api-canary",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "500",
        }
    )
    assert s.otlp_traces_endpoint == "http://tempo:4318/custom"
    assert s.otlp_logs_endpoint is None
    assert s.service_name == "rag-api-canary"
    assert s.otlp_timeout_s == 0.5


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"SIM_LATENCY_SCALE": "-1"}, "SIM_LATENCY_SCALE"),
        ({"RATE_LIMIT_ENABLED": "maybe"}, "RATE_LIMIT_ENABLED"),
        ({"LLM_PROVIDER": "magic"}, "LLM_PROVIDER"),
        ({"RATE_LIMIT_FREE_RPS": "100"}, "RATE_LIMIT_FREE_RPS"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"REQUEST_TIMEOUT_SECONDS": "soon"}, "REQUEST_TIMEOUT_SECONDS"),
        ({"REQUEST_TIMEOUT_SECONDS": "0"}, "REQUEST_TIMEOUT_SECONDS"),
        ({"REQUEST_TIMEOUT_SECONDS": "nan"}, "REQUEST_TIMEOUT_SECONDS"),
        # inf never times out; past ~1e10 s the socket refuses the timeout of every export
        ({"REQUEST_TIMEOUT_SECONDS": "inf"}, "REQUEST_TIMEOUT_SECONDS='inf': must be a finite"),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "1e999"}, "OTEL_EXPORTER_OTLP_TIMEOUT='1e999': must be"),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "1e13"}, "must be a finite number from 1 to 86400000"),
        ({"CACHE_TTL_SECONDS": "-inf"}, "CACHE_TTL_SECONDS='-inf': must be a finite"),
        ({"RATE_LIMIT_PRO_BURST": "Infinity"}, "RATE_LIMIT_PRO_BURST='Infinity': must be a finite"),
        ({"PORT": "65536"}, "PORT='65536': must be an integer from 0 to 65535"),
        ({"GENAI_CAPTURE_RETRIEVAL_DOCUMENTS": "maybe"}, "GENAI_CAPTURE_RETRIEVAL_DOCUMENTS"),
        ({"API_KEYS": "k:gold"}, "API_KEYS"),
        ({"FEEDBACK_INDEX_SIZE": "0"}, "FEEDBACK_INDEX_SIZE"),
        ({"FEEDBACK_INDEX_SIZE": "many"}, "FEEDBACK_INDEX_SIZE"),
        ({"OTEL_TRACES_SAMPLER": "parentbased_alwayson"}, "OTEL_TRACES_SAMPLER"),
        ({"OTEL_BSP_SCHEDULE_DELAY": "1s"}, "OTEL_BSP_SCHEDULE_DELAY"),
        ({"OTEL_BLRP_SCHEDULE_DELAY": "0"}, "OTEL_BLRP_SCHEDULE_DELAY"),
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "lots"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
        ({"OTEL_BLRP_MAX_QUEUE_SIZE": "0"}, "OTEL_BLRP_MAX_QUEUE_SIZE"),
        ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-1"}, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        ({"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "5e2"}, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"),
        (  # a batch is taken from the queue: both named
            {"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "200"},
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=200 exceeds OTEL_BSP_MAX_QUEUE_SIZE=100",
        ),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "_ARG"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "_ARG"),
        ({"API_KEYS_FILE": "/nonexistent/api_keys"}, "API_KEYS_FILE"),
        ({"API_KEYS": "k:pro", "API_KEYS_FILE": "/run/secrets/keys"}, "API_KEYS_FILE"),
        *(
            ({f"OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_{suffix}": "x-tenant,("}, suffix)
            for suffix in ("SERVER_REQUEST", "SERVER_RESPONSE", "SANITIZE_FIELDS")
        ),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT='eighty'"),  # read by Settings
        ({"PROMPT_VERSION": "v 2"}, "PROMPT_VERSION='v 2'"),  # read while building the app
        ({"OTEL_SDK_DISABLED": "1"}, "OTEL_SDK_DISABLED='1'"),  # read by the telemetry
    ],
)
def test_bad_configuration_exits_2_with_a_message(env: dict[str, str], message: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "demo_app"],
        cwd=ROOT,
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert f"configuration error: {message}" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"PORT": "70000"}, (), "configuration error: PORT='70000': must be an integer from 0 to"),
        ({}, ("--port", "70000"), "argument --port: must be an integer from 0 to 65535"),
        ({"HOST": "not.a.host.invalid"}, (), "error: HOST='not.a.host.invalid': cannot resolve"),
    ],
)
def test_an_impossible_address_exits_2(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    """A port past 65535 was an OverflowError traceback; an unknown host exited 3 with the
    resolver's words only, not naming HOST."""
    r = subprocess.run(
        [sys.executable, "-m", "demo_app", *args],
        cwd=ROOT,
        env={"PATH": "", "HOST": "127.0.0.1", "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(("raw", "token"), [("abc ", "abc"), ("\tabc\n", "abc"), (" ", None)])
def test_admin_token_is_stripped_and_blank_is_unset(raw: str, token: str | None) -> None:
    """The presented token is stripped (demo_app/api/deps.py): so is the configured one, or no
    call could ever match; a blank one switched the admin API on with no usable token."""
    assert Settings.from_env({"ADMIN_TOKEN": raw}).admin_token == token


# rag-api reads the bundled genai_telemetry/prices.yaml (no variable points it elsewhere): the
# subprocess swaps the module's path for a bad copy, then runs `python -m demo_app` as is.
_WITH_PRICES = (
    "import sys; from pathlib import Path; from genai_telemetry import pricing; "
    "pricing.PRICES_PATH = Path(sys.argv[1]); "
    "from demo_app.__main__ import main; sys.exit(main([]))"
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e999999999999", "models.gpt-4o-mini.input_cost_per_token: must be a finite number"),
        ("1.5e-07\n    input_cost_per_token: 1.5e-07", "input_cost_per_token: given twice"),
        ("1.5e-07 \udcff", "not UTF-8 text (byte 0xff)"),
    ],
    ids=["overflow", "twice", "not-utf8"],
)
def test_a_bad_price_table_stops_rag_api_naming_file_line_and_key(
    tmp_path: Path, value: str, message: str
) -> None:
    """D9: 1e999999999999 started and answered HTTP 500 on every chat of the model (Decimal
    overflow); a 0xff byte said "'utf-8' codec can't decode…" without file or line."""
    from genai_telemetry.pricing import PRICES_PATH

    shipped = PRICES_PATH.read_text()
    prices = tmp_path / "prices.yaml"
    text = shipped.replace("input_cost_per_token: 1.5e-07", f"input_cost_per_token: {value}", 1)
    prices.write_bytes(text.encode("utf-8", "surrogateescape"))
    line = shipped.splitlines().index("    input_cost_per_token: 1.5e-07") + 1
    line += value.count("\n")  # the second of two lines
    r = subprocess.run(
        [sys.executable, "-c", _WITH_PRICES, str(prices)],
        cwd=ROOT,
        env={"PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"rag-api: configuration error: {prices}:{line}: "), r.stderr
    assert message in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_export_schedules_reach_the_queues() -> None:
    """OTEL_BSP_* (spans) and OTEL_BLRP_* (log records) are parsed once, here, per signal with
    the SDK's names and defaults, and the export queues use them."""
    from genai_telemetry import logs, tracing

    env = {
        "OTEL_BSP_SCHEDULE_DELAY": "250",
        "OTEL_BSP_MAX_QUEUE_SIZE": "4096",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1024",
        "OTEL_BLRP_SCHEDULE_DELAY": "+40",
        "OTEL_BLRP_MAX_QUEUE_SIZE": "64",  # its batch, unset, is cut to the queue
    }
    s = Settings.from_env(env)
    assert s.span_export == ExportSchedule(max_queue=4096, batch=1024, delay_ms=250)
    assert s.log_export == ExportSchedule(max_queue=64, batch=64, delay_ms=40)
    default = ExportSchedule(max_queue=2048, batch=512, delay_ms=1000)
    assert Settings.from_env({}).span_export == Settings().log_export == default

    class Drop:
        def export(self, batch: object) -> None: ...

        def shutdown(self) -> None: ...

    resource = tracing.build_resource(s)
    spans = tracing.build_tracer_provider(s, resource, Drop())  # type: ignore[arg-type]
    records = logs.build_logger_provider(s, resource, Drop())  # type: ignore[arg-type]
    assert spans.queue is not None and records is not None
    span_queue, log_queue = spans.queue, records.queue
    assert (span_queue.max_queue, span_queue.batch, span_queue.delay_s) == (4096, 1024, 0.25)
    assert (log_queue.max_queue, log_queue.batch, log_queue.delay_s) == (64, 64, 0.04)
    spans.shutdown()
    records.shutdown()


@pytest.mark.parametrize("mode", list(ContentCapturingMode))
@pytest.mark.parametrize("spell", [str.upper, str.lower])
def test_content_capture_takes_util_genais_modes(mode: ContentCapturingMode, spell: Any) -> None:
    """OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is shared with the official GenAI
    instrumentations, which read it as opentelemetry-util-genai's content capturing mode (any
    case): rag-api records content on its spans exactly when util-genai would on its spans."""
    s = Settings.from_env({CAPTURE_CONTENT_ENV: spell(mode.name)})
    assert s.capture_message_content is (
        mode in (ContentCapturingMode.SPAN_ONLY, ContentCapturingMode.SPAN_AND_EVENT)
    )


@pytest.mark.parametrize(
    ("raw", "on"), [("true", True), ("1", True), ("false", False), ("", False)]
)
def test_content_capture_keeps_its_true_false_values(raw: str, on: bool) -> None:
    assert Settings.from_env({CAPTURE_CONTENT_ENV: raw}).capture_message_content is on


def test_content_capture_rejects_other_values() -> None:
    with pytest.raises(ConfigError, match=CAPTURE_CONTENT_ENV):
        Settings.from_env({CAPTURE_CONTENT_ENV: "SPANS"})
