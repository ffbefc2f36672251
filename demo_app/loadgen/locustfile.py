"""Locust user for rag-api: the realistic request mix (see `traffic.py`).

Run ONLY as its own process (importing Locust patches the interpreter with gevent; inside pytest
that hangs):

    # the scenario runner (what `make load` / `make incident` use):
    python -m demo_app.loadgen run steady
    # or Locust directly, with its web UI on :8089 (compose profile `load`):
    locust -f demo_app/loadgen/locustfile.py --host http://127.0.0.1:8000

Environment (set by the scenario runner; all optional):
- `LOADGEN_PLAN`: JSON list of stages `[{"duration": s, "rate": req_per_s}, ...]`; when set, a
  load shape drives that many requests/s per stage and the run stops at the end of the plan.
  Without it (web UI) each user sends about one request per second.
- `LOADGEN_MIX`: JSON traffic mix (default: the `mix` of scenarios.yaml).
- `LOADGEN_SEED`: seed of the request generator. `LOADGEN_PROGRESS_EVERY`: seconds between the
  compact progress lines in headless mode (default 5).

Exit code: 0 whatever the share of failed requests (an incident scenario is made of them), 1 when
the load generator itself broke: an exception in the user's code or a crashed greenlet.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, LoadTestShape, events, task
from locust import log as locust_log

try:
    from demo_app.loadgen.scenarios import Mix, load_scenarios
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from demo_app.loadgen.scenarios import Mix, load_scenarios
from demo_app.loadgen.stats import fmt_seconds, progress_line
from demo_app.loadgen.traffic import (
    FEEDBACK_NAME,
    FEEDBACK_PATH,
    RequestFactory,
    answer_of,
    classify_status,
    verdict,
)

EXIT_CRASHED = 1
_LOG = logging.getLogger(__name__)

# Each user paces itself to one request every PACE_S seconds: users = rate × PACE_S, so requests
# slower than 1 s (incidents) do not lower the offered rate until they exceed PACE_S.
PACE_S = 10.0


def _mix() -> Mix:
    raw = os.environ.get("LOADGEN_MIX")
    if raw:
        return Mix(**json.loads(raw))
    return load_scenarios().default_mix


def _plan() -> list[dict[str, float]] | None:
    raw = os.environ.get("LOADGEN_PLAN")
    if not raw:
        return None
    plan = json.loads(raw)
    return [{"duration": float(s["duration"]), "rate": float(s["rate"])} for s in plan]


MIX = _mix()
PLAN = _plan()
_SEED = os.environ.get("LOADGEN_SEED")
FACTORY = RequestFactory(MIX, seed=int(_SEED) if _SEED else None)
# Seconds between two requests of one user; the load shape updates it per stage.
STATE: dict[str, float] = {"pace": PACE_S if PLAN else 1.0, "throttled": 0, "stop": 0, "quit": 0}


class RagApiUser(HttpUser):
    """One client of rag-api, sending the mix at a steady pace."""

    def on_start(self) -> None:
        # Users start together; a random offset within one pace spreads their requests evenly.
        gevent.sleep(STATE["pace"] * FACTORY.rng.random())
        self._started = time.perf_counter()

    def wait_time(self) -> float:
        return max(0.0, STATE["pace"] - (time.perf_counter() - self._started))

    @task
    def ask(self) -> None:
        self._started = time.perf_counter()
        req = FACTORY.next()
        status, text = self._post(req.path, req.body, req.headers, req.name)
        answer = answer_of(req.stream, status, text)
        body = verdict(answer, MIX, FACTORY.rng) if answer else None
        if body is not None:  # the user rates the answer
            self._post(FEEDBACK_PATH, body, req.headers, FEEDBACK_NAME)

    def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str], name: str
    ) -> tuple[int, str]:
        with self.client.post(
            path, json=body, headers=headers, name=name, catch_response=True
        ) as resp:
            outcome = classify_status(resp.status_code)
            if outcome == "ok":
                resp.success()
            elif outcome == "throttled":
                # Our own per-tier limiter working as designed: counted, not a failure.
                STATE["throttled"] += 1
                resp.success()
            else:
                resp.failure(f"HTTP {resp.status_code}")
            return resp.status_code, resp.text or ""


if PLAN is not None:

    class ScenarioShape(LoadTestShape):
        """The runner's plan: stage after stage, `rate` requests/s, then stop."""

        last_users = 0

        def tick(self) -> tuple[int, float] | None:
            if STATE["stop"]:  # SIGTERM or Ctrl-C: end the plan, Locust quits with its summary
                return None
            t = self.get_run_time()
            for stage in PLAN:
                if t < stage["duration"]:
                    users = max(1, math.ceil(stage["rate"] * PACE_S))
                    STATE["pace"] = users / stage["rate"] if stage["rate"] > 0 else 3600.0
                    # Add or remove the whole difference within one second.
                    spawn_rate = float(max(users, abs(users - self.last_users), 1))
                    self.last_users = users
                    return users, spawn_rate
                t -= stage["duration"]
            return None

    def _stop_plan() -> None:
        STATE["stop"] = 1

    # Locust 2.x installs its own SIGTERM handler only once a shape's run has ended: until then
    # SIGTERM (the runner stopping it on Ctrl-C or SIGTERM) killed it outright, without the
    # summary, and Ctrl-C printed gevent's 'KeyboardInterrupt <timestamp>'. Both now end the plan
    # at the shape's next tick (within a second); Locust then quits as at the plan's end.
    gevent.signal_handler(signal.SIGTERM, _stop_plan)
    gevent.signal_handler(signal.SIGINT, _stop_plan)


