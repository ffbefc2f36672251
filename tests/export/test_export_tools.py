"""The exported files pass the real tools: promtool (every group of every format, including the
groups inside the PrometheusRule manifests), the Kubernetes and prometheus-operator schemas
(tools/kube-validate), amtool, Grafana's query grammars.
Starts processes: promtool, amtool, node."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from export.rules import MAX_GROUPS_PER_TENANT, MAX_RULES_PER_GROUP
from harness import ROOT, require_binary
from tests.configs import own_config
from tests.export.exported import export, rule_groups
from tests.grafana import dashlib

VALIDATOR = ROOT / "tools" / "kube-validate"
RULES = ROOT / "prometheus" / "rules"
FORMATS = ("prometheus/rules/*.yml", "mimir/rules/*.yml", "kubernetes/prometheusrules/*.yaml")


@pytest.mark.parametrize("profile", ["production", "demo"])
@pytest.mark.parametrize("pattern", FORMATS)
def test_promtool_checks_every_exported_group(
    profile: str, pattern: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    promtool = require_binary("promtool")
    sources = sorted(request.getfixturevalue(profile).glob(pattern))
    assert len(sources) == len(list(RULES.glob("*.yml")))
    extracted = []
    for src in sources:  # promtool reads plain rule files: lift the groups out of each format
        path = tmp_path / f"{src.stem}.yml"
        path.write_text(yaml.safe_dump({"groups": rule_groups(src)}, sort_keys=False))
        extracted.append(path)
    res = subprocess.run(
        [promtool, "check", "rules", *map(str, extracted)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("SUCCESS") == len(sources), res.stdout


def test_promtool_rejects_an_invalid_extracted_group(tmp_path: Path, production: Path) -> None:
    """The extraction above can fail: a broken rule inside a manifest is caught."""
    promtool = require_binary("promtool")
    src = production / "kubernetes" / "prometheusrules" / "rag-api.llm-alerts.yaml"
    groups = rule_groups(src)
    groups[0]["rules"][0]["expr"] = "rate(up)"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    res = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert res.returncode != 0 and "expected type range vector" in res.stderr + res.stdout


def validate(manifests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, str]]:
    """Problems reported by the pinned @kubernetes-models validators, per manifest path."""
    node = require_binary("node")
    if not (VALIDATOR / "node_modules").is_dir():
        pytest.fail("tools/kube-validate/node_modules missing: run `make bootstrap`")
    payload = json.dumps([{"path": p, "object": o} for p, o in manifests])
    res = subprocess.run(
        [node, "validate.mjs"], input=payload, capture_output=True, text=True, cwd=VALIDATOR
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _manifests(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    paths = sorted((directory / "kubernetes").glob("*/*.yaml"))
    return [(p.relative_to(directory).as_posix(), yaml.safe_load(p.read_text())) for p in paths]


@pytest.mark.parametrize("profile", ["production", "demo"])
def test_manifests_match_the_kubernetes_and_operator_schemas(
    profile: str, request: pytest.FixtureRequest
) -> None:
    manifests = _manifests(request.getfixturevalue(profile))
    kinds = sorted({m["kind"] for _, m in manifests})
    # One ConfigMap per dashboard, one PrometheusRule per rule file.
    shipped = [*(ROOT / "grafana" / "dashboards").glob("*.json"), *RULES.glob("*.yml")]
    assert kinds == ["ConfigMap", "PrometheusRule"] and len(manifests) == len(shipped)
    assert validate(manifests) == []


def _bad_for(m: dict[str, Any]) -> None:
    m["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"


def _no_expr(m: dict[str, Any]) -> None:
    del m["spec"]["groups"][0]["rules"][0]["expr"]


def _number_label(m: dict[str, Any]) -> None:
    m["metadata"]["labels"]["grafana_dashboard"] = 1


def _json_object(m: dict[str, Any]) -> None:
    key = next(iter(m["data"]))
    m["data"][key] = json.loads(m["data"][key])


@pytest.mark.parametrize(
    ("kind", "mutate", "expected"),
    [
        ("PrometheusRule", _bad_for, "for must match pattern"),
        ("PrometheusRule", _no_expr, "must have required property expr"),
        ("ConfigMap", _number_label, "grafana_dashboard must be string"),
        ("ConfigMap", _json_object, "must be string"),
    ],
)
def test_the_schema_check_fails_on_broken_manifests(
    production: Path, kind: str, mutate: Any, expected: str
) -> None:
    path, manifest = next((p, m) for p, m in _manifests(production) if m["kind"] == kind)
    broken = copy.deepcopy(manifest)
    mutate(broken)
    problems = validate([(path, broken)])
    assert len(problems) == 1 and problems[0]["path"] == path, problems
    assert expected in problems[0]["error"], problems


def test_amtool_checks_the_exported_alertmanager_config(production: Path) -> None:
    amtool = require_binary("amtool")
    am = production / "alertmanager"
    res = subprocess.run(
        [amtool, "check-config", "alertmanager.yml"], capture_output=True, text=True, cwd=am
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 templates" in res.stdout  # the template glob matched the exported template


@pytest.mark.parametrize("sub", ["alertmanager", "mimir/alertmanager"])
def test_amtool_checks_the_config_of_an_export_without_stack_alerts(
    sub: str, tmp_path: Path
) -> None:
    """stack_alerts: false adds a note atop both Alertmanager configs; they stay valid."""
    amtool = require_binary("amtool")
    config = own_config(tmp_path / "my.yaml", ("stack_alerts: true", "stack_alerts: false"))
    out = export(
        tmp_path / "d", "--config", str(config), "--target", "alertmanager", "--target", "mimir"
    )
    assert "stack_alerts: false" in (out / sub / "alertmanager.yml").read_text()
    res = subprocess.run(
        [amtool, "check-config", "alertmanager.yml"], capture_output=True, text=True, cwd=out / sub
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 inhibit rules" in res.stdout and "1 templates" in res.stdout


def test_exported_dashboard_queries_parse_with_grafanas_grammars(production: Path) -> None:
    """LogQL, TraceQL and PromQL of the exported dashboards, through tools/grammars (node)."""
    assert dashlib.grammar_problems(production / "grafana" / "dashboards") == []


def test_amtool_checks_the_mimir_alertmanager_config(production: Path) -> None:
    amtool = require_binary("amtool")
    res = subprocess.run(
        [amtool, "check-config", "alertmanager.yml"],
        capture_output=True,
        text=True,
        cwd=production / "mimir" / "alertmanager",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 templates" in res.stdout  # the template named without a path is beside it


@pytest.mark.parametrize("profile", ["production", "demo"])
def test_mimir_rule_files_fit_the_rulers_default_limits(
    profile: str, request: pytest.FixtureRequest
) -> None:
    """A Mimir or Cortex ruler answers 400 to a group over -ruler.max-rules-per-rule-group and
    a tenant over -ruler.max-rule-groups-per-tenant; promtool knows neither limit."""
    out = request.getfixturevalue(profile)
    groups = [g for path in sorted(out.glob("mimir/rules/*.yml")) for g in rule_groups(path)]
    sizes = {g["name"]: len(g["rules"]) for g in groups}
    assert sizes and max(sizes.values()) <= MAX_RULES_PER_GROUP, sizes
    assert len(groups) <= MAX_GROUPS_PER_TENANT
