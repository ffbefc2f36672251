"""YAML with line numbers for scenarios.yaml, and the checks that report `file:line: where: msg`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml


class ScenarioError(ValueError):
    """The scenario file is invalid; the message names file and line."""


def _num(v: float) -> str:
    return f"{v:g}"


class LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list[Any]):
    line: int = 0


class Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: Loader, node: yaml.MappingNode) -> LineDict:
    d = LineDict()
    d.line = node.start_mark.line + 1
    d.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in d:
            raise ScenarioError(f"{{file}}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        d[key] = loader.construct_object(value_node, deep=True)
        d.key_lines[str(key)] = key_node.start_mark.line + 1
    return d


def _construct_sequence(loader: Loader, node: yaml.SequenceNode) -> _LineList:
    lst = _LineList(loader.construct_object(n, deep=True) for n in node.value)
    lst.line = node.start_mark.line + 1
    return lst


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class Ctx:
    """Builds `file:line: where: message` errors."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, line: int, where: str, msg: str) -> ScenarioError:
        prefix = f"{self.path.name}:{line}"
        return ScenarioError(f"{prefix}: {where}: {msg}" if where else f"{prefix}: {msg}")


def line_of(obj: Any, key: str | None = None, default: int = 0) -> int:
    if isinstance(obj, LineDict):
        if key is not None and key in obj.key_lines:
            return obj.key_lines[key]
        return obj.line
    if isinstance(obj, _LineList):
        return obj.line
    return default


def number(ctx: Ctx, parent: Any, key: str, where: str, lo: float, hi: float | None) -> float:
    v = parent[key]
    line = line_of(parent, key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ctx.fail(line, where, f"{key} must be a number (got {v!r})")
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
    if not isinstance(d, dict):
        raise ctx.fail(line_of(d), where, f"must be a mapping (got {type(d).__name__})")
    for k in d:
        if k not in required and k not in optional:
            allowed = ", ".join((*required, *optional))
            raise ctx.fail(line_of(d, k), where, f"unknown key {k!r} (allowed: {allowed})")
    for k in required:
        if k not in d:
            raise ctx.fail(line or line_of(d), where, f"missing required key {k!r}")


def weights(
    ctx: Ctx, parent: Any, key: str, where: str, allowed: tuple[str, ...] | None
) -> dict[str, float]:
    w = parent[key]
    line = line_of(parent, key)
    if not isinstance(w, dict) or not w:
        raise ctx.fail(line, where, f"{key} must be a non-empty mapping of name: weight")
    out: dict[str, float] = {}
    for name in w:
        if allowed is not None and name not in allowed:
            raise ctx.fail(
                line_of(w, name),
                where,
                f"{key}: unknown entry {name!r} (allowed: {', '.join(allowed)})",
            )
        out[str(name)] = number(ctx, w, name, f"{where}: {key}", 0.0, None)
    if sum(out.values()) <= 0:
        raise ctx.fail(line, where, f"{key}: weights must not all be 0")
    return out
