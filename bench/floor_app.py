"""rag-api with its telemetry off and the contract's floor run inside every request.

`bench peers` times the floor (bench.floor's bare SDK calls: recording spans and log records
with no processor, histogram observations with an exemplar) twice: in a tight loop of its own
process, and here, inside the app under the same HTTP load as the other variants. Under that
load every call of an app costs more than in a tight loop (measured: 2–3x for the floor's own
calls, docs/performance.md §2), its telemetry's included. Run in the request, the floor pays
the same, so its CPU per request minus rag-api off's is the floor measured as the telemetry
is.

    FLOOR_SPANS=6 FLOOR_SPAN_ATTRIBUTES=9 FLOOR_LOGS=5 FLOOR_LOG_ATTRIBUTES=8 \\
    FLOOR_OBSERVATIONS=16 TELEMETRY_ENABLED=false python -m bench.floor_app --port 8002

Counts are per request (fractions are spread over requests); every request but the probes and
scrapes (QUIET_PATHS) takes its share, as every request sent divides the other variants' counts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from bench import floor
from demo_app.__main__ import main as serve
from demo_app.app import QUIET_PATHS

# name of the count → environment variable
VARIABLES = {
    "spans": "FLOOR_SPANS",
    "span_attributes": "FLOOR_SPAN_ATTRIBUTES",
    "logs": "FLOOR_LOGS",
    "log_attributes": "FLOOR_LOG_ATTRIBUTES",
    "observations": "FLOOR_OBSERVATIONS",
}


def counts_env(counts: Mapping[str, float]) -> dict[str, str]:
    """The environment that asks for `counts` (keys of VARIABLES)."""
    return {var: f"{counts[name]:.4f}" for name, var in VARIABLES.items()}


def floor_calls(environ: Mapping[str, str]) -> list[tuple[float, Callable[[], object]]]:
    """(calls per request, call) of the floor, from the FLOOR_* variables."""
    counts = {name: float(environ.get(var, "0")) for name, var in VARIABLES.items()}
    return [
        (counts["spans"], floor.span_lifecycle(round(counts["span_attributes"]), recording=True)),
        (counts["logs"], floor.log_emit(round(counts["log_attributes"]))),
        (counts["observations"], floor.observe_one()),
    ]


class FloorMiddleware:
    """ASGI middleware: after each request, that request's share of the floor calls."""

    def __init__(self, app: Any, calls: list[tuple[float, Callable[[], object]]]) -> None:
        self.app = app
        self.calls = calls
        self.carry = [0.0] * len(calls)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            return
        for i, (per_request, call) in enumerate(self.calls):
            self.carry[i] += per_request
            while self.carry[i] >= 1.0:
                call()
                self.carry[i] -= 1.0


def main(argv: list[str] | None = None) -> int:
    calls = floor_calls(os.environ)
    return serve(argv, wrap=lambda app: FloorMiddleware(app, calls))


if __name__ == "__main__":
    sys.exit(main())
