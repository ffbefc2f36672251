"""dist/README.md: the command that wrote the export, what it holds, how each part is loaded."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from export import TARGETS
from export.options import DEFAULT_OUT, Options
from genobs.config import ROOT
from grafana.dashgen.docs import NEEDS_EXTRAS, needs

if TYPE_CHECKING:
    from genobs.config import Config


def render(
    o: Options, cfg: Config, paths: list[str], sync_regex: str, dashboards: list[dict[str, Any]]
) -> str:
    """The README for an export of `paths`; `dashboards`: the exported dashboards' JSON."""
    line = command(o, cfg.profile)
    where = "run from the repository root"
    if "<" in line:
        where += (
            "; substitute the `<…>` parts: paths outside the repository are not recorded, so the"
            " export reads the same on every machine"
        )
    exported = {"grafana", "kubernetes"} & set(o.targets)
    lines = [
        "# Exported observability artifacts",
        "",
        f"Written by `{line}` ({where}) from the repository's generators; do not edit, re-export.",
        f"Profile `{cfg.profile}`; Kubernetes namespace `{o.namespace}`,"
        f" labels (every manifest)"
        f" {', '.join(f'`{k}: {v}`' for k, v in sorted(o.labels.items())) or 'none'}.",
        "Where each directory goes: docs/production.md in the repository.",
        "",
        *(f"- `{p}`" for p in paths),
        "",
        *(_empty_panels(dashboards, cfg) if exported and not cfg.extras else []),
        *_load(o.targets, sync_regex),
    ]
    return "\n".join(lines)


def _empty_panels(dashboards: list[dict[str, Any]], cfg: Config) -> list[str]:
    """With `extras: false`, per dashboard the panels that read rag-api's own metrics or log
    fields (grafana.dashgen.docs.needs, the Needs column of docs/dashboards.md): empty here."""
    rows = []
    for dash in sorted(dashboards, key=lambda d: d["uid"]):
        panels = [p for p in dash["panels"] if p["type"] != "row"]
        extras = sum(needs(p)[0] == NEEDS_EXTRAS for p in panels)
        if extras:
            title = dash["title"].removesuffix(f" · {cfg.service_name}")
            rows.append(f"- *{title}* (uid `{dash['uid']}`): {extras} of {len(panels)} panels")
    if not rows:
        return []
    return [
        "`extras: false`: these panels read rag-api's own metrics or log records (cost by feature,",
        "cache, retrieval, evaluation, tools, guardrails, feedback, users, conversations) and stay",
        "empty for this service unless it records the same names (*needs rag-api extras* in the",
        "Needs column of docs/dashboards.md; docs/own-app.md). Every dashboard keeps panels that",
        "work without.",
        "",
        *rows,
        "",
    ]


# How each target's files are loaded (commands, not run by the exporter).
_LOAD = {
    "prometheus": ["promtool check rules prometheus/rules/*.yml"],
    "kubernetes": ["kubectl apply --server-side -k kubernetes"],
    "mimir": [
        "mimirtool rules sync --address=http://<mimir> --id=<tenant> \\",
        "  --namespaces-regex='{sync_regex}' mimir/rules/*.yml",
        "(cd mimir/alertmanager && mimirtool alertmanager load --address=http://<mimir> \\",
        "  --id=<tenant> alertmanager.yml *.tmpl)",
    ],
    "alertmanager": ["amtool check-config alertmanager/alertmanager.yml"],
}


def _load(targets: tuple[str, ...], sync_regex: str) -> list[str]:
    lines = [
        line.replace("{sync_regex}", sync_regex)
        for t in TARGETS
        if t in targets
        for line in _LOAD.get(t, [])
    ]
    if not lines:
        return []
    return ["Load (commands, not run by the exporter):", "", "```bash", *lines, "```", ""]


def command(o: Options, profile: str) -> str:
    """The command line that writes this export again from the repository root: a path inside
    the repository relative to it, one outside as a placeholder (no machine's path is written)."""
    args = [f"--profile {profile}"]
    if o.config is not None:
        args.append(f"--config {_path(o.config, '<path outside the repository>/' + o.config.name)}")
    if o.out.resolve() != DEFAULT_OUT.resolve():
        args.append(f"--out {_path(o.out, '<this directory>')}")
    if o.targets != TARGETS:
        args += [f"--target {t}" for t in o.targets]
    args.append(f"--namespace {o.namespace}")
    args += [f"--label {k}={v}" for k, v in sorted(o.labels.items())] or ["--no-label"]
    if o.folder_annotation != Options.folder_annotation:
        args.append(f"--folder-annotation {shlex.quote(o.folder_annotation)}")
    return " ".join(["python -m export", *args])


def _path(path: Path, outside: str) -> str:
    """`path` relative to the repository root, or `outside` when it is not under it."""
    try:
        return path.resolve().relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        return outside
