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
    return _multi_var(name, label, f"label_values({app(metric_selector)}, {label_name})")


def result_var(name: str, label: str, promql: str, label_name: str) -> Json:
    """Like query_var, but the values are `label_name`'s in the result of an instant query
    (Grafana's `query_result`, at the end of the time range; `$__range` reaches back over it):
    for a label some series carry under another name, which a series lookup cannot rename.
    `promql` must return one series per value, labelled `label_name` alone (e.g. `count by`);
    the variable's regex takes the value out of Grafana's text of each series."""
    var = _multi_var(name, label, f"query_result({app(promql)})")
    var["regex"] = f'/{label_name}="([^"]+)"/'
    return var


def _multi_var(name: str, label: str, definition: str) -> Json:
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
