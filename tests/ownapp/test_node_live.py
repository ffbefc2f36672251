"""The shipped rules catch a Node.js app's failures (official OpenTelemetry JS packages only).

tests/ownapp/node_app (express and the official `openai` npm client, instrumented only with
`@opentelemetry/instrumentation-openai` 0.22.0, `-http`, `-express` and the JS metrics SDK, its
metrics on /metrics through `@opentelemetry/exporter-prometheus`) calls the loopback fake OpenAI
API; tests/ownapp/providerlive.py runs it (faulty and healthy, each with a real Prometheus and the
rules rendered for the app) and asserts the alerts and SLOs. Prometheus scrapes it with the job of
the shipped prometheus/own-app-scrape.example.yml as written: the JS exporter writes no unit
suffix, and that job's relabelling is what gives the rules their `_seconds` names. Here: what
differs for the JS instrumentation, and the series' labels as measured (docs/own-app.md copies
them).
"""

from __future__ import annotations

import re

import pytest

from harness import ROOT, require_binary
from harness.fake_openai import fake_openai_server
from tests.ownapp import livecheck, providerlive
from tests.ownapp.providerlive import Outcome

NODE_APP = ROOT / "tests" / "ownapp" / "node_app"
SCRAPE_EXAMPLE = ROOT / "prometheus" / "own-app-scrape.example.yml"


def _command(port: int) -> list[str]:
    if not (NODE_APP / "node_modules" / "@opentelemetry" / "instrumentation-openai").is_dir():
        raise AssertionError(f"{NODE_APP}/node_modules missing: run `make bootstrap` (npm ci)")
    node = require_binary("node")
    return [node, "--require", str(NODE_APP / "telemetry.cjs"), str(NODE_APP / "app.cjs"),
            "--port", str(port)]  # fmt: skip


# What stays empty for this app, measured: the streaming panels (no time-to-first-chunk or
# time-per-output-chunk histogram) and the unpriced-token ones (its model is priced).
NO_DATA = re.compile(r"_time_to_first_chunk_|_time_per_output_chunk_|unpriced")

NODE = providerlive.Provider(
    app=livecheck.App(
        "tests/ownapp/node_app",
        "OWNAPP_OPENAI_URL",
        fake_openai_server,
        # The JS instrumentation records no time to first chunk: llm-ttft has no input.
        config={"skip_slos": ["chat-latency", "llm-ttft"]},
        command=_command,
        scrape_config=SCRAPE_EXAMPLE,
    ),
    model="gpt-4o-mini",
    errors=("500", "429"),
    # The provider is only in gen_ai_system: the provider filter of these two is checked live.
    filtered=("llm-overview", "llm-cost"),
)


class TestNode(providerlive.Checks):
    provider = NODE

    def test_error_and_rate_limit_alerts_fire(self, faulty: Outcome) -> None:
        """As for every provider, but LLMTTFTP95High: no time-to-first-chunk histogram."""
        for alert in ("LLMErrorRatioHigh", "LLMProviderRateLimited"):
            assert alert in faulty.alerts, (alert, faulty.alerts)
        assert "llm-chat-success" in faulty.alerts.get("SLOFastBurn", set()), faulty.alerts
        assert "LLMTTFTP95High" not in faulty.alerts

    @pytest.mark.parametrize("which", ["faulty", "healthy"])
    def test_model_call_slos_have_series(self, which: str, outcomes: dict[str, Outcome]) -> None:
        """llm-chat-success from the operation histogram, chat-availability from the HTTP one
        (express's route reaches http_route); llm-ttft is skipped, so not generated."""
        slos = outcomes[which].slos
        assert slos == {"llm-chat-success": True, "chat-availability": True}, slos

    def test_series_are_labelled_as_the_instrumentation_records_them(self, faulty: Outcome) -> None:
        """The deprecated gen_ai.system as provider (the rules fall back to it), operation
        chat, the error's class name as error_type (RateLimitError matches the shipped
        rate_limited pattern), server_address and server_port, input/output token usage, the
        instrumentation scope as labels, no time-to-first-chunk histogram."""
        labels = faulty.labels
        assert labels["gen_ai_system"] == {"openai"} and "gen_ai_provider_name" not in labels
        assert labels["gen_ai_operation_name"] == {"chat"}
        assert labels["error_type"] - {""} == {"RateLimitError", "InternalServerError"}
        assert labels["server_address"] == {"127.0.0.1"}
        assert len(labels["server_port"]) == 1 and labels["server_port"] != {""}
        assert labels["gen_ai_token_type"] == {"input", "output"}
        assert labels["otel_scope_name"] == {"@opentelemetry/instrumentation-openai"}
        assert not providerlive.has_ttft(faulty)

    def test_standard_dashboard_queries_have_data(self, faulty: Outcome) -> None:
        """Every standard query has data but NO_DATA's; the *Provider* variables too: they
        read gen_ai_system where gen_ai_provider_name is missing, as the panels do."""
        empty = faulty.empty_panels
        assert {k for k, q in empty.items() if not NO_DATA.search(q)} == set(), empty
        assert any("_time_to_first_chunk_" in q for q in empty.values()), empty
        assert faulty.variables["llm-overview: $provider"] == {"openai"}, faulty.variables
