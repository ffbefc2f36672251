"""Assemble the dist/ tree in memory: repo-relative path → text, nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from export import TARGETS, alertmanager, kube, readme, rules, runbooks, yamlio
from export.errors import ExportError
from export.options import Options
from generators import render
from genobs.config import ROOT, Config, load_config

DASHBOARDS_DIR = "grafana/dashboards/"
ALERTMANAGER_EXAMPLE = "alertmanager/alertmanager.production-example.yml"
HEADER = "exported by `make export` (python -m export) — do not edit; change the inputs, re-export."


@dataclass
class _Ctx:
    options: Options
    cfg: Config
    files: dict[str, str]
    # Exported stem (export.rules.exported_stem) → the rule file's text and groups.
    texts: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[dict]] = field(default_factory=dict)


def build(options: Options) -> dict[str, str]:
    """Every file of dist/ for `options`. Raises ExportError or slo.spec.SpecError."""
    unknown = sorted(set(options.targets) - set(TARGETS))
    if unknown:
        raise ExportError(f"unknown target {', '.join(unknown)} (have: {', '.join(TARGETS)})")
    kube.check_names(
        options.namespace, options.labels, options.folder_annotation, options.dashboard_label[0]
    )
    cfg = load_config(options.config, options.profile)
    ctx = _Ctx(options, cfg, render(options.config, cfg.profile))
    for stem, text in rules.rule_files(ctx.files).items():
        ctx.texts[rules.exported_stem(stem, cfg)] = text
        ctx.groups[rules.exported_stem(stem, cfg)] = rules.check(stem, text, cfg)
    out: dict[str, str] = {}
    for target in TARGETS:
        if target in options.targets:
            out.update(_BUILDERS[target](ctx))
    out["README.md"] = readme.render(
        options,
        cfg,
        sorted(out),
        rules.sync_regex(cfg, list(ctx.groups)),
        [json.loads(text) for text in _dashboards(ctx).values()],
    )
    return dict(sorted(out.items()))


def _prometheus(ctx: _Ctx) -> dict[str, str]:
    return {f"prometheus/rules/{stem}.yml": _header(ctx) + text for stem, text in ctx.texts.items()}


def _mimir(ctx: _Ctx) -> dict[str, str]:
    out = {
        f"mimir/rules/{stem}.yml": yamlio.dump(rules.mimir_namespace(stem, groups), _header(ctx))
        for stem, groups in ctx.groups.items()
    }
    templates = _templates()
    out["mimir/alertmanager/alertmanager.yml"] = alertmanager.for_mimir(
        (ROOT / ALERTMANAGER_EXAMPLE).read_text(), ALERTMANAGER_EXAMPLE, sorted(templates),
        _header(ctx) + alertmanager.stack_note(ctx.cfg.stack_alerts),
    )  # fmt: skip
    out.update({f"mimir/alertmanager/{name}": text for name, text in templates.items()})
    return out


def _templates() -> dict[str, str]:
    """The notification templates by file name."""
    paths = sorted((ROOT / "alertmanager" / "templates").glob("*.tmpl"))
    return {path.name: path.read_text() for path in paths}


def _kubernetes(ctx: _Ctx) -> dict[str, str]:
    o = ctx.options
    out = {
        f"kubernetes/prometheusrules/{stem}.yaml": yamlio.dump(
            kube.prometheus_rule(stem, groups, o.namespace, o.labels), _header(ctx)
        )
        for stem, groups in ctx.groups.items()
    }
    folder = (o.folder_annotation, ctx.cfg.folder) if o.folder_annotation else None
    for stem, text in _dashboards(ctx).items():
        # Named by service and dashboard, not uid: a uid prefix may hold capitals and '_',
        # which no Kubernetes name does.
        name = rules.exported_stem(stem.removeprefix(ctx.cfg.uid_prefix), ctx.cfg)
        cm = kube.dashboard_configmap(
            name,
            f"{_uid(text)}.json",
            text,
            namespace=o.namespace,
            labels=o.labels,
            label=o.dashboard_label,
            folder=folder,
        )
        if (size := kube.data_size(cm)) > o.configmap_limit:
            raise ExportError(
                f"{DASHBOARDS_DIR}{stem}.json: {size} bytes, over the ConfigMap limit of"
                f" {o.configmap_limit} bytes; one dashboard cannot be split — make it smaller"
            )
        out[f"kubernetes/grafana-dashboards/{name}.yaml"] = yamlio.dump(cm, _header(ctx))
    resources = sorted(p.removeprefix("kubernetes/") for p in out)
    out["kubernetes/kustomization.yaml"] = yamlio.dump(
        kube.kustomization(resources, o.namespace), _header(ctx)
    )
    return out


def _dashboards(ctx: _Ctx) -> dict[str, str]:
    return {
        PurePosixPath(path).stem: text
        for path, text in ctx.files.items()
        if path.startswith(DASHBOARDS_DIR) and path.endswith(".json")
    }


def _uid(dashboard: str) -> str:
    uid: str = json.loads(dashboard)["uid"]
    return uid


def _grafana(ctx: _Ctx) -> dict[str, str]:
    """Files named by uid (prefixed per genai-obs.yaml): Grafana keys dashboards by uid, so two
    services' dashboards can share a folder exactly when their uids differ."""
    return {f"grafana/dashboards/{_uid(text)}.json": text for text in _dashboards(ctx).values()}


def _alertmanager(ctx: _Ctx) -> dict[str, str]:
    note = alertmanager.stack_note(ctx.cfg.stack_alerts)
    out = {"alertmanager/alertmanager.yml": note + (ROOT / ALERTMANAGER_EXAMPLE).read_text()}
    out.update({f"alertmanager/templates/{name}": text for name, text in _templates().items()})
    return out


def _runbooks(ctx: _Ctx) -> dict[str, str]:
    """The runbooks of the exported alerts, for the configured service (export.runbooks), and
    the alert table they link to (../alerts.md, generated for this config)."""
    prefix = ctx.cfg.uid_prefix
    bases = {_uid(text).removeprefix(prefix) for text in _dashboards(ctx).values()}
    alerts = {
        r["alert"]
        for groups in ctx.groups.values()
        for g in groups
        for r in g["rules"]
        if "alert" in r
    }
    out = {
        f"runbooks/{path.name}": runbooks.adapt(
            path.read_text(), ctx.cfg, bases, lambda stem: rules.exported_stem(stem, ctx.cfg)
        )
        for path in sorted((ROOT / "docs" / "runbooks").glob("*.md"))
        if path.stem in alerts
    }
    out["alerts.md"] = runbooks.alert_table(ctx.files["docs/alerts.md"])
    return out


_BUILDERS: dict[str, Callable[[_Ctx], dict[str, str]]] = {
    "prometheus": _prometheus,
    "kubernetes": _kubernetes,
    "mimir": _mimir,
    "grafana": _grafana,
    "alertmanager": _alertmanager,
    "runbooks": _runbooks,
}


def _header(ctx: _Ctx) -> str:
    return yamlio.comment(HEADER, f"Profile: {ctx.cfg.profile}. Guide: docs/production.md.")
