"""Deterministic YAML (same data → byte-identical text): block style for multi-line PromQL."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value.rstrip("\n") + "\n", "|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(data: Any, header: str = "") -> str:
    """`header` (comment lines, each ending in a newline) followed by `data` as YAML."""
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True, indent=2
    )
    return header + body


def comment(*lines: str) -> str:
    return "".join(f"# {line}\n" for line in lines)
