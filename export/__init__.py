"""`make export` (python -m export): the generated rules and dashboards in the formats production
runs, under dist/ — plain Prometheus rule files, PrometheusRule manifests, Mimir/Cortex ruler
namespaces, dashboards as JSON and as Grafana-sidecar ConfigMaps, the production Alertmanager
example and the runbooks. docs/production.md says where each goes.

Importing this package reads nothing: build() renders, write.replace_tree() writes.
"""

from __future__ import annotations

__all__ = ["NAME_PREFIX", "TARGETS"]

# Every target of `--target`, in the order dist/README.md lists them.
TARGETS = ("prometheus", "kubernetes", "mimir", "grafana", "alertmanager", "runbooks")
# Every exported object and Mimir namespace is `genai-obs.<service>.<file>` (export.rules).
NAME_PREFIX = "genai-obs."
