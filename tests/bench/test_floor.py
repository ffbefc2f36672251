"""The floor benchmark's arithmetic and counting (bench/floor.py), without running load."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import floor
from genai_telemetry import semconv as sc
from genai_telemetry.metrics import Metrics


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


@pytest.mark.parametrize("recording", [True, False])
def test_timed_span_is_what_its_row_says(recording: bool) -> None:
    span = floor.span_lifecycle(7, recording=recording)()
    assert span.is_recording() is False  # ended
    assert span.get_span_context().trace_flags.sampled is recording
    if recording:
        assert len(span.attributes) == 7  # type: ignore[attr-defined]
        assert span.attributes[sc.A_OPERATION_NAME] == "chat"  # type: ignore[attr-defined]


def test_attribute_sets_have_the_requested_size_contract_keys_first() -> None:
    assert list(floor._attributes(2)) == [sc.A_OPERATION_NAME, sc.A_PROVIDER_NAME]
    assert len(floor._attributes(10)) == 10
