"""YAML with line numbers for scenarios.yaml, and the checks that report `file:line: where: msg`."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from genai_telemetry import yamllines


class ScenarioError(ValueError):
    """The scenario file is invalid; the message names file and line."""


def _num(v: float) -> str:
    return f"{v:g}"


class LineDict(dict[Any, Any]):
    line: int = 0  # of its first key
    key_lines: dict[Any, int]  # each key's line: a scalar value has no line of its own


class _LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


_MAX_VALUES = 100_000  # the shipped file has ~400; aliases of aliases could reach billions


def load_with_lines(path: Path, label: str) -> Any:
    """The scenario file's data, its mappings and lists carrying their lines (ScenarioError)."""
    try:
        data, lines = yamllines.load(path, _MAX_VALUES)
    except yamllines.YamlProblem as exc:
        if exc.kind == "read":
            raise ScenarioError(f"{label}: cannot read the scenario file: {exc.problem}") from None
        where = f"{label}:{exc.line}" if exc.line else label  # no line: the whole file
        if exc.kind == "duplicate":
            raise ScenarioError(f"{where}: duplicate key {exc.path[-1]!r}") from None
        prefix = "invalid YAML: " if exc.kind == "syntax" else ""
        raise ScenarioError(f"{where}: {prefix}{exc.problem}") from None
    return _with_lines(data, (), lines)


def _with_lines(value: Any, path: yamllines.KeyPath, lines: dict[yamllines.KeyPath, int]) -> Any:
    if isinstance(value, dict):
        d = LineDict((k, _with_lines(v, (*path, k), lines)) for k, v in value.items())
        d.key_lines = {k: lines[(*path, k)] for k in value}
        d.line = next(iter(d.key_lines.values()), lines.get(path, 0))
        return d
    if isinstance(value, list):
        lst = _LineList(_with_lines(v, (*path, i), lines) for i, v in enumerate(value))
        lst.line = lines.get(path, 0)
        lst.item_lines = [lines[(*path, i)] for i in range(len(value))]
        return lst
    return value


def shown(path: Path) -> str:
    """The file as messages name it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


class Ctx:
    """Builds `file:line: where: message` errors."""

    def __init__(self, path: Path):
        self.path = path
        self.label = shown(path)

    def fail(self, line: int, where: str, msg: str) -> ScenarioError:
        prefix = f"{self.label}:{line}"
        return ScenarioError(f"{prefix}: {where}: {msg}" if where else f"{prefix}: {msg}")


def line_of(obj: Any, key: Any = None, default: int = 0) -> int:
    """The line of `obj[key]` (a mapping's key, a list's index), else of `obj`, else `default`:
    scalars and nulls carry no line, so their parent tells where they are."""
    if isinstance(obj, LineDict):
        return obj.key_lines.get(key, obj.line) if key is not None else obj.line
    if isinstance(obj, _LineList):
        if isinstance(key, int) and 0 <= key < len(obj.item_lines):
            return obj.item_lines[key]
        return obj.line
    return default


def number(ctx: Ctx, parent: Any, key: str, where: str, lo: float, hi: float | None) -> float:
    v = parent[key]
    line = line_of(parent, key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        hint = ""
        if isinstance(v, str) and re.fullmatch(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+", v):
            hint = "; YAML reads an exponent without a dot and sign as text: write 1.0e+3"
        raise ctx.fail(line, where, f"{key} must be a number (got {v!r}{hint})")
    if v < lo or (hi is not None and v > hi):
        bound = f"between {_num(lo)} and {_num(hi)}" if hi is not None else f">= {_num(lo)}"
        raise ctx.fail(line, where, f"{key} must be {bound} (got {_num(v)})")
    return float(v)


def check_keys(
    ctx: Ctx,
    d: Any,
    where: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    line: int | None = None,
) -> None:
    """`d` is a mapping with these keys; `line` is where it is written (its key's line)."""
    if not isinstance(d, dict):
        got = "nothing" if d is None else "a list" if isinstance(d, list) else repr(d)[:40]
        raise ctx.fail(line_of(d, default=line or 0), where, f"must be a mapping (got {got})")
    for k in d:
        if k not in required and k not in optional:
            allowed = ", ".join((*required, *optional))
            raise ctx.fail(line_of(d, k), where, f"unknown key {k!r} (allowed: {allowed})")
    for k in required:
        if k not in d:
            raise ctx.fail(line or line_of(d), where, f"missing required key {k!r}")


def weights(
    ctx: Ctx, parent: Any, key: str, where: str, allowed: tuple[str, ...] | None, of: str = ""
) -> dict[str, float]:
    """`parent[key]`: names from `allowed` (`of` says where they come from; None: any name of
    1-128 characters) with weights."""
    w = parent[key]
    line = line_of(parent, key)
    if not isinstance(w, dict) or not w:
        raise ctx.fail(line, where, f"{key} must be a non-empty mapping of name: weight")
    out: dict[str, float] = {}
    for name in w:
        if allowed is None and not (isinstance(name, str) and 0 < len(name) <= 128):
            why = f"{key}: entries must be names of 1-128 characters (got {name!r})"
            raise ctx.fail(line_of(w, name), where, why)
        if allowed is not None and name not in allowed:
            raise ctx.fail(
                line_of(w, name),
                where,
                f"{key}: unknown entry {name!r} (allowed{of}: {', '.join(allowed)})",
            )
        out[str(name)] = number(ctx, w, name, f"{where}: {key}", 0.0, None)
    if sum(out.values()) <= 0:
        raise ctx.fail(line, where, f"{key}: weights must not all be 0")
    return out
