"""The floor benchmark's arithmetic and counting (bench/floor.py), without running load."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bench import floor
from demo_app import semconv as sc
from demo_app.telemetry.metrics import Metrics


@given(
    off=st.floats(min_value=1.0, max_value=1e6),
    loss=st.floats(min_value=0.001, max_value=0.9),
)
def test_budget_costs_exactly_the_goal_loss(off: float, loss: float) -> None:
    assert math.isclose(floor._loss(off, floor.budget_us(off, loss)), loss, rel_tol=1e-9)


def test_budget_of_the_goal_is_a_bit_more_than_five_percent_of_the_app() -> None:
    assert math.isclose(floor.budget_us(1000.0), 1000.0 * 0.05 / 0.95)


def test_histogram_observations_count_every_contract_histogram_and_nothing_else() -> None:
    metrics = Metrics(["gpt-4o-mini"], ["simulated"])
    before = floor.histogram_observations(metrics.render(None)[0].decode())
    metrics.observe_http("POST", "/v1/chat", 200, 0.01, None)
    metrics.observe_operation("chat", "simulated", "gpt-4o-mini", "", 0.02, None)
    metrics.observe_tokens("chat", "simulated", "gpt-4o-mini", 12, 34)
    metrics.observe_evaluation(sc.EVALUATION_NAMES[0], 0.7)
    metrics.add_cost("simulated", "gpt-4o-mini", "chat", "free", 0.001)  # a counter: not counted
    metrics.cache_lookup(hit=False)  # a counter: not counted
    after = floor.histogram_observations(metrics.render(None)[0].decode())
    # http 1 + operation 1 + tokens 2 (input, output) + evaluation 1
    assert after - before == 5


def test_span_and_log_costs_are_positive_and_recording_costs_more() -> None:
    recording = floor.span_cost_us(7, recording=True, number=200)
    unsampled = floor.span_cost_us(7, recording=False, number=200)
    assert 0 < unsampled < recording
    assert floor.log_cost_us(5, number=200) > 0
    assert floor.observe_cost_us(number=200) > 0
