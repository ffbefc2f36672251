"""The traffic scenarios of the SLO property tests (tests/prometheus/slo_properties.py): what
every SLO is fed, in its own budget, and when promtool is asked which alerts fire."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

RATE = 600  # events per minute (10/s) at "normal traffic"
LOW_RATE = Decimal("0.2")  # events per minute: 12 an hour, below every min_events_for_paging


@dataclass(frozen=True)
class Shape:
    """Segments of (events per sample, burn, samples); bad = burn x budget x events. A burn of
    "all" makes every event bad, "one" adds a single bad event, "stop" freezes the counters."""

    segments: tuple[tuple[Decimal, Decimal | str, int], ...]


def _d(v: str | int) -> Decimal:
    return Decimal(str(v))


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    shape: Shape
    interval_min: int  # sample spacing
    eval_min: int  # evaluation interval
    probes: dict[str, tuple[int, ...]]  # alertname → probe minutes
    # alertname → minutes: that probe asks "fired at any evaluation of the last N minutes", so
    # evenly spaced probes cover the whole run, not only the probe instants
    cover: dict[str, int] = field(default_factory=dict)


def _span(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


H = 60
D = 24 * H
R = _d(RATE)
ALL_ALERTS = ("SLOFastBurn", "SLOSlowBurn", "SLOTrafficStopped", "SLIMetricsAbsent")

# Short scenarios: 1m samples and evaluation. 6h of healthy history before any fault, so the
# longest page window (6h) is full, as in a running stack.
OUTAGE_START, OUTAGE_END = 6 * H, 6 * H + 30
SHORT = (
    Scenario(
        "outage",
        "6h healthy, then every event bad for 30 minutes, then healthy again",
        Shape(((R, _d(0), OUTAGE_START), (R, "all", 30), (R, _d(0), 30))),
        1,
        1,
        {
            "SLOFastBurn": (
                OUTAGE_START - 5,
                *_span(OUTAGE_START, OUTAGE_START + 12, 1),
                OUTAGE_START + 20,
                *_span(OUTAGE_END, OUTAGE_END + 15, 1),
            ),
            "SLOSlowBurn": (OUTAGE_START + 20, OUTAGE_END + 15),
            "SLOTrafficStopped": (OUTAGE_START + 20,),
            "SLIMetricsAbsent": (OUTAGE_START - 5, OUTAGE_START + 20),
        },
    ),
    Scenario(
        "burn-2x",
        "a sustained 2x burn for 7h (the 6h window full of it)",
        Shape(((R, _d(2), 7 * H),)),
        1,
        2,
        {"SLOFastBurn": _span(30, 7 * H, 30), "SLOSlowBurn": _span(60, 7 * H, 60)},
        {"SLOFastBurn": 30, "SLOSlowBurn": 60},
    ),
    Scenario(
        "burn-0.5x",
        "a sustained 0.5x burn for 7h",
        Shape(((R, _d("0.5"), 7 * H),)),
        1,
        2,
        {a: _span(60, 7 * H, 60) for a in ALL_ALERTS},
        dict.fromkeys(ALL_ALERTS, 60),
    ),
    Scenario(
        "low-traffic",
        "12 events an hour, healthy, and ONE bad event at 5h",
        Shape(((LOW_RATE, _d(0), 5 * H), (LOW_RATE, "one", 1), (LOW_RATE, _d(0), 2 * H))),
        1,
        2,
        {a: _span(5 * H, 7 * H, 30) for a in ("SLOFastBurn", "SLOSlowBurn", "SLOTrafficStopped")},
        dict.fromkeys(("SLOFastBurn", "SLOSlowBurn", "SLOTrafficStopped"), 30),
    ),
)

# Day-scale scenarios: 10m evaluation, 2m samples (field notes: spacing <= window/2).
DAY = (
    Scenario(
        "burn-2x-3d",
        "a sustained 2x burn for 3d 2h: the ticket waits for a full 3d window, pages never",
        Shape(((R * 2, _d(2), (3 * D + 2 * H) // 2),)),
        2,
        10,
        {
            "SLOSlowBurn": (2 * D, *_span(3 * D - H, 3 * D + 2 * H, 10)),
            "SLOFastBurn": _span(6 * H, 3 * D + 2 * H, 6 * H),
        },
        {"SLOFastBurn": 6 * H},
    ),
    Scenario(
        "low-traffic-1d",
        "12 events an hour for 1d 3h, ONE bad event at 1d 1h (the 1d window is full)",
        Shape(
            (
                (LOW_RATE * 2, _d(0), (D + H) // 2),
                (LOW_RATE * 2, "one", 1),
                (LOW_RATE * 2, _d(0), H),
            )
        ),
        2,
        10,
        {a: _span(D + H, D + 3 * H, 20) for a in ("SLOFastBurn", "SLOSlowBurn")},
        {"SLOFastBurn": 20, "SLOSlowBurn": 20},
    ),
    Scenario(
        "traffic-stops",
        "normal traffic for 1d 1h (flat for an hour at 12h: no yesterday yet), then the "
        "counters stop moving while the series stay",
        Shape(
            (
                (R * 2, _d(0), 12 * H // 2),
                (R * 2, "stop", H // 2),
                (R * 2, _d(0), 12 * H // 2),
                (R * 2, "stop", H),
            )
        ),
        2,
        10,
        {
            "SLOTrafficStopped": (*_span(12 * H + 30, 13 * H, 10), *_span(D + H, D + 2 * H, 10)),
            "SLOFastBurn": (D + 90, D + 2 * H),
            "SLIMetricsAbsent": (D + 2 * H,),
        },
    ),
)

# Extra PromQL, measured like the alerts: the raw burn condition an alert's guard holds back.
WITNESSES: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {
    "burn-2x": {
        "slow-burn condition (3d/6h > 1x) without the history guard": (
            "slo:burn_rate:rate3d > 1 and slo:burn_rate:rate6h > 1",
            (7 * H,),
        ),
    },
    "low-traffic": {
        "fast-burn condition (1h/5m > 14.4x) without the event guards": (
            "slo:burn_rate:rate1h > 14.4 and slo:burn_rate:rate5m > 14.4",
            (5 * H + 2,),
        ),
    },
}
