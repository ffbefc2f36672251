"""rag-api settings, read from the environment (12-factor). docs/configuration.md lists every knob.

`Settings.from_env()` is the only place the app reads `os.environ` for its own knobs; the
OpenTelemetry SDK additionally honours the standard `OTEL_*` variables itself (sampler,
resource attributes, headers, ...). Invalid values fail at start-up with a message naming the
variable, never later inside a request.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from opentelemetry.util.http import (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
)

from demo_app import __version__
from demo_app.envcheck import check_sdk_variables, otlp_endpoints
from demo_app.feedback import DEFAULT_INDEX_SIZE
from genai_telemetry import semconv
from genai_telemetry.config import ExportSchedule
from genai_telemetry.tracing import sampler_from_env


class ConfigError(ValueError):
    """An environment variable has an invalid value (the message names it)."""


_DEFAULT_SCHEDULE = ExportSchedule()  # frozen: one default shared by both signals
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    value = "" if raw is None else raw.strip().lower()
    if not value:  # unset or empty (`TELEMETRY_ENABLED=` in a compose file): the default
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _capture_content(env: Mapping[str, str]) -> bool:
    """Content capture on spans: rag-api's true/false, or util-genai's capturing mode names."""
    mode = env.get(semconv.CAPTURE_CONTENT_ENV, "").strip().upper()
    if mode in semconv.CAPTURE_CONTENT_ON_SPANS:
        return True
    if mode in semconv.CAPTURE_CONTENT_OFF_SPANS:
        return False
    try:
        return _bool(env, semconv.CAPTURE_CONTENT_ENV, False)
    except ConfigError:
        modes = ", ".join(semconv.CAPTURE_CONTENT_ON_SPANS + semconv.CAPTURE_CONTENT_OFF_SPANS)
        raise ConfigError(
            f"{semconv.CAPTURE_CONTENT_ENV}={env[semconv.CAPTURE_CONTENT_ENV]!r}: expected true, "
            f"false or one of {modes}"
        ) from None


def _num(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    maximum: float = math.inf,
) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    # NaN, inf and 1e999 parse as floats: a timeout of inf never fires (or breaks the socket).
    if not math.isfinite(value) or not minimum <= value <= maximum:
        bound = (
            f"from {minimum:.15g} to {maximum:.15g}" if maximum < math.inf else f">= {minimum:.15g}"
        )
        raise ConfigError(f"{name}={raw!r}: must be a finite number {bound}")
    return value


PORT_MAX = 65535  # a larger PORT or --port made bind raise OverflowError


def _int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigError(f"{name}={raw!r}: must be an integer {bound}")
    return value


def _export_schedule(
    env: Mapping[str, str], prefix: str, default: ExportSchedule
) -> ExportSchedule:
    """One signal's OTEL_BSP_* / OTEL_BLRP_* batch settings. A batch set larger than the queue
    is an error, as in the SDK's batch processors; unset, it is the default cut to the queue's
    size (where the SDK would refuse a small queue alone)."""
    queue, batch = f"{prefix}_MAX_QUEUE_SIZE", f"{prefix}_MAX_EXPORT_BATCH_SIZE"
    max_queue = _int(env, queue, default.max_queue, minimum=1)
    schedule = ExportSchedule(
        max_queue=max_queue,
        batch=_int(env, batch, min(default.batch, max_queue), minimum=1),
        delay_ms=_int(env, f"{prefix}_SCHEDULE_DELAY", default.delay_ms, minimum=1),
    )
    if schedule.batch > schedule.max_queue:
        raise ConfigError(
            f"{batch}={schedule.batch} exceeds {queue}={schedule.max_queue}: a batch is taken "
            "from the queue, so it can be at most the queue's size"
        )
    return schedule


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return raw.strip() if raw is not None and raw.strip() else default


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A credential from `NAME` or from the file named by `NAME_FILE` (Docker/Kubernetes
    secrets); not both. Surrounding whitespace (a trailing newline) is dropped."""
    direct = env.get(name, "").strip()
    path = env.get(f"{name}_FILE", "").strip()
    if direct and path:
        raise ConfigError(f"{name} and {name}_FILE are both set: use one")
    if not path:
        return direct or None
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}_FILE={path!r}: cannot read it ({exc})") from None
    if not value:
        raise ConfigError(f"{name}_FILE={path!r}: the file is empty")
    return value


# Server-span header capture (genai_telemetry/server_span.py): opentelemetry-util-http reads
# these itself and compiles them on every request, so a bad pattern would answer each one 500.
HEADER_CAPTURE_ENVS = (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS,
)


