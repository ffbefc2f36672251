"""grafana/provisioning: datasource uids, every correlation's target, `$$` escaping, dashboards."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import ROOT
from tests.stack.conftest import shipped_file

PROVISIONING = ROOT / "grafana" / "provisioning"
DATASOURCES_FILE = PROVISIONING / "datasources" / "datasources.yaml"
DASHBOARDS_FILE = PROVISIONING / "dashboards" / "dashboards.yaml"
EXPECTED = {
    "prometheus": "prometheus",
    "loki": "loki",
    "tempo": "tempo",
    "alertmanager": "alertmanager",
}  # uid -> type (docs/stack.md)


def _uid_refs(node: Any, path: str = "") -> list[tuple[str, str]]:
    refs = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "datasourceUid":
                refs.append((path, v))
            refs += _uid_refs(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            refs += _uid_refs(v, f"{path}[{i}]")
    return refs


def test_fixed_uids_and_types(datasources: dict[str, dict[str, Any]]) -> None:
    assert {uid: ds["type"] for uid, ds in datasources.items()} == EXPECTED
    assert [uid for uid, ds in datasources.items() if ds.get("isDefault")] == ["prometheus"]


def test_every_correlation_targets_an_existing_uid(
    datasources: dict[str, dict[str, Any]],
) -> None:
    refs = [(uid + path, ref) for uid, ds in datasources.items() for path, ref in _uid_refs(ds)]
    assert len(refs) >= 6
    for where, ref in refs:
        assert ref in datasources, f"{where} points at unknown datasource uid {ref!r}"


def test_exemplars_link_to_tempo(datasources: dict[str, dict[str, Any]], tempo: Any) -> None:
    (dest,) = datasources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert dest == {**dest, "name": "trace_id", "datasourceUid": "tempo"}
    # Tempo's metrics-generator labels its exemplars the same way (one rule for both).
    label = tempo["overrides"]["defaults"]["metrics_generator"]["trace_id_label_name"]
    assert label == dest["name"]


def test_tempo_correlations(datasources: dict[str, dict[str, Any]], loki: Any) -> None:
    jd = datasources["tempo"]["jsonData"]
    logs = jd["tracesToLogsV2"]
    assert logs["datasourceUid"] == "loki" and logs["customQuery"] is True
    assert '| trace_id = "$${__trace.traceId}"' in logs["query"]
    # Grafana reads filterByTraceID/filterBySpanID only when it builds the query itself: next
    # to a custom query they are dead settings that suggest a second filter.
    assert not {"filterByTraceID", "filterBySpanID"} & set(logs)
    # The tag maps to Loki's only index label (loki.yaml keeps service.name as service_name).
    assert {"key": "service.name", "value": "service_name"} in logs["tags"]
    assert loki["limits_config"]["otlp_config"]["resource_attributes"]["attributes_config"][0][
        "attributes"
    ] == ["service.name"]
    metrics = jd["tracesToMetrics"]
    assert metrics["datasourceUid"] == "prometheus"
    assert metrics["queries"]
    assert all("traces_spanmetrics_" in q["query"] for q in metrics["queries"])
    assert {"key": "service.name", "value": "service"} in metrics["tags"]
    assert jd["serviceMap"]["datasourceUid"] == "prometheus"
    assert jd["nodeGraph"]["enabled"] is True
    assert jd["lokiSearch"]["datasourceUid"] == "loki"


def test_tempo_streaming_matches_tempo(datasources: dict[str, dict[str, Any]], tempo: Any) -> None:
    # Grafana streams TraceQL only when jsonData.streamingEnabled says so; Tempo serves those
    # streams only with stream_over_http_enabled (default off in 3.0). Streaming switched on
    # in Grafana alone breaks every search in Explore, which only shows in a browser.
    streaming = datasources["tempo"]["jsonData"].get("streamingEnabled") or {}
    grafana_streams = any(streaming.values())
    assert not grafana_streams or tempo.get("stream_over_http_enabled") is True, (
        "Grafana streams Tempo queries: tempo.yaml needs stream_over_http_enabled: true"
    )


def test_loki_trace_id_derived_field(datasources: dict[str, dict[str, Any]]) -> None:
    (field,) = datasources["loki"]["jsonData"]["derivedFields"]
    # OTLP logs carry trace_id as structured metadata: match by label, not by regex.
    assert field["matcherType"] == "label"
    assert field["matcherRegex"] == "trace_id"
    assert field["datasourceUid"] == "tempo"
    assert field["url"] == "$${__value.raw}"
    assert "regex" not in field


def test_alertmanager_datasource(datasources: dict[str, dict[str, Any]]) -> None:
    jd = datasources["alertmanager"]["jsonData"]
    assert jd["implementation"] == "prometheus"
    assert jd["handleGrafanaManagedAlerts"] is False


def _dollar_problems(text: str) -> list[str]:
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for run in re.finditer(r"\$+", line):
            if len(run.group()) % 2:
                problems.append(f"line {lineno}: {line.strip()}")
    return problems


@pytest.mark.parametrize("path", sorted(PROVISIONING.rglob("*.yaml")), ids=lambda p: p.name)
def test_dollar_signs_escaped_for_grafana(path: Path) -> None:
    # Grafana expands $VAR and ${VAR} in provisioning files from its environment: a macro
    # Grafana must see literally (${__trace.traceId}, $__tags) has to be written `$$`.
    assert _dollar_problems(path.read_text()) == []


def test_dollar_check_catches_unescaped_macros() -> None:
    bad = "query: '{${__tags}} | trace_id = \"$${__trace.traceId}\"'\nurl: $__value.raw\n"
    assert len(_dollar_problems(bad)) == 2


def test_dashboard_provider(compose: dict[str, Any]) -> None:
    (provider,) = yaml.safe_load(DASHBOARDS_FILE.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "GenAI Observability"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["foldersFromFilesStructure"] is False
    mounts = {
        v["target"]: Path(v["source"])
        for v in compose["services"]["grafana"]["volumes"]
        if v["type"] == "bind"
    }
    assert mounts[provider["options"]["path"]] == ROOT / "grafana" / "dashboards"
    assert mounts["/etc/grafana/provisioning"] == PROVISIONING


def test_dashboards_use_only_provisioned_datasources() -> None:
    shipped_file("grafana/dashboards/llm-overview.json", "dashboards")
    files = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
    for f in files:
        text = f.read_text()
        dash = json.loads(text)
        assert "__inputs" not in dash, f"{f.name}: file provisioning cannot resolve __inputs"
        assert "${DS_" not in text, f"{f.name}: ${{DS_...}} placeholders never resolve"
        # A `${var}` uid is the datasource variable's default (a provisioned uid, or nothing).
        defaults = {
            v["name"]: v["current"]["value"]
            for v in dash["templating"]["list"]
            if v["type"] == "datasource"
        }
        uids = re.findall(r'"datasource"\s*:\s*\{[^{}]*"uid"\s*:\s*"([^"]+)"', text)
        resolved = [defaults.get(u[2:-1], u) if u.startswith("${") else u for u in uids]
        assert any(u.startswith("${") for u in uids), f"{f.name}: no datasource variable used"
        for uid in resolved:
            assert uid in EXPECTED or uid in {"-- Grafana --", "grafana"}, f"{f.name}: {uid}"
    home = ROOT / "grafana" / "dashboards" / "llm-overview.json"
    assert json.loads(home.read_text())["uid"] == "llm-overview"
