"""Rule files: check every exported rule as Prometheus would, and lay them out per target.

check() parses each `expr` with a port of Prometheus' own PromQL parser, so a configuration that
yields an invalid rule fails the export (naming the rule) instead of failing later in a ruler.
(Each `for:` is checked where it is read: genobs.config.)
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from typing import Any

import promql_parser
import yaml

from export import NAME_PREFIX
from export.errors import ExportError
from genobs.config import Config
from slo.prices import GROUP_RULES

RULES_DIR = "prometheus/rules/"
# Rule files that watch the stack, not a service: exported under their own name. One export
# should carry them (stack_alerts in genai-obs.yaml); a second copy replaces, never doubles, them.
SHARED = frozenset({"stack-alerts"})
# A Mimir or Cortex ruler refuses on upload, by default (-ruler.max-rules-per-rule-group,
# -ruler.max-rule-groups-per-tenant), a group of more rules and a tenant of more groups. The
# first is where slo/prices.py splits the price rules, so it lives there.
MAX_RULES_PER_GROUP = GROUP_RULES
MAX_GROUPS_PER_TENANT = 70


def slug(service: str) -> str:
    """service_name as a Kubernetes name part: itself when it is one already (lower-case letters,
    digits and '-'); otherwise folded to one, with a hash of the name so that "my_app", "My.App"
    and "my-app" never share the names of their objects."""
    out = re.sub(r"[^a-z0-9]+", "-", service.lower()).strip("-")
    if not out:
        raise ExportError(f"service_name {service!r}: no letter or digit to name objects after")
    if out == service:
        return out
    return f"{out}-{hashlib.sha256(service.encode()).hexdigest()[:6]}"


def exported_stem(stem: str, cfg: Config) -> str:
    """`<service>.<file>` for a service's rule file or dashboard, the file itself if shared: a
    slug holds no dot, so no service's names start with another's."""
    return stem if stem in SHARED else f"{slug(cfg.service_name)}.{stem}"


def sync_regex(cfg: Config, stems: list[str]) -> str:
    """The Mimir namespaces an export of `stems` owns (for `mimirtool rules sync`): its service's
    and the shared files it carries, never a shared file it leaves to another service's export.
    Slugs and stems hold only [a-z0-9-], so escaping the dots is enough."""
    dot = r"\."
    shared = sorted(s for s in stems if s in SHARED)
    owned = "|".join([f"{slug(cfg.service_name)}{dot}.+", *shared])
    return f"^{NAME_PREFIX.replace('.', dot)}({owned})$"


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
    """One Mimir/Cortex ruler namespace (mimirtool's rule-file format) per exported rule file.

    Named genai-obs.<service>.<file>, so `mimirtool rules sync --namespaces-regex` (sync_regex)
    can confine a sync to one service's namespaces in a tenant others share.
    """
    return {"namespace": NAME_PREFIX + stem, "groups": groups}
