"""Docker smoke tests of the running stack (`make up`, then `make smoke`).

Where Docker or Compose v2 is missing they skip and say why. Where Docker exists but the stack
is not running, they FAIL when selected with `-m docker` (`make smoke`: the caller promised a
running stack) and skip otherwise (a plain `pytest` on a laptop with Docker).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

import harness
from harness import ROOT

PROJECT = "genai-obs"
T = TypeVar("T")


def _skip(reason: str) -> None:
    print(f"\n[smoke] skipped: {reason}")
    pytest.skip(reason)


def _docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def _dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
            if m:
                values[m.group(1)] = m.group(2).strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Stack:
    env: dict[str, str]
    host: str

    def url(self, port_var: str, default: int) -> str:
        return f"http://{self.host}:{self.env.get(port_var) or default}"

    @property
    def grafana(self) -> str:
        return self.url("GRAFANA_PORT", 3000)

    @property
    def prometheus(self) -> str:
        return self.url("PROMETHEUS_PORT", 9090)

    @property
    def alertmanager(self) -> str:
        return self.url("ALERTMANAGER_PORT", 9093)

    @property
    def loki(self) -> str:
        return self.url("LOKI_PORT", 3100)

    @property
    def tempo(self) -> str:
        return self.url("TEMPO_PORT", 3200)

    @property
    def rag_api(self) -> str:
        return self.url("RAG_API_PORT", 8000)

    @property
    def grafana_auth(self) -> tuple[str, str]:
        return ("admin", self.env["GRAFANA_ADMIN_PASSWORD"])

    def compose(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return _docker("compose", "--project-name", PROJECT, *args, timeout=timeout)

    def docker(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return _docker(*args, timeout=timeout)

    def containers(self) -> list[dict[str, Any]]:
        proc = self.compose("ps", "--all", "--format", "json")
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout.strip()
        if not text:
            return []
        # Compose prints one JSON object per line (older versions: one JSON array).
        if text.startswith("["):
            return list(json.loads(text))
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Stack:
    if shutil.which("docker") is None:
        _skip("docker is not installed (the stack needs Docker with Compose v2)")
    info = _docker("info")
    if info.returncode != 0:
        detail = (info.stderr.strip().splitlines() or ["no error output"])[-1]
        _skip(f"the Docker daemon is not reachable ({detail})")
    if _docker("compose", "version").returncode != 0:
        _skip("Docker Compose v2 (the `docker compose` plugin) is missing")
    env = _dotenv(ROOT / ".env")
    running = _docker("compose", "--project-name", PROJECT, "ps", "--quiet")
    if running.returncode != 0 or not running.stdout.strip() or "GRAFANA_ADMIN_PASSWORD" not in env:
        reason = "the genai-obs stack is not running: run `make up` first"
        if "docker" in (request.config.getoption("markexpr") or ""):
            pytest.fail(reason, pytrace=False)
        _skip(reason)
    host = env.get("BIND_ADDRESS") or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    return Stack(env=env, host=host)


@pytest.fixture(scope="session")
def http() -> httpx.Client:
    with httpx.Client(timeout=10.0) as client:
        yield client


def poll(what: str, fn: Callable[[], T | None], timeout: float = 120.0, every: float = 2.0) -> T:
    """harness.poll with the stack's patience: containers take their time."""
    return harness.poll(what, fn, timeout, every)


def otlp_http_url(stack: Stack) -> str:
    return stack.url("OTLP_HTTP_PORT", 4318)


def otlp_grpc_endpoint(stack: Stack) -> str:
    return f"{stack.host}:{stack.env.get('OTLP_GRPC_PORT') or 4317}"
