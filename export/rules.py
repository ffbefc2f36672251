"""Rule files: check every exported rule as Prometheus would, and lay them out per target.

check() parses each `expr` with a port of Prometheus' own PromQL parser, so a configuration that
yields an invalid rule fails the export (naming the rule) instead of failing later in a ruler.
(Each `for:` is checked where it is read: genobs.config.)
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import promql_parser
import yaml

from export.errors import ExportError
from genobs.config import Config

RULES_DIR = "prometheus/rules/"
NAMESPACE_PREFIX = "genai-obs-"


def rule_files(files: dict[str, str]) -> dict[str, str]:
    """The rule files of a render() result: file stem → text."""
    return {
        PurePosixPath(path).stem: text
        for path, text in files.items()
        if path.startswith(RULES_DIR) and path.endswith(".yml")
    }


def check(stem: str, text: str, cfg: Config) -> list[dict[str, Any]]:
    """The groups of one rule file, or ExportError naming every invalid rule."""
    groups: list[dict[str, Any]] = yaml.safe_load(text)["groups"]
    problems = []
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            where = f"{RULES_DIR}{stem}.yml: group {group['name']!r}, rule {name!r}"
            try:
                promql_parser.parse(rule["expr"])
            except ValueError as exc:
                problems.append(f"{where}: expr: {exc} (selectors in {cfg.path.name}?)")
    if problems:
        raise ExportError("the configuration yields invalid rules:\n  " + "\n  ".join(problems))
    return groups


def mimir_namespace(stem: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """One Mimir/Cortex ruler namespace (mimirtool's rule-file format) per rule file.

    Prefixed (genai-obs-slo-alerts), so `mimirtool rules sync --namespaces-regex` can confine a
    sync to ours in a tenant that other teams' rules share.
    """
    return {"namespace": NAMESPACE_PREFIX + stem, "groups": groups}
