"""The production Alertmanager example as Grafana Mimir's multi-tenant Alertmanager accepts it.

Mimir keeps each tenant's configuration and templates in its own store, so it refuses whatever
would read the Alertmanager host's disk: secrets in `*_file` keys and template names that hold a
path (grafana/mimir pkg/alertmanager: validateAlertmanagerConfig, validateTemplateFilename). The
example keeps its secrets in files, as a self-run Alertmanager should; this copy carries a
REPLACE_ME placeholder inline instead, and names each template by its file name.
"""

from __future__ import annotations

from typing import Any

import yaml

from export import yamlio
from export.errors import ExportError

# The `*_file` secrets Mimir refuses, and the inline key Alertmanager reads in their place.
_INLINE = {
    "credentials_file": "credentials",
    "password_file": "password",
    "bearer_token_file": "bearer_token",
    "smtp_auth_password_file": "smtp_auth_password",
    "routing_key_file": "routing_key",
    "service_key_file": "service_key",
}
PLACEHOLDER = "REPLACE_ME"
# One Alertmanager serves every service: the config is the same in every export. An export with
# `stack_alerts: false` generates no Watchdog or TargetDown, so its copy says whose they are.
_NO_STACK = (
    "stack_alerts: false in this export's config: its rules generate no Watchdog and no",
    "TargetDown. The Watchdog route and the TargetDown inhibit rule below act on those alerts",
    "from the export with stack_alerts: true (or kube-prometheus-stack's default rules) when",
    "they send to this Alertmanager; with no such sender they match nothing (harmless).",
)


def stack_note(stack_alerts: bool) -> str:
    """The comment an export without the stack's alerts puts atop its Alertmanager config."""
    return "" if stack_alerts else yamlio.comment(*_NO_STACK)


def for_mimir(config_text: str, source: str, templates: list[str], header: str) -> str:
    """`config_text` (the file `source`) with inline secrets and `templates` by name."""
    data = yaml.safe_load(config_text)
    data["templates"] = sorted(templates)
    _inline(data, source, "")
    return yamlio.dump(data, header + yamlio.comment(*_NOTE))


_NOTE = (
    f"For Grafana Mimir's Alertmanager: {PLACEHOLDER} secrets inline (Mimir refuses *_file",
    "keys) and templates by file name (it refuses paths). Load from this directory:",
    "  mimirtool alertmanager load --address=<mimir> --id=<tenant> alertmanager.yml <templates>",
)


def _inline(node: Any, source: str, where: str) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _inline(item, source, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        path = f"{where}.{key}" if where else key
        if isinstance(key, str) and key.endswith("_file"):
            if key not in _INLINE:
                raise ExportError(
                    f"{source}: {path}: Mimir's Alertmanager refuses *_file keys and this one"
                    " has no inline form here; inline it in the example or remove it"
                )
            del node[key]
            node[_INLINE[key]] = PLACEHOLDER
        else:
            _inline(node[key], source, path)