def _check_header_patterns(env: Mapping[str, str]) -> None:
    """Each variable is a comma-separated list of regexes, joined with | as the library does."""
    for name in HEADER_CAPTURE_ENVS:
        raw = env.get(name, "")
        if not raw.strip():
            continue
        try:
            re.compile("|".join(p.strip() for p in raw.split(",")), re.IGNORECASE)
        except re.error as exc:
            reason = f"not a list of regular expressions ({exc})"
            raise ConfigError(f"{name}={raw!r}: {reason}") from None


# The demo stack's API keys (also in .env.example): who presents which key gets which tier.
DEMO_API_KEYS = "demo-free-key:free,demo-pro-key:pro,demo-enterprise-key:enterprise"


def parse_api_keys(raw: str, name: str = "API_KEYS") -> dict[str, str]:
    """`key:tier,key:tier` → {key: tier}; tiers from semconv.USER_TIERS."""
    keys: dict[str, str] = {}
    for number, item in enumerate(raw.split(","), start=1):
        if not item.strip():
            continue
        key, sep, tier = item.strip().rpartition(":")
        if not sep or not key.strip():
            # The entry is (part of) a secret: name its position, never its text.
            raise ConfigError(f"{name}: entry {number}: expected key:tier")
        if tier.strip() not in semconv.USER_TIERS:
            raise ConfigError(
                f"{name}: entry {number}: the tier after the last ':' must be one of "
                f"{', '.join(semconv.USER_TIERS)}"
            )
        if key.strip() in keys:  # which tier was meant? (the later one would win silently)
            raise ConfigError(f"{name}: entry {number}: the key of an earlier entry again")
        keys[key.strip()] = tier.strip()
    return keys


@dataclass(frozen=True)
class TierLimit:
    """A token bucket's `rate_per_s` refill and `burst` capacity (one per user tier; also the
    alerts webhook's log budget)."""

    rate_per_s: float
    burst: float


