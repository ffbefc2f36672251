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
from slo import rules
from slo.spec import HistogramSLI, load_spec
from tests.e2e.harness import (
    SLI_HISTORY_HOURS,
    backfill_history,
    render_alertmanager_config,
    sli_history,
)

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


def test_history_backfill_is_readable_by_promtool(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    data = tmp_path / "data"
    now = time.time()
    backfill_history(data, 8.0, 4.0, now)
    out = subprocess.run(
        [promtool, "tsdb", "list", str(data)], capture_output=True, text=True, check=True
    )
    rows = [line.split() for line in out.stdout.strip().splitlines()[1:]]
    assert rows, out.stdout
    # BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
    sli = len(sli_history(4.0))
    samples = 25 * 60 + sli * SLI_HISTORY_HOURS * 60  # one sample a minute each
    assert sum(int(r[4]) for r in rows) == samples, out.stdout
    # history, not the present: Prometheus's head starts after the blocks
    assert max(int(r[2]) for r in rows) / 1000 <= now - 10, out.stdout
    # every page window holds a running stack's past
    page = next(a for a in rules.BURN_ALERTS if a.severity == "page")
    longest = max(rules.SECONDS[w] for c in page.conditions for w in c.windows)
    assert longest < SLI_HISTORY_HOURS * 3600


def test_history_feeds_every_sli_with_healthy_counters() -> None:
    """Each shipped SLO's recorded total reads the backfilled series (no error ones)."""
    names = {name.split("{", 1)[0] for name, _ in sli_history(1.0)}
    for slo in load_spec().slos:
        sli = slo.sli
        total = sli.total("5m") if isinstance(sli, HistogramSLI) else sli.total_query
        assert any(n in total for n in names), slo.name
    assert all(per_min > 0 for n, per_min in sli_history(1.0) if "_count{" in n)
    assert not any('error_type="' in n and 'error_type=""' not in n for n, _ in sli_history(1.0))
