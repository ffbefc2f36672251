"""demo_app/Dockerfile without Docker: pinned base, non-root, and its commands really work here
(the dependency extraction against the lock, the HEALTHCHECK probe against the real app).
The image build itself is exercised by `make smoke` where Docker exists."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

from harness import ROOT, free_port
from harness.procs import Proc

DOCKERFILE = ROOT / "demo_app" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_base_image_is_an_exact_slim_python_311_tag() -> None:
    froms = [rest for kw, rest in instructions() if kw == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(
        r"python:3\.11\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?", froms[0]
    )


def test_runs_as_non_root_exposes_8000_and_starts_the_app() -> None:
    ins = instructions()
    users = [rest for kw, rest in ins if kw == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in ins
    assert ("CMD", '["python", "-m", "demo_app"]') in ins
    keywords = [kw for kw, _ in ins]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN")


def _healthcheck_cmd() -> list[str]:
    rest = next(rest for kw, rest in instructions() if kw == "HEALTHCHECK")
    return json.loads(rest[rest.index("CMD") + 3 :].strip())


def test_healthcheck_probe_passes_on_ready_app_and_fails_without_one(shared_app: Proc) -> None:
    cmd = _healthcheck_cmd()
    assert cmd[0] == "python" and "/readyz" in cmd[-1]
    env = {"PORT": str(shared_app.port), "PATH": ""}
    ok = subprocess.run([sys.executable, *cmd[1:]], env=env, capture_output=True, timeout=20)
    assert ok.returncode == 0, ok.stderr
    env["PORT"] = str(free_port())
    down = subprocess.run([sys.executable, *cmd[1:]], env=env, capture_output=True, timeout=20)
    assert down.returncode != 0


def test_dependency_layer_installs_exactly_locked_packages() -> None:
    run = next(rest for kw, rest in instructions() if kw == "RUN" and "tomllib" in rest)
    script = re.search(r'python -c "(.*?)" >', run, re.S)
    assert script
    out = subprocess.run(
        [sys.executable, "-c", script.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    requirements = {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in out}
    assert {"fastapi", "uvicorn", "opentelemetry-sdk", "locust"} <= requirements
    locked = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    assert requirements <= locked, requirements - locked


def _dockerignore_included() -> set[str]:
    lines = [
        x.strip()
        for x in (ROOT / ".dockerignore").read_text().splitlines()
        if x.strip() and not x.startswith("#")
    ]
    assert lines[0] == "*", "allow-list: everything is excluded unless re-included"
    return {x[1:].rstrip("/") for x in lines if x.startswith("!")}


def test_dockerignore_keeps_secrets_and_venv_out_of_the_context() -> None:
    included = _dockerignore_included()
    assert included == {"pyproject.toml", "constraints.txt", "demo_app", "genai_telemetry"}


def test_copies_every_first_party_package_the_app_imports() -> None:
    """The image runs `python -m demo_app`: every repo package it imports must be in the image."""
    first_party = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    imported = set()
    for path in (ROOT / "demo_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
    needed = (imported & first_party) | {"demo_app"}
    copied = {rest.split()[0].strip("./") for kw, rest in instructions() if kw == "COPY"}
    assert "genai_telemetry" in needed
    assert needed <= copied, needed - copied
    # ... and sent to the build: a COPY of a path .dockerignore leaves out fails the build.
    assert copied <= _dockerignore_included(), copied - _dockerignore_included()
