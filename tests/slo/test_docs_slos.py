"""docs/slos.md is written by hand: its tables must still say what slo/slos.yaml and the
generator's burn-rate table (slo.rules.BURN_ALERTS) say."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import yaml

from generators.config import load_config
from harness import ROOT
from slo.rules import BURN_ALERTS

DOC = (ROOT / "docs" / "slos.md").read_text()
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


@pytest.mark.parametrize("alert", sorted(BURN_ALERTS))
def test_burn_rate_row_matches_the_generator(alert: str) -> None:
    spec = BURN_ALERTS[alert]
    _, severity, fires_when, _, for_ = _row(f"`{alert}`")
    assert severity == spec["severity"]
    assert for_ == load_config().for_of(alert)
    expected = ", **or** ".join(
        f"burn({lw}) > {f} and burn({sw}) > {f}" for lw, sw, f in spec["conditions"]
    )
    assert fires_when == expected
