"""dist/ as `make export` writes it: reproducible, complete, the same alerts in every format and
profile (only `for:` differs, as documented), Kubernetes objects named, labelled and sized right.
No process is started here (tools: test_export_tools.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from export import TARGETS
from export.alertmanager import for_mimir
from export.build import Options, build
from export.errors import ExportError
from export.kube import CONFIGMAP_LIMIT
from harness import ROOT
from tests.configs import own_config
from tests.export.exported import alerts, export, exported_name, rule_groups, snapshot
from tests.grafana import dashlib

ALERTS_DOC = ROOT / "docs" / "alerts.md"


def test_export_is_reproducible(production: Path, tmp_path: Path) -> None:
    again = export(tmp_path / "again", "--profile", "production")
    assert snapshot(again) == snapshot(production)
    # Two runs within one second would hide a timestamp: look for today's date too.
    today = datetime.now(UTC)
    stamps = {today.strftime("%Y-%m-%d"), today.strftime("%d %b %Y"), today.strftime("%Y%m%d")}
    for rel, data in snapshot(production).items():
        assert not any(stamp.encode() in data for stamp in stamps), rel


def test_cli_writes_what_build_returns(production: Path) -> None:
    files = build(Options(profile="production", out=production))
    written = snapshot(production)
    assert written.pop(".genai-obs-export")
    assert written == {rel: text.encode() for rel, text in files.items()}


def test_every_target_has_its_directory(production: Path) -> None:
    tops = {p.name for p in production.iterdir() if p.is_dir()}
    assert tops == {"prometheus", "kubernetes", "mimir", "grafana", "alertmanager", "runbooks"}
    assert set(TARGETS) == tops
    readme = (production / "README.md").read_text()
    for rel in snapshot(production):
        if rel not in ("README.md", ".genai-obs-export"):
            assert f"`{rel}`" in readme, rel


def _documented_for() -> dict[str, dict[str, str]]:
    """docs/alerts.md's table: alert → {"demo": for, "production": for}."""
    lines = ALERTS_DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "for (demo)" in line)
    cols = [c.strip() for c in lines[start].strip("|").split("|")]
    out = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break  # the end of the alert table
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = dict(zip(cols, cells, strict=False))
        out[row["alert"].strip("`")] = {
            "demo": row["for (demo)"],
            "production": row["for (production)"],
        }
    return out


def _configured_for(profile: str) -> dict[str, str]:
    return yaml.safe_load((ROOT / "genai-obs.yaml").read_text())["profiles"][profile]["for"]


def _norm(duration: str) -> str:
    return "0s" if duration in ("0", "0s") else duration


@pytest.mark.parametrize("profile", ["demo", "production"])
def test_profile_alerts_have_the_documented_for(
    profile: str, request: pytest.FixtureRequest
) -> None:
    exported = alerts(request.getfixturevalue(profile))
    documented = _documented_for()
    assert set(exported) == set(documented) == set(_configured_for(profile))
    for name, rule in exported.items():
        got = _norm(str(rule.get("for", "0s")))
        assert got == _norm(documented[name][profile]) == _norm(_configured_for(profile)[name])


def test_production_has_the_same_alerts_as_demo_but_for(production: Path, demo: Path) -> None:
    prod, dem = alerts(production), alerts(demo)
    assert set(prod) == set(dem)
    assert len(prod) >= 20
    for name in prod:
        strip = lambda r: {k: v for k, v in r.items() if k != "for"}  # noqa: E731
        assert strip(prod[name]) == strip(dem[name]), name
    assert any(prod[n].get("for") != dem[n].get("for") for n in prod)  # the profiles differ


def test_every_format_holds_the_same_groups(production: Path) -> None:
    for plain in sorted((production / "prometheus" / "rules").glob("*.yml")):
        groups = rule_groups(plain)
        manifest = production / "kubernetes" / "prometheusrules" / f"{plain.stem}.yaml"
        mimir = production / "mimir" / "rules" / f"{plain.stem}.yml"
        assert rule_groups(manifest) == groups, manifest
        assert rule_groups(mimir) == groups, mimir
        namespace = yaml.safe_load(mimir.read_text())["namespace"]
        assert namespace == f"genai-obs.{plain.stem}"  # one per file
    shipped = sorted(exported_name(p.name) for p in (ROOT / "prometheus" / "rules").glob("*.yml"))
    assert sorted(p.name for p in (production / "prometheus" / "rules").glob("*.yml")) == shipped


