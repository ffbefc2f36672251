"""bench.common's interleaved rounds: the load order every benchmark uses (no load is run)."""

from __future__ import annotations

from collections import Counter
from itertools import permutations
from typing import Any

import pytest

from bench import common


def test_two_apps_swap_places_every_round() -> None:
    """Rotation alone, or rotation plus reversal, would load `on` first in every round."""
    firsts = [common.round_order([["on"], ["off"]], r)[0] for r in range(4)]
    assert firsts == ["on", "off", "off", "on"]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_every_app_takes_every_place_alike(n: int) -> None:
    apps = [chr(ord("a") + i) for i in range(n)]
    orders = [common.round_order([[a] for a in apps], r) for r in range(2 * n)]
    places = Counter((i, app) for order in orders for i, app in enumerate(order))
    assert sorted(orders[0]) == apps and all(sorted(o) == apps for o in orders)
    assert set(places.values()) == {2}, places
    if n == 3:
        assert {tuple(o) for o in orders} == set(permutations(apps))


def test_groups_stay_together_and_alternate_inside() -> None:
    groups = [("a on", "a off"), ("b on", "b off"), ("c on", "c off")]
    for r in range(6):
        order = common.round_order(groups, r)
        for on, off in groups:
            assert order.index(off) - order.index(on) == (1 if r % 2 == 0 else -1), (r, order)


def test_load_in_turns_measures_each_app_once_a_round_in_that_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def measure(label: str, proc: Any, **load: Any) -> common.Segment:
        calls.append((label, load))
        return common.Segment(label, {"throughput_rps": 1, "p99_ms": 1, "statuses": {}}, 0.0)

    monkeypatch.setattr(common, "measure", measure)
    monkeypatch.setattr(common, "wait_quiet", lambda seconds: None)
    ends: list[int] = []
    apps: dict[str, Any] = {"x": None, "y": None, "z": None}
    segments = common.load_in_turns(
        "t", apps, 3, lambda: ends.append(len(calls)), duration=1.0, concurrency=2
    )
    expected = [n for r in range(3) for n in common.round_order([["x"], ["y"], ["z"]], r)]
    assert [label for label, _ in calls] == expected
    assert all(load == {"duration": 1.0, "concurrency": 2} for _, load in calls)
    assert ends == [3, 6, 9]
    assert {k: [s.label for s in v] for k, v in segments.items()} == {k: [k] * 3 for k in apps}
