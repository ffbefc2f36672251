"""genai_telemetry.yamllines: the one loader of hand-edited YAML (price table, generator inputs)
names the line and key of every problem instead of raising PyYAML's or Python's own errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from genai_telemetry.yamllines import YamlProblem, load


def _load(tmp_path: Path, text: str | bytes, max_values: int = 1000) -> tuple[object, dict]:
    path = tmp_path / "f.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return load(path, max_values)


def test_data_and_the_line_of_every_key_and_item(tmp_path: Path) -> None:
    data, lines = _load(
        tmp_path, "# c\na:\n  b: 1\n  c:\n    - x\n    - !!float 2\nd: &d {e: 1}\nf: *d\n"
    )
    assert data == {"a": {"b": 1, "c": ["x", 2.0]}, "d": {"e": 1}, "f": {"e": 1}}
    assert lines[("a",)] == 2 and lines[("a", "b")] == 3 and lines[("a", "c", 1)] == 6
    assert lines[("f",)] == 8  # an alias: the line that uses it
    assert _load(tmp_path, "# only a comment\n") == (None, {})


@pytest.mark.parametrize(
    ("text", "kind", "line", "path", "problem"),
    [
        (b"a: 1\nb: caf\xe9\n", "encoding", 2, (), "not UTF-8 text (byte 0xe9)"),
        ("a: [1,\n", "syntax", 2, (), "expected the node content"),
        ("a:\n  b: 1\n  b: 2\n", "duplicate", 3, ("a", "b"), "given twice"),
        ("a:\n  ? [x]\n  : 1\n", "structure", 2, ("a",), "the key [x] is a list; keys are names"),
        ("a:\n  b: !!int abc\n", "structure", 2, ("a", "b"), "not a valid int: 'abc'"),
        ("a:\n  b: !foo x\n", "structure", 2, ("a", "b"), "constructor for the tag '!foo'"),
        ("a: &x [1, *x]\n", "structure", 1, ("a", 1), "an alias refers to a collection"),
        ("a: &x [1, 2, 3]\nb: [*x, *x, *x]\n", "structure", 2, ("b", 1), "more than 10 values"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "structure", None, (), "nested too deeply"),
    ],
    ids=["utf8", "syntax", "twice", "key", "bad-int", "unknown-tag", "cycle", "laughs", "deep"],
)
def test_every_problem_names_kind_line_and_key(
    tmp_path: Path, text: str | bytes, kind: str, line: int | None, path: tuple, problem: str
) -> None:
    with pytest.raises(YamlProblem) as info:
        _load(tmp_path, text, max_values=10)
    got = info.value
    assert (got.kind, got.line, got.path) == (kind, line, path), got
    assert problem in got.problem


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(YamlProblem) as info:
        load(tmp_path / "missing.yaml", 10)
    assert info.value.kind == "read" and "No such file" in info.value.problem
