"""The scenario file: shipped content, schema errors (file + line + reason), request mix."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from demo_app.calculator import calculate, extract_expression
from demo_app.config import Settings
from demo_app.faults import FaultProfile
from demo_app.guardrails import check_input
from demo_app.loadgen.scenarios import (
    FAULT_KNOBS,
    SCENARIOS_FILE,
    AlertRef,
    ScenarioError,
    UnknownScenarioError,
    load_scenarios,
)
from demo_app.loadgen.traffic import (
    CHAT_PATH,
    OFF_TOPIC_QUESTIONS,
    STREAM_PATH,
    RequestFactory,
    corpus_topics,
)
from genai_telemetry import semconv
from genai_telemetry import semconv as sc
from harness import ROOT

REQUIRED = [
    "steady",
    "error-burst",
    "latency-regression",
    "ttft-regression",
    "rate-limit-storm",
    "cost-spike",
    "quality-drop",
    "guardrail-probe",
    "tool-outage",
    "traffic-spike",
    "recovery",
]
RULES_DIR = ROOT / "prometheus" / "rules"


def _rule_alerts() -> dict[str, dict]:
    alerts: dict[str, dict] = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    alerts.setdefault(rule["alert"], rule)
    return alerts


def test_shipped_file_has_exactly_the_required_scenarios() -> None:
    assert load_scenarios().names() == REQUIRED


@pytest.mark.parametrize("name", REQUIRED)
def test_every_scenario_is_complete(name: str) -> None:
    s = load_scenarios().get(name)
    assert s.description and "\n" not in s.description
    assert s.phases and s.duration > 0 and s.rate > 0
    if name not in ("steady", "traffic-spike"):
        assert s.expect_raise, f"{name} must name the alerts it raises"
    if name not in ("steady", "traffic-spike", "guardrail-probe", "cost-spike"):
        assert s.faulty, f"{name} must inject a fault"
    if s.expect_raise and not s.faulty:  # its traffic is the incident, its e2e history is not
        assert s.e2e.history_mix is not None, name
    assert s.forbid or s.forbid_any_other, f"{name} must name alerts it must not raise"
    if name == "steady":
        assert s.forbid_any_other and not s.expect_raise and not s.faulty
    if name == "recovery":
        assert s.phases[-1].faults == {}, "recovery ends healthy"
        assert s.e2e.resolve


def test_page_alerts_and_error_ratio_alert_are_proven_at_the_webhook() -> None:
    rules = _rule_alerts()
    if not rules:
        pytest.fail(f"no alert rules under {RULES_DIR}")
    for s in load_scenarios().scenarios.values():
        for ref in s.expect_raise:
            severity = rules[ref.name].get("labels", {}).get("severity")
            if ref.name == "LLMErrorRatioHigh" or severity == "page":
                assert ref in s.e2e.webhook, f"{s.name}: {ref} must be checked at the webhook"


def test_referenced_alerts_exist_in_the_shipped_rules() -> None:
    rules = _rule_alerts()
    if not rules:
        pytest.fail(f"no alert rules under {RULES_DIR}")
    for s in load_scenarios().scenarios.values():
        for ref in (*s.expect_raise, *s.forbid):
            assert ref.name in rules, f"{s.name}: alert {ref.name} is not in {RULES_DIR}"


def test_fault_knobs_match_the_app() -> None:
    assert tuple(FAULT_KNOBS) == FaultProfile.knobs()
    for s in load_scenarios().scenarios.values():
        for p in s.phases:
            FaultProfile.from_mapping(p.faults)  # the app accepts every profile we send


def test_models_tiers_and_features_are_real_and_priced() -> None:
    from demo_app.providers.simulated import load_catalog
    from genai_telemetry.pricing import PriceTable

    catalog, _, _ = load_catalog()
    prices = PriceTable.load()
    f = load_scenarios()
    for mix in [f.default_mix, *(s.mix for s in f.scenarios.values())]:
        for model in mix.models:
            assert model in catalog, f"model {model} is not in the simulated catalog"
            assert prices.is_priced(model), f"model {model} is unpriced"
        assert set(mix.tiers) <= set(semconv.USER_TIERS)
        assert set(mix.features) <= set(semconv.FEATURES)


def test_steady_free_tier_stays_under_the_limiter() -> None:
    f = load_scenarios()
    steady = f.get("steady")
    tiers = steady.mix.tiers
    free_rps = steady.rate * tiers["free"] / sum(tiers.values())
    assert free_rps < Settings().rate_limits["free"].rate_per_s


def test_unknown_scenario_lists_valid_names() -> None:
    with pytest.raises(UnknownScenarioError) as exc:
        load_scenarios().get("nope")
    msg = str(exc.value)
    assert "nope" in msg
    for name in REQUIRED:
        assert name in msg


def test_alert_refs() -> None:
    ref = AlertRef.parse("SLOFastBurn{slo=chat-latency}")
    assert ref.name == "SLOFastBurn" and dict(ref.labels) == {"slo": "chat-latency"}
    assert ref.matches({"alertname": "SLOFastBurn", "slo": "chat-latency", "x": "y"})
    assert not ref.matches({"alertname": "SLOFastBurn", "slo": "llm-ttft"})
    assert AlertRef.parse('A{b="c"}') == AlertRef("A", (("b", "c"),))
    assert str(ref) == "SLOFastBurn{slo=chat-latency}"
    with pytest.raises(ValueError):
        AlertRef.parse("not an alert")


def test_forbidden_logic() -> None:
    f = load_scenarios()
    steady = f.get("steady")
    assert not steady.is_forbidden({"alertname": "Watchdog"})
    assert steady.is_forbidden({"alertname": "LLMErrorRatioHigh"})
    burst = f.get("error-burst")
    assert burst.is_forbidden({"alertname": "LLMCostSpike"})
    assert not burst.is_forbidden({"alertname": "LLMErrorRatioHigh"})


def test_scaled_keeps_phase_proportions() -> None:
    original = load_scenarios().get("recovery")
    s = original.scaled(rate=10, duration=60)
    assert s.rate == 10 and s.duration == pytest.approx(60)
    share = original.phases[0].duration / original.duration
    assert s.phases[0].duration == pytest.approx(60 * share)


# --- schema errors: file name, line and reason ----------------------------------------------------
GOOD = """\
version: 1
mix:
  stream: 0.3
  questions: {corpus: 1}
  tiers: {pro: 1}
  features: {chat: 1}
  models: {gpt-4o-mini: 1}
