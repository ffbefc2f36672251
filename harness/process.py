"""A process that serves on a loopback port: started, waited for, stopped, its log kept.

The language-neutral part of the harness (harness.procs starts rag-api, Prometheus and
Alertmanager on it; tests/ownapp starts apps in other languages with start_command_app).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from harness import ROOT, free_port


class ProcessError(RuntimeError):
    """A managed process did not become ready; the message carries the tail of its log."""


class Proc:
    """A started process with its loopback URL; stop() is idempotent (also a context manager)."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], port: int, log_path: Path):
        self.name = name
        self.popen = popen
        self.port = port
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        self.address = f"127.0.0.1:{port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        """Until `path` answers 200. Not ready in time, or interrupted (Ctrl-C, a benchmark's
        SIGTERM) while waiting: the process is stopped, as nobody else holds it yet."""
        deadline = time.monotonic() + timeout
        last = ""
        try:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise ProcessError(
                        f"{self.name} exited ({self.popen.returncode}):\n{self.log_tail()}"
                    )
                try:
                    r = httpx.get(self.url + path, timeout=2.0)
                    # Alive too: a process that lost its port exits, while whoever holds it answers
                    if r.status_code == 200 and self.alive():
                        return
                    last = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.1)
            raise ProcessError(
                f"{self.name} not ready on {path} after {timeout}s ({last}):\n{self.log_tail()}"
            )
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(
    name: str,
    args: list[str],
    port: int,
    workdir: Path,
    env: Mapping[str, str] | None,
    cwd: Path = ROOT,
) -> Proc:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # Ctrl-C on pytest must not hit children before cleanup runs
    )
    log.close()
    return Proc(name, popen, port, log_path)


BIND_ATTEMPTS = 3


def with_port_retry(start: Callable[[], Proc]) -> Proc:
    """Start again on a new port when the bind lost a race.

    free_port() only says a port WAS free: between it and the bind, a parallel test process or an
    outgoing connection's ephemeral port can take it ("address already in use").
    """
    for attempt in range(BIND_ATTEMPTS):
        try:
            return start()
        except ProcessError as err:
            if attempt == BIND_ATTEMPTS - 1 or "address already in use" not in str(err).lower():
                raise
    raise AssertionError("unreachable")


def start_command_app(
    tmp_path: Path,
    argv: Callable[[int], list[str]],
    env: Mapping[str, str] | None = None,
    *,
    name: str,
    ready_path: str,
    timeout: float = 60.0,
    port: int | None = None,
    cwd: Path = ROOT,
) -> Proc:
    """The command `argv(port)` makes (an app in any language listening on 127.0.0.1:port), as
    start_python_app starts a Python module."""

    def once(chosen: int | None = None) -> Proc:
        port = chosen or free_port()
        proc = spawn(name, argv(port), port, tmp_path / name, env, cwd)
        proc.wait_ready(ready_path, timeout=timeout)
        return proc

    return once(port) if port else with_port_retry(once)
