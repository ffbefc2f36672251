"""scripts/stack.sh (behind make up/down/clean/ps/logs), run for real with a fake `docker`.

No Docker engine exists here, so a small stand-in `docker` on PATH answers `info` and
`compose version` as configured and records every call; the script itself is the shipped one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack.conftest import ENV_EXAMPLE, STACK_SH

FAKE_DOCKER = r"""#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in
  info) [ -z "$FAKE_NO_DAEMON" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; } ;;
  compose)
    if [ "$2" = version ]; then
      [ -z "$FAKE_NO_COMPOSE" ] || { echo "'compose' is not a docker command" >&2; exit 1; }
      echo "${FAKE_COMPOSE_VERSION:-2.40.3}"
    fi ;;
esac
exit 0
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(STACK_SH, tmp_path / "scripts" / "stack.sh")
    shutil.copy2(ENV_EXAMPLE, tmp_path / ".env.example")
    return tmp_path


def _run(
    repo: Path, *args: str, docker: bool = True, stdin: str | None = None, **fake: str
) -> subprocess.CompletedProcess[str]:
    bindir = repo / "fakebin"
    bindir.mkdir(exist_ok=True)
    # Only the basic tools the script needs, and our docker (or none at all).
    for tool in (
        "dirname",
        "sed",
        "od",
        "head",
        "tr",
        "sort",
        "tail",
        "chmod",
        "mv",
        "cat",
        "mkdir",
    ):
        path = shutil.which(tool)
        if path and not (bindir / tool).exists():
            (bindir / tool).symlink_to(path)
    docker_path = bindir / "docker"
    if docker:
        docker_path.write_text(FAKE_DOCKER)
        docker_path.chmod(0o755)
    elif docker_path.exists():
        docker_path.unlink()
    env = {
        "PATH": str(bindir),
        "HOME": str(repo),
        "FAKE_DOCKER_LOG": str(repo / "docker.log"),
        **fake,
    }
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(
        [bash, str(repo / "scripts" / "stack.sh"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        input=stdin,
        cwd=repo,
    )


def _calls(repo: Path) -> list[str]:
    log = repo / "docker.log"
    return log.read_text().splitlines() if log.exists() else []


def _env_value(repo: Path, name: str) -> str:
    m = re.search(rf"^{name}=(.*)$", (repo / ".env").read_text(), re.M)
    assert m, name
    return m.group(1)


def test_env_created_once_with_random_secrets(repo: Path) -> None:
    first = _run(repo, "env")
    assert first.returncode == 0, first.stderr
    password = _env_value(repo, "GRAFANA_ADMIN_PASSWORD")
    token = _env_value(repo, "ADMIN_TOKEN")
    assert len(password) >= 32 and password != "admin" and re.fullmatch(r"[0-9a-f]+", password)
    assert len(token) >= 32 and token != password
    assert password in first.stdout, "the password is shown when it is created"
    assert (repo / ".env").stat().st_mode & 0o077 == 0, ".env holds secrets: owner-only"
    # Every other setting is the documented default from .env.example.
    example = [ln for ln in ENV_EXAMPLE.read_text().splitlines() if "=" in ln]
    created = (repo / ".env").read_text().splitlines()
    assert len([ln for ln in created if "=" in ln]) == len(example)
    second = _run(repo, "env")
    assert second.returncode == 0
    assert password not in second.stdout + second.stderr, "printed once, never again"
    assert _env_value(repo, "GRAFANA_ADMIN_PASSWORD") == password, ".env is never overwritten"


def test_two_installs_get_different_passwords(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "scripts").mkdir()
    shutil.copy2(STACK_SH, other / "scripts" / "stack.sh")
    shutil.copy2(ENV_EXAMPLE, other / ".env.example")
    assert _run(repo, "env").returncode == 0
    assert _run(other, "env").returncode == 0
    assert _env_value(repo, "GRAFANA_ADMIN_PASSWORD") != _env_value(other, "GRAFANA_ADMIN_PASSWORD")


@pytest.mark.parametrize("bad", ["", "admin"])
def test_up_refuses_empty_or_default_password(repo: Path, bad: str) -> None:
    (repo / ".env").write_text(f"GRAFANA_ADMIN_PASSWORD={bad}\n")
    proc = _run(repo, "up")
    assert proc.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in proc.stderr
    assert not any(c.startswith("compose up") for c in _calls(repo))


def test_up_without_docker_says_how_to_install(repo: Path) -> None:
    proc = _run(repo, "up", docker=False)
    assert proc.returncode != 0
    assert "docker not found" in proc.stderr and "docs.docker.com/engine/install" in proc.stderr
    assert not (repo / ".env").exists(), "nothing is created before the checks pass"


def test_up_without_daemon(repo: Path) -> None:
    proc = _run(repo, "up", FAKE_NO_DAEMON="1")
    assert proc.returncode != 0
    assert "daemon is not reachable" in proc.stderr and "systemctl start docker" in proc.stderr


def test_up_without_compose_v2(repo: Path) -> None:
    proc = _run(repo, "up", FAKE_NO_COMPOSE="1")
    assert proc.returncode != 0
    assert "Docker Compose v2 is missing" in proc.stderr
    assert "docker-compose-plugin" in proc.stderr


def test_up_with_too_old_compose(repo: Path) -> None:
    proc = _run(repo, "up", FAKE_COMPOSE_VERSION="v2.3.3")
    assert proc.returncode != 0
    assert "too old" in proc.stderr and "2.3.3" in proc.stderr


def test_up_waits_for_health_and_prints_urls(repo: Path) -> None:
    proc = _run(repo, "up", FAKE_COMPOSE_VERSION="2.40.3-desktop.1")
    assert proc.returncode == 0, proc.stderr
    up = [c for c in _calls(repo) if c.startswith("compose up")]
    assert len(up) == 1 and "-d" in up[0].split() and "--wait" in up[0].split()
    for url in ("http://127.0.0.1:3000", "http://127.0.0.1:9090", "http://127.0.0.1:8000"):
        assert url in proc.stdout
    assert "GRAFANA_ADMIN_PASSWORD in .env" in proc.stdout


def test_urls_follow_env_ports(repo: Path) -> None:
    assert _run(repo, "env").returncode == 0
    env = (repo / ".env").read_text().replace("GRAFANA_PORT=3000", "GRAFANA_PORT=3300")
    (repo / ".env").write_text(env)
    proc = _run(repo, "up")
    assert "http://127.0.0.1:3300" in proc.stdout


def test_down_keeps_volumes(repo: Path) -> None:
    proc = _run(repo, "down")
    assert proc.returncode == 0, proc.stderr
    (down,) = [c for c in _calls(repo) if "down" in c.split()]
    assert "--volumes" not in down.split() and "-v" not in down.split()


def test_clean_needs_confirmation(repo: Path) -> None:
    # No terminal, no --yes: refuse, delete nothing.
    proc = _run(repo, "clean", stdin="y\n")
    assert proc.returncode != 0 and "--yes" in proc.stderr
    assert not any("down" in c.split() for c in _calls(repo))
    proc = _run(repo, "clean", "--yes")
    assert proc.returncode == 0, proc.stderr
    (down,) = [c for c in _calls(repo) if "down" in c.split()]
    assert "--volumes" in down.split()


def test_logs_passes_the_service(repo: Path) -> None:
    assert _run(repo, "logs", "loki").returncode == 0
    (logs,) = [c for c in _calls(repo) if "logs" in c.split()]
    assert logs.split()[-1] == "loki"


def test_unknown_command_shows_usage(repo: Path) -> None:
    proc = _run(repo, "bogus")
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_script_is_executable() -> None:
    assert os.access(STACK_SH, os.X_OK)


def test_older_env_gets_the_demo_api_keys_and_a_webhook_credential(repo: Path) -> None:
    """An .env made before API keys existed is completed, not replaced (its settings stay); the
    webhook credential file is written once and kept on later runs."""
    old = [ln for ln in ENV_EXAMPLE.read_text().splitlines() if not ln.startswith("API_KEYS=")]
    old = [
        "GRAFANA_ADMIN_PASSWORD=0123456789abcdef0123456789abcdef"
        if ln.startswith("GRAFANA_")
        else ln
        for ln in old
    ]
    # Saved by an editor that drops the final newline: the added line must not join the last one.
    (repo / ".env").write_text("\n".join(old))
    result = _run(repo, "env")
    assert result.returncode == 0, result.stderr
    assert _env_value(repo, "API_KEYS").startswith("demo-free-key:free,")
    last = old[-1].split("=", 1)
    assert _env_value(repo, last[0]) == last[1]
    assert _env_value(repo, "GRAFANA_ADMIN_PASSWORD") == "0123456789abcdef0123456789abcdef"
    assert (repo / ".env").stat().st_mode & 0o077 == 0
    credential = repo / ".secrets" / "alerts_webhook_token"
    token = credential.read_text()
    assert re.fullmatch(r"[0-9a-f]{48}", token)
    assert _run(repo, "env").returncode == 0
    assert credential.read_text() == token  # kept on later runs
