"""Real runs: the CLI drives Locust (a subprocess) against a real rag-api over loopback.

Checks the traffic really has the advertised mix (from the app's own /metrics), the faults are
set during the run and cleared afterwards, and Ctrl-C / SIGTERM still clear them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from genai_telemetry import semconv
from harness import ROOT, wait_until
from harness.procs import Proc, start_rag_api

TOKEN = "loadgen-test-token"
PROGRESS = re.compile(
    r"^\[\s*\d+s\] requests=\d+ failures=\d+ \([\d.]+%\) throttled=\d+ rps=[\d.]+ p95=\S+$", re.M
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    tmp = tmp_path_factory.mktemp("loadgen-app")
    with start_rag_api(tmp, env={"ADMIN_TOKEN": TOKEN, "SIM_LATENCY_SCALE": "0.02"}) as proc:
        yield proc


def _faults(app: Proc) -> dict[str, float]:
    r = httpx.get(f"{app.url}/admin/faults", headers={"Authorization": f"Bearer {TOKEN}"})
    r.raise_for_status()
    return r.json()


def _metrics(app: Proc) -> dict[str, float]:
    out = {}
    for line in httpx.get(f"{app.url}/metrics").text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def _sum(metrics: dict[str, float], name: str, **labels: str) -> float:
    total = 0.0
    for key, value in metrics.items():
        if key.split("{", 1)[0] != name:
            continue
        if all(f'{k}="{v}"' in key for k, v in labels.items()):
            total += value
    return total


def _cli(*args: str, **kw) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_TOKEN"}
    return subprocess.Popen(
        [sys.executable, "-m", "demo_app.loadgen", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def test_locust_run_sends_the_mix_sets_and_clears_faults(app: Proc) -> None:
    before = _metrics(app)
    proc = _cli(
        "run", "error-burst", "--host", app.url, "--admin-token", TOKEN,
        "--duration", "12", "--rate", "8", "--seed", "4",
    )  # fmt: skip
    seen_fault = wait_until(lambda: _faults(app)["error_rate"] == 0.3, 30, every=0.2)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert seen_fault, out
    assert PROGRESS.search(out), out
    assert "Summary:" in out and "HTTP 502" in out and "Faults cleared." in out, out
    assert _faults(app) == {
        "error_rate": 0.0,
        "rate_limit_rate": 0.0,
        "latency_multiplier": 1.0,
        "extra_ttft_seconds": 0.0,
        "output_token_multiplier": 1.0,
        "retrieval_degradation": 0.0,
        "tool_error_rate": 0.0,
    }

    after = _metrics(app)

    def delta(name: str, **labels: str) -> float:
        return _sum(after, name, **labels) - _sum(before, name, **labels)

    http = semconv.HTTP_SERVER_DURATION + "_count"
    chat = delta(http, http_route="/v1/chat")
    stream = delta(http, http_route="/v1/chat/stream")
    assert chat > 0 and stream > 0, "both streamed and plain chats are sent"
    assert 0.1 < stream / (chat + stream) < 0.6  # ~30% streamed
    assert 40 <= chat + stream <= 200, f"~8 req/s for 12 s, got {chat + stream}"
    assert delta(http, http_route="/v1/chat", http_response_status_code="502") > 0
    assert delta(semconv.LLM_CACHE_LOOKUPS, result="hit") > 0, "repeated questions hit the cache"
    op_count = semconv.GENAI_OPERATION_DURATION + "_count"
    assert delta(op_count, gen_ai_operation_name=semconv.OP_EXECUTE_TOOL) > 0, "tool path"
    assert delta(op_count, gen_ai_operation_name="chat", error_type="server_error") > 0
    models = {
        m
        for m in ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash")
        if delta(op_count, gen_ai_operation_name="chat", gen_ai_request_model=m) > 0
    }
    assert len(models) >= 3, models
    for tier in semconv.USER_TIERS:
        assert delta(semconv.LLM_COST, user_tier=tier) > 0, f"tier {tier} sends traffic"
    assert delta(semconv.LLM_UNPRICED_TOKENS) == 0, "steady mixes never use unpriced models"


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-c twice", "sigterm"])
def test_interrupt_still_clears_faults(app: Proc, how: str) -> None:
    proc = _cli(
        "run", "rate-limit-storm", "--host", app.url, "--admin-token", TOKEN,
        "--duration", "300", "--rate", "4",
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )  # fmt: skip
    try:
        assert wait_until(lambda: _faults(app)["rate_limit_rate"] == 0.4, 30, every=0.2)
        time.sleep(4)  # Locust is up and sending
        if how.startswith("ctrl-c"):
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole group
            if how == "ctrl-c twice":  # an impatient user, while Locust ends its plan
                time.sleep(0.05)
                os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)  # a process manager stops the runner only
        out, _ = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out
    assert "Faults cleared." in out, out
    assert _faults(app)["rate_limit_rate"] == 0.0
    # Locust ended its plan and printed what it sent (it was killed outright, silently, until its
    # shape's run ended: Locust installs its own SIGTERM handler only then), without gevent's
    # 'KeyboardInterrupt <timestamp>' lines.
    assert "Summary:" in out and "HTTP 503" in out, out
    assert "KeyboardInterrupt" not in out, out
    # The runner waited for Locust (a second Ctrl-C did not make it leave Locust running).
    assert out.index("Summary:") < out.index("Faults cleared."), out
    # Locust went down with the runner (no orphan still sending traffic).
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_builtin_driver_run(app: Proc) -> None:
    proc = _cli(
        "run", "quality-drop", "--host", app.url, "--admin-token", TOKEN,
        "--duration", "8", "--rate", "6", "--driver", "builtin",
    )  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert PROGRESS.search(out) and "Summary:" in out and "Faults cleared." in out, out
    assert _faults(app)["retrieval_degradation"] == 0.0


def test_locustfile_runs_without_a_plan(app: Proc, tmp_path: Path) -> None:
    """The compose `loadgen` service runs Locust on the locustfile directly (no runner)."""
    locustfile = ROOT / "demo_app" / "loadgen" / "locustfile.py"
    out = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--host", app.url, "-u", "3", "-r", "3", "-t", "4s", "--only-summary",
            "--json-file", str(tmp_path / "stats"),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Summary:" in out.stdout, out.stdout + out.stderr


# The real locustfile with one bug injected: each answer's verdict raises (an exception in the
# user's code), or an event handler of Locust's crashes.
BROKEN_LOCUSTFILE = """\
import sys
sys.path.insert(0, {root!r})
from locust import events
from demo_app.loadgen import locustfile as real
from demo_app.loadgen.locustfile import *  # the real user, load shape and listeners

