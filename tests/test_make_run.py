"""`make run` (README: rag-api without Docker) serves the load scripts' demo keys by default,
and an operator's own API_KEYS instead of them when set."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from genai_telemetry import semconv as sc
from harness import ROOT, free_port
from harness.procs import Proc


@contextmanager
def _make_run(tmp: Path, api_keys: str | None) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "API_KEYS"}
    env.update(PORT=str(port), SIM_LATENCY_SCALE="0", OTEL_SDK_DISABLED="true")
    if api_keys is not None:
        env["API_KEYS"] = api_keys
    log_path = tmp / "make-run.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            ["make", "-s", "--no-print-directory", "run"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    proc = Proc("make run", popen, port, log_path)
    try:
        proc.wait_ready("/readyz", timeout=60)  # an early exit fails at once, with make's output
        yield proc.url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGTERM)  # make and the app it started
        popen.wait(timeout=15)


def _tiers(url: str, keys: list[str]) -> set[str]:
    """The user tiers the cost metric records after one chat with each key."""
    for key in keys:
        question = {"question": f"hello from {key}"}  # distinct: no cached answer, a priced call
        r = httpx.post(f"{url}/v1/chat", json=question, headers={"X-API-Key": key})
        assert r.status_code == 200, r.text
    return {
        sample.labels[sc.L_USER_TIER]
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        for sample in family.samples
        if sample.name == sc.LLM_COST
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
