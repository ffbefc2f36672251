"""bench.floor_app: the floor's calls run in every request, in the right numbers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench import floor_app
from demo_app.app import QUIET_PATHS


async def _inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    return None


def _request(app: floor_app.FloorMiddleware, path: str, kind: str = "http") -> None:
    asyncio.run(app({"type": kind, "path": path}, None, None))


def test_fractional_counts_are_spread_over_requests() -> None:
    calls = {"span": 0, "obs": 0}

    def bump(key: str) -> Any:
        return lambda: calls.__setitem__(key, calls[key] + 1)

    app = floor_app.FloorMiddleware(_inner, [(1.5, bump("span")), (14.0, bump("obs"))])
    for _ in range(4):
        _request(app, "/v1/chat")
    assert calls == {"span": 6, "obs": 56}
    # probes, scrapes and non-HTTP scopes take no share (they divide no variant's counts)
    for path in QUIET_PATHS:
        _request(app, path)
    _request(app, "/v1/chat", kind="lifespan")
    assert calls == {"span": 6, "obs": 56}


def test_counts_travel_through_the_environment() -> None:
    counts = {
        "spans": 6.0,
        "span_attributes": 9.4,
        "logs": 5.0,
        "log_attributes": 8.0,
        "observations": 14.0,
    }
    env = floor_app.counts_env(counts)
    calls = floor_app.floor_calls(env)
    assert [n for n, _ in calls] == pytest.approx([6.0, 5.0, 14.0])
    span = calls[0][1]()
    assert len(span.attributes) == 9  # rounded attribute count
    for _, call in calls[1:]:
        call()
    assert floor_app.floor_calls({})[0][0] == 0.0
