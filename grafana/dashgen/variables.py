"""Template variables: datasource pickers and multi-value Prometheus label variables."""

from __future__ import annotations

from .targets import DATASOURCES, PROM, Json, app


def datasource_var(name: str) -> Json:
    plugin, uid, label = DATASOURCES[name]
    return {
        "type": "datasource",
        "name": name,
        "label": label,
        "query": plugin,
        "current": {"selected": False, "text": label, "value": uid},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
    }


def query_var(name: str, label: str, metric_selector: str, label_name: str) -> Json:
    """Multi-value Prometheus label variable with All (= regex `.*`, so new values show up)."""
    definition = f"label_values({app(metric_selector)}, {label_name})"
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": PROM,
        "definition": definition,
        "query": definition,
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


def textbox_var(name: str, label: str, description: str) -> Json:
    """Free-text variable (empty by default): for unbounded values such as a user pseudonym or a
    conversation id, which no label index lists. Panels that use it stay empty until it is set,
    by hand or by a data link (`var-<name>=…`)."""
    return {
        "type": "textbox",
        "name": name,
        "label": label,
        "description": description,
        "query": "",
        "current": {"selected": False, "text": "", "value": ""},
        "options": [],
        "hide": 0,
    }
