"""What each scenario's latency does at real speed (SIM_LATENCY_SCALE=1), computed, not waited for.

The e2e tier runs most scenarios at 0.1× speed, so a latency SLO that only burns at real speed
(`make incident` on the stack) is invisible there. Here every phase's traffic is drawn from its
own mix and planned by the real simulated provider under the phase's faults (`plan()`: output
tokens, time to first chunk and generation time, as `chat()` and `stream()` sleep them), plus the
embedding call, and held against the shipped SLOs and thresholds. (The retrieved passages change
the words of an answer, not its timing: the plans here go without them, which is much faster.)
- a scenario that forbids a latency page keeps the share of slow events below the lowest bad share
  any SLOFastBurn condition pages on (6 × a 5 % budget = 30 %), and a forbidden p95 alert keeps
  every model's p95 under its threshold;
- a scenario that expects the page gets over half its events slow (the outage condition).
Failed calls (error and rate-limit faults) are counted as answered, and repeated questions as
cache misses, when a page is forbidden: both only make the traffic look slower.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

import pytest

from demo_app.calculator import extract_expression
from demo_app.faults import FaultProfile
from demo_app.guardrails import check_input
from demo_app.loadgen.scenarios import AlertRef, Scenario, load_scenarios
from demo_app.loadgen.traffic import RequestFactory
from demo_app.providers.base import ChatRequest, build_messages
from demo_app.providers.simulated import SimulatedProvider
from genai_telemetry import semconv as sc
from slo.rules import BURN_ALERTS, MAX_BAD_SHARE
from slo.spec import SLO, HistogramSLI, load_spec
from slo.thresholds import load_thresholds

SAMPLES = 1000  # requests per phase: the shares below are far from their limits
CHAT_LATENCY, TTFT = "chat-latency", "llm-ttft"


@dataclass
class Latencies:
    """Simulated seconds of one phase's traffic at SIM_LATENCY_SCALE=1."""

    unary: list[float] = field(default_factory=list)  # /v1/chat requests (chat-latency SLO)
    ttft: list[float] = field(default_factory=list)  # streamed model calls (llm-ttft SLO)
    by_model: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ttft_by_model: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def simulate(scenario: Scenario, faults: dict[str, float], cache_hits: bool) -> Latencies:
    """The latencies of SAMPLES requests of the scenario's mix under `faults`."""
    return _simulate(scenario.name, tuple(sorted(faults.items())), cache_hits)


@cache  # by scenario name: the phases of traffic-spike share one
def _simulate(name: str, faults: tuple[tuple[str, float], ...], cache_hits: bool) -> Latencies:
    provider = SimulatedProvider(seed=42, latency_scale=1.0)
    profile = FaultProfile.from_mapping(dict(faults))
    embedding = provider.models()[provider.default_embedding_model]
    rng = random.Random(7)
    factory = RequestFactory(load_scenarios().get(name).mix, seed=11)
    out = Latencies()
    for _ in range(SAMPLES):
        req = factory.next()
        question = req.body["question"]
        blocked = any(v.action == sc.ACTION_BLOCKED for v in check_input(question))
        if (
            blocked
            or extract_expression(question) is not None
            or (cache_hits and req.kind == "repeated")
        ):  # answered without a model call
            if not req.stream:
                out.unary.append(0.0)
            continue
        model = req.body.get("model") or provider.default_chat_model
        chat = ChatRequest(model=model, messages=build_messages(question))
        plan = provider.plan(chat, profile)
        call = plan.ttft_s + plan.generation_s
        embed = embedding.base_latency_s + embedding.ttft_s * rng.uniform(0.7, 1.5)
        out.by_model[model].append(call)
        if req.stream:
            out.ttft.append(plan.ttft_s)
            out.ttft_by_model[model].append(plan.ttft_s)
        else:
            out.unary.append(embed * profile.latency_multiplier + call)
    return out


