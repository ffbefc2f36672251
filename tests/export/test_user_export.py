"""An export for a user's own service as the review ran it: its own name and job, no rag-api
extras, no stack alerts (another config carries them), an SLO skipped, its own namespace and
labels, the config and the output outside the repository. What the export says about itself
(alerts.md, README.md, the Alertmanager config's comments, the manifests' labels) must match
what it holds. Starts amtool."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from export.__main__ import parse_args, parser
from export.readme import command
from grafana.dashgen.docs import needs
from harness import ROOT
from slo.stack_alerts import STACK_ALERTS
from tests.configs import own_config
from tests.export.exported import alerts, export, run

SERVICE = "checkout-llm"
LABELS = ("--label", "team=payments", "--label", "cluster=eu-1")
CHANGES = (
    ("service_name: rag-api", f"service_name: {SERVICE}"),
    ("service: 'job=\"rag-api\"'", f"service: 'job=\"payments/{SERVICE}\"'"),
    ("extras: true", "extras: false"),
    ("skip_slos: []", "skip_slos: [chat-latency]"),
    ("stack_alerts: true", "stack_alerts: false"),
    ("uid_prefix: ''", "uid_prefix: 'checkout-'"),
)


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("user")
    config = own_config(tmp / "checkout.yaml", *CHANGES)
    return export(tmp / "dist", "--config", str(config), "--namespace", "payments", *LABELS)


def test_no_stack_alert_is_exported(user: Path) -> None:
    assert not {a.name for a in STACK_ALERTS} & set(alerts(user))


def test_alerts_md_describes_no_stack_alert(user: Path) -> None:
    """alerts.md lists, explains and names only what the export generates: no stack
    self-metrics, no Watchdog heartbeat severity, no TargetDown muting its service's tickets."""
    text = (user / "alerts.md").read_text()
    assert "Stack self-metrics" not in text
    assert "`info` is the Watchdog heartbeat" not in text
    assert "`TargetDown` mutes the other tickets" not in text
    for name in {a.name for a in STACK_ALERTS} - {"TargetDown", "Watchdog"}:
        assert name not in text, name
    # The Alertmanager config still routes Watchdog and inhibits on TargetDown (one Alertmanager
    # for every service: the export with the stack's alerts sends them); alerts.md says so.
    assert "`stack_alerts: false`" in text
    assert f"a down {SERVICE}" not in text


def test_alerts_md_of_the_shipped_config_keeps_the_stack(production: Path) -> None:
    text = (production / "alerts.md").read_text()
    assert "Stack self-metrics" in text and "`TargetDown` mutes the other tickets" in text
    assert "stack_alerts: false" not in text


@pytest.mark.parametrize("sub", ["alertmanager", "mimir/alertmanager"])
def test_alertmanager_config_says_whose_stack_alerts_it_routes(user: Path, sub: str) -> None:
    """The same routing tree as every export (amtool checks this copy: test_export_tools.py),
    with a note that the Watchdog and TargetDown it names come from another rule set."""
    text = (user / sub / "alertmanager.yml").read_text()
    notes = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    assert "stack_alerts: false" in notes and "TargetDown" in notes and "Watchdog" in notes
    assert 'alertname="TargetDown"' in text and 'alertname="Watchdog"' in text


def _manifests(directory: Path, sub: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted(directory.glob(f"kubernetes/{sub}/*"))]


def test_labels_go_on_every_manifest(user: Path) -> None:
    labels = {"team": "payments", "cluster": "eu-1"}
    rules = _manifests(user, "prometheusrules")
    maps = _manifests(user, "grafana-dashboards")
    assert rules and maps
    assert all(m["metadata"]["labels"] == labels for m in rules)
    assert all(m["metadata"]["labels"] == {**labels, "grafana_dashboard": "1"} for m in maps)
    for flag in ("--label", "--no-label"):
        action = next(a for a in parser()._actions if flag in a.option_strings)
        assert "ConfigMap" in (action.help or ""), action.help
    readme = (user / "README.md").read_text()
    assert "labels (every manifest) `cluster: eu-1`, `team: payments`" in readme
    guide = (ROOT / "docs" / "production.md").read_text()
    row = next(line for line in guide.splitlines() if "`kubernetes/grafana-dashboards/" in line)
    assert "`--label`s" in row, row


