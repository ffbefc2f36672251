"""One service per rule file: the recorded series it writes carry the service's `service` label,
and every read of a recorded series matches on it. So the rules exported for two services can
share one Prometheus (or Mimir tenant) without recording the same series twice or reading each
other's costs and burn rates. A selector that already matches on `service` is left alone."""

from __future__ import annotations

from typing import Any

from genobs.contract import is_recorded
from genobs.promql import scope

LABEL = "service"


def own(doc: dict[str, Any], service: str) -> dict[str, Any]:
    """The rule file `doc` with its recordings and reads of recorded series bound to `service`."""
    return {"groups": [_group(g, service) for g in doc["groups"]]}


def _group(group: dict[str, Any], service: str) -> dict[str, Any]:
    return {**group, "rules": [_rule(r, service) for r in group["rules"]]}


def reads(expr: str, service: str) -> str:
    """`expr` reading recorded series of `service` only (rules, dashboards, exported runbooks)."""
    return scope(expr, LABEL, service, is_recorded)


def _rule(rule: dict[str, Any], service: str) -> dict[str, Any]:
    out = {**rule, "expr": reads(rule["expr"], service)}
    if "record" in rule:
        out["labels"] = {**rule.get("labels", {}), LABEL: service}
    return out
