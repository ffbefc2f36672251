"""Chart panels on Prometheus queries: time series, stat, bar gauge, heatmap and table."""

from __future__ import annotations

from .panels import Panel, _panel
from .targets import PROM, Json, prom


def timeseries(
    title: str,
    description: str,
    targets: list[Json],
    unit: str,
    *,
    w: int = 12,
    h: int = 8,
    stack: bool = False,
    bars: bool = False,
    thresholds_: Json | None = None,
    threshold_style: str = "off",
    decimals: int | None = None,
    min_: float | None = 0,
    max_: float | None = None,
    overrides: list[Json] | None = None,
) -> Panel:
    custom: Json = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 80 if bars else 10,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "thresholdsStyle": {"mode": threshold_style},
        "axisSoftMin": 0 if min_ == 0 else None,
    }
    custom = {k: v for k, v in custom.items() if v is not None}
    return _panel(
        "timeseries",
        title,
        description,
        targets,
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        custom=custom,
        thresholds_=thresholds_,
        decimals=decimals,
        min_=None,
        max_=max_,
        overrides=overrides,
        options={
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "showLegend": True,
                "calcs": ["mean", "max", "lastNotNull"],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    )


def stat(
    title: str,
    description: str,
    target: Json | list[Json],
    unit: str,
    *,
    w: int = 4,
    h: int = 4,
    thresholds_: Json | None = None,
    decimals: int | None = None,
    graph: bool = True,
    mappings: list[Json] | None = None,
    text_mode: str = "auto",
    min_: float | None = None,
    max_: float | None = None,
    links: list[Json] | None = None,
) -> Panel:
    targets = target if isinstance(target, list) else [target]
    return _panel(
        "stat",
        title,
        description,
        targets,
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        thresholds_=thresholds_,
        decimals=decimals,
        mappings=mappings,
        min_=min_,
        max_=max_,
        links=links,
        color={"mode": "thresholds"},
        options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area" if graph else "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": text_mode,
            "showPercentChange": False,
        },
    )


def bargauge(
    title: str,
    description: str,
    targets: list[Json],
    unit: str,
    *,
    w: int = 8,
    h: int = 8,
    thresholds_: Json | None = None,
    decimals: int | None = None,
    min_: float | None = 0,
    max_: float | None = None,
    heatmap_buckets: bool = False,
    data_links: list[Json] | None = None,
) -> Panel:
    """Bar gauge; with `heatmap_buckets` the targets are `sum by (le)` bucket counts (format
    heatmap), which Grafana de-accumulates into per-bucket counts: a histogram, not a bucket
    average."""
    if heatmap_buckets:
        targets = [{**t, "format": "heatmap", "legendFormat": "{{le}}"} for t in targets]
    return _panel(
        "bargauge",
        title,
        description,
        targets,
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        thresholds_=thresholds_,
        decimals=decimals,
        min_=min_,
        max_=max_,
        color={"mode": "thresholds"} if thresholds_ else {"mode": "continuous-BlPu"},
        data_links=data_links,
        options={
            "displayMode": "gradient",
            "orientation": "vertical" if heatmap_buckets else "horizontal",
            "reduceOptions": {
                "calcs": ["sum" if heatmap_buckets else "lastNotNull"],
                "fields": "",
                "values": False,
            },
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "auto",
            "sizing": "auto",
        },
    )


def heatmap(
    title: str,
    description: str,
    buckets: str,
    unit: str,
    *,
    w: int = 12,
    h: int = 8,
) -> Panel:
    """Heatmap of classic-histogram buckets: `buckets` is their rate() (grafana/dashgen/promql),
    summed by le here. Cells are observations per second: over $__rate_interval, wider than a
    cell, an increase() would count each observation in several cells."""
    return _panel(
        "heatmap",
        title,
        description + " Cells: observations per second in each bucket.",
        [prom(f"sum by (le) ({buckets})", "{{le}}", fmt="heatmap")],
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        options={
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64, "exponent": 0.5},
            "yAxis": {"axisPlacement": "left", "unit": unit},
            "rowsFrame": {"layout": "auto"},
            "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
            "legend": {"show": True},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
            "filterValues": {"le": 1e-9},
        },
    )


def table(
    title: str,
    description: str,
    targets: list[Json],
    unit: str,
    *,
    w: int = 12,
    h: int = 8,
    overrides: list[Json] | None = None,
    transformations: list[Json] | None = None,
    thresholds_: Json | None = None,
    decimals: int | None = None,
) -> Panel:
    """Table of instant queries (format table)."""
    targets = [{**t, "instant": True, "range": False, "format": "table"} for t in targets]
    return _panel(
        "table",
        title,
        description,
        targets,
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        overrides=overrides,
        transformations=transformations,
        thresholds_=thresholds_,
        decimals=decimals,
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
    )


def histogram(
    title: str, description: str, targets: list[Json], unit: str, *, w: int = 12, h: int = 8
) -> Panel:
    """Grafana's histogram of the values of all series (combined): e.g. one instant value per
    conversation → how many conversations had how many turns."""
    return _panel(
        "histogram",
        title,
        description,
        targets,
        datasource=PROM,
        unit=unit,
        w=w,
        h=h,
        custom={"fillOpacity": 80, "lineWidth": 1, "gradientMode": "none"},
        options={
            "combine": True,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False},
            "tooltip": {"mode": "single", "sort": "none"},
        },
    )
