"""The import graph between the repo's Python packages is the one the README's layout states.

Folders are components of the data flow (contract → app, config → generators → artifacts,
harness → tests/bench); an import across them that the README does not list, or a cycle, fails.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from harness import ROOT

PACKAGES = (
    "genai_telemetry",
    "demo_app",
    "genobs",
    "slo",
    "grafana.dashgen",
    "generators",
    "export",
    "harness",
    "bench",
    "tests",
)


def _component(path: Path) -> str | None:
    rel = path.relative_to(ROOT).as_posix()
    return next((p for p in PACKAGES if rel.startswith(p.replace(".", "/") + "/")), None)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _target(module: str) -> str | None:
    return next((p for p in PACKAGES if module == p or module.startswith(p + ".")), None)


def actual_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for path in ROOT.rglob("*.py"):
        if {".venv", "node_modules"} & set(path.parts):
            continue
        source = _component(path)
        if source is None:
            continue
        for module in _imports(path):
            target = _target(module)
            if target is not None and target != source:
                graph[source].add(target)
    return graph


def readme_graph() -> dict[str, set[str] | None]:
    """The README's table: `package → a, b` (`(none)`; `any of them` → None: unconstrained)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Repository layout") :]
    table: dict[str, set[str] | None] = {}
    for name, targets in re.findall(r"^([a-z_.]+)\s+→\s+(.+)$", section, re.M):
        targets = targets.strip()
        if targets == "any of them":
            table[name] = None
        elif targets == "(none)":
            table[name] = set()
        else:
            table[name] = {t.strip() for t in targets.split(",")}
    return table


def test_readme_lists_every_package_once() -> None:
    assert sorted(readme_graph()) == sorted(PACKAGES)


def test_imports_are_exactly_the_readme_table() -> None:
    actual = actual_graph()
    for package, allowed in readme_graph().items():
        if allowed is None:
            continue
        assert actual[package] == allowed, (
            f"{package}: imports {sorted(actual[package])}, README says {sorted(allowed)}"
        )


def test_no_cycle_between_packages() -> None:
    graph = actual_graph()
    done: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, "cycle: " + " → ".join((*stack, node))
        if node in done:
            return
        for nxt in graph[node]:
            visit(nxt, (*stack, node))
        done.add(node)

    for package in PACKAGES:
        visit(package, ())
