"""The shipped rules catch a Claude app's failures (official instrumentation only, measured).

tests/ownapp/anthropic_app.py (the official `anthropic` client with the OpenTelemetry project's
`opentelemetry-instrumentation-genai-anthropic` 1.3b0) calls a loopback fake of the Anthropic
Messages API (harness.fake_anthropic: JSON and server-sent events) that answers 200, 429
(rate_limit_error), 500 (api_error) or 529 (overloaded_error); tests/ownapp/official_live.py
runs it under the rules rendered for it, faulty then healthy. The series' labels are asserted
as measured (docs/own-app.md).
"""

from __future__ import annotations

import pytest

from harness.fake_anthropic import fake_anthropic_server
from tests.ownapp import official_live as live

CLAUDE = live.OfficialApp(
    module="tests.ownapp.anthropic_app",
    url_env="OWNAPP_ANTHROPIC_URL",
    fake=fake_anthropic_server,
    model="claude-sonnet-4",
    errors=("429", "500", "529"),
)


outcomes, faulty, healthy = live.outcome_fixtures(CLAUDE)


def test_traffic_had_successes_and_every_provider_error(faulty: live.Outcome) -> None:
    assert faulty.statuses.get(200, 0) >= 60, faulty.statuses
    assert faulty.statuses.get(502, 0) >= 16 and faulty.statuses.get(503, 0) >= 8, faulty.statuses


def test_series_are_labelled_as_the_instrumentation_records_them(faulty: live.Outcome) -> None:
    """Provider "anthropic", operation chat, the client's exception classes as error_type (the
    rate limit matched by error_types.rate_limited), host and port of the base URL, a
    time-to-first-chunk histogram (from `messages.create(stream=True)`)."""
    labels = faulty.labels
    assert labels["gen_ai_provider_name"] == {"anthropic"}
    assert labels["gen_ai_operation_name"] == {"chat"}
    assert labels["error_type"] - {""} == {
        "anthropic.RateLimitError",
        "anthropic.InternalServerError",
        "anthropic.OverloadedError",
    }
    assert labels["server_address"] == {"127.0.0.1"} and len(labels["server_port"]) == 1
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
