"""The dashboard lint: every check on the JSON of the dashboards in one directory.

`dashlib.lint(directory)` runs it; tests run it on the shipped files and on broken copies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import ROOT
from tests.grafana.dashlib import (
    ALERTMANAGER_UID,
    BUILTIN_DATASOURCES,
    CORE_PANELS,
    DASHBOARDS,
    GRAFANA_BUILTIN_VARS,
    GRID_COLUMNS,
    MIN_SCHEMA_VERSION,
    NUMERIC_PANELS,
    PROVISIONED_UIDS,
    Json,
    all_panels,
    datasource_kind,
    load,
    ratio_filter_problems,
    referenced_vars,
    variables,
)


def _overlap(a: Json, b: Json) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def _datasource_refs(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "datasource":
                yield f"{path}.datasource", value
            else:
                yield from _datasource_refs(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _datasource_refs(value, f"{path}[{i}]")


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


# --- PromQL of a panel or annotation -----------------------------------------------------------
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
METRIC_USE = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\[)?")
QUANTILE = re.compile(r"histogram_quantile\(\s*[\d.]+\s*,\s*sum\s+by\s*\(([^)]*)\)")


def _promql_problems(expr: str, fmt: str) -> list[str]:
    problems = []
    # Counters and histogram series only make sense through rate()/increase() over a range.
    for m in METRIC_USE.finditer(expr):
        name, _, bracket = m.groups()
        if name.endswith(COUNTER_SUFFIXES) and not bracket:
            problems.append(f"counter/histogram series {name} used without a range (rate/increase)")
    # Never average bucket series; quantiles need the per-`le` sum of rates.
    if "_bucket" in expr and re.search(r"\bavg(_over_time)?\b", expr):
        problems.append("averages _bucket series (use histogram_quantile over sum by (le))")
    for m in QUANTILE.finditer(expr):
        labels = {label.strip() for label in m.group(1).split(",")}
        if "le" not in labels:
            problems.append("histogram_quantile over a sum that drops `le`")
    # one bucket bound, however written: le="5.12" or le=~"0(\\.0)?" ("0" or "0.0")
    single_le = re.search(r'\ble\s*=~?\s*"', expr)
    if (
        "_bucket" in expr
        and "histogram_quantile" not in expr
        and fmt != "heatmap"
        and not single_le
    ):
        problems.append("_bucket series outside histogram_quantile / heatmap / a single le")
    # A heatmap's cells are one step wide: increase() over the wider $__rate_interval counts an
    # observation in several cells (rate() is per second, so it does not).
    if fmt == "heatmap" and "increase(" in expr and "[$__rate_interval]" in expr:
        problems.append("heatmap cells from increase() over $__rate_interval (use rate())")
    return problems


# --- the lint ----------------------------------------------------------------------------------
def lint(directory: Path = DASHBOARDS, provisioning: Path | None = None) -> list[str]:
    """All problems found in the dashboards of `directory` (empty list = clean)."""
    try:
        dashboards = load(directory)
    except ValueError as exc:
        return [str(exc)]
    if not dashboards:
        return [f"{directory}: no dashboards"]
    errors: list[str] = []
    uids: dict[str, str] = {}
    tags: dict[str, set[str]] = {}
    for name, dash in dashboards.items():
        uid = dash.get("uid")
        if not uid:
            errors.append(f"{name}: no uid")
            continue
        if uid in uids:
            errors.append(f"{name}: uid {uid!r} also used by {uids[uid]}")
        uids[uid] = name
        tags[uid] = set(dash.get("tags", []))
    am_names = _alertmanager_names(provisioning)
    for name, dash in dashboards.items():
        problems = [*_dashboard_problems(name, dash), *_variable_problems(dash)]
        placed: list[tuple[Json, str]] = []
        ids: set[int] = set()
        for panel in all_panels(dash):
            problems += _panel_problems(panel, dash, ids, placed, am_names)
            if panel.get("type") != "row":
                label = f"panel {panel.get('id')} {panel.get('title')!r}"
                problems += [f"{label}: {e}" for e in _check_link_all(panel, uids, tags, "")]
        for ann in dash.get("annotations", {}).get("list", []):
            if ann.get("expr"):
                problems += [
                    f"annotation {ann.get('name')!r}: {p}"
                    for p in _promql_problems(ann["expr"], "")
                ]
        problems += _check_link_all(dash, uids, tags, dash["uid"])
        errors += [f"{name}: {p}" for p in problems]
    return errors


def _dashboard_problems(name: str, dash: Json) -> list[str]:
    raw = json.dumps(dash)
    problems = []
    if "__inputs" in dash or "__inputs" in raw:
        problems.append(
            "has __inputs (import-only placeholders; file provisioning cannot resolve them)"
        )
    if "${DS_" in raw:
        problems.append("uses ${DS_…} placeholders; use a datasource template variable")
    schema = dash.get("schemaVersion")
    if not isinstance(schema, int) or schema < MIN_SCHEMA_VERSION:
        problems.append(f"schemaVersion {schema!r} < {MIN_SCHEMA_VERSION}")
    if f"{dash.get('uid')}.json" != name:
        problems.append(f"file name does not match uid {dash.get('uid')!r}")
    if not dash.get("title"):
        problems.append("no title")
    if "make generate" not in dash.get("description", ""):
        problems.append("description does not say how to regenerate the file")
    return problems


def _variable_problems(dash: Json) -> list[str]:
    """Datasource variables default to a provisioned uid; every datasource reference is one or a
    datasource variable of the same type; every variable used is defined (or a builtin)."""
    problems = []
    defined = variables(dash)
    ds_vars = {n: v.get("query") for n, v in defined.items() if v.get("type") == "datasource"}
    for var in defined.values():
        if var.get("type") == "datasource":
            expected = PROVISIONED_UIDS.get(var.get("query"))
            if expected is None or var.get("current", {}).get("value") != expected:
                problems.append(
                    f"datasource variable ${var['name']} must default to a provisioned uid"
                )
    for where, ref in _datasource_refs({k: v for k, v in dash.items() if k != "templating"}):
        if err_ref := _check_ref(ref, ds_vars):
            problems.append(f"{where}: {err_ref}")
    for var in defined.values():
        if var.get("type") == "datasource" or "datasource" not in var:
            continue
        if err_ref := _check_ref(var["datasource"], ds_vars):
            problems.append(f"variable ${var['name']}: {err_ref}")
    for text in _strings({k: v for k, v in dash.items() if k not in ("description",)}):
        for var_name in referenced_vars(text):
            if var_name not in defined and var_name not in GRAFANA_BUILTIN_VARS:
                problems.append(f"references undefined variable ${var_name} in {text[:80]!r}")
    return problems


def _panel_problems(
    panel: Json,
    dash: Json,
    ids: set[int],
    placed: list[tuple[Json, str]],
    am_names: set[str] | None,
) -> list[str]:
    """Id, layout, type, title, description, unit, queries and Alertmanager of one panel."""
    pid = panel.get("id")
    label = f"panel {pid} {panel.get('title')!r}"
    problems = []
    if not isinstance(pid, int):
        problems.append("id missing or not an integer")
    elif pid in ids:
        problems.append(f"duplicate panel id {pid}")
    ids.add(pid)  # type: ignore[arg-type]
    problems += _layout_problems(panel.get("gridPos") or {}, label, placed)
    if panel.get("type") not in CORE_PANELS:
        problems.append(f"panel type {panel.get('type')!r} is not a core Grafana 10–13 panel")
    if panel.get("type") != "row":
        problems += _content_problems(panel, dash, am_names)
    return [f"{label}: {p}" for p in problems]


def _layout_problems(pos: Json, label: str, placed: list[tuple[Json, str]]) -> list[str]:
    if not all(isinstance(pos.get(k), int) for k in ("x", "y", "w", "h")):
        return ["gridPos needs integer x, y, w, h"]
    problems = []
    if pos["x"] < 0 or pos["w"] < 1 or pos["h"] < 1 or pos["y"] < 0:
        problems.append(f"gridPos {pos} has negative/empty extent")
    if pos["x"] + pos["w"] > GRID_COLUMNS:
        problems.append(f"gridPos {pos} exceeds {GRID_COLUMNS} columns")
    problems += [f"overlaps {other_label}" for other, other_label in placed if _overlap(pos, other)]
    placed.append((pos, label))
    return problems


def _content_problems(panel: Json, dash: Json, am_names: set[str] | None) -> list[str]:
    problems = []
    if not str(panel.get("title", "")).strip():
        problems.append("no title")
    if not str(panel.get("description", "")).strip():
        problems.append("no description")
    if panel.get("type") in NUMERIC_PANELS:
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append("numeric panel without fieldConfig.defaults.unit")
        if not panel.get("targets"):
            problems.append("no queries")
    refids = [t.get("refId") for t in panel.get("targets", [])]
    if len(refids) != len(set(refids)):
        problems.append(f"duplicate target refIds {refids}")
    for target in panel.get("targets", []):
        kind = datasource_kind(target.get("datasource") or panel.get("datasource"), dash)
        if kind == "prometheus" and "expr" in target:
            problems += [
                f"target {target.get('refId')}: {p}" for p in _target_problems(panel, target)
            ]
    problems += _merge_problems(panel)
    if panel.get("type") == "alertGroups":
        am = panel.get("options", {}).get("alertmanager")
        if am_names is not None and am not in am_names:
            problems.append(
                f"alertmanager {am!r} is not the provisioned Alertmanager "
                f"datasource name {sorted(am_names)}"
            )
    return problems


def _merge_problems(panel: Json) -> list[str]:
    """Grafana's merge transformation joins rows on the fields every frame has, and keeps two rows
    apart when a field they both have differs: a query per column of recorded series (each its
    own `__name__`) gives one row per query, not per series, unless `__name__` goes first."""
    steps = panel.get("transformations", [])
    ids = [t.get("id") for t in steps]
    if "merge" not in ids:
        return []
    before = steps[: ids.index("merge")]
    dropped = any(
        t.get("id") == "filterFieldsByName"
        and "__name__" in t.get("options", {}).get("exclude", {}).get("names", [])
        for t in before
    )
    return [] if dropped else ["merge transformation without __name__ filtered out before it"]


def _target_problems(panel: Json, target: Json) -> list[str]:
    """A Prometheus target: valid PromQL, ratios filtered alike, exemplars on latency series."""
    expr = target["expr"]
    problems = [*_promql_problems(expr, target.get("format", "")), *ratio_filter_problems(expr)]
    is_latency = (
        "histogram_quantile" in expr and "_seconds" in expr.split("histogram_quantile", 1)[1]
    )
    if panel.get("type") == "timeseries" and is_latency and not target.get("exemplar"):
        problems.append("latency query without exemplars")
    return problems


def _check_link_all(
    holder: Json, uids: dict[str, str], tags: dict[str, set[str]], own: str
) -> list[str]:
    return [e for link in holder.get("links", []) for e in _check_link(link, uids, tags, own)]


def _check_ref(ref: Any, ds_vars: dict[str, str]) -> str | None:
    if not isinstance(ref, dict):
        return f"datasource {ref!r} is not a {{type, uid}} reference"
    uid = str(ref.get("uid", ""))
    kind = ref.get("type")
    m = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", uid)
    if m:
        var = m.group(1) or m.group(2)
        if var not in ds_vars:
            return f"datasource uid {uid!r} is not a datasource variable"
        if ds_vars[var] != kind:
            return f"datasource type {kind!r} does not match variable ${var} ({ds_vars[var]})"
        return None
    if uid in BUILTIN_DATASOURCES:
        return None if BUILTIN_DATASOURCES[uid] in (kind, None) else f"bad type for {uid}"
    if uid in {*PROVISIONED_UIDS.values(), ALERTMANAGER_UID}:
        return None
    return f"datasource uid {uid!r} is neither provisioned nor a datasource variable"


def _check_link(link: Json, uids: dict[str, str], tags: dict[str, set[str]], own: str) -> list[str]:
    problems = []
    url = link.get("url", "")
    for m in re.finditer(r"/d/([\w-]+)", url):
        if m.group(1) not in uids:
            problems.append(
                f"link {link.get('title')!r} points at unknown dashboard uid {m.group(1)}"
            )
    if link.get("type") == "dashboards":
        wanted = set(link.get("tags", []))
        if not any(wanted <= t for uid, t in tags.items() if uid != own):
            problems.append(f"tag link {link.get('title')!r} matches no other dashboard")
    return problems


def _alertmanager_names(provisioning: Path | None) -> set[str] | None:
    """Names of provisioned datasources with uid `alertmanager` (None: no provisioning to read)."""
    import yaml

    directory = provisioning or ROOT / "grafana" / "provisioning" / "datasources"
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    if not files:
        return None
    names = set()
    for path in files:
        data = yaml.safe_load(path.read_text()) or {}
        for ds in data.get("datasources", []) or []:
            if ds.get("uid") == ALERTMANAGER_UID:
                names.add(ds.get("name"))
    return names
