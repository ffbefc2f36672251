"""The SLO dashboard's burn-rate panels draw the lines the burn alerts fire on: the fixed factors
as threshold steps and, per SLO, the cap (MAX_BAD_SHARE ÷ error budget) where it is lower.
Evaluated by real promtool on the shipped SLO rule files; the dashed overrides of every
dashboard must style at least one of their panel's series."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness import ROOT, require_binary
from slo.rules import BURN_ALERTS, MAX_BAD_SHARE
from slo.spec import load_spec
from tests.grafana import dashlib

DASHBOARD = ROOT / "grafana" / "dashboards" / "llm-slos.json"
RULES = ROOT / "prometheus" / "rules"
PANELS = {"Burn rate: page windows": "SLOFastBurn", "Burn rate: ticket windows": "SLOSlowBurn"}


def _panel(title: str) -> dashlib.Json:
    (panel,) = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["title"] == title]
    return panel


def _factors(alert: str) -> list[float]:
    (a,) = [b for b in BURN_ALERTS if b.name == alert]
    return sorted(float(c.factor) for c in a.conditions if c.factor)


@pytest.mark.parametrize("title", PANELS)
def test_burn_panel_lines_are_the_alerts_lines(title: str, tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    panel, factors = _panel(title), _factors(PANELS[title])
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps[1:]] == factors
    (cap,) = [t["expr"] for t in panel["targets"] if t["legendFormat"] == "{{slo}} cap"]
    caps = {s.name: float(MAX_BAD_SHARE) / (1 - float(s.objective)) for s in load_spec().slos}
    assert min(caps.values()) < factors[-1] < max(caps.values()), "both cases must be tested"
    expected = [
        {
            "labels": f'{{service="rag-api", slo="{name}", team="genai"}}',
            "value": round(min(cap, factors[-1]), 6),
        }
        for name, cap in caps.items()
    ]
    files = sorted(RULES.glob("slo-*.yml"))
    test = {
        "rule_files": [str(f) for f in files if f.name != "slo-alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [],
                "promql_expr_test": [
                    {
                        "expr": f"round({cap.replace('$slo', '.*')}, 0.000001)",
                        "eval_time": "5m",
                        "exp_samples": expected,
                    }
                ],
            }
        ],
    }
    path = tmp_path / "cap.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    res = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    # the alert rules compare each window with the same cap
    alerts = (RULES / "slo-alerts.yml").read_text()
    assert f"> {MAX_BAD_SHARE} / slo:error_budget:ratio" in alerts
    assert cap.startswith(f"clamp_max({MAX_BAD_SHARE} / slo:error_budget:ratio{{")


def _legends(panel: dashlib.Json) -> list[str]:
    """Legends as Grafana shows them, each `{{label}}` standing for some value."""
    return [re.sub(r"\{\{\s*\w+\s*\}\}", "x", t.get("legendFormat", "")) for t in panel["targets"]]


def test_every_regex_override_styles_a_series() -> None:
    seen = 0
    for name, dash in dashlib.load().items():
        for panel in dashlib.all_panels(dash):
            for o in panel.get("fieldConfig", {}).get("overrides", []):
                if o["matcher"]["id"] != "byRegexp":
                    continue
                seen += 1
                regex = re.compile(o["matcher"]["options"])
                assert any(regex.fullmatch(x) for x in _legends(panel)), (name, panel["title"])
    assert seen >= 3


def test_sli_panel_draws_the_objective_dashed() -> None:
    panel = _panel("SLI (1h window) and objective")
    (o,) = panel["fieldConfig"]["overrides"]
    assert "dashed" in panel["description"]
    assert o["properties"] == [
        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}
    ]
    assert [x for x in _legends(panel) if re.fullmatch(o["matcher"]["options"], x)] == [
        "x objective"
    ]
