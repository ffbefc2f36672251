"""The e2e tier plays each phase for its scenario length and watches past its end (plan.py)."""

from __future__ import annotations

import pytest

from demo_app.loadgen.scenarios import load_scenarios
from tests.e2e.plan import GRACE_S, final_goals, grace, phase_plans

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("name", SCENARIOS.names())
def test_faults_last_their_phase_and_alerts_are_watched_past_it(name: str) -> None:
    s = SCENARIOS.get(name)
    plans = phase_plans(s)
    assert len(plans) == len(s.phases)
    if s.e2e.duration is None:  # played at its own length
        for phase, plan in zip(s.phases, plans, strict=True):
            assert plan.length >= phase.duration, f"{phase.name} cut short"
    if not s.e2e.resolve:
        # No early end: forbidden alerts are watched for every phase's whole length and the
        # grace, whenever the expected ones fire; those must fire by the end of the grace.
        assert not any(p.until_met for p in plans)
        assert grace(s) == GRACE_S
        assert {ref for _, ref in final_goals(s)} == set(s.expect_raise)


def test_recovery_is_fixed_once_paged_and_watched_until_resolved() -> None:
    s = SCENARIOS.get("recovery")
    fault, recovered = phase_plans(s)
    assert fault.until_met and fault.length == s.phases[0].duration
    assert {ref for kind, ref in fault.goals if kind == "raise"} == set(s.expect_raise)
    assert recovered.until_met and recovered.length == s.phases[1].duration + GRACE_S
    assert {ref for kind, ref in recovered.goals if kind == "resolve"} == set(s.e2e.resolve)
    assert final_goals(s) == () and grace(s) == 0


@pytest.mark.parametrize(("name", "seconds"), [("steady", 150), ("traffic-spike", 120)])
def test_a_shortened_scenario_keeps_its_phase_proportions(name: str, seconds: float) -> None:
    s = SCENARIOS.get(name)
    plans = phase_plans(s)
    assert sum(p.length for p in plans) == pytest.approx(seconds)
    for phase, plan in zip(s.phases, plans, strict=True):
        assert plan.length / seconds == pytest.approx(phase.duration / s.duration)
