"""http_server_request_duration_seconds labels (HTTP semconv v1.41): url.scheme and error.type,
bounded whatever the request brings."""

from __future__ import annotations

import pytest

from genai_telemetry import semconv as sc
from genai_telemetry.metrics import Metrics


@pytest.mark.parametrize(
    ("status", "error", "scheme", "labels"),
    [
        (200, None, "http", ("200", "http", "")),
        (404, None, "https", ("404", "https", "")),  # the client's error: no error.type
        (503, None, "http", ("503", "http", "503")),
        (500, RuntimeError("bug"), "http", ("500", "http", "500")),  # the status, not the class
        (200, RuntimeError("mid-body"), "http", ("200", "http", sc.OTHER)),  # bounded
        (200, None, "gopher", ("200", sc.OTHER, "")),
        (200, None, None, ("200", sc.OTHER, "")),  # no scheme given: still a label, bounded
    ],
)
def test_url_scheme_and_error_type(
    status: int, error: BaseException | None, scheme: str | None, labels: tuple[str, str, str]
) -> None:
    metrics = Metrics()
    metrics.observe_http("GET", "/v1/x", status, 0.1, None, scheme=scheme, error=error)
    code, url_scheme, error_type = labels
    assert sc.METRIC_LABELS[sc.HTTP_SERVER_DURATION][-2:] == (sc.L_URL_SCHEME, sc.L_ERROR_TYPE)
    value = metrics.registry.get_sample_value(
        sc.HTTP_SERVER_DURATION + "_count",
        {
            sc.L_HTTP_METHOD: "GET",
            sc.L_HTTP_ROUTE: "/v1/x",
            sc.L_HTTP_STATUS: code,
            sc.L_URL_SCHEME: url_scheme,
            sc.L_ERROR_TYPE: error_type,
        },
    )
    assert value == 1


def test_metrics_come_from_the_instrument_table() -> None:
    """Every contract metric is one row of metrics.INSTRUMENTS (and nothing else is)."""
    from genai_telemetry.metrics import INSTRUMENTS

    assert sorted(row.name for row in INSTRUMENTS) == sorted(sc.METRIC_LABELS)
