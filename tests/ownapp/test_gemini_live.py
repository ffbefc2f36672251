"""The shipped rules catch a Gemini app's failures (official instrumentation only, measured).

tests/ownapp/gemini_app.py (the official `google-genai` client with
`opentelemetry-instrumentation-google-genai` 1.3b0) calls a loopback fake of the Gemini REST API
(harness.fake_gemini: generateContent, streamGenerateContent SSE) that answers 200, 429 or 500;
tests/ownapp/official_live.py runs it under the rules rendered for it, faulty then healthy. The
series' labels are asserted as measured (docs/own-app.md's table and
tests/prometheus/rules/llm-operations.test.yml copy them).
"""

from __future__ import annotations

import pytest

from harness.fake_gemini import fake_gemini_server
from tests.ownapp import official_live as live

GEMINI = live.OfficialApp(
    module="tests.ownapp.gemini_app",
    url_env="OWNAPP_GEMINI_URL",
    fake=fake_gemini_server,
    model="gemini-2.5-flash",
    errors=("500", "429"),
)


outcomes, faulty, healthy = live.outcome_fixtures(GEMINI)


def test_traffic_had_successes_and_both_provider_errors(faulty: live.Outcome) -> None:
    assert faulty.statuses.get(200, 0) >= 60, faulty.statuses
    assert faulty.statuses.get(502, 0) >= 8 and faulty.statuses.get(503, 0) >= 8, faulty.statuses


def test_series_are_labelled_as_the_instrumentation_records_them(faulty: live.Outcome) -> None:
    """What llm-operations.test.yml and docs/own-app.md state: provider "gemini" (not the semconv
    value gcp.gemini), operation generate_content, HTTP status codes as error_type, the base
    URL's host as server_address (no port), a time-to-first-chunk histogram."""
    labels = faulty.labels
    assert labels["gen_ai_provider_name"] == {"gemini"}
    assert labels["gen_ai_operation_name"] == {"generate_content"}
    assert labels["error_type"] - {""} == {"429", "500"}
    assert labels["server_address"] == {"127.0.0.1"} and "server_port" not in labels
    assert any(
        n.startswith("gen_ai_client_operation_time_to_first_chunk") for n in labels["__name__"]
    )


def test_error_and_rate_limit_alerts_fire(faulty: live.Outcome) -> None:
    live.assert_faults_alert(faulty)


@pytest.mark.parametrize("which", ["faulty", "healthy"])
def test_model_call_slos_have_series(which: str, request: pytest.FixtureRequest) -> None:
    live.assert_slos_recorded(request.getfixturevalue(which))


def test_alerts_silent_without_faults(healthy: live.Outcome) -> None:
    live.assert_quiet(healthy)
