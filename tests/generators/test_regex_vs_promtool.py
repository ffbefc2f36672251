"""genobs.promql.regex_problem answers as Prometheus itself does: every pattern is also put in a
rule file for the real promtool (Debian's 2.42, Go 1.19), and both must agree on accept/refuse.
RE2 (C++) alone accepts `\\C` and `(?<name>…)`, which Go's regexp refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from genobs.promql import quote, regex_problem
from harness import require_binary

PATTERNS = [
    "chat|generate_content|text_completion",
    r"a\Cb",  # RE2 takes \C, Go does not
    "(?<n>a)",  # Go >= 1.22 only
    "(?P<n>a)",
    r"\Qa\Cb\E",  # literal text: fine for both
    r"\Q(?<\E",
    r"\Qx\E\C",
    "[(?<]",
    "[]C]",
    r"a\\Cb",  # an escaped backslash, then C
    "a++",
    "a{1001}",
    "(?x)a",
    "(?i)x|.*RateLimitError.*",
    r"\pN+",
    r"a\z",
]


def _promtool_accepts(promtool: str, tmp: Path, pattern: str) -> bool:
    expr = f"up{{job=~{quote(pattern)}}}"
    rules = tmp / "r.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - record: x:y\n    expr: " + quote(expr) + "\n"
    )
    r = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode in (0, 1), r.stderr
    return r.returncode == 0


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_problem_agrees_with_promtool(tmp_path: Path, pattern: str) -> None:
    promtool = require_binary("promtool")
    accepted = _promtool_accepts(promtool, tmp_path, pattern)
    assert (regex_problem(pattern) is None) == accepted, (pattern, regex_problem(pattern))
