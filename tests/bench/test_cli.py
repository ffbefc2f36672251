"""Benchmark command lines: nonsense options and an unwritable --json are refused before anything
runs (exit 2, argparse's one-line message), and SIGTERM stops a run as Ctrl-C does, its servers
included (D19)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench import profile
from bench.__main__ import main as bench_main
from harness import ROOT


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["overhead", "--rounds", "-3"], "argument --rounds: '-3': must be a whole number > 0"),
        (["overhead", "--rounds", "0"], "argument --rounds: '0': must be a whole number > 0"),
        (["overhead", "--concurrency", "0"], "argument --concurrency: '0': must be a whole"),
        (["overhead", "--seconds", "-1"], "argument --seconds: '-1': must be a number > 0"),
        (["overhead", "--seconds", "inf"], "argument --seconds: 'inf': must be a number > 0"),
        (["peers", "--rounds", "0"], "argument --rounds: '0': must be a whole number > 0"),
        (["--json", "/nonexistent/dir/x.json"], "--json /nonexistent/dir/x.json: directory"),
        (["--json", "/tmp", "levers"], "--json /tmp: is a directory"),
    ],
)
def test_bad_options_exit_2_before_running(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    """These divided by zero after starting servers (ZeroDivisionError), ran 3 rounds for
    `--rounds 0`, or failed to write --json only after the whole run."""
    with pytest.raises(SystemExit) as info:
        bench_main(args)
    out = capsys.readouterr()
    assert info.value.code == 2
    assert expected in out.err and "Traceback" not in out.err, out.err
    assert "machine:" not in out.out  # nothing ran


def test_profile_refuses_zero_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        profile.main(["--seconds", "0"])
    assert info.value.code == 2
    assert "argument --seconds: '0': must be a number > 0" in capsys.readouterr().err


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("when", ["starting", "loading"])
def test_sigterm_stops_the_servers_a_run_started(tmp_path: Path, when: str) -> None:
    """`timeout 60 python -m bench overhead` left rag-api and the OTLP receiver running (they run
    in sessions of their own, and SIGTERM skipped the cleanup Ctrl-C runs). Stopped while the
    second app starts (not yet handed to its `with`) or while the load generator runs."""
    stderr = tmp_path / "stderr"  # a file: servers left running would hold a pipe open
    with stderr.open("w") as sink:
        bench = subprocess.Popen(
            [sys.executable, "-m", "bench", "overhead", "--rounds", "1", "--seconds", "60"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
    seen: dict[int, psutil.Process] = {}
    commands: dict[int, list[str]] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and bench.poll() is None:
            seen.update({p.pid: p for p in _descendants(bench.pid)})
            # Read again every time: a child caught between fork and exec still shows the
            # parent's command line (seen on a loaded machine).
            commands.update({pid: c for pid, p in seen.items() if (c := _cmdline(p))})
            apps = [pid for pid, c in commands.items() if "demo_app" in " ".join(c)]
            receivers = [pid for pid, c in commands.items() if "otlp_receiver" in " ".join(c)]
            loading = any("bench.loadgen" in c for c in commands.values())
            if len(apps) == 2 and receivers and (when == "starting" or loading):
                break
            time.sleep(0.2)
        assert bench.poll() is None, stderr.read_text()
        assert len(apps) == 2 and receivers, commands
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=60)
    finally:
        if bench.poll() is None:
            bench.kill()
        deadline = time.monotonic() + 15  # SIGTERM'd children take a moment to exit
        while (
            leftover := [p for p in seen.values() if _running(p)]
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        for p in leftover:
            p.kill()
    err = stderr.read_text()
    assert bench.returncode == 143, err
    assert "python -m bench: stopped by SIGTERM" in err and "Traceback" not in err, err
    assert leftover == [], [commands[p.pid] for p in leftover]


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []
