"""The calculator tool: a safe arithmetic evaluator (parses with `ast`, never calls `eval`).

Allowed: int and float literals, `+ - * / // % **`, unary `+`/`-`, parentheses. Anything else
(names, calls, attributes, strings, comparisons, ...) is rejected. Limits keep a request from
burning CPU or memory: expression length, syntax-tree size, exponent size and result size.

`extract_expression(question)` finds the arithmetic in a question such as
"what is 12 * (3 + 4)?" (→ "12 * (3 + 4)"); `calculate(expression)` evaluates it;
`format_result(value)` renders it for the answer. Errors are `CalculatorError` with a message
a user can act on. `CalculatorTool` is the tool as the calculator agent calls it: it fails as an
unavailable backend would (`ToolUnavailable`) with the `tool_error_rate` fault's probability.
"""

from __future__ import annotations

import ast
import math
import operator
import random
import re
from collections.abc import Callable

from demo_app.faults import FaultStore

TOOL_NAME = "calculator"  # gen_ai.tool.name

MAX_EXPRESSION_CHARS = 200
MAX_NODES = 100
MAX_EXPONENT = 100  # |b| in a ** b
MAX_ABS_RESULT = 1e100  # also bounds every intermediate value

Number = int | float


class CalculatorError(ValueError):
    """The expression is not allowed or cannot be evaluated."""


class ToolUnavailable(RuntimeError):
    """The tool's backend failed (the `tool_error_rate` fault): nothing the user can change."""


class CalculatorTool:
    """`run(expression)`: the formatted result, or ToolUnavailable under a `tool_error_rate`
    fault (one seeded draw per call), or CalculatorError for an expression it refuses."""

    def __init__(self, faults: FaultStore | None = None, seed: int | None = None) -> None:
        self._faults = faults
        self._rng = random.Random(seed)

    def run(self, expression: str) -> str:
        rate = self._faults.get().tool_error_rate if self._faults else 0.0
        if rate and self._rng.random() < rate:
            raise ToolUnavailable(f"{TOOL_NAME} backend unavailable")
        return format_result(calculate(expression))


_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_SYMBOLS = {ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}


def calculate(expression: str) -> Number:
    """Evaluate an arithmetic expression safely. Raises CalculatorError."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("empty expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    # Accept the usual typography for multiplication/division.
    text = expression.replace("×", "*").replace("÷", "/").replace("^", "**")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise CalculatorError(f"not a valid arithmetic expression: {expression!r}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"expression has more than {MAX_NODES} parts")
    return _eval(tree.body)


def _check(value: Number) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("result is not a finite number")
    if abs(value) > MAX_ABS_RESULT:
        raise CalculatorError(f"result exceeds {MAX_ABS_RESULT:g} in magnitude")
    return value


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculatorError("only numbers are allowed")
        return _check(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            if abs(right) > MAX_EXPONENT:
                raise CalculatorError(f"exponent larger than {MAX_EXPONENT}")
            if left == 0 and right < 0:
                raise CalculatorError("division by zero (0 to a negative power)")
            if abs(left) > 1 and abs(right) * math.log10(abs(left)) > math.log10(MAX_ABS_RESULT):
                raise CalculatorError(f"result exceeds {MAX_ABS_RESULT:g} in magnitude")
            if left < 0 and not float(right).is_integer():
                raise CalculatorError("fractional power of a negative number")
        if type(node.op) in _SYMBOLS and right == 0:
            raise CalculatorError(f"division by zero ({_SYMBOLS[type(node.op)]} 0)")
        try:
            result = _BINARY[type(node.op)](left, right)
        except (OverflowError, ArithmeticError) as exc:
            raise CalculatorError(f"cannot evaluate: {exc}") from None
        return _check(result)
    raise CalculatorError(f"not allowed in an arithmetic expression: {type(node).__name__}")


# A run of numbers, operators, parentheses and spaces that contains at least one operator
# between two operands. Words like "what is" and the trailing "?" are not part of it.
# A number starts where no digit precedes it and its digits are never given back: a search
# from every position inside a long run of digits would otherwise scan the run again each time
# (0.3 s of event loop for a 4,000-digit question). The spaces and signs around the operator are
# taken whole too: two `\s*` sharing one run of spaces would split it every way before failing
# (0.5 s for "1+" and 4,000 spaces).
_NUMBER = r"(?<!\d)(?:\d++(?:\.\d++)?+|\.\d++)"
_CANDIDATE = re.compile(r"[\d.()+\-*/%×÷^\s]+")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_HAS_OPERATION = re.compile(
    rf"(?:{_NUMBER}|\))\s*+(?:\*\*|//|[+\-*/%×÷^])\s*+[-+(]*+\s*+(?:{_NUMBER}|\()"
)


def extract_expression(question: str) -> str | None:
    """The arithmetic expression in a question, or None when it is not an arithmetic question.

    "What is 12 * (3 + 4)?" → "12 * (3 + 4)"; "How do I cut TTFT by 50%?" → None. Runs glued
    to letters are not arithmetic ("llama-3.1-8b", "gpt-4.1"), nor are dates ("2026-11-27").
    The longest remaining candidate that contains a binary operation and parses is returned.
    """
    if not isinstance(question, str) or len(question) > 4000:
        return None
    candidates: list[str] = []
    for match in _CANDIDATE.finditer(question):
        start, end = match.span()
        while start < end and question[start].isspace():
            start += 1
        while end > start and question[end - 1].isspace():
            end -= 1
        glued_before = start > 0 and (question[start - 1].isalnum() or question[start - 1] == "_")
        glued_after = end < len(question) and (question[end].isalnum() or question[end] == "_")
        candidate = question[start:end]
        if glued_before or glued_after or _DATE.fullmatch(candidate):
            continue
        if _HAS_OPERATION.search(candidate):
            candidates.append(candidate)
    for candidate in sorted(candidates, key=len, reverse=True):
        try:
            calculate(candidate)
        except CalculatorError as exc:
            # A well-formed but failing expression (1/0) is still the user's expression.
            if "not a valid" in str(exc) or "not allowed" in str(exc):
                continue
        return candidate
    return None


def format_result(value: Number) -> str:
    """Human-readable result: integers exactly, floats to 10 significant digits."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"
