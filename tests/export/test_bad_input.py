"""Bad input to `python -m export`: a clear message naming what and where, exit 2, and the
output directory exactly as it was (the previous export stays usable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from export import kube
from export.build import Options, build
from export.errors import ExportError
from export.write import MARKER
from harness import ROOT
from tests.export.exported import export, run, snapshot


@pytest.fixture(scope="session")
def previous(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A previous export (written once): what every failed run must leave untouched."""
    out = tmp_path_factory.mktemp("previous") / "dist"
    return snapshot(export(out, "--target", "prometheus", "--target", "alertmanager"))


@pytest.fixture
def dist(tmp_path: Path, previous: dict[str, bytes]) -> Path:
    """A copy of the previous export in its own directory, `out/dist`."""
    root = tmp_path / "out" / "dist"
    for rel, data in previous.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _fails(dist: Path, *args: str) -> str:
    before = snapshot(dist)
    code, err = run("--out", str(dist), *args)
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error: ")
    assert snapshot(dist) == before
    assert [p.name for p in dist.parent.iterdir()] == ["dist"]  # no temporary left behind
    return err


def test_unknown_profile(dist: Path) -> None:
    err = _fails(dist, "--profile", "staging")
    assert "genai-obs.yaml" in err and "unknown profile 'staging'" in err
    assert "demo, production" in err


def test_unknown_target(dist: Path) -> None:
    before = snapshot(dist)
    code, err = run("--out", str(dist), "--target", "helm")
    assert code == 2 and "--target: invalid choice: 'helm'" in err, err
    assert snapshot(dist) == before
    with pytest.raises(ExportError, match="unknown target helm"):
        build(Options(targets=("helm",)))


def test_output_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    target.write_text("not a directory\n")
    code, err = run("--out", str(target))
    assert code == 2 and f"--out {target}: exists and is not a directory" in err
    assert target.read_text() == "not a directory\n"


def test_foreign_directory_is_not_replaced(tmp_path: Path) -> None:
    foreign = tmp_path / "dist"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me\n")
    code, err = run("--out", str(foreign))
    assert code == 2 and f"no {MARKER}" in err and "refusing" in err
    assert (foreign / "mine.txt").read_text() == "keep me\n"


def _config(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "genai-obs.yaml").read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_config_with_an_invalid_for(dist: Path, tmp_path: Path) -> None:
    """`5s1m` is no Prometheus duration (units out of order): the config schema says so."""
    config = _config(tmp_path, "      LLMErrorRatioHigh: 5m\n", "      LLMErrorRatioHigh: 5s1m\n")
    err = _fails(dist, "--config", str(config))
    line = config.read_text().splitlines().index("      LLMErrorRatioHigh: 5s1m") + 1
    assert f"bad.yaml:{line}: field 'profiles.production.for.LLMErrorRatioHigh'" in err
    assert "'5s1m' is not a Prometheus duration" in err


def test_config_with_an_out_of_range_for(dist: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "      TargetDown: 5m\n", "      TargetDown: 999999y\n")
    err = _fails(dist, "--config", str(config))
    line = config.read_text().splitlines().index("      TargetDown: 999999y") + 1
    assert f"bad.yaml:{line}: field 'profiles.production.for.TargetDown'" in err
    assert "'999999y' is out of range" in err


def test_config_error_names_file_line_and_key(dist: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "service: 'job=\"rag-api\"'", "service: 'job=~\"(\"'")
    err = _fails(dist, "--config", str(config))
    assert "bad.yaml:" in err and "selectors.service" in err


_LAUGHS = "a: &a [1, 2]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfeservice_name: x\n", "bad.yaml:1: not UTF-8 text (byte 0xff)"),
        (b"version: 1\nname: caf\xe9\n", "bad.yaml:2: not UTF-8 text (byte 0xe9)"),
        (b"a: &x [*x]\n", "bad.yaml:1: not usable YAML in field 'a': an alias refers to"),
        (_LAUGHS.encode(), "not usable YAML in field 'f': more than 100000 values"),
    ],
    ids=["not-utf8", "latin1-line-2", "alias-cycle", "alias-bomb"],
)
def test_config_that_is_not_usable_yaml(
    dist: Path, tmp_path: Path, data: bytes, expected: str
) -> None:
    """Files no YAML parser error covers: a clear message, never a traceback or a hang."""
    config = tmp_path / "bad.yaml"
    config.write_bytes(data)
    assert expected in _fails(dist, "--config", str(config))


def test_dashboard_over_the_configmap_limit(dist: Path) -> None:
    with pytest.raises(ExportError, match=r"grafana/dashboards/\S+\.json: \d+ bytes, over"):
        build(Options(configmap_limit=10_000))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--namespace", "Monitoring_NS"), "--namespace 'Monitoring_NS': not a DNS-1123 label"),
        (("--label", "release=kube prometheus"), "'kube prometheus' is not a valid label value"),
        (("--label", "a b=x"), "'a b' is not a valid label key"),
        (("--label", "release"), "'release' is not KEY=VALUE"),
        (("--folder-annotation", "grafana folder"), "not a valid annotation key"),
        # `$` matches before a final newline: the manifests got `namespace: |` blocks.
        (("--namespace", "monitoring\n"), "--namespace 'monitoring\\n': not a DNS-1123 label"),
        (("--label", "team=genai\n"), "'genai\\n' is not a valid label value"),
        # 63 characters at most (Kubernetes refuses the object; a mutation audit found no case).
        (("--namespace", "n" * 64), "not a DNS-1123 label"),
        (("--label", "team=" + "v" * 64), "is not a valid label value"),
        (("--label", "a=1", "--label", "a=2"), "--label a given twice"),
        (("--profile", ""), "--profile: must name a profile of the config"),
    ],
)
def test_kubernetes_names_are_checked(dist: Path, args: tuple[str, ...], expected: str) -> None:
    before = snapshot(dist)
    code, err = run("--out", str(dist), *args)
    assert code == 2 and expected in err, err
    assert snapshot(dist) == before


def test_check_reports_a_stale_directory(tmp_path: Path) -> None:
    out = export(tmp_path / "dist", "--target", "mimir")
    assert run("--out", str(out), "--target", "mimir", "--check") == (0, "")
    (out / "mimir" / "rules" / "rag-api.slo-alerts.yml").write_text("edited\n")
    (out / "mimir" / "rules" / "extra.yml").write_text("groups: []\n")
    (out / "mimir" / "rules" / "rag-api.slo-llm-ttft.yml").unlink()
    code, err = run("--out", str(out), "--target", "mimir", "--check")
    assert code == 1
    stale = ("mimir/rules/rag-api.slo-alerts.yml", "mimir/rules/rag-api.slo-llm-ttft.yml")
    for rel in (*stale, "extra.yml (not"):
        assert rel in err, err


def test_configmap_size_counts_keys_and_utf8_bytes() -> None:
    # What the API server counts against 1 MiB (a mutation audit found no case): "×" is 2 bytes.
    assert kube.data_size({"data": {"a.json": "5×"}}) == len("a.json") + 3