def broken(*args, **kwargs):
    raise RuntimeError("injected load generator bug")

if {where!r} == "user":
    real.verdict = broken
else:
    events.test_start.add_listener(broken)
"""


@pytest.mark.parametrize("where", ["user", "listener"])
def test_a_broken_load_generator_fails_the_run(
    app: Proc,
    tmp_path: Path,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from demo_app.loadgen.__main__ import main

    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(BROKEN_LOCUSTFILE.format(root=str(ROOT), where=where))
    monkeypatch.setattr("demo_app.loadgen.runner.LOCUSTFILE", locustfile)
    argv = ["run", "quality-drop", "--host", app.url, "--admin-token", TOKEN]
    assert main([*argv, "--duration", "4", "--rate", "4"]) == 1
    out, err = capfd.readouterr()
    # The bug's own traceback is Locust's to show; the runner ends on one clear line.
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: Locust exited with code 1: the load generator failed"), err
    assert "LOAD GENERATOR FAILED" in out, out
    if where == "user":
        assert "injected load generator bug x" in out, out
    assert "Faults cleared." in out and _faults(app)["retrieval_degradation"] == 0.0


def test_a_scenario_without_faults_leaves_someone_elses_faults_alone(app: Proc) -> None:
    """`make load` (steady) beside an incident: the incident's faults stay as they are."""
    from demo_app.loadgen.runner import AppClient

    admin = AppClient(app.url, TOKEN)
    admin.set_faults({"error_rate": 0.2})
    try:
        proc = _cli(
            "run", "steady", "--host", app.url, "--admin-token", TOKEN,
            "--duration", "2", "--rate", "4", "--driver", "builtin",
        )  # fmt: skip
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert "fault profile is left as it is" in out and "Faults cleared." not in out, out
        assert _faults(app)["error_rate"] == 0.2
    finally:
        admin.clear_faults()


def test_run_plays_a_scenario_of_ones_own_file(app: Proc, tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(
        (ROOT / "demo_app" / "loadgen" / "scenarios.yaml")
        .read_text()
        .replace("faults: {error_rate: 0.3}", "faults: {error_rate: 0.45}")
    )
    proc = _cli(
        "run", "error-burst", "--scenarios", str(own), "--host", app.url,
        "--admin-token", TOKEN, "--duration", "6", "--rate", "4", "--driver", "builtin",
    )  # fmt: skip
    seen = wait_until(lambda: _faults(app)["error_rate"] == 0.45, 30, every=0.2)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and seen, out
    assert "faults: error_rate=0.45" in out and "Faults cleared." in out, out
