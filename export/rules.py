"""Rule files: check every exported rule as Prometheus would, and lay them out per target.

check() parses each `expr` with a port of Prometheus' own PromQL parser and each `for:` with
Prometheus' duration grammar, so a configuration that yields an invalid rule fails the export
(naming the rule and the genai-obs.yaml key) instead of failing later in a ruler.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import promql_parser
import yaml

from export.errors import ExportError
from generators.config import Config

RULES_DIR = "prometheus/rules/"
NAMESPACE_PREFIX = "genai-obs-"
# Prometheus' model.ParseDuration: units in this order, each at most once; "0" alone is allowed.
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNIT_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
_MAX_MS = 2**63 - 1  # time.Duration is an int64 of nanoseconds; Prometheus checks ms overflow


def duration_problem(text: str) -> str | None:
    """Why `text` is not a Prometheus duration, or None."""
    if text == "0":
        return None
    match = _DURATION.match(text)
    if not text or match is None:
        return f"{text!r} is not a Prometheus duration (units in order y w d h m s ms, e.g. 1h30m)"
    total = sum(int(v) * unit for v, unit in zip(match.groups(), _UNIT_MS, strict=True) if v)
    if total * 1_000_000 > _MAX_MS:
        return f"{text!r} is out of range (Prometheus durations are below 292 years)"
    return None


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
            if "for" in rule and (reason := duration_problem(str(rule["for"]))):
                origin = cfg.error(("profiles", cfg.profile, "for", name), reason)
                problems.append(f"{where}: for: {origin}")
    if problems:
        raise ExportError("the configuration yields invalid rules:\n  " + "\n  ".join(problems))
    return groups


def mimir_namespace(stem: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """One Mimir/Cortex ruler namespace (mimirtool's rule-file format) per rule file.

    Prefixed (genai-obs-slo-alerts), so `mimirtool rules sync --namespaces-regex` can confine a
    sync to ours in a tenant that other teams' rules share.
    """
    return {"namespace": NAMESPACE_PREFIX + stem, "groups": groups}