@dataclass(frozen=True)
class Settings:
    # --- server ---
    host: str = "127.0.0.1"  # the container image sets HOST=0.0.0.0 inside its network
    port: int = 8000
    max_body_bytes: int = 64 * 1024
    alerts_max_body_bytes: int = 1024 * 1024
    request_timeout_s: float = 60.0
    # --- LLM backend (passed to the provider library) ---
    llm_provider: str = "simulated"
    llm_default_model: str = "gpt-4o-mini"
    sim_seed: int = 42
    sim_latency_scale: float = 1.0
    retrieval_top_k: int = 4
    # --- features ---
    admin_token: str | None = field(default=None, repr=False)  # credentials never in a repr
    # Bearer credential Alertmanager sends to POST /v1/alerts; None → the webhook is not mounted.
    alerts_webhook_token: str | None = field(default=None, repr=False)
    rate_limit_enabled: bool = True
    rate_limits: Mapping[str, TierLimit] = field(
        default_factory=lambda: {
            "free": TierLimit(2.0, 20.0),
            "pro": TierLimit(10.0, 100.0),
            "enterprise": TierLimit(50.0, 500.0),
        }
    )
    rate_limit_max_keys: int = 10_000
    # API key (X-API-Key header) → user tier; unknown or missing keys get the lowest tier.
    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    cache_enabled: bool = True
    cache_ttl_seconds: float = 300.0
    cache_max_entries: int = 1024
    # Recent answers that POST /v1/feedback can join to their model, route and retrieval quality.
    feedback_index_size: int = DEFAULT_INDEX_SIZE
    # --- telemetry ---
    telemetry_enabled: bool = True
    service_name: str = semconv.SERVICE_NAME
    service_version: str = __version__
    deployment_environment: str = "local"
    otlp_traces_endpoint: str | None = None  # full URL incl. /v1/traces; None → no export
    otlp_logs_endpoint: str | None = None  # full URL incl. /v1/logs; None → no export
    otlp_timeout_s: float = 2.0
    span_export: ExportSchedule = _DEFAULT_SCHEDULE  # OTEL_BSP_*
    log_export: ExportSchedule = _DEFAULT_SCHEDULE  # OTEL_BLRP_*
    capture_message_content: bool = False
    capture_retrieval_documents: bool = False  # gen_ai.retrieval.documents is opt-in
    # False when OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names "fastapi": no server spans (e.g.
    # a proxy or mesh already makes them); the GenAI spans then start their own traces.
    fastapi_instrumentation: bool = True
    log_level: str = "info"
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        d = cls()
        limits = {}
        for tier in semconv.USER_TIERS:
            base = d.rate_limits[tier]
            key = tier.upper()
            limits[tier] = TierLimit(
                rate_per_s=_num(env, f"RATE_LIMIT_{key}_RPS", base.rate_per_s, minimum=0.001),
                burst=_num(env, f"RATE_LIMIT_{key}_BURST", base.burst, minimum=1.0),
            )
        if not limits["free"].rate_per_s <= limits["pro"].rate_per_s:
            raise ConfigError("RATE_LIMIT_FREE_RPS must not exceed RATE_LIMIT_PRO_RPS")
        if not limits["pro"].rate_per_s <= limits["enterprise"].rate_per_s:
            raise ConfigError("RATE_LIMIT_PRO_RPS must not exceed RATE_LIMIT_ENTERPRISE_RPS")

        provider = _str(env, "LLM_PROVIDER", d.llm_provider)
        if provider not in ("simulated", "openai_compatible"):
            raise ConfigError(f"LLM_PROVIDER={provider!r}: expected simulated or openai_compatible")
        log_level = _str(env, "LOG_LEVEL", d.log_level).lower()
        if log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError(f"LOG_LEVEL={log_level!r}: expected debug, info, warning or error")

        _check_header_patterns(env)
        try:
            sampler_from_env(env)
            check_sdk_variables(env)  # before the SDK reads them (and warns, printing them)
            traces_ep, logs_ep = otlp_endpoints(env)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        timeout_ms = _num(  # at most a day: the socket refuses timeouts past ~1e10 s
            env, "OTEL_EXPORTER_OTLP_TIMEOUT", d.otlp_timeout_s * 1000, minimum=1, maximum=86.4e6
        )
        # Stripped like the presented token (demo_app/api/deps.py); blank is unset, not "".
        admin_token = env.get("ADMIN_TOKEN", "").strip() or None
        webhook_token = _secret(env, "ALERTS_WEBHOOK_TOKEN")
        api_keys = parse_api_keys(_secret(env, "API_KEYS") or "")
        return cls(
            host=_str(env, "HOST", d.host),
            port=_int(env, "PORT", d.port, minimum=0, maximum=PORT_MAX),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", d.max_body_bytes, minimum=1024),
            alerts_max_body_bytes=_int(
                env, "ALERTS_MAX_BODY_BYTES", d.alerts_max_body_bytes, minimum=1024
            ),
            request_timeout_s=_num(
                env, "REQUEST_TIMEOUT_SECONDS", d.request_timeout_s, minimum=0.1
            ),
            llm_provider=provider,
            llm_default_model=_str(env, "LLM_DEFAULT_MODEL", d.llm_default_model),
            sim_seed=_int(env, "SIM_SEED", d.sim_seed),
            sim_latency_scale=_num(env, "SIM_LATENCY_SCALE", d.sim_latency_scale),
            retrieval_top_k=_int(env, "RETRIEVAL_TOP_K", d.retrieval_top_k, minimum=1),
            admin_token=admin_token,
            alerts_webhook_token=webhook_token,
            rate_limit_enabled=_bool(env, "RATE_LIMIT_ENABLED", d.rate_limit_enabled),
            rate_limits=limits,
            api_keys=api_keys,
            rate_limit_max_keys=_int(
                env, "RATE_LIMIT_MAX_KEYS", d.rate_limit_max_keys, minimum=len(limits)
            ),
            cache_enabled=_bool(env, "CACHE_ENABLED", d.cache_enabled),
            cache_ttl_seconds=_num(env, "CACHE_TTL_SECONDS", d.cache_ttl_seconds),
            cache_max_entries=_int(env, "CACHE_MAX_ENTRIES", d.cache_max_entries, minimum=1),
            feedback_index_size=_int(env, "FEEDBACK_INDEX_SIZE", d.feedback_index_size, minimum=1),
            telemetry_enabled=_bool(env, "TELEMETRY_ENABLED", d.telemetry_enabled),
            service_name=_str(env, "OTEL_SERVICE_NAME", d.service_name),
            service_version=_str(env, "SERVICE_VERSION", d.service_version),
            deployment_environment=_str(env, "DEPLOYMENT_ENVIRONMENT", d.deployment_environment),
            otlp_traces_endpoint=traces_ep,
            otlp_logs_endpoint=logs_ep,
            otlp_timeout_s=timeout_ms / 1000.0,
            span_export=_export_schedule(env, "OTEL_BSP", d.span_export),
            log_export=_export_schedule(env, "OTEL_BLRP", d.log_export),
            capture_message_content=_capture_content(env),
            capture_retrieval_documents=_bool(env, semconv.CAPTURE_RETRIEVAL_DOCUMENTS_ENV, False),
            fastapi_instrumentation="fastapi" not in _names(env, DISABLED_INSTRUMENTATIONS_ENV),
            log_level=log_level,
            environ=env,
        )

    def replace(self, **changes: object) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)  # type: ignore[arg-type]


DISABLED_INSTRUMENTATIONS_ENV = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"


def _names(env: Mapping[str, str], name: str) -> set[str]:
    """A comma-separated list variable as a set of lower-case names."""
    return {part.strip().lower() for part in env.get(name, "").split(",") if part.strip()}
