"""`make run` (README: rag-api without Docker) serves the load scripts' demo keys by default,
and an operator's own API_KEYS instead of them when set."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from genai_telemetry import semconv as sc
from harness import ROOT, free_port, poll


@contextmanager
def _make_run(tmp: Path, api_keys: str | None) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "API_KEYS"}
    env.update(PORT=str(port), SIM_LATENCY_SCALE="0", OTEL_SDK_DISABLED="true")
    if api_keys is not None:
        env["API_KEYS"] = api_keys
    log = (tmp / "make-run.log").open("wb")
    proc = subprocess.Popen(
        ["make", "-s", "--no-print-directory", "run"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        poll("make run serves /readyz", lambda: httpx.get(f"{url}/readyz").status_code == 200, 60)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the app it started
        proc.wait(timeout=15)
        log.close()


def _tiers(url: str, keys: list[str]) -> set[str]:
    """The user tiers the cost metric records after one chat with each key."""
    for key in keys:
        r = httpx.post(
            f"{url}/v1/chat", json={"question": f"hello from {key}"}, headers={"X-API-Key": key}
        )
        assert r.status_code == 200, r.text
    text = httpx.get(f"{url}/metrics").text
    label = f'{sc.L_USER_TIER}="'
    return {
        line.split(label, 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith(sc.LLM_COST + "{") and label in line
    }


@pytest.mark.parametrize(
    ("api_keys", "keys", "tiers"),
    [
        (None, ["demo-pro-key", "demo-enterprise-key"], {"pro", "enterprise"}),
        ("own-key:enterprise", ["demo-pro-key", "own-key"], {"free", "enterprise"}),
    ],
    ids=["demo keys by default", "API_KEYS wins"],
)
def test_make_run_keys(
    tmp_path: Path, api_keys: str | None, keys: list[str], tiers: set[str]
) -> None:
    with _make_run(tmp_path, api_keys) as url:
        assert _tiers(url, keys) == tiers
