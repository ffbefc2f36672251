"""The shipped rules catch a Gemini app's failures (official instrumentation only, measured).

tests/ownapp/gemini_app.py (the official `google-genai` client with
`opentelemetry-instrumentation-google-genai` 1.3b0) calls a loopback fake of the Gemini REST API
(harness.fake_gemini: generateContent, streamGenerateContent SSE) that answers 200, 429 or 500;
tests/ownapp/providerlive.py runs it (faulty and healthy, each with a real Prometheus and the
rules rendered for the app) and asserts the alerts and SLOs. Here: what differs for Gemini, and
the series' labels as measured (docs/own-app.md's table and
tests/prometheus/rules/llm-operations.test.yml copy them).
"""

from __future__ import annotations

from harness.fake_gemini import fake_gemini_server
from tests.ownapp import livecheck, providerlive
from tests.ownapp.providerlive import Outcome

GEMINI = providerlive.Provider(
    app=livecheck.App("tests.ownapp.gemini_app", "OWNAPP_GEMINI_URL", fake_gemini_server),
    model="gemini-2.5-flash",
    errors=("500", "429"),
)


class TestGemini(providerlive.Checks):
    provider = GEMINI

    def test_series_are_labelled_as_the_instrumentation_records_them(self, faulty: Outcome) -> None:
        """What llm-operations.test.yml and docs/own-app.md state: provider "gemini" (not the
        semconv value gcp.gemini), operation generate_content, HTTP status codes as error_type,
        the base URL's host as server_address (no port), a time-to-first-chunk histogram."""
        labels = faulty.labels
        assert labels["gen_ai_provider_name"] == {"gemini"}
        assert labels["gen_ai_operation_name"] == {"generate_content"}
        assert labels["error_type"] - {""} == {"429", "500"}
        assert labels["server_address"] == {"127.0.0.1"} and "server_port" not in labels
        assert labels["gen_ai_token_type"] == {"input", "output"}
        assert providerlive.has_ttft(faulty)
