"""bench/ and harness/ stand alone: `make bench` runs them without pytest or the tests package."""

from __future__ import annotations

import ast

import pytest

from bench.__main__ import main as bench_main
from harness import ROOT

FORBIDDEN = {"pytest", "_pytest", "tests"}


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.append((node.lineno, node.module or ""))
    return out


def test_bench_and_harness_import_neither_pytest_nor_tests() -> None:
    files = sorted([*ROOT.glob("bench/*.py"), *ROOT.glob("harness/*.py")])
    assert len(files) >= 10, files
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in _imported(ast.parse(path.read_text()))
        if name.split(".")[0] in FORBIDDEN
    ]
    assert bad == []


def test_bench_help_points_at_each_benchmarks_options(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/performance.md and `make bench-figures` run `python -m bench peers --together
    --rounds 15`: `python -m bench --help` lists no such option, so it says where they are."""
    with pytest.raises(SystemExit):
        bench_main(["--help"])
    assert "python -m bench NAME --help" in " ".join(capsys.readouterr().out.split())
