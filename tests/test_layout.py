"""The repo's shape: the import graph between its Python packages is the one the README's layout
states, and modules and functions stay small.

Folders are components of the data flow (contract → app, config → generators → artifacts,
harness → tests/bench); an import across them that the README does not list, or a cycle, fails.
No module over MAX_MODULE_LINES and no function over MAX_FUNCTION_LINES, unless its docstring has
a line starting with LONG_BECAUSE followed by the reason (the README's layout section says so).
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


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def module_graph() -> dict[str, set[str]]:
    """Module → the modules of the product packages it imports, at any depth in the file (an
    import inside a function is still a dependency; deferring it only hides a cycle)."""
    paths = {_module_name(p): p for p in _python_files() if _component(p) not in (None, "tests")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import submodule` imports the submodule; else the module itself
                found |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in paths else node.module
                    for a in node.names
                }
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = (found & set(paths)) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> list[str] | None:
        if node in stack:
            return [*stack[stack.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph[node]):
            if cycle := visit(nxt, (*stack, node)):
                return cycle
        done.add(node)
        return None

    return next((c for n in sorted(graph) if (c := visit(n, ()))), None)


def test_no_cycle_between_modules() -> None:
    graph = module_graph()
    assert "slo.thresholds" in graph and "slo.llm_alerts" in graph["slo.thresholds"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_cycle_finder_sees_a_deferred_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# --- size ----------------------------------------------------------------------------------------
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
LONG_BECAUSE = "Long because:"  # a docstring line: the reason, in a sentence, not a waiver


def _python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if not {".venv", "node_modules", ".git"} & set(path.relative_to(ROOT).parts):
            yield path


def _has_reason(node: ast.AST) -> bool:
    doc = ast.get_docstring(node) or ""  # type: ignore[arg-type]
    return any(
        line.strip().startswith(LONG_BECAUSE) and len(line.strip()) > len(LONG_BECAUSE) + 10
        for line in doc.splitlines()
    )


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method, nested ones too, with its dotted qualified name."""
    for node in ast.iter_child_nodes(tree):
        name = f"{prefix}{getattr(node, 'name', '')}"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield name, node
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, name + ".")
        else:
            yield from _functions(node, prefix)


def _too_long(node: ast.AST, limit: int) -> int | None:
    """The node's length in lines if over `limit` and its docstring gives no reason."""
    length = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
    return length if length > limit and not _has_reason(node) else None


def size_offenders() -> dict[str, int]:
    """`path` or `path::qualname` → its length in lines, for each one over its limit."""
    found: dict[str, int] = {}
    for path in _python_files():
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text()
        tree = ast.parse(source)
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES and not _has_reason(tree):
            found[rel] = lines
        for name, node in _functions(tree):
            if length := _too_long(node, MAX_FUNCTION_LINES):
                found[f"{rel}::{name}"] = length
    return found


def test_no_long_module_or_function() -> None:
    long = size_offenders()
    assert not long, (
        f"over {MAX_MODULE_LINES} lines (module) or {MAX_FUNCTION_LINES} (function): {long}; "
        f"split it, or give the reason in its docstring on a line starting {LONG_BECAUSE!r}"
    )


def test_size_rule_sees_long_code_and_reasons() -> None:
    """The scan itself: a long method is found by its qualified name, and a reason
    in the docstring (and only a real one) exempts it."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = (
        f"class C:\n  def long(self):\n{body}\n"
        f'def ok():\n    """{LONG_BECAUSE} one table of rows, read top to bottom."""\n{body}\n'
        f'def bare():\n    """{LONG_BECAUSE}"""\n{body}\n'
    )
    long = {
        name for name, node in _functions(ast.parse(source)) if _too_long(node, MAX_FUNCTION_LINES)
    }
    assert long == {"C.long", "bare"}
