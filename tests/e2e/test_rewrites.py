"""The e2e tier may only rewrite hosts, ports and demo intervals of the shipped configs."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import require_binary
from harness.procs import ALERTMANAGER_CONFIG
from tests.e2e.harness import backfill_cost_baseline, render_alertmanager_config

pytestmark = pytest.mark.e2e  # part of `make e2e`; fast

INTERVAL_KEYS = {"group_wait", "group_interval"}


def _strip(node: Any) -> Any:
    """The config without the keys the e2e tier may rewrite."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in INTERVAL_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def test_alertmanager_rewrite_touches_only_webhook_host_and_group_timings(tmp_path: Path) -> None:
    shipped = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    text = render_alertmanager_config("http://127.0.0.1:5555")
    rendered = yaml.safe_load(text)
    assert "rag-api:8000" not in text and "http://127.0.0.1:5555/v1/alerts" in text
    expected = yaml.safe_load(
        yaml.safe_dump(shipped).replace("http://rag-api:8000", "http://127.0.0.1:5555")
    )
    assert _strip(rendered) == _strip(expected)

    def timings(route: dict[str, Any]) -> list[tuple[str, str]]:
        out = [(route["group_wait"], route["group_interval"])]
        for child in route.get("routes", []):
            out += timings(child)
        return out

    assert set(timings(rendered["route"])) == {("1s", "2s")}
    # Still a valid config for the real Alertmanager (templates resolved next to the shipped file).
    amtool = require_binary("amtool")
    cfg = tmp_path / "alertmanager.yml"
    rendered["templates"] = [str(ALERTMANAGER_CONFIG.parent / t) for t in rendered["templates"]]
    cfg.write_text(yaml.safe_dump(rendered))
    out = subprocess.run([amtool, "check-config", str(cfg)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cost_baseline_backfill_is_readable_by_promtool(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    data = tmp_path / "data"
    backfill_cost_baseline(data, 8.0, time.time())
    out = subprocess.run(
        [promtool, "tsdb", "list", str(data)], capture_output=True, text=True, check=True
    )
    rows = [line.split() for line in out.stdout.strip().splitlines()[1:]]
    assert rows, out.stdout
    # BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
    assert sum(int(r[4]) for r in rows) == 25 * 60, out.stdout  # one sample a minute for 25 h
    assert all(r[6] == "1" for r in rows), out.stdout  # one series: the spend recording
    assert max(int(r[2]) for r in rows) / 1000 < time.time() - 60  # history, not the present