def test_production_doc_counts_what_the_export_holds(production: Path) -> None:
    """docs/production.md's "check it landed" numbers are the default export's."""
    doc = (ROOT / "docs" / "production.md").read_text()
    rules = sorted((production / "prometheus" / "rules").glob("*.yml"))
    groups = sum(len(rule_groups(p)) for p in rules)
    manifests = len(list((production / "kubernetes" / "prometheusrules").glob("*.yaml")))
    configmaps = len(list((production / "kubernetes" / "grafana-dashboards").glob("*.yaml")))
    assert f"lists {groups} groups with the default" in doc, groups
    assert f"holds {manifests}\n   PrometheusRules" in doc, manifests
    assert f"and {configmaps} ConfigMaps" in doc, configmaps
    # "the largest dashboard is about N KB today, its ConfigMap manifest about M KB, so both
    # pass" (client-side apply's 256 KiB annotation; the API server's 1 MiB)
    sizes = re.search(
        r"largest dashboard is\s+about (\d+) KB today, its ConfigMap manifest about (\d+) KB", doc
    )
    assert sizes, "docs/production.md no longer states the largest dashboard's size"
    dashboard = max(
        p.stat().st_size for p in (production / "grafana" / "dashboards").glob("*.json")
    )
    manifest = max(
        p.stat().st_size for p in (production / "kubernetes" / "grafana-dashboards").glob("*.yaml")
    )
    assert abs(int(sizes.group(1)) - dashboard / 1000) <= 5, dashboard
    assert abs(int(sizes.group(2)) - manifest / 1000) <= 5, manifest
    assert manifest < 256 * 1024


def test_demo_rules_are_the_shipped_rules(demo: Path) -> None:
    """The shipped prometheus/rules use the demo profile: the demo export holds the same groups."""
    shipped = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
    assert shipped, "no shipped rule files found: the loop below would prove nothing"
    for path in shipped:
        assert rule_groups(demo / "prometheus" / "rules" / exported_name(path.name)) == rule_groups(
            path
        )


def _manifests(directory: Path, sub: str) -> list[dict]:
    return [
        yaml.safe_load(p.read_text()) for p in sorted((directory / "kubernetes" / sub).glob("*"))
    ]


