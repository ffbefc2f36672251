"""What `python -m export` exports and how the Kubernetes manifests are named and labelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from export import TARGETS, kube
from genobs.config import ROOT

DEFAULT_OUT = ROOT / "dist"


@dataclass(frozen=True)
class Options:
    """What to export and how the Kubernetes manifests are named and labelled."""

    config: Path | None = None
    # Where the export is written: only its README's command line depends on it.
    out: Path = DEFAULT_OUT
    profile: str | None = "production"
    targets: tuple[str, ...] = TARGETS
    namespace: str = "monitoring"
    labels: dict[str, str] = field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    dashboard_label: tuple[str, str] = ("grafana_dashboard", "1")
    folder_annotation: str = "grafana_folder"
    configmap_limit: int = kube.CONFIGMAP_LIMIT
