"""Shared test helpers: locating the repo, real binaries and free loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(name: str) -> str:
    """Path of a real tool the test needs (promtool, amtool, prometheus, node, ...).

    Missing locally: the test is skipped with the install hint. Missing in CI (CI=true): the test
    FAILS, because CI must prove what the tests claim (see DEVELOPERS.md).
    """
    path = shutil.which(name)
    if path:
        return path
    hint = {
        "node": "install Node.js >= 20",
    }.get(name, "sudo apt-get install --no-install-recommends prometheus prometheus-alertmanager")
    msg = f"{name} not found on PATH ({hint}; `make test` installs it)"
    if IN_CI:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it).

    Never the same port twice in one test session: the OS readily hands a just-released port out
    again, and parallel starts (the e2e tier) would then race for it; worse, the loser's readiness
    probe would be answered by the winner.
    """
    with _handed_out_lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