def _slo(name: str) -> tuple[SLO, HistogramSLI]:
    slo = next(s for s in load_spec().slos if s.name == name)
    assert isinstance(slo.sli, HistogramSLI) and slo.sli.good == "below", slo
    return slo, slo.sli


def fast_burn_share(slo: SLO) -> float:
    """The lowest share of bad events any SLOFastBurn condition pages on."""
    fast = next(a for a in BURN_ALERTS if a.name == "SLOFastBurn")
    shares = [min(c.factor * slo.error_budget, MAX_BAD_SHARE) if c.factor else MAX_BAD_SHARE
              for c in fast.conditions]  # fmt: skip
    return float(min(shares))


def slow_share(seconds: list[float], threshold: float) -> float:
    return sum(s > threshold for s in seconds) / len(seconds)


def p95(seconds: list[float]) -> float:
    return sorted(seconds)[int(0.95 * len(seconds))]


def _page(slo: str) -> dict[str, str]:
    return {"alertname": "SLOFastBurn", "slo": slo, "severity": "page", "service": "rag-api"}


# The phases of scenarios that forbid a latency page (a scenario that expects one is tested by
# its own e2e run).
PHASES = [
    pytest.param(s, i, id=f"{s.name}-{p.name}")
    for s in load_scenarios().scenarios.values()
    if any(s.is_forbidden(_page(name)) for name in (CHAT_LATENCY, TTFT))
    for i, p in enumerate(s.phases)
]


@pytest.mark.parametrize(("scenario", "index"), PHASES)
def test_a_forbidden_latency_page_stays_away_at_real_speed(scenario: Scenario, index: int) -> None:
    lat = simulate(scenario, scenario.phases[index].faults, cache_hits=False)
    checked = 0
    for name, seconds in ((CHAT_LATENCY, lat.unary), (TTFT, lat.ttft)):
        slo, sli = _slo(name)
        if seconds and scenario.is_forbidden(_page(name)):
            share = slow_share(seconds, sli.threshold)
            assert share < fast_burn_share(slo), (
                f"{scenario.name}: {share:.0%} of the {name} events slower than "
                f"{sli.threshold} s at real speed: SLOFastBurn{{slo={name}}} pages"
            )
            checked += 1
    assert checked, f"{scenario.name}: no event of a forbidden latency page was simulated"
    thresholds = load_thresholds()
    p95_alerts = {"LLMLatencyP95High": lat.by_model, "LLMTTFTP95High": lat.ttft_by_model}
    for alert, per_model in p95_alerts.items():
        if scenario.is_forbidden({"alertname": alert}):
            limit = thresholds[alert].value
            assert limit is not None
            for model, seconds in per_model.items():
                assert p95(seconds) <= limit, f"{scenario.name}: {alert} for {model}"


@pytest.mark.parametrize(
    ("name", "slo"), [("latency-regression", CHAT_LATENCY), ("ttft-regression", TTFT)]
)
def test_an_expected_latency_page_burns_at_real_speed(name: str, slo: str) -> None:
    """The computation tells the two apart: the regressions' traffic is over half slow."""
    scenario = load_scenarios().get(name)
    assert AlertRef("SLOFastBurn", (("slo", slo),)) in scenario.expect_raise
    lat = simulate(scenario, scenario.phases[0].faults, cache_hits=True)
    seconds = lat.unary if slo == CHAT_LATENCY else lat.ttft
    assert slow_share(seconds, _slo(slo)[1].threshold) > MAX_BAD_SHARE


def test_longer_answers_are_slower_answers() -> None:
    """Why `cost-spike` moves traffic to a pricier model instead of lengthening the answers:
    generation time grows with the output, so 10x the tokens is a latency incident too."""
    steady = load_scenarios().get("steady")
    lat = simulate(steady, {"output_token_multiplier": 10}, cache_hits=True)
    slo, sli = _slo(CHAT_LATENCY)
    assert slow_share(lat.unary, sli.threshold) > fast_burn_share(slo)
    assert fast_burn_share(slo) == float(Decimal(6) * slo.error_budget)  # the 6h/30m/5m pair
