"""Issue 17's paging properties on the measured firing sets of the generated promtool tests.

tests/prometheus/rules/slo-properties-*.test.yml pin, probe by probe, which SLOs fire (they run
with the other promtool tests in test_rules.py). Here: those files are what the generator makes
from the measurements, and the measurements satisfy the properties, for every shipped SLO and
every objective of the table.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from slo.spec import load_spec
from tests.prometheus import slo_properties as sp
from tests.prometheus import slo_scenarios as scn

MEASURED = json.loads(sp.MEASURED_PATH.read_text())
SLOS = [s.name for s in sp.all_slos()]


def _fires(scenario: str, alert: str) -> dict[int, set[str]]:
    return {int(m): set(v) for m, v in MEASURED[scenario][alert].items()}


def test_generated_files_are_fresh() -> None:
    for path, text in sp.render(MEASURED).items():
        assert path.read_text() == text, f"{path.name} is stale: python -m {sp.__name__}"


def test_every_shipped_slo_has_series_and_every_scenario_was_measured() -> None:
    assert set(sp.SHIPPED) == {s.name for s in load_spec().slos}
    assert set(MEASURED) == {sc.name for sc in (*scn.SHORT, *scn.DAY)}
    assert {s.objective for s in sp.table_slos()} >= {Decimal("0.9"), Decimal("0.9999")}


def detection_and_reset(slo: str) -> tuple[int, int]:
    return sp.outage_times(MEASURED, slo)


def test_docs_quote_the_measurements() -> None:
    assert sp.doc_section(MEASURED) in sp.DOC_PATH.read_text()


@pytest.mark.parametrize("slo", SLOS)
def test_1_total_outage_pages_within_5_minutes(slo: str) -> None:
    fires = _fires("outage", "SLOFastBurn")
    assert slo not in fires[scn.OUTAGE_START - 5], "paged before the outage"
    assert detection_and_reset(slo)[0] <= 5
    assert all(slo in s for m, s in fires.items() if scn.OUTAGE_START + 5 <= m <= scn.OUTAGE_END)


@pytest.mark.parametrize("slo", SLOS)
def test_4_page_resolves_within_10_minutes_of_recovery(slo: str) -> None:
    assert detection_and_reset(slo)[1] <= 10


def test_2_one_alert_per_slo_during_an_outage() -> None:
    # the page is one alert per SLO (outage and burn pairs are one rule); tickets stay quiet
    for alert in ("SLOSlowBurn", "SLOTrafficStopped", "SLIMetricsAbsent"):
        assert not any(_fires("outage", alert).values()), alert


def test_3_sustained_2x_burn_never_pages_but_tickets_once_history_is_full() -> None:
    assert not any(_fires("burn-2x", "SLOFastBurn").values())
    assert not any(_fires("burn-2x-3d", "SLOFastBurn").values())
    ticket = _fires("burn-2x-3d", "SLOSlowBurn")
    assert ticket[max(ticket)] == set(SLOS)


@pytest.mark.parametrize("scenario", ["burn-0.5x", "low-traffic", "low-traffic-1d"])
def test_3_half_burn_and_one_failure_at_low_traffic_raise_nothing(scenario: str) -> None:
    checked = {a: fires for a, fires in MEASURED[scenario].items() if a in scn.ALL_ALERTS}
    assert {"SLOFastBurn", "SLOSlowBurn"} <= set(checked), "the burn alerts were probed"
    for alert, fires in checked.items():
        assert fires and not any(fires.values()), alert


def test_3_the_low_traffic_failure_is_a_real_burn_the_guards_hold_back() -> None:
    key = next(iter(scn.WITNESSES["low-traffic"]))
    assert any(_fires("low-traffic", key).values())


def test_5_stopped_traffic_raises_a_ticket_only_when_traffic_is_expected() -> None:
    fires = _fires("traffic-stops", "SLOTrafficStopped")
    first_day = [s for m, s in fires.items() if m < scn.D]  # no "same hour yesterday" yet
    assert not any(first_day)
    assert fires[max(fires)] == set(SLOS)
    assert not any(_fires("traffic-stops", "SLOFastBurn").values())
    assert not any(_fires("traffic-stops", "SLIMetricsAbsent").values())  # series still there


def test_6_young_prometheus_holds_back_the_slow_burn_ticket() -> None:
    key = next(iter(scn.WITNESSES["burn-2x"]))
    assert _fires("burn-2x", key)[7 * scn.H] == set(SLOS)  # the burn condition holds ...
    assert not any(_fires("burn-2x", "SLOSlowBurn").values())  # ... but 7h < 3d of history
    early = _fires("burn-2x-3d", "SLOSlowBurn")
    assert not any(s for m, s in early.items() if m < 3 * scn.D)
