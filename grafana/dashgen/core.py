"""Builders for classic Grafana dashboard JSON (schemaVersion 39: loads in Grafana 10–13).

Every panel goes through these helpers so that datasources, units, descriptions, legends and
layout are uniform. This module is the one import the dashboard modules use; the helpers live in
targets (datasources, colours, queries), panels and charts (panel bodies), variables and
dashboard (layout, annotations, links).
"""

from __future__ import annotations

from .charts import bargauge, heatmap, histogram, stat, table, timeseries
from .dashboard import (
    Dashboard,
    Row,
    alerts_annotation,
    dashboard_links,
    prom_annotation,
)
from .panels import (
    Panel,
    alert_groups,
    drilldown,
    logs,
    node_graph,
    override_unit,
    trace_table,
    value_mappings_up,
)
from .targets import (
    GREEN,
    ORANGE,
    RED,
    REGENERATE,
    YELLOW,
    Json,
    loki,
    prom,
    thresholds,
)
from .variables import datasource_var, query_var, result_var, textbox_var

__all__ = [
    "GREEN",
    "ORANGE",
    "RED",
    "REGENERATE",
    "YELLOW",
    "Dashboard",
    "Json",
    "Panel",
    "Row",
    "alert_groups",
    "alerts_annotation",
    "bargauge",
    "dashboard_links",
    "datasource_var",
    "drilldown",
    "heatmap",
    "histogram",
    "logs",
    "loki",
    "node_graph",
    "override_unit",
    "prom",
    "prom_annotation",
    "query_var",
    "result_var",
    "stat",
    "table",
    "textbox_var",
    "thresholds",
    "timeseries",
    "trace_table",
    "value_mappings_up",
]
