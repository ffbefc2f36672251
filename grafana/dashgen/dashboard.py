"""The dashboard: grid layout of rows and panels, annotations and links, rendered to JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from genobs.context import current

from .panels import Panel
from .targets import GENERATED_NOTE, GRAFANA_BUILTIN, PROM, RED, SCHEMA_VERSION, Json, app


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    tags: list[str] = field(default_factory=list)
    variables: list[Json] = field(default_factory=list)
    annotations: list[Json] = field(default_factory=list)
    links: list[Json] = field(default_factory=list)
    time_from: str = "now-1h"
    refresh: str = "30s"
    _panels: list[Json] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _row_h: int = 0

    def _newline(self) -> None:
        self._y += self._row_h
        self._x = 0
        self._row_h = 0

    def row(self, title: str) -> None:
        """A (non-collapsed) row header across the full width."""
        if self._x:
            self._newline()
        self._panels.append(
            {
                "type": "row",
                "title": title,
                "collapsed": False,
                "panels": [],
                "gridPos": {"x": 0, "y": self._y, "w": 24, "h": 1},
            }
        )
        self._y += 1

    def add(self, *panels: Panel) -> None:
        """Place panels left to right, wrapping to a new line when the 24 columns are full."""
        for p in panels:
            if p.w > 24:
                raise ValueError(f"panel {p.body['title']!r} wider than 24 columns")
            if self._x + p.w > 24:
                self._newline()
            self._panels.append(
                {**p.body, "gridPos": {"x": self._x, "y": self._y, "w": p.w, "h": p.h}}
            )
            self._x += p.w
            self._row_h = max(self._row_h, p.h)

    def render(self) -> Json:
        for i, panel in enumerate(self._panels, start=1):
            panel["id"] = i
        ordered = [{"id": p.pop("id"), **p} for p in self._panels]
        return {
            "uid": current().uid(self.uid),
            "title": current().title(self.title),
            "description": f"{self.description} {GENERATED_NOTE}",
            "tags": [*current().tags, *self.tags],
            "editable": True,
            "graphTooltip": 1,
            "timezone": "browser",
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "links": self.links,
            "annotations": {"list": [builtin_annotation(), *self.annotations]},
            "templating": {"list": self.variables},
            "panels": ordered,
        }


# A row of a dashboard: adds its row header and panels (a dashboard module lists its rows).
Row = Callable[[Dashboard], None]


def builtin_annotation() -> Json:
    return {
        "builtIn": 1,
        "datasource": GRAFANA_BUILTIN,
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }


def alerts_annotation(name: str, selector: str, color: str = RED) -> Json:
    """Prometheus annotation: one region per firing alert (ALERTS is written by the rule engine)."""
    text = "{{severity}}: {{service}} {{slo}}"
    out = _annotation(name, f"ALERTS{{{selector}}}", "{{alertname}}", text, color)
    return {**out, "tagKeys": "severity,service"}


def prom_annotation(name: str, expr: str, *, title: str, text: str, color: str) -> Json:
    """Prometheus annotation: a region per series of `expr` (service matchers added)."""
    return _annotation(name, app(expr), title, text, color)


def _annotation(name: str, expr: str, title: str, text: str, color: str) -> Json:
    return {
        "datasource": PROM,
        "enable": True,
        "hide": False,
        "iconColor": color,
        "name": name,
        "expr": expr,
        "step": "60s",
        "titleFormat": title,
        "textFormat": text,
        "useValueForTime": False,
    }


def dashboard_links(current_uid: str, related: list[tuple[str, str]]) -> list[Json]:
    """Tag dropdown of all stack dashboards + direct links to the related ones (by uid)."""
    out: list[Json] = [
        {
            "type": "dashboards",
            "title": "Dashboards",
            "tags": list(current().tags),
            "asDropdown": True,
            "includeVars": False,
            "keepTime": True,
            "targetBlank": False,
            "icon": "external link",
            "tooltip": "",
            "url": "",
        }
    ]
    for uid, title in related:
        if uid == current_uid:
            continue
        out.append(
            {
                "type": "link",
                "title": title,
                "url": f"/d/{current().uid(uid)}",
                "tags": [],
                "asDropdown": False,
                "includeVars": True,
                "keepTime": True,
                "targetBlank": False,
                "icon": "dashboard",
                "tooltip": f"Open {title}",
            }
        )
    return out
