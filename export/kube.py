"""Kubernetes manifests: PrometheusRule (prometheus-operator) and Grafana-sidecar ConfigMaps."""

from __future__ import annotations

import re
from typing import Any

from export import NAME_PREFIX
from export.errors import ExportError

# A ConfigMap's data may not exceed 1 MiB (the API server rejects it). Client-side
# `kubectl apply` also stores the object in an annotation limited to 256 KiB; see
# docs/production.md (use --server-side).
CONFIGMAP_LIMIT = 1024 * 1024


# Kubernetes' own syntax rules (apimachinery validation): a namespace is a DNS-1123 label; a label
# key an optional DNS-subdomain prefix and a name; a label value at most 63 characters. Matched
# with fullmatch: `$` alone would accept a trailing newline.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_NAME})?$")


def check_names(
    namespace: str, labels: dict[str, str], annotation: str, sidecar_label: str
) -> None:
    """ExportError naming the option whose value Kubernetes would reject, or a --label that
    would replace the label the Grafana sidecar selects dashboard ConfigMaps by."""
    problems = []
    if sidecar_label in labels:
        problems.append(
            f"--label {sidecar_label}={labels[sidecar_label]}: the dashboard ConfigMaps carry"
            f" {sidecar_label} for the Grafana sidecar; choose another key"
        )
    if not _DNS_LABEL.fullmatch(namespace):
        problems.append(f"--namespace {namespace!r}: not a DNS-1123 label (a-z, 0-9, '-', ≤ 63)")
    for key, value in labels.items():
        if not _LABEL_KEY.fullmatch(key):
            problems.append(f"--label {key}={value}: {key!r} is not a valid label key")
        if not _LABEL_VALUE.fullmatch(value):
            problems.append(f"--label {key}={value}: {value!r} is not a valid label value")
    if annotation and not _LABEL_KEY.fullmatch(annotation):
        problems.append(f"--folder-annotation {annotation!r}: not a valid annotation key")
    if problems:
        raise ExportError("\n".join(problems))


def metadata(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    return meta


def prometheus_rule(
    stem: str, groups: list[dict[str, Any]], namespace: str, labels: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata(NAME_PREFIX + stem, namespace, labels),
        "spec": {"groups": groups},
    }


def dashboard_configmap(
    name: str,
    key: str,
    json_text: str,
    *,
    namespace: str,
    labels: dict[str, str],
    label: tuple[str, str],
    folder: tuple[str, str] | None,
) -> dict[str, Any]:
    """One dashboard per ConfigMap: the sidecar writes each key as a dashboard file, so the key
    (the uid) must be unique over every ConfigMap it watches. `label` is the one it selects
    them by; `labels` (--label) go on every manifest."""
    meta = metadata(NAME_PREFIX + name, namespace, {**labels, label[0]: label[1]})
    if folder:
        meta["annotations"] = dict([folder])
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {key: json_text},
    }


def data_size(configmap: dict[str, Any]) -> int:
    """Bytes the API server counts against the 1 MiB limit (keys and values)."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in configmap["data"].items())


def kustomization(resources: list[str], namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": namespace,
        "resources": resources,
    }
