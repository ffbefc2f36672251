"""Deterministic YAML for the exported files: the generators' own writer, with a header."""

from __future__ import annotations

from typing import Any

from slo.render import yaml_text


def dump(data: Any, header: str = "") -> str:
    """`header` (comment lines, each ending in a newline) followed by `data` as YAML."""
    return header + yaml_text(data)


def comment(*lines: str) -> str:
    return "".join(f"# {line}\n" for line in lines)