def _headless(environment: Any) -> bool:
    opts = getattr(environment, "parsed_options", None)
    return bool(opts and getattr(opts, "headless", False))


def _print_progress(environment: Any) -> None:
    every = float(os.environ.get("LOADGEN_PROGRESS_EVERY", "5"))
    start = time.monotonic()
    while True:
        gevent.sleep(every)
        total = environment.stats.total
        p95 = total.get_current_response_time_percentile(0.95)
        print(
            progress_line(
                time.monotonic() - start,
                total.num_requests,
                total.num_failures,
                int(STATE["throttled"]),
                total.current_rps,
                (p95 or math.nan) / 1000.0,
            ),
            flush=True,
        )


@events.test_start.add_listener
def _on_start(environment: Any, **_: Any) -> None:
    if _headless(environment):
        printer = gevent.spawn(_print_progress, environment)
        # Its crash counts as the load generator's (exit code), like any greenlet of Locust's.
        printer.link_exception(locust_log.greenlet_exception_logger(_LOG))


def _crashes(environment: Any) -> list[str]:
    """What broke the load generator itself: exceptions in user code, crashed greenlets."""
    runner = environment.runner
    out = [f"{e['msg']} x{e['count']}" for e in (runner.exceptions.values() if runner else ())]
    if locust_log.unhandled_greenlet_exception:
        out.append("a Locust greenlet or event handler crashed (traceback above)")
    return out


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    # Failed requests are what an incident scenario is for: they never fail the run. A load
    # generator that broke (and may have stopped sending) does.
    crashes = _crashes(environment)
    environment.process_exit_code = EXIT_CRASHED if crashes else 0
    # Once: a SIGTERM arriving while Locust already shuts down makes it shut down again.
    if not _headless(environment) or STATE["quit"]:
        return
    STATE["quit"] = 1
    stats = environment.stats
    total = stats.total
    elapsed = max(1e-9, (total.last_request_timestamp or 0) - (total.start_time or 0))
    print(
        f"Summary: {total.num_requests} requests in {elapsed:.0f}s "
        f"({total.num_requests / elapsed:.1f}/s), failures={total.num_failures}, "
        f"throttled={int(STATE['throttled'])}, "
        f"p50={fmt_seconds(total.get_response_time_percentile(0.5) / 1000.0)} "
        f"p95={fmt_seconds(total.get_response_time_percentile(0.95) / 1000.0)} "
        f"p99={fmt_seconds(total.get_response_time_percentile(0.99) / 1000.0)}",
        flush=True,
    )
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        print(
            f"  {entry.name:<40} {entry.num_requests:>6} req {entry.num_failures:>5} fail "
            f"p95={fmt_seconds(entry.get_response_time_percentile(0.95) / 1000.0)}",
            flush=True,
        )
    for err in sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:5]:
        print(f"  error: {err.name}: {err.error} x{err.occurrences}", flush=True)
    for crash in crashes:
        print(f"  LOAD GENERATOR FAILED: {crash}", flush=True)
