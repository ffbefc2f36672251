""".github/workflows/ci.yml and the workflow lint of scripts/lint-extra.sh (run by make lint)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
LINT_EXTRA = ROOT / "scripts" / "lint-extra.sh"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict[str, Any]) -> list[str]:
    return [s["run"].strip() for s in job["steps"] if "run" in s]


def test_jobs_and_commands(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert set(jobs) == {"test", "smoke"}
    for job in jobs.values():
        assert job["runs-on"].startswith("ubuntu-")
        assert job["timeout-minutes"] <= 60
    assert "make test" in _runs(jobs["test"])
    smoke = jobs["smoke"]["steps"]
    runs = [s.get("run", "").strip() for s in smoke]
    assert runs.index("make up") < runs.index("make smoke")
    down = next(s for s in smoke if s.get("run", "").strip() == "make down")
    assert down["if"] == "always()", "the stack is torn down even when the smoke test fails"
    logs = [s for s in smoke if s.get("if") == "failure()"]
    assert logs and "logs" in logs[0]["run"], "failures print the stack's logs"
    assert "--follow" not in logs[0]["run"] and "make logs" not in logs[0]["run"]


def test_actions_pinned_to_exact_versions(workflow: dict[str, Any]) -> None:
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})", ref), ref


def test_least_privilege_token(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}


def _lint(workflows_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_EXTRA), "check_workflows"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WORKFLOWS_DIR": str(workflows_dir), **env},
        cwd=ROOT,
    )


def test_lint_extra_passes_on_shipped_workflows() -> None:
    assert os.access(LINT_EXTRA, os.X_OK), "make lint runs it only when executable"
    proc = _lint(WORKFLOW.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check_workflows" in proc.stdout


def test_lint_extra_rejects_a_broken_workflow(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@main\n      - name: neither uses nor run\n"
    )
    proc = _lint(tmp_path)
    assert proc.returncode != 0
    assert "FAILED: check_workflows" in proc.stderr


def test_without_actionlint_falls_back_locally_but_fails_in_ci(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"  # the script's basic tools, and no actionlint
    bindir.mkdir()
    for tool in ("bash", "env", "find", "sort", "dirname"):
        found = shutil.which(tool)
        assert found, tool
        (bindir / tool).symlink_to(found)
    no_actionlint = {"VENV": str(tmp_path / "no-venv"), "PATH": str(bindir), "ACTIONLINT": ""}
    python = {"PY": str(ROOT / ".venv" / "bin" / "python")}
    local = _lint(WORKFLOW.parent, CI="", **no_actionlint, **python)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "running the structural check" in local.stdout
    ci = _lint(WORKFLOW.parent, CI="true", **no_actionlint, **python)
    assert ci.returncode != 0 and "required when CI=true" in ci.stdout, ci.stdout + ci.stderr


def test_lint_extra_fails_without_workflows(tmp_path: Path) -> None:
    proc = _lint(tmp_path)
    assert proc.returncode != 0


def test_lint_extra_rejects_unknown_check() -> None:
    proc = subprocess.run(
        [str(LINT_EXTRA), "check_nonexistent"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and "unknown check" in proc.stderr
