"""Checks of the values rag-api hands on to libraries: http(s) URLs and the OpenTelemetry SDK's
own variables. Each raises ValueError naming the variable (Settings.from_env turns it into a
ConfigError, exit 2) and never echoes what may hold a secret.

The SDK reads `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]HEADERS`, `..._COMPRESSION` and
`OTEL_RESOURCE_ATTRIBUTES` itself. What it cannot parse it logs as a warning, printing the text
(a credential among it), and then drops: export goes on without the header. Here the SDK's
grammar decides first, and a bad entry stops start-up named by its position only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

# The split and the parser the OTLP/HTTP exporter uses (the split is private: pinned by
# constraints.txt; tests/demo_app/test_config_otel.py compares verdicts with the SDK's warnings).
from opentelemetry.util.re import _DELIMITER_PATTERN, parse_env_headers

HEADERS_VARS = (  # the metrics one is not read: rag-api builds no metric exporter
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
)
# Both signals export OTLP/HTTP protobuf: a logs protocol of grpc would be ignored silently.
PROTOCOL_VARS = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
)
COMPRESSION_VARS = (
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
)
COMPRESSIONS = ("none", "gzip", "deflate")  # the OTLP/HTTP exporter's (a test compares)
RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"


def _shown(parts: SplitResult) -> str:
    """`, got scheme://host/...` for a message: no user info, port, path or query, and nothing
    where the host may be a user name (`http://user:password`, the password as a bad port)."""
    try:
        _ = parts.port  # raises for a port that is no integer in range
    except ValueError:
        if "@" not in parts.netloc:
            return ""
    return f", got {parts.scheme}://{parts.hostname}/..." if parts.hostname else ""


def http_url(name: str, url: str) -> tuple[str, int]:
    """Host and port (explicit or the scheme's) of an http(s) URL, else ValueError naming `name`.

    Without `//` the message shows nothing of the URL: `user:password@host:4318` parses with
    `user` as the scheme and the rest as the path (and redaction does not find that password).
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 literal
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{name}: must be an http(s) URL (scheme://host[:port]/path){_shown(parts)}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(
            f"{name}: invalid port (an integer from 0 to 65535){_shown(parts)}"
        ) from None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def exporter_on(env: Mapping[str, str], name: str) -> bool:
    """`OTEL_TRACES_EXPORTER` / `OTEL_LOGS_EXPORTER`: otlp (the default) or none; any other
    name (jaeger, console, ...) was silently read as otlp."""
    raw = env.get(name, "")
    value = raw.strip().lower() or "otlp"
    if value not in ("otlp", "none"):
        raise ValueError(f"{name}={raw!r}: expected otlp or none (rag-api has no other exporter)")
    return value == "otlp"


def otlp_endpoints(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Per-signal OTLP/HTTP URLs following the OTel spec's endpoint rules.

    A signal-specific variable is used as is; the generic one gets `/v1/<signal>` appended.
    `OTEL_TRACES_EXPORTER=none` / `OTEL_LOGS_EXPORTER=none` switch a signal's export off.
    Every endpoint set must be an http(s) URL, used or not.
    """
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if base:
        http_url("OTEL_EXPORTER_OTLP_ENDPOINT", base)

    def one(signal: str) -> str | None:
        on = exporter_on(env, f"OTEL_{signal.upper()}_EXPORTER")
        var = f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
        specific = env.get(var, "").strip()
        if specific:
            http_url(var, specific)
        if not on:
            return None
        if specific:
            return specific
        return base.rstrip("/") + f"/v1/{signal}" if base else None

    return one("traces"), one("logs")


class _Drop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _header_entry_ok(entry: str) -> bool:
    """Whether the SDK's parser (liberal, as the OTLP/HTTP exporter calls it) takes `entry`; its
    warning, which would print the entry, is dropped."""
    log, drop = logging.getLogger("opentelemetry.util.re"), _Drop()
    log.addFilter(drop)
    try:
        return bool(parse_env_headers(entry, liberal=True))
    finally:
        log.removeFilter(drop)


def check_sdk_variables(env: Mapping[str, str]) -> None:
    """OTLP protocols, headers and compressions, resource attributes: what the SDK would warn
    about (or, for the protocol, rag-api would not do)."""
    for name in PROTOCOL_VARS:
        protocol = env.get(name, "").strip() or "http/protobuf"
        if protocol != "http/protobuf":
            raise ValueError(f"{name}={protocol!r}: only http/protobuf is supported")
    for name in HEADERS_VARS:
        raw = env.get(name, "")  # the SDK treats empty as unset, not blank
        for number, entry in enumerate(_DELIMITER_PATTERN.split(raw) if raw else (), start=1):
            if entry and not _header_entry_ok(entry):
                # The entry is (part of) a credential: its position, never its text.
                raise ValueError(f"{name}: entry {number}: expected name=value (URL-encoded)")
    for name in COMPRESSION_VARS:
        raw = env.get(name, "")
        if raw and raw.strip().lower() not in COMPRESSIONS:
            raise ValueError(f"{name}={raw!r}: expected one of {', '.join(COMPRESSIONS)}")
    raw = env.get(RESOURCE_ATTRIBUTES, "")
    # opentelemetry.sdk.resources.OTELResourceDetector: `,`-separated key=value, the value
    # URL-decoded; an item without `=` or with an empty key is logged and dropped.
    for number, item in enumerate(raw.split(",") if raw else (), start=1):
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"{RESOURCE_ATTRIBUTES}: entry {number}: expected key=value (URL-encoded)"
            )
