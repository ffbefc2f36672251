"""One entry point for every generated file: `make generate` (python -m generators).

genai-obs.yaml (which service, links, dashboard placement, `for:` profiles) + slo/slos.yaml +
slo/thresholds.yaml + the builders in slo/ and grafana/dashgen/ → prometheus/rules/*.yml,
grafana/dashboards/*.json, grafana/provisioning/dashboards/dashboards.yaml, docs/alerts.md and
docs/dashboards.md. Importing this package reads nothing; render() does.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["owned_globs", "render"]


def owned_globs() -> list[str]:
    """Files the generator owns even when it no longer produces them (obsolete → removed)."""
    return ["prometheus/rules/slo-*.yml", "grafana/dashboards/*.json"]


def render(config_path: Path | None = None, profile: str | None = None) -> dict[str, str]:
    """Every generated file: repo-relative path → text. Raises slo.spec.SpecError on bad input."""
    from genobs.config import load_config
    from genobs.context import use
    from grafana.dashgen import render as dashboards
    from slo import generate_all

    cfg = load_config(config_path, profile)
    files = generate_all(cfg)
    with use(cfg):
        files.update(dashboards.render(cfg))
    return dict(sorted(files.items()))