def test_a_label_may_not_replace_the_sidecars(tmp_path: Path) -> None:
    code, err = run("--out", str(tmp_path / "d"), "--label", "grafana_dashboard=0")
    assert code == 2 and "grafana_dashboard" in err and "sidecar" in err, err
    assert not (tmp_path / "d").exists()


def test_rag_pipeline_keeps_its_standard_panels_and_the_readme_says_what_stays_empty(
    user: Path,
) -> None:
    """extras: false still exports RAG Pipeline & Quality: its Pipeline stages row (latency,
    rate and errors per gen_ai_operation_name, on no other dashboard) reads standard metrics
    only. README.md counts, per dashboard, the panels that need rag-api's own metrics."""
    readme = (user / "README.md").read_text()
    paths = sorted((user / "grafana" / "dashboards").glob("*.json"))
    assert "checkout-rag-pipeline.json" in {p.name for p in paths}, paths
    for path in paths:
        panels = [p for p in json.loads(path.read_text())["panels"] if p["type"] != "row"]
        kinds = [needs(p)[0] for p in panels]
        extras = kinds.count("needs rag-api extras")
        assert extras < len(panels), path.name  # no dashboard is empty without the extras
        uid = f"(uid `{path.stem}`)"
        line = next((line for line in readme.splitlines() if uid in line), "")
        if extras:
            assert f"{extras} of {len(panels)} panels" in line, (path.name, line)
        else:
            assert not line, line
        if path.name == "checkout-rag-pipeline.json":
            assert extras >= 24 and kinds[:4] == ["standard GenAI semconv"] * 4, kinds
    assert "`extras: false`" in readme
    guide = (ROOT / "docs" / "own-app.md").read_text()
    row = next(line for line in guide.splitlines() if line.startswith("| `extras` |"))
    assert "*Pipeline stages* row" in row and "README.md counts" in row, row


def test_readme_says_nothing_of_extras_when_the_app_has_them(production: Path) -> None:
    assert "extras" not in (production / "README.md").read_text()


def test_readme_command_reruns_the_export_without_machine_paths(user: Path) -> None:
    readme = (user / "README.md").read_text()
    command = re.search(r"`(python -m export [^`]+)`", readme)
    assert command, readme
    assert "--config <path outside the repository>/checkout.yaml" in command.group(1)
    assert "--out <this directory>" in command.group(1)
    assert str(user.parent) not in readme and str(Path.home()) not in readme
    assert "run from the repository root" in readme and "substitute" in readme


def test_readme_names_repository_paths_relative_to_it() -> None:
    """A config inside the repository and an --out inside it are re-runnable as written."""
    inside = ROOT / "genai-obs.yaml"
    out = ROOT / "dist-test-readme"
    options = parse_args(["--config", str(inside), "--out", str(out), "--target", "runbooks"])[0]
    line = command(options, "production")
    assert "--config genai-obs.yaml" in line and "--out dist-test-readme" in line, line
    assert "<" not in line and str(ROOT) not in line
    default = command(parse_args(["--target", "runbooks"])[0], "production")
    assert "--out" not in default and "--config" not in default, default


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--no-label"],
        ["--label", "team=ml", "--namespace", "obs", "--profile", "demo"],
        ["--folder-annotation", ""],
        ["--folder-annotation", "example.com/folder", "--target", "kubernetes"],
    ],
)
def test_readme_command_gives_the_same_options(argv: list[str]) -> None:
    """dist/README.md's command writes the same export again: it dropped `--no-label` (so the
    re-run labelled every manifest release=kube-prometheus-stack) and `--folder-annotation`."""
    options = parse_args(argv)[0]
    line = command(options, options.profile or "production")
    assert parse_args(shlex.split(line)[3:])[0] == options, line
