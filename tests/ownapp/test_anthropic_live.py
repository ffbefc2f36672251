"""The shipped rules catch an Anthropic app's failures (official instrumentation only, measured).

tests/ownapp/anthropic_app.py (the official `anthropic` client with
`opentelemetry-instrumentation-genai-anthropic` 1.3b0) calls a loopback fake of the Anthropic
Messages API (harness.fake_anthropic: /v1/messages, JSON and SSE) that answers 200, 429
(rate_limit_error), 500 (api_error) or 529 (overloaded_error); tests/ownapp/providerlive.py runs
it (faulty and healthy, each with a real Prometheus and the rules rendered for the app) and
asserts the alerts and SLOs. Here: what differs for Anthropic, and the series' labels as measured
(docs/own-app.md's table and tests/prometheus/rules/llm-operations.test.yml copy them).
"""

from __future__ import annotations

from harness.fake_anthropic import fake_anthropic_server
from tests.ownapp import livecheck, providerlive
from tests.ownapp.providerlive import Outcome

ANTHROPIC = providerlive.Provider(
    app=livecheck.App("tests.ownapp.anthropic_app", "OWNAPP_ANTHROPIC_URL", fake_anthropic_server),
    model="claude-sonnet-4",
    # 429s half of the failures: over LLMProviderRateLimited's 10 % of all calls (a 529 is no
    # rate limit: the instrumentation records it as anthropic.OverloadedError).
    errors=("429", "500", "429", "529"),
)


class TestAnthropic(providerlive.Checks):
    provider = ANTHROPIC

    def test_series_are_labelled_as_the_instrumentation_records_them(self, faulty: Outcome) -> None:
        """Provider "anthropic", operation chat, the exception's qualified class name as
        error_type (a 529 is anthropic.OverloadedError, not a rate limit), server_address and
        server_port of the base URL, input/output token usage, a time-to-first-chunk
        histogram."""
        labels = faulty.labels
        assert labels["gen_ai_provider_name"] == {"anthropic"}
        assert labels["gen_ai_operation_name"] == {"chat"}
        assert labels["error_type"] - {""} == {
            "anthropic.RateLimitError",
            "anthropic.InternalServerError",
            "anthropic.OverloadedError",
        }
        assert labels["server_address"] == {"127.0.0.1"}
        assert len(labels["server_port"]) == 1 and labels["server_port"] != {""}
        assert labels["gen_ai_token_type"] == {"input", "output"}
        assert providerlive.has_ttft(faulty)
