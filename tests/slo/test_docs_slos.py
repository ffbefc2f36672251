"""docs/slos.md is written by hand: its tables must still say what slo/slos.yaml and the
generator's burn-rate table (slo.rules.BURN_ALERTS, the profiles of genai-obs.yaml) say."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import yaml

from harness import ROOT
from slo.rules import ALERT_NAMES, BURN_ALERTS, describe
from tests.test_docs import heading_anchors

DOC = (ROOT / "docs" / "slos.md").read_text()
PROFILES = yaml.safe_load((ROOT / "genai-obs.yaml").read_text())["profiles"]


def _for(profile: str, alert: str) -> str:
    return PROFILES[profile]["for"][alert]


SPEC = yaml.safe_load((ROOT / "slo" / "slos.yaml").read_text())["slos"]


def _pct(value: float) -> str:
    return f"{Decimal(str(value)) * 100:f}".rstrip("0").rstrip(".") + "%"


def _row(first_cell: str) -> list[str]:
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in DOC.splitlines()
        if line.startswith("|")
    ]
    found = [r for r in rows if r[0].endswith(first_cell)]
    assert len(found) == 1, f"docs/slos.md: expected one table row for {first_cell}: {found}"
    return found[0]


def test_every_shipped_slo_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r'<a id="([a-z0-9-]+)"></a>`\1`', DOC))
    assert len(SPEC) >= 5
    assert documented == {s["name"] for s in SPEC}


@pytest.mark.parametrize("slo", SPEC, ids=lambda s: s["name"])
def test_slo_row_matches_the_spec(slo: dict) -> None:
    cells = _row(f"`{slo['name']}`")
    _, good_total, objective, budget, period = cells
    assert objective == _pct(slo["objective"])
    assert budget == _pct(1 - Decimal(str(slo["objective"])))
    assert period == slo["period"]
    histogram = slo["sli"].get("histogram")
    if histogram:
        assert f"{histogram['threshold']:g}" in good_total, "threshold in the good/total text"
        assert f'le="{histogram["threshold"]:g}"' in DOC, "listed among the bucket bounds"


@pytest.mark.parametrize("alert", [a.name for a in BURN_ALERTS])
def test_burn_rate_row_matches_the_generator(alert: str) -> None:
    spec = next(a for a in BURN_ALERTS if a.name == alert)
    _, severity, fires_when, demo, production = _row(f"`{alert}`")
    assert severity == spec.severity
    assert (demo, production) == (_for("demo", alert), _for("production", alert))
    assert fires_when == "; ".join(describe(c) for c in spec.conditions)


BURN_NAMES = {a.name for a in BURN_ALERTS}


@pytest.mark.parametrize("alert", [n for n in ALERT_NAMES if n not in BURN_NAMES])
def test_ticket_rows_match_the_generator(alert: str) -> None:
    _, severity, _, demo, production = _row(f"`{alert}`")
    assert (severity, demo, production) == (
        "ticket",
        _for("demo", alert),
        _for("production", alert),
    )


def _anchors(text: str) -> set[str]:
    return heading_anchors(text) | set(re.findall(r'<a id="([^"]+)"></a>', text))


@pytest.mark.parametrize("slo", SPEC, ids=lambda s: s["name"])
def test_slo_runbook_link_resolves(slo: dict) -> None:
    """`runbook:` of slo/slos.yaml becomes `slo_runbook` on every SLO alert (links.docs_url): a
    repository path must exist and its #anchor name a heading or an `<a id>` there."""
    path, _, anchor = slo["runbook"].partition("#")
    if re.match(r"[a-z]+://", path):
        return
    target = ROOT / path
    assert target.is_file(), f"{slo['name']}: runbook {path} does not exist"
    assert not anchor or anchor in _anchors(target.read_text()), f"{slo['name']}: no #{anchor}"
