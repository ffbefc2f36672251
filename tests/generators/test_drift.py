"""The ONE staleness check: every committed generated file equals a fresh `python -m generators`
run with the default (demo) profile, byte for byte; the CLI's --check and --out keep their
contract (other tests and helpers rely on it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import generators
from harness import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generators", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_committed_generated_files_are_fresh() -> None:
    """Fails `make test` when a generated file is stale: run `make generate`."""
    files = generators.render()
    stale = [rel for rel, text in files.items() if _read(ROOT / rel) != text]
    owned = {p.relative_to(ROOT).as_posix() for g in generators.owned_globs() for p in ROOT.glob(g)}
    obsolete = sorted(owned - set(files))
    assert not stale and not obsolete, (
        f"stale: {stale}, not generated any more: {obsolete} — run `make generate`"
    )
    res = run("--check")
    assert res.returncode == 0, res.stderr


def test_committed_files_are_the_demo_profile() -> None:
    """The committed rules drive the incident scenarios: they must be the short `demo` ones."""
    from genobs.config import load_config

    assert load_config().profile == "demo"
    assert generators.render(profile="demo") == generators.render()
    assert generators.render(profile="production") != generators.render()


def test_render_covers_every_generated_kind_and_headers_say_how_to_regenerate() -> None:
    files = generators.render()
    kinds = {
        "prometheus/rules/llm-alerts.yml",
        "prometheus/rules/slo-alerts.yml",
        "docs/alerts.md",
        "docs/dashboards.md",
        "grafana/dashboards/llm-overview.json",
        "grafana/provisioning/dashboards/dashboards.yaml",
    }
    assert kinds <= set(files)
    for rel, text in files.items():
        head = text[:400]
        if rel.endswith(".json"):  # JSON has no comments: the dashboard description says it
            assert "make generate" in text.split('"description": ', 1)[1][:600], rel
        else:
            assert "make generate" in head and "do not edit" in head, rel


def test_check_lists_stale_and_obsolete_files_and_a_run_fixes_them(tmp_path: Path) -> None:
    assert run("--out", str(tmp_path)).returncode == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(
        generators.render()
    ), "--out writes exactly the repo-relative paths"
    assert run("--check", "--out", str(tmp_path)).returncode == 0
    (tmp_path / "prometheus/rules/slo-llm-ttft.yml").write_text("# hand edit\n")
    (tmp_path / "prometheus/rules/slo-removed.yml").write_text("groups: []\n")
    (tmp_path / "docs/dashboards.md").unlink()
    res = run("--check", "--out", str(tmp_path))
    assert res.returncode == 1
    for needle in ("slo-llm-ttft.yml", "slo-removed.yml (obsolete)", "docs/dashboards.md"):
        assert needle in res.stderr, res.stderr
    assert run("--out", str(tmp_path)).returncode == 0
    assert not (tmp_path / "prometheus/rules/slo-removed.yml").exists()
    assert run("--check", "--out", str(tmp_path)).returncode == 0


def test_make_generate_is_the_one_entry_point() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-m generators" in makefile
    assert not (ROOT / "grafana" / "generate.py").exists()
    assert not (ROOT / "slo" / "__main__.py").exists()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
