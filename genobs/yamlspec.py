"""YAML input with line numbers, validated against a JSON schema, errors a person can act on.

Every input file of the generators (genai-obs.yaml, slo/slos.yaml, slo/thresholds.yaml) is read
here: `load_yaml_with_lines()` keeps each field's line, `schema_errors()` turns JSON-schema
violations into `file:line: slo 'x': field 'y': reason` messages (all of them, not the first).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jsonschema

from genai_telemetry import yamllines
from genai_telemetry.yamllines import KeyPath


class SpecError(Exception):
    """A spec problem, already formatted for a person (file, line, SLO, field, reason)."""


# --- YAML with line numbers ----------------------------------------------------------------------
Path_ = KeyPath

_MAX_VALUES = 100_000  # a spec has hundreds; aliases repeated in aliases can reach billions


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[Path_, int]]:
    """The file's data and each field's line; SpecError naming the file and line otherwise."""
    try:
        data, lines = yamllines.load(path, _MAX_VALUES)
    except yamllines.YamlProblem as exc:
        raise SpecError(_problem_text(path, exc)) from None
    if data is None:
        raise SpecError(f"{path}:1: the file is empty")
    return data, lines


def _problem_text(path: Path, exc: yamllines.YamlProblem) -> str:
    where = f"{path}:{exc.line}" if exc.line else str(path)
    if exc.kind == "read":
        return f"{path}: cannot read: {exc.problem}"
    if exc.kind == "duplicate":
        return f"{where}: field '{dotted(exc.path)}' is given twice"
    if exc.kind == "syntax":
        return f"{where}: not valid YAML: {exc.problem}"
    if exc.kind == "structure":  # named by its top-level field: aliases nest deep
        field = f" in field '{exc.path[0]}'" if exc.path else ""
        return f"{where}: not usable YAML{field}: {exc.problem}"
    return f"{where}: {exc.problem}"


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Reporter:
    """Formats errors for one file, naming the SLO an error sits in (when it sits in one)."""

    def __init__(self, path: Path, data: Any, lines: dict[Path_, int], list_key: str) -> None:
        self.path = path
        self.data = data
        self.lines = lines
        self.list_key = list_key

    def line_of(self, path: Path_) -> int:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def error(self, path: Path_, reason: str) -> SpecError:
        where = f"{self.path}:{self.line_of(path)}"
        owner = ""
        rest: Path_ = path
        if len(path) >= 2 and path[0] == self.list_key and isinstance(path[1], int):
            items = self.data.get(self.list_key) if isinstance(self.data, dict) else None
            name = None
            if (
                isinstance(items, list)
                and path[1] < len(items)
                and isinstance(items[path[1]], dict)
            ):
                name = items[path[1]].get("name")
            owner = f"slo '{name}'" if name else f"{self.list_key}[{path[1]}]"
            rest = path[2:]
        parts = [where]
        if owner:
            parts.append(owner)
        if rest:
            parts.append(f"field '{dotted(rest)}'")
        return SpecError(": ".join(parts) + ": " + reason)


def _non_finite(data: Any, path: Path_ = ()) -> list[Path_]:
    """Paths of .nan, .inf and numbers too large for a float (1.0e+400 reads as inf)."""
    if isinstance(data, float) and not math.isfinite(data):
        return [path]
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _non_finite(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _non_finite(v, (*path, i))]
    return []


def schema_errors(reporter: Reporter, schema: dict[str, Any]) -> None:
    """Every schema violation, and every non-finite number (JSON schema has none, and NaN passes
    every bound: `> nan` or `/ NaN` in a rule is an alert that can never fire)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(reporter.data), key=lambda e: list(map(str, e.path)))
    bad = _non_finite(reporter.data)
    messages = [
        str(reporter.error(p, "not a finite number (.nan, .inf or out of a float's range)"))
        for p in bad
    ]
    for err in errors:
        path: Path_ = tuple(err.absolute_path)
        if path in bad:
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - allowed):
                messages.append(
                    str(
                        reporter.error(
                            (*path, key),
                            f"unknown field (allowed: {', '.join(sorted(allowed))})",
                        )
                    )
                )
            continue
        if err.validator == "oneOf" and isinstance(err.instance, dict):
            reason = "must have exactly one of: " + ", ".join(
                sorted(
                    next(iter(s.get("required", ["?"])))
                    for s in err.validator_value
                    if isinstance(s, dict)
                )
            )
        else:
            reason = err.message
            if err.validator == "pattern" and "description" in err.schema:
                reason = f"{err.instance!r} is not {err.schema['description']}"
            if err.validator in ("exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum"):
                reason = f"{err.instance!r} is out of range ({err.validator} {err.validator_value})"
        messages.append(str(reporter.error(path, reason)))
    if messages:
        raise SpecError("\n".join(messages))
