"""The shipped rules catch an Amazon Bedrock app's failures (official instrumentation only,
measured).

tests/ownapp/bedrock_app.py (boto3's bedrock-runtime client with
`opentelemetry-instrumentation-genai-bedrock` 1.3b0, botocore retries off) calls a loopback fake
of the Bedrock Runtime API (harness.fake_bedrock: Converse, ConverseStream's binary event
stream, InvokeModel embeddings) that answers 200, 429 (ThrottlingException), 500
(InternalServerException) or 503 (ServiceUnavailableException); tests/ownapp/providerlive.py runs
it (faulty and healthy, each with a real Prometheus and the rules rendered for the app) and
asserts the alerts and SLOs. Here: what differs for Bedrock, the series' labels as measured
(docs/own-app.md's table copies them), and, beside those runs, the same app with botocore's
default retries, read from its /metrics: what retries and a throttle inside a started stream
leave in the metrics.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from genobs.config import load_config
from harness.fake_bedrock import fake_bedrock_server
from harness.procs import start_python_app
from tests.ownapp import livecheck, providerlive
from tests.ownapp.bedrock_app import DEFAULT_MODEL, EMBEDDING_MODEL
from tests.ownapp.providerlive import Outcome

BEDROCK = providerlive.Provider(
    app=livecheck.App("tests.ownapp.bedrock_app", "OWNAPP_BEDROCK_URL", fake_bedrock_server),
    # A cross-region inference profile id: `us.` prefix, dots and a `:0` version.
    model=DEFAULT_MODEL,
    # 429s half of the failures: over LLMProviderRateLimited's 10 % of all calls.
    errors=("429", "500", "429", "503"),
    embeds=True,
)
ERROR = "botocore.errorfactory.{}"
THROTTLED = ERROR.format("ThrottlingException")
IN_STREAM = "botocore.exceptions.EventStreamError"
# With botocore's defaults: (the fake's script, route) of each call, in turn.
DEFAULT_RETRY_CALLS = (
    (["429", "503"], "/api/ask"),  # retried twice, then answered
    (["429", "429", "429", "ok"], "/api/ask"),  # every attempt throttled
    (["429-in-stream"], "/api/ask/stream"),  # a stream throttled after its first event
)


@dataclass
class Retried:
    """The app with botocore's default retries: per call, (app status, requests the fake got);
    and the chat calls recorded, by error_type."""

    calls: list[tuple[int, int]] = field(default_factory=list)
    recorded: dict[str, float] = field(default_factory=dict)


def with_default_retries(tmp: Path) -> Retried:
    out = Retried()
    with fake_bedrock_server() as fake:
        env = {BEDROCK.app.url_env: fake.url, "OWNAPP_BEDROCK_RETRIES": "default"}
        app = start_python_app(
            tmp, BEDROCK.app.module, env=env, name="ownapp-retries", ready_path="/healthz"
        )
        try:
            with httpx.Client(base_url=app.url, timeout=60) as client:
                for script, path in DEFAULT_RETRY_CALLS:
                    fake.script[:] = script
                    before = len(fake.requests)
                    r = client.post(path, json={"question": "q", "model": BEDROCK.model})
                    out.calls.append((r.status_code, len(fake.requests) - before))
                text = client.get("/metrics/").text
        finally:
            app.stop()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "gen_ai_client_operation_duration_seconds_count":
                out.recorded[s.labels.get("error_type", "")] = s.value
    return out


class TestBedrock(providerlive.Checks):
    provider = BEDROCK

    @pytest.fixture(scope="class")
    @classmethod
    def measured(cls, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Retried]:
        """The faulty and healthy runs and, beside them, the app with default retries."""
        with ThreadPoolExecutor(1) as pool:
            retried = pool.submit(with_default_retries, tmp_path_factory.mktemp("retries"))
            outcomes = providerlive.run_both(cls.provider, tmp_path_factory, "testbedrock")
            return outcomes, retried.result()

    @pytest.fixture(scope="class")
    @classmethod
    def outcomes(cls, measured: tuple[dict[str, Outcome], Retried]) -> dict[str, Outcome]:
        return measured[0]

    @pytest.fixture(scope="class")
    @classmethod
    def retried(cls, measured: tuple[dict[str, Outcome], Retried]) -> Retried:
        return measured[1]

    def test_series_are_labelled_as_the_instrumentation_records_them(self, faulty: Outcome) -> None:
        """Provider "aws.bedrock", operations chat (Converse, ConverseStream) and embeddings
        (InvokeModel on Titan), botocore's modeled exception class as error_type, the modelId
        as passed (profile prefix, `:0` kept), the endpoint URL's host and port, input/output
        token usage, a time-to-first-chunk histogram."""
        labels = faulty.labels
        assert labels["gen_ai_provider_name"] == {"aws.bedrock"}
        assert labels["gen_ai_operation_name"] == {"chat", "embeddings"}
        errors = ("ThrottlingException", "InternalServerException", "ServiceUnavailableException")
        assert labels["error_type"] - {""} == {ERROR.format(e) for e in errors}
        assert labels["gen_ai_request_model"] == {DEFAULT_MODEL, EMBEDDING_MODEL}
        assert "gen_ai_response_model" not in labels  # Converse answers name no model
        assert labels["otel_scope_name"] == {"opentelemetry.instrumentation.genai.bedrock"}
        assert labels["server_address"] == {"127.0.0.1"}
        assert len(labels["server_port"]) == 1 and labels["server_port"] != {""}
        assert labels["gen_ai_token_type"] == {"input", "output"}
        assert providerlive.has_ttft(faulty)

    def test_bedrock_ids_are_priced(self, faulty: Outcome) -> None:
        """genai_telemetry/prices.yaml lists the inference profile and Titan ids as Bedrock
        names them: without those entries LLMUnpricedModelTokens fires and every cost query
        of the dashboards is empty (measured before they were added)."""
        assert "LLMUnpricedModelTokens" not in faulty.alerts, faulty.alerts
        cost = {k: q for k, q in faulty.empty_panels.items() if "unpriced" not in q}
        assert not cost, cost

    def test_the_shipped_rate_limit_matcher_and_botocores_error_types(self) -> None:
        """error_types.rate_limited (genai-obs.yaml) matches a ThrottlingException refused
        up front, not a throttle inside a started stream (botocore raises EventStreamError
        for every in-stream exception: the class says not which)."""
        pattern = re.compile(load_config().rate_limited)
        assert pattern.fullmatch(THROTTLED)
        for other in ("InternalServerException", "ServiceUnavailableException"):
            assert not pattern.fullmatch(ERROR.format(other))
        assert not pattern.fullmatch(IN_STREAM)

    def test_default_retries_hide_errors_that_a_retry_cures(self, retried: Retried) -> None:
        """botocore's defaults make 3 attempts; the instrumentation wraps the whole API call,
        so a 429 and a 503 cured by the third attempt are one successful call (their wait in
        its duration), three 429s one ThrottlingException, and a throttle inside a stream
        (not retried) one EventStreamError."""
        assert retried.calls == [(200, 3), (503, 3), (200, 1)], retried.calls
        assert retried.recorded == {"": 1, THROTTLED: 1, IN_STREAM: 1}, retried.recorded