def test_prometheus_rules_carry_namespace_and_labels(production: Path, tmp_path: Path) -> None:
    for m in _manifests(production, "prometheusrules"):
        assert m["metadata"]["namespace"] == "monitoring"
        assert m["metadata"]["labels"] == {"release": "kube-prometheus-stack"}
    custom = export(
        tmp_path / "d", "--namespace", "obs", "--label", "release=kps", "--label", "team=ml"
    )
    rules = _manifests(custom, "prometheusrules")
    assert len(rules) == len(list((ROOT / "prometheus" / "rules").glob("*.yml")))
    for m in rules:
        assert m["metadata"]["namespace"] == "obs"
        assert m["metadata"]["labels"] == {"release": "kps", "team": "ml"}
    kustomization = yaml.safe_load((custom / "kubernetes" / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == "obs"
    listed = {
        p.relative_to(custom / "kubernetes").as_posix() for p in custom.glob("kubernetes/*/*")
    }
    assert set(kustomization["resources"]) == listed
    bare = export(tmp_path / "bare", "--no-label", "--target", "kubernetes")
    rules = _manifests(bare, "prometheusrules")
    assert rules and all("labels" not in m["metadata"] for m in rules)
    maps = _manifests(bare, "grafana-dashboards")
    assert maps and all(m["metadata"]["labels"] == {"grafana_dashboard": "1"} for m in maps)


def test_dashboard_configmaps_are_for_the_sidecar_and_under_1mib(production: Path) -> None:
    plain = {p.name: p.read_text() for p in (production / "grafana" / "dashboards").glob("*.json")}
    shipped = {p.name for p in dashlib.DASHBOARDS.glob("*.json")}
    assert set(plain) == shipped
    seen = {}
    for cm in _manifests(production, "grafana-dashboards"):
        # --label (default release=kube-prometheus-stack) on every manifest, and the sidecar's
        assert cm["metadata"]["labels"] == {
            "grafana_dashboard": "1",
            "release": "kube-prometheus-stack",
        }
        assert cm["metadata"]["annotations"] == {"grafana_folder": "GenAI Observability"}
        size = sum(len(k.encode()) + len(v.encode()) for k, v in cm["data"].items())
        assert size <= CONFIGMAP_LIMIT, cm["metadata"]["name"]
        seen.update(cm["data"])
    assert seen == plain  # every dashboard once, byte-identical to the plain JSON


def test_config_overrides_reach_rules_and_dashboards(tmp_path: Path) -> None:
    text = (ROOT / "genai-obs.yaml").read_text()
    text = text.replace("service: 'job=\"rag-api\"'", "service: 'job=\"my-llm-app\"'")
    text = text.replace("uid_prefix: ''", "uid_prefix: 'acme-'")
    config = tmp_path / "genai-obs.yaml"
    config.write_text(text)
    out = export(tmp_path / "dist", "--config", str(config))
    rules_text = "".join(p.read_text() for p in (out / "prometheus" / "rules").glob("*.yml"))
    assert 'job="my-llm-app"' in rules_text and 'job="rag-api"' not in rules_text
    uids = {json.loads(p.read_text())["uid"] for p in (out / "grafana" / "dashboards").glob("*")}
    assert all(uid.startswith("acme-") for uid in uids), uids
    # A config outside the repository: its name, its directory left to fill in (no machine path)
    readme = (out / "README.md").read_text()
    assert "--config <path outside the repository>/genai-obs.yaml" in readme
    assert str(tmp_path) not in readme
    # Runbooks link the exported dashboards by their uids, and the alert table they link to is
    # in the export (its links back to the runbooks resolve there).
    links = set()
    for runbook in (out / "runbooks").glob("*.md"):
        text = runbook.read_text()
        links |= set(re.findall(r"/d/([a-z0-9-]+)", text))
        if "../alerts.md" in text:
            assert (out / "alerts.md").is_file(), runbook.name
    assert links and links <= uids, links - uids
    for target in re.findall(r"\]\((runbooks/[^)]+)\)", (out / "alerts.md").read_text()):
        assert (out / target).is_file(), target


def test_exported_dashboards_pass_the_lint(production: Path) -> None:
    assert dashlib.lint(production / "grafana" / "dashboards") == []


def test_alertmanager_and_runbooks_are_the_shipped_files(production: Path) -> None:
    example = ROOT / "alertmanager" / "alertmanager.production-example.yml"
    assert (production / "alertmanager" / "alertmanager.yml").read_text() == example.read_text()
    tmpl = ROOT / "alertmanager" / "templates" / "genai.tmpl"
    assert (
        production / "alertmanager" / "templates" / "genai.tmpl"
    ).read_text() == tmpl.read_text()
    runbooks = sorted(p.name for p in (ROOT / "docs" / "runbooks").glob("*.md"))
    assert sorted(p.name for p in (production / "runbooks").glob("*.md")) == runbooks
    assert {f"{a}.md" for a in alerts(production)} <= set(runbooks)


def _keys(node: object) -> list[str]:
    if isinstance(node, dict):
        return [k for key, value in node.items() for k in (str(key), *_keys(value))]
    if isinstance(node, list):
        return [k for item in node for k in _keys(item)]
    return []


def test_the_mimir_alertmanager_config_is_the_example_as_mimir_takes_it(production: Path) -> None:
    """Mimir refuses `*_file` secrets and template names with a path; apart from those, the
    routing must be the production example's (one tree, not a second to keep in step)."""
    directory = production / "mimir" / "alertmanager"
    mimir = yaml.safe_load((directory / "alertmanager.yml").read_text())
    plain = yaml.safe_load((production / "alertmanager" / "alertmanager.yml").read_text())
    assert not [k for k in _keys(mimir) if k.endswith("_file")]
    assert [k for k in _keys(plain) if k.endswith("_file")], "nothing left to check"
    assert mimir["templates"] and all("/" not in name for name in mimir["templates"])
    assert all((directory / name).is_file() for name in mimir["templates"])
    for key in ("route", "inhibit_rules"):
        assert mimir[key] == plain[key], key
    assert [r["name"] for r in mimir["receivers"]] == [r["name"] for r in plain["receivers"]]


def test_a_file_secret_without_an_inline_form_fails_the_mimir_copy() -> None:
    text = "route: {receiver: a}\nreceivers:\n- name: a\n  slack_configs:\n  - api_url_file: /x\n"
    with pytest.raises(
        ExportError, match=r"example.yml: receivers\[0\].slack_configs\[0\].api_url_file"
    ):
        for_mimir(text, "example.yml", [], "")


def test_targets_select_directories(tmp_path: Path) -> None:
    out = export(tmp_path / "d", "--target", "mimir", "--target", "runbooks")
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"mimir", "runbooks"}


# Kubernetes' object-name and ConfigMap-key syntax (apimachinery validation).
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
CONFIGMAP_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


def test_object_names_hold_for_any_valid_service_name(tmp_path: Path) -> None:
    """The longest, oddest service_name and uid_prefix the schema accepts still name valid
    Kubernetes objects, ConfigMap keys and files."""
    name = "My_App.v2:" + "x" * 53
    config = own_config(
        tmp_path / "odd.yaml",
        ("service_name: rag-api", f"service_name: {name}"),
        ("uid_prefix: ''", "uid_prefix: 'My_Team-0123456789xx'"),
    )
    out = export(tmp_path / "dist", "--config", str(config), "--target", "kubernetes")
    objects = [yaml.safe_load(p.read_text()) for p in out.glob("kubernetes/*/*.yaml")]
    assert len(objects) > 10
    for obj in objects:
        assert DNS_SUBDOMAIN.fullmatch(obj["metadata"]["name"]), obj["metadata"]["name"]
        assert all(CONFIGMAP_KEY.fullmatch(k) for k in obj.get("data", {})), obj["data"].keys()
