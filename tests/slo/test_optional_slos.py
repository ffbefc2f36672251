"""The user-satisfaction SLO is optional: skipped by name or without rag-api's extras, and then
neither generated nor waited for by SLIMetricsAbsent; rag-api feeds it from its first scrape."""

from __future__ import annotations

import dataclasses
import re

import promql_parser
import pytest
import yaml

from genai_telemetry import semconv as sc
from genai_telemetry.metrics import Metrics
from genobs.config import Config, load_config
from slo import generate_all
from slo.rules import generate
from slo.spec import load_spec

SLO = "rag-user-satisfaction"


def _absent_expr(files: dict) -> str:
    rules = files["slo-alerts.yml"]["groups"][0]["rules"]
    return next(r["expr"] for r in rules if r.get("alert") == "SLIMetricsAbsent")


def test_shipped_config_generates_it_and_waits_for_its_series() -> None:
    files = generate(load_spec(), load_config())
    assert f"slo-{SLO}.yml" in files
    assert f'slo="{SLO}"' in _absent_expr(files)


@pytest.mark.parametrize(
    "change", [{"skip_slos": (SLO,)}, {"extras": False}], ids=["skip_slos", "no extras"]
)
def test_skipped_or_without_extras_it_is_not_generated_nor_waited_for(change: dict) -> None:
    cfg = dataclasses.replace(load_config(), **change)
    files = generate(load_spec(), cfg)
    assert f"slo-{SLO}.yml" not in files
    assert SLO not in _absent_expr(files)
    if "skip_slos" in change:  # the other SLOs stay
        assert "slo-rag-answer-quality.yml" in files


def test_rag_api_exports_the_sli_series_before_any_feedback() -> None:
    """Its total query reads llm_user_feedback_total: series exist (at 0) from the start, so
    SLIMetricsAbsent stays quiet for an app that has had no feedback yet."""
    body, _ = Metrics(["gpt-4o-mini"], ["openai"]).render(None)
    lines = [x for x in body.decode().splitlines() if x.startswith(sc.LLM_USER_FEEDBACK + "{")]
    assert len(lines) == 5 and all(x.endswith(" 0.0") for x in lines)
    assert all('request_known="false"' in x for x in lines)


def _alerts(cfg: Config) -> tuple[set[str], set[str]]:
    """The alerts of llm-alerts.yml, and those docs/alerts.md lists."""
    files = generate_all(cfg)
    groups = yaml.safe_load(files["prometheus/rules/llm-alerts.yml"])["groups"]
    rules = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    return rules, set(re.findall(r"^\| `(\w+)` \|", files["docs/alerts.md"], re.M))


def test_skipping_an_slo_drops_the_alerts_that_read_only_its_metric() -> None:
    """skip_slos: [llm-ttft] says the app records no time to first chunk: LLMTTFTP95High, which
    reads only that, could never fire. Skipping chat-latency drops no alert: chat-availability
    still reads the HTTP histogram."""
    shipped = load_config()
    rules, table = _alerts(shipped)
    assert "LLMTTFTP95High" in rules and rules <= table
    no_ttft, no_ttft_table = _alerts(dataclasses.replace(shipped, skip_slos=("llm-ttft",)))
    assert rules - no_ttft == {"LLMTTFTP95High"}
    assert "LLMTTFTP95High" not in no_ttft_table
    assert _alerts(dataclasses.replace(shipped, skip_slos=("chat-latency",)))[0] == rules


def test_skipping_every_slo_leaves_out_sli_metrics_absent() -> None:
    """With no SLO kept SLIMetricsAbsent has nothing to wait for: its `( … or … )` would be
    empty parentheses, which promtool refuses ("unexpected )"), so it is left out of the rules and
    of docs/alerts.md; its `for:` stays in the profiles (as for other alerts left out)."""
    every = tuple(s.name for s in load_spec().slos)
    cfg = dataclasses.replace(load_config(), skip_slos=every)
    files = generate_all(cfg)
    doc = yaml.safe_load(files["prometheus/rules/slo-alerts.yml"])
    rules = doc["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["SLOFastBurn", "SLOSlowBurn", "SLOTrafficStopped"]
    for r in rules:
        promql_parser.parse(r["expr"])
    assert "`SLIMetricsAbsent`" not in files["docs/alerts.md"]
    assert "`SLIMetricsAbsent`" in generate_all(load_config())["docs/alerts.md"]


def test_skipping_the_model_call_slo_keeps_the_model_call_alerts() -> None:
    """Every GenAI instrumentation records gen_ai.client.operation.duration: skipping the
    llm-chat-success SLO chooses no objective on it, it does not say the metric is missing. The
    error page, the latency and the rate-limit tickets read that metric and must stay."""
    shipped = load_config()
    rules, _ = _alerts(shipped)
    skipped, table = _alerts(dataclasses.replace(shipped, skip_slos=("llm-chat-success",)))
    model_calls = {"LLMErrorRatioHigh", "LLMLatencyP95High", "LLMProviderRateLimited"}
    assert model_calls <= skipped and model_calls <= table
    assert skipped == rules
    every = tuple(s.name for s in load_spec().slos)
    assert model_calls <= _alerts(dataclasses.replace(shipped, skip_slos=every))[0]
