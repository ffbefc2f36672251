"""One harness for tests, benchmarks and the e2e tier: the repo root, real tools, free loopback
ports and one poll loop. Process start/stop lives in harness.procs, the OTLP receiver in
harness.otlp_receiver, the Compose parser in harness.compose_cli, how Grafana reads and
interpolates the dashboards' variables in harness.grafana_variables and
harness.grafana_interpolation.

Nothing here imports pytest: `make bench` runs without it. A missing tool raises MissingTool;
tests/conftest.py turns that into a skip (a failure under CI=true).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
# In CI a missing tool fails the run instead of skipping what needs it.
IN_CI = os.environ.get("CI", "").lower() == "true"
T = TypeVar("T")

_INSTALL_HINTS = {"node": "install Node.js >= 20"}
_DEBIAN_HINT = "sudo apt-get install --no-install-recommends prometheus prometheus-alertmanager"


class MissingTool(RuntimeError):
    """A real tool a test or benchmark needs is not installed; the message says how to get it."""


def require_binary(name: str) -> str:
    """Path of a real tool (promtool, amtool, prometheus, node, ...) or MissingTool."""
    path = shutil.which(name)
    if path:
        return path
    hint = _INSTALL_HINTS.get(name, _DEBIAN_HINT)
    raise MissingTool(f"{name} not found on PATH ({hint}; `make test` installs it)")


_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it).

    Never the same port twice in one process: the OS readily hands a just-released port out
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


def poll(what: str, predicate: Callable[[], T], timeout: float = 30.0, every: float = 0.25) -> T:
    """Call predicate until it returns something truthy, and return that; else TimeoutError
    naming `what` and the last result. An exception from predicate counts as "not yet" (a probe
    that fails now may pass later) and is the last result if nothing else comes."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
        except Exception as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s (last: {last!r})")
        time.sleep(every)


def wait_until(predicate: Callable[[], object], timeout: float, every: float = 0.25) -> bool:
    """poll() as a yes/no: whether predicate became truthy within timeout."""
    try:
        poll("", predicate, timeout, every)
    except TimeoutError:
        return False
    return True


@contextlib.contextmanager
def serving(server: socketserver.BaseServer, name: str) -> Iterator[None]:
    """Run an in-process loopback server (the fakes) in a daemon thread for the `with` block."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
