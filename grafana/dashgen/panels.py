"""Panel bodies before layout: the one `_panel` every panel goes through (description required,
datasource = its queries' datasource) plus logs, trace tables, node graph, alert groups and text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genobs.context import current

from .targets import GREEN, LOKI, OK_ONLY, RED, TEMPO, Json, loki, service_map, traceql


# --- Panels --------------------------------------------------------------------------------------
@dataclass
class Panel:
    """A panel before layout: the JSON body plus its size on the 24-column grid."""

    body: Json
    w: int
    h: int


def _panel(
    kind: str,
    title: str,
    description: str,
    targets: list[Json],
    *,
    datasource: Json | None,
    unit: str | None,
    w: int,
    h: int,
    options: Json | None = None,
    custom: Json | None = None,
    thresholds_: Json | None = None,
    decimals: int | None = None,
    min_: float | None = None,
    max_: float | None = None,
    overrides: list[Json] | None = None,
    mappings: list[Json] | None = None,
    color: Json | None = None,
    transformations: list[Json] | None = None,
    links: list[Json] | None = None,
    data_links: list[Json] | None = None,
) -> Panel:
    if not description.strip():
        raise ValueError(f"panel {title!r} needs a description")
    defaults: Json = {}
    if unit is not None:
        defaults["unit"] = unit
    if decimals is not None:
        defaults["decimals"] = decimals
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    defaults["thresholds"] = thresholds_ or OK_ONLY
    defaults["color"] = color or {"mode": "palette-classic"}
    if custom:
        defaults["custom"] = custom
    if mappings:
        defaults["mappings"] = mappings
    if data_links:  # per value: a click opens the link with that value (`${__field.labels.x}`)
        defaults["links"] = data_links
    refs = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    body: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options or {},
        "targets": [{**t, "refId": next(refs)} for t in targets],
    }
    if targets:
        # The panel's datasource is its queries' datasource (no mixed panels here).
        datasource = targets[0]["datasource"]
    if datasource is not None:
        body["datasource"] = datasource
    if transformations:
        body["transformations"] = transformations
    if links:
        body["links"] = links
    return Panel(body, w, h)


def logs(title: str, description: str, expr: str, *, w: int = 24, h: int = 10) -> Panel:
    return _panel(
        "logs",
        title,
        description,
        [loki(expr)],
        datasource=LOKI,
        unit=None,
        w=w,
        h=h,
        options={
            "showTime": True,
            "wrapLogMessage": True,
            "prettifyLogMessage": False,
            "enableLogDetails": True,
            "dedupStrategy": "none",
            "sortOrder": "Descending",
            "showLabels": False,
            "showCommonLabels": False,
        },
    )


def trace_table(
    title: str, description: str, query: str, *, w: int = 12, h: int = 9, limit: int = 20
) -> Panel:
    return _panel(
        "table",
        title,
        description,
        [traceql(query, limit=limit)],
        datasource=TEMPO,
        unit="none",
        w=w,
        h=h,
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
    )


def node_graph(title: str, description: str, *, w: int = 24, h: int = 10) -> Panel:
    return _panel(
        "nodeGraph",
        title,
        description,
        [service_map()],
        datasource=TEMPO,
        unit=None,
        w=w,
        h=h,
        options={"nodes": {}, "edges": {}},
    )


def alert_groups(
    title: str, description: str, alertmanager_name: str, labels: str = "", *, w: int, h: int
) -> Panel:
    """Grafana's Alert groups panel: reads alerts from an Alertmanager datasource (by name)."""
    return _panel(
        "alertGroups",
        title,
        description,
        [],
        datasource=None,
        unit=None,
        w=w,
        h=h,
        options={"alertmanager": alertmanager_name, "expandAll": False, "labels": labels},
    )


def drilldown(uid: str, title: str) -> list[Json]:
    """Panel link to another stack dashboard, keeping the time range and variables."""
    return [
        {
            "title": title,
            "url": f"/d/{current().uid(uid)}?${{__url_time_range}}&${{__all_variables}}",
            "targetBlank": False,
        }
    ]


def override_unit(field_name: str, unit: str, **extra: Any) -> Json:
    props = [{"id": "unit", "value": unit}]
    props += [{"id": k, "value": v} for k, v in extra.items()]
    return {"matcher": {"id": "byName", "options": field_name}, "properties": props}


def value_mappings_up() -> list[Json]:
    return [
        {
            "type": "value",
            "options": {
                "0": {"text": "DOWN", "color": RED, "index": 0},
                "1": {"text": "UP", "color": GREEN, "index": 1},
            },
        }
    ]
