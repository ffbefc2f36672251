"""Hostile text costs linear time in the patterns that see every question: run in a child
process with a deadline far above linear time (~10 ms) and far below what backtracking costs on
these inputs (minutes to hours). Not a timing goal: a hang guard."""

from __future__ import annotations

import subprocess
import sys

import pytest

SPACES = " " * 200_000
# (what the question's candidate run looks like, why it was slow)
HOSTILE = [
    ("1+" + SPACES + "*", "two \\s* sharing the run of spaces after an operator"),
    ("1-" + SPACES + ")", "the same, closed by a parenthesis"),
    (")*" + SPACES + ".", "the same after a closing parenthesis"),
    ("1" * 200_000, "a search from every digit of one long number"),
]
DEADLINE_S = 60


@pytest.mark.parametrize(("text", "why"), HOSTILE, ids=[w for _, w in HOSTILE])
def test_arithmetic_detection_is_linear(text: str, why: str) -> None:
    code = (
        "import sys; from demo_app.calculator import _HAS_OPERATION; "
        "_HAS_OPERATION.search(sys.stdin.read())"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", code], input=text, text=True, check=True, timeout=DEADLINE_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still searching after {DEADLINE_S} s: {why}")


# The same guard for redaction rules that read past one word: a Digest parameter list, an ODBC
# braced value, a passphrase to the end of its line, names in any script.
REDACTION_HOSTILE = [
    ('Digest username="u", ' * 50_000, "Digest parameters that never reach a response"),
    ("Digest a=1, " * 50_000 + "x", "unquoted Digest parameters"),
    ("password={" + "a" * 200_000, "a braced value that never closes"),
    (("\npassword: a" + " b" * 50 + " c:") * 4_000, "passphrase lines whose rest is a field"),
    ("password: a" + " b" * 100_000 + " c:", "one passphrase line, its rest failing at the end"),
    ("密" * 200_000 + "：x", "a CJK run longer than a name"),
]


@pytest.mark.parametrize(("text", "why"), REDACTION_HOSTILE, ids=[w for _, w in REDACTION_HOSTILE])
def test_redaction_of_hostile_text_is_linear(text: str, why: str) -> None:
    code = "import sys; from genai_telemetry.redaction import redact; redact(sys.stdin.read())"
    try:
        subprocess.run(
            [sys.executable, "-c", code], input=text, text=True, check=True, timeout=DEADLINE_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still searching after {DEADLINE_S} s: {why}")