scenarios:
  demo:
    description: A demo.
    rate: 2
    phases:
      - name: fault
        duration: 10
        faults: {error_rate: 0.5}
    expect:
      raise: [LLMErrorRatioHigh]
      forbid: [LLMCostSpike]
    e2e:
      webhook: [LLMErrorRatioHigh]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenarios.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_minimal_file_loads(tmp_path: Path) -> None:
    s = load_scenarios(_write(tmp_path, GOOD)).get("demo")
    assert s.phases[0].faults == {"error_rate": 0.5}
    assert [str(a) for a in s.e2e.webhook] == ["LLMErrorRatioHigh"]
    assert s.e2e.history_mix is None  # the history is the scenario's own traffic


def test_a_scenario_whose_traffic_is_its_fault_takes_its_history_from_the_default_mix(
    tmp_path: Path,
) -> None:
    text = GOOD.replace("    rate: 2\n", "    rate: 2\n    mix: {questions: {corpus: 1}}\n")
    text = text.replace(
        "      webhook: [LLMErrorRatioHigh]\n",
        "      webhook: [LLMErrorRatioHigh]\n      history_mix: default\n",
    )
    f = load_scenarios(_write(tmp_path, text))
    assert f.get("demo").e2e.history_mix == f.default_mix
    probe = load_scenarios().get("guardrail-probe")
    assert probe.e2e.history_mix == load_scenarios().default_mix
    assert "injection" in probe.mix.questions and "injection" not in probe.e2e.history_mix.questions


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("error_rate: 0.5", "error_rate: 2", 15, "error_rate must be between 0 and 1"),
        ("error_rate: 0.5", "eror_rate: 0.5", 15, "unknown fault knob 'eror_rate'"),
        ("    description: A demo.\n", "", 9, "missing required key 'description'"),
        ("rate: 2", "rate: fast", 11, "rate must be a number"),
        ("rate: 2", "rate: 1e3", 11, "YAML reads an exponent without a dot and sign as text"),
        ("duration: 10", "duration: 0", 14, "duration must be between 1"),
        ("tiers: {pro: 1}", "tiers: {gold: 1}", 5, "unknown entry 'gold'"),
        ("webhook: [LLMErrorRatioHigh]", "webhook: [LLMCostSpike]", 20, "not listed in expect"),
        ("forbid: [LLMCostSpike]", "forbid: [LLMErrorRatioHigh]", 18, "both raised and forbid"),
        ("    rate: 2\n", "    rate: 2\n    colour: red\n", 12, "unknown key 'colour'"),
        ("raise: [LLMErrorRatioHigh]", "raise: ['Bad{x}']", 17, "bad label matcher"),
        ("  demo:", "  Demo_1:", 9, "must be kebab-case"),
        ("stream: 0.3", "stream: [", 5, "invalid YAML"),
        ("    rate: 2\n", "    rate: 2\n    rate: 3\n", 12, "duplicate key 'rate'"),
        (
            "      webhook: [LLMErrorRatioHigh]\n",
            "      webhook: [LLMErrorRatioHigh]\n      history_mix: scenario\n",
            21,
            "history_mix must be 'default'",
        ),
        (
            "      webhook: [LLMErrorRatioHigh]\n",
            "      webhook: [LLMErrorRatioHigh]\n      duration: 20\n",
            21,
            "duration must be between 1 and 10 (got 20)",  # shortened, never longer
        ),
        # A list or mapping as a key: named, not a TypeError.
        ("  demo:\n", "  [a, b]: 1\n  demo:\n", 9, "the key [a, b] is a list; keys are names"),
        ("    rate: 2\n", "    rate: 2\n    {x: 1}: 3\n", 12, "the key {x: 1} is a mapping"),
        ("models: {gpt-4o-mini: 1}", "models: {[a]: 1}", 7, "the key [a] is a list"),
        # Tracebacks before the shared loader (ValueError, ConstructorError, RecursionError).
        ("rate: 2", "rate: !!int abc", 11, "not a valid int: 'abc'"),
        ("rate: 2", "rate: !foo 2", 11, "could not determine a constructor for the tag '!foo'"),
        # No line to name (the parser gave up): the file alone, never "line 0".
        ("rate: 2", "rate: " + "[" * 3000 + "]" * 3000, None, "nested too deeply"),
        # Null or a scalar where a mapping belongs: the line of its key, and the key.
        (
            "  stream: 0.3\n  questions: {corpus: 1}\n  tiers: {pro: 1}\n  features: {chat: 1}\n"
            "  models: {gpt-4o-mini: 1}\n",
            "",
            2,
            "mix: must be a mapping (got nothing)",
        ),
        ("    e2e:\n      webhook: [LLMErrorRatioHigh]\n", "    e2e: 5\n", 19, "e2e: must be a"),
        ("      raise: [LLMErrorRatioHigh]\n      forbid: [LLMCostSpike]\n", "", 16, "expect: mu"),
        (
            "    rate: 2\n",
            "    rate: 2\n    mix: fast\n",
            12,
            "mix: must be a mapping (got 'fast')",
        ),
        (
            "  demo:\n",
            "  other:\n  demo:\n",
            9,
            "scenario 'other': must be a mapping (got nothing)",
        ),
        (
            "      - name: fault\n        duration: 10\n",
            "      - 5\n      - name: fault\n        duration: 10\n",
            13,
            "phases[0]: must be a mapping (got 5)",
        ),
        ("faults: {error_rate: 0.5}", "faults: 0.5", 15, "phases[0]: faults must be a mapping"),
        (
            "forbid: [LLMCostSpike]",
            "forbid: [LLMCostSpike, {a: 1}]",
            18,
            "entries must be alert names",
        ),
        # Models of a mix: any name the API could take (the runner checks the running app's).
        ("models: {gpt-4o-mini: 1}", "models: {'': 1}", 7, "entries must be names of 1-128"),
        ("models: {gpt-4o-mini: 1}", "models: {'': 1}", 7, "entries must be names of 1-128"),
    ],
)
def test_schema_errors_name_file_line_and_reason(
    tmp_path: Path, old: str, new: str, line: int | None, reason: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioError) as exc:
        load_scenarios(path)
    msg = str(exc.value)
    assert reason in msg
    if line is None:
        assert msg == f"{path}: {reason}"
        return
    m = re.match(rf"{re.escape(str(path))}:(\d+): ", msg)  # the file as given, its line
    assert m, msg
    assert int(m.group(1)) == line, msg


