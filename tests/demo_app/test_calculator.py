"""The calculator tool: safe arithmetic (never eval), bounded work, clear errors, detection."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demo_app.calculator import (
    MAX_EXPRESSION_CHARS,
    CalculatorError,
    CalculatorTool,
    ToolUnavailable,
    calculate,
    extract_expression,
    format_result,
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("12 * (3 + 4)", 84),
        ("2 ** 10", 1024),
        ("2^10", 1024),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("-3 + 5", 2),
        ("--3", 3),
        ("+4", 4),
        ("1 / 4", 0.25),
        ("1.5 + 2.25", 3.75),
        ("(2 + 3) * (4 - 1) / 5", 3.0),
        ("6 × 7", 42),
        ("84 ÷ 2", 42.0),
        ("2 ** -1", 0.5),
    ],
)
def test_evaluates_arithmetic(expression: str, expected: float) -> None:
    assert calculate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "not allowed"),
        ("abs(-1)", "not allowed"),
        ("x + 1", "not allowed"),
        ("(1).real", "not allowed"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("1 < 2", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("1 +", "not a valid"),
        ("", "empty"),
        ("1 / 0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("9 ** 9 ** 9", "exponent"),
        ("10 ** 101", "exponent"),
        ("99 ** 99", "exceeds"),
        ("(-8) ** 0.5", "negative"),
        ("1e308 * 10", "exceeds"),
        ("1" + "+1" * 60, "more than"),
        ("1" * (MAX_EXPRESSION_CHARS + 1), "longer than"),
    ],
)
def test_rejects_unsafe_or_unbounded_input_with_clear_error(expression: str, message: str) -> None:
    with pytest.raises(CalculatorError, match=message):
        calculate(expression)


@pytest.mark.parametrize(
    ("question", "expression"),
    [
        ("what is 12 * (3 + 4)?", "12 * (3 + 4)"),
        ("What is 12*(3+4)?", "12*(3+4)"),
        ("Calculate 2^10 please", "2^10"),
        ("what is 7 % 3?", "7 % 3"),
        ("calculate -5 + 3", "-5 + 3"),
        ("What is 1.5 + 2.25?", "1.5 + 2.25"),
        ("what is 10 / 0?", "10 / 0"),  # still arithmetic: the tool reports the error
        ("(1+2)*3", "(1+2)*3"),
    ],
)
def test_extracts_expression_from_arithmetic_questions(question: str, expression: str) -> None:
    assert extract_expression(question) == expression


@pytest.mark.parametrize(
    "question",
    [
        "How do I reduce time to first token?",
        "How do I cut TTFT by 50%?",
        "What is llama-3.1-8b-local?",
        "Compare gpt-4.1 and gpt-4o-mini",
        "What happened on 2026-11-27?",
        "Why is my p95 above 5.12 seconds?",
        "What does a 99.9% SLO allow?",
        "",
    ],
)
def test_non_arithmetic_questions_are_not_routed_to_the_tool(question: str) -> None:
    assert extract_expression(question) is None


def test_format_result() -> None:
    assert format_result(84) == "84"
    assert format_result(3.0) == "3"
    assert format_result(0.1 + 0.2) == "0.3"
    assert format_result(1 / 3) == "0.3333333333"


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv}


@settings(deadline=None)  # no per-example time limit: a loaded machine is not a failure
@given(
    a=st.integers(min_value=-(10**6), max_value=10**6),
    b=st.integers(min_value=-(10**6), max_value=10**6),
    op=st.sampled_from(sorted(_OPS)),
)
def test_matches_python_arithmetic_on_integers(a: int, b: int, op: str) -> None:
    if op == "//" and b == 0:
        with pytest.raises(CalculatorError):
            calculate(f"{a} {op} ({b})")
        return
    assert calculate(f"{a} {op} ({b})") == _OPS[op](a, b)


@settings(deadline=None)  # no per-example time limit: a loaded machine is not a failure
@given(st.text(max_size=300))
def test_arbitrary_text_never_escapes_as_another_exception(text: str) -> None:
    try:
        result = calculate(text)
    except CalculatorError:
        return
    assert isinstance(result, int | float)


@settings(deadline=None)  # no per-example time limit: a loaded machine is not a failure
@given(st.text(max_size=300))
def test_extraction_is_total_and_returns_a_substring(text: str) -> None:
    found = extract_expression(text)
    assert found is None or found in text


def test_the_tool_fails_as_its_backend_would_under_the_tool_fault() -> None:
    """tool_error_rate: one seeded draw per call; 0 never fails, 1 always does, and a refused
    expression is still the user's error when the backend is up."""
    from demo_app.faults import FaultProfile, FaultStore

    assert CalculatorTool().run("6 * 7") == "42"
    with pytest.raises(ToolUnavailable):
        CalculatorTool(FaultStore(FaultProfile(tool_error_rate=1.0))).run("6 * 7")
    half = CalculatorTool(FaultStore(FaultProfile(tool_error_rate=0.5)), seed=7)
    failed = 0
    for _ in range(400):
        try:
            half.run("6 * 7")
        except ToolUnavailable:
            failed += 1
    assert 150 < failed < 250, failed
    with pytest.raises(CalculatorError):
        CalculatorTool(FaultStore(FaultProfile(tool_error_rate=0.0))).run("1 / 0")
