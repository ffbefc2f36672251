"""The secret scan used by `make lint` finds planted credentials and passes on the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT

SCANNER = ROOT / "scripts" / "secret-scan.py"

# Planted values are assembled at run time so this file itself holds no secret-shaped literal.
PLANTED = {
    "llm provider api key": 'OPENAI_API_KEY="sk-' + "proj-" + "Q7f3kL9x2Vb8Nw4Rt6Yz1Hc5Jm0" + '"',
    "aws access key id": "aws_key = " + "AKIA" + "Z3Q4R5T6Y7U8I9O0",
    "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "github token": "token: " + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "password in url": "url: postgres://app:" + "h7Gk2pQ9zX" + "@db:5432/app",
    "high-entropy value assigned to a secret name": (
        "GF_SECURITY_ADMIN_PASSWORD=" + "Zt8q" + "Lm3vR9wX1bN6"
    ),
}

HARMLESS = "\n".join(
    [
        "GRAFANA_ADMIN_PASSWORD=",
        "password: ${GRAFANA_ADMIN_PASSWORD:?set by scripts/stack.sh}",
        'ADMIN_TOKEN_ENV = "ADMIN_TOKEN"',
        "url: http://user:${PASSWORD}@host",
        'api_key = "sk-your-key-here-example-00000"',
        "token_type = gen_ai_token_type",
        'ADMIN_TOKEN = "test-admin-token-0123456789"',
        'ADMIN_TOKEN = "e2e-admin-token"',
        '"sk-proj-abcdefghijklmnop1234",',
        "AKIAIOSFODNN7EXAMPLE",
    ]
)


def run_scanner(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCANNER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_planted_secret_is_flagged_with_file_and_line(tmp_path: Path, kind: str) -> None:
    planted = tmp_path / "config.env"
    planted.write_text("# a config file\n" + PLANTED[kind] + "\n")
    result = run_scanner("--root", tmp_path, planted)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"config.env:2: {kind}" in result.stdout


def test_placeholders_and_env_references_pass(tmp_path: Path) -> None:
    clean = tmp_path / "settings.yaml"
    clean.write_text(HARMLESS + "\n")
    result = run_scanner("--root", tmp_path, clean)
    assert result.returncode == 0, result.stdout


def test_allow_pragma_exempts_one_line_only(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.py"
    key = "sk-" + "ant-" + "Q7f3kL9x2Vb8Nw4Rt6Yz1Hc5Jm0Pd"
    pragma = "secret-scan: allow (redaction fixture)"
    fixture.write_text(f'FAKE = "{key}"  # {pragma}\nREAL = "{key}"\n')
    result = run_scanner("--root", tmp_path, fixture)
    assert result.returncode == 1
    assert "fixture.py:2: llm provider api key" in result.stdout
    assert "fixture.py:1:" not in result.stdout


def test_scans_what_git_would_commit(tmp_path: Path) -> None:
    """Default mode walks `git ls-files`: untracked files count, ignored ones (.env) do not."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / ".env").write_text(PLANTED["high-entropy value assigned to a secret name"] + "\n")
    (tmp_path / "clean.txt").write_text("nothing here\n")
    assert run_scanner("--root", tmp_path).returncode == 0
    (tmp_path / "leak.yml").write_text(PLANTED["github token"] + "\n")
    result = run_scanner("--root", tmp_path)
    assert result.returncode == 1
    assert "leak.yml:1: github token" in result.stdout
    assert ".env" not in result.stdout


def test_committed_env_file_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    env = tmp_path / "deploy" / ".env"
    env.write_text("X=1\n")
    result = run_scanner("--root", tmp_path, env)
    assert result.returncode == 1
    assert "deploy/.env:0: credential file committed" in result.stdout


@pytest.mark.parametrize("where", ["missing-file", "a-directory", "root-not-in-git", "no-root"])
def test_what_cannot_be_read_is_a_usage_error(tmp_path: Path, where: str) -> None:
    # It used to print "1 files, no secrets found" for paths it never read.
    args = {
        "missing-file": [tmp_path / "nope.txt"],
        "a-directory": [tmp_path],
        "root-not-in-git": ["--root", tmp_path],
        "no-root": ["--root", tmp_path / "nope"],
    }[where]
    res = run_scanner(*args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "no secrets found" not in res.stdout and "Traceback" not in res.stderr
    assert res.stderr.startswith("secret-scan: "), res.stderr


def test_repository_has_no_secrets() -> None:
    result = run_scanner()
    assert result.returncode == 0, result.stdout + result.stderr