# --- the request mix ----------------------------------------------------------------------------
def test_mix_follows_the_weights() -> None:
    mix = load_scenarios().default_mix
    factory = RequestFactory(mix, seed=7)
    reqs = [factory.next() for _ in range(4000)]
    kinds = Counter(r.kind for r in reqs)
    total_w = sum(mix.questions.values())
    for kind, w in mix.questions.items():
        assert kinds[kind] / len(reqs) == pytest.approx(w / total_w, abs=0.03)
    streamed = sum(r.path == STREAM_PATH for r in reqs) / len(reqs)
    assert streamed == pytest.approx(mix.stream, abs=0.03)
    assert {r.path for r in reqs} == {CHAT_PATH, STREAM_PATH}
    tiers = Counter(r.body["user_tier"] for r in reqs if r.kind != "repeated")
    assert set(tiers) == set(mix.tiers)
    models = Counter(r.body.get("model") for r in reqs if r.kind != "repeated")
    assert set(models) == set(mix.models)
    assert "llama-3.1-8b-local" not in models


def test_question_sources() -> None:
    factory = RequestFactory(load_scenarios().default_mix, seed=3)
    for _ in range(50):
        q = factory.question("arithmetic")
        expr = extract_expression(q)
        assert expr is not None, q
        calculate(expr)  # the tool path can answer it
    repeated = Counter(factory.question("repeated") for _ in range(200))
    assert len(repeated) <= 5 and max(repeated.values()) > 20  # few questions, asked often
    assert factory.question("off_topic") in OFF_TOPIC_QUESTIONS
    corpus_q = factory.question("corpus")
    assert any(t.lower()[:20] in corpus_q.lower() for t in corpus_topics())
    for _ in range(20):  # what the guardrail-probe scenario relies on
        injection = {v.guardrail: v.action for v in check_input(factory.question("injection"))}
        assert injection[sc.GUARDRAIL_INJECTION] == sc.ACTION_BLOCKED
        pii = {v.guardrail: v.action for v in check_input(factory.question("pii"))}
        assert pii == {
            sc.GUARDRAIL_PII: sc.ACTION_FLAGGED,
            sc.GUARDRAIL_INJECTION: sc.ACTION_PASSED,
        }
    for kind in ("corpus", "off_topic", "arithmetic", "repeated"):
        assert all(v.action == sc.ACTION_PASSED for v in check_input(factory.question(kind)))


def test_request_bodies_are_valid_for_the_api() -> None:
    from demo_app.api.schemas import ChatRequestBody

    factory = RequestFactory(load_scenarios().default_mix, seed=11)
    for _ in range(300):
        ChatRequestBody.model_validate(factory.next().body)


def test_shipped_file_path() -> None:
    assert SCENARIOS_FILE.name == "scenarios.yaml" and SCENARIOS_FILE.is_file()
