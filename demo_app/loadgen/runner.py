"""Run a scenario: set its faults phase by phase, drive its traffic, ALWAYS clear the faults.

A scenario without faults (steady, cost-spike, guardrail-probe, traffic-spike) never touches them.

The traffic comes from Locust (default; a subprocess running `locustfile.py` headless) or from
the in-process asyncio driver (`--driver builtin`). Ctrl-C and SIGTERM stop the traffic and
still clear the faults before exiting.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from demo_app.loadgen.scenarios import Scenario

DEFAULT_HOST = "http://127.0.0.1:8000"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
EXIT_TRAFFIC_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Printer = Callable[[str], None]


class LoadgenError(Exception):
    """A problem the operator can fix (stack not up, token missing, ...); exit code 2."""


class TrafficError(Exception):
    """The traffic driver broke (Locust crashed or its users raised); exit code 1."""


class Interrupted(BaseException):
    """SIGTERM (or Ctrl-C) arrived: stop traffic, clear faults, exit."""


# --- rag-api control -----------------------------------------------------------------------------
class AppClient:
    """Readiness check and /admin/faults of one rag-api."""

    def __init__(self, host: str, token: str | None, timeout: float = 5.0):
        self.host = host.rstrip("/")
        self.token = token
        self.timeout = timeout

    def check_up(self) -> None:
        url = f"{self.host}/readyz"
        try:
            r = httpx.get(url, timeout=self.timeout)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            # `localhost:8000` without a scheme is a typo to name, not a stack that is down.
            raise LoadgenError(
                f"--host {self.host!r} is not a valid URL ({exc}); e.g. {DEFAULT_HOST}"
            ) from None
        except httpx.HTTPError as exc:
            raise LoadgenError(
                f"rag-api is not reachable at {url} ({type(exc).__name__}: {exc or 'no answer'}).\n"
                "Is the stack up? Start it with `make up` (or only the app with `make run`), "
                "or point --host at a running rag-api."
            ) from None
        if r.status_code == 404:  # a server answers, but /readyz is not a rag-api's
            raise LoadgenError(
                f"no rag-api at {self.host} ({url} → HTTP 404): --host is rag-api's base URL, "
                f"without a path (e.g. {DEFAULT_HOST})"
            )
        if r.status_code != 200:
            raise LoadgenError(
                f"rag-api at {url} is not ready (HTTP {r.status_code}); wait for `make up` to "
                "report healthy and retry."
            )

    def chat_models(self) -> tuple[str, ...]:
        """The chat models the app serves: the `model` enum of its published OpenAPI document
        (the simulated catalog's, or OPENAI_MODEL on a real provider)."""
        url = f"{self.host}/openapi.json"
        try:
            r = httpx.get(url, timeout=self.timeout)
            r.raise_for_status()
            model = r.json()["components"]["schemas"]["ChatRequestBody"]["properties"]["model"]
            return tuple(next(a["enum"] for a in model["anyOf"] if "enum" in a))
        except (httpx.HTTPError, ValueError, LookupError, TypeError, StopIteration) as exc:
            raise LoadgenError(
                f"cannot read the chat models rag-api serves from {url} "
                f"({type(exc).__name__}: {str(exc)[:200]}); is --host a rag-api?"
            ) from None

    def _faults_call(self, profile: Mapping[str, float]) -> dict[str, Any]:
        if not self.token:
            raise LoadgenError("no admin token (set ADMIN_TOKEN in the environment or .env)")
        url = f"{self.host}/admin/faults"
        try:
            r = httpx.put(
                url,
                json=dict(profile),
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise LoadgenError(f"PUT {url} failed: {type(exc).__name__}: {exc}") from None
        if r.status_code == 404:
            raise LoadgenError(
                f"PUT {url} → 404: the admin endpoints are off because rag-api runs without "
                "ADMIN_TOKEN; set ADMIN_TOKEN for rag-api (the stack reads it from .env)."
            )
        if r.status_code in (401, 403):
            raise LoadgenError(
                f"PUT {url} → {r.status_code}: the admin token was rejected; use the ADMIN_TOKEN "
                "rag-api runs with (from the environment, .env or --admin-token)."
            )
        if r.status_code != 200:
            raise LoadgenError(f"PUT {url} → HTTP {r.status_code}: {r.text[:300]}")
        try:
            return dict(r.json())
        except ValueError:
            return {}

    def set_faults(self, profile: Mapping[str, float]) -> dict[str, Any]:
        """PUT the FULL profile (omitted knobs reset to healthy defaults)."""
        return self._faults_call(profile)

    def clear_faults(self) -> dict[str, Any]:
        return self._faults_call({})


# --- plan ----------------------------------------------------------------------------------------
def plan_of(scenario: Scenario) -> list[dict[str, float]]:
    """Stages for the traffic driver: seconds and requests/s per phase."""
    return [
        {"duration": p.duration, "rate": scenario.rate * p.rate_factor} for p in scenario.phases
    ]


def describe(scenario: Scenario) -> str:
    lines = [f"Scenario {scenario.name}: {scenario.description}"]
    for p in scenario.phases:
        faults = ", ".join(f"{k}={v:g}" for k, v in p.faults.items()) or "none"
        lines.append(
            f"  phase {p.name}: {p.duration:.0f}s at {scenario.rate * p.rate_factor:g} req/s, "
            f"faults: {faults}"
        )
    if scenario.expect_raise:
        lines.append("  expected alerts: " + ", ".join(map(str, scenario.expect_raise)))
    forbid = [str(a) for a in scenario.forbid] + (
        ["anything else but Watchdog"] if scenario.forbid_any_other else []
    )
    if forbid:
        lines.append("  must not raise: " + ", ".join(forbid))
    return "\n".join(lines)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into Interrupted for the duration (Ctrl-C is KeyboardInterrupt already)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- drivers -------------------------------------------------------------------------------------
class LocustProcess:
    """Locust headless as a subprocess, following the plan via LOADGEN_PLAN."""

    def __init__(self, host: str, scenario: Scenario, seed: int | None = None):
        self.tmp = tempfile.TemporaryDirectory(prefix="loadgen-")
        env = {
            **os.environ,
            "LOADGEN_PLAN": json.dumps(plan_of(scenario)),
            "LOADGEN_MIX": json.dumps(scenario.mix.as_dict()),
            "PYTHONUNBUFFERED": "1",
        }
        if seed is not None:
            env["LOADGEN_SEED"] = str(seed)
        args = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "--host",
            host,
            "--loglevel",
            "ERROR",
            # A JSON report instead of Locust's wide tables: the locustfile prints the summary.
            "--json-file",
            str(Path(self.tmp.name) / "stats"),
        ]
        self.popen = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """Stop Locust if it still runs; its exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)  # Locust prints its summary on SIGTERM
            if self.wait(15) is None:
                self.popen.kill()
                self.popen.wait(5)
        self.tmp.cleanup()
        return self.popen.returncode


def _sleep_while(cond: Callable[[], bool], until: float) -> None:
    while time.monotonic() < until and cond():
        time.sleep(min(0.5, max(0.0, until - time.monotonic())))


def run_scenario(
    scenario: Scenario,
    *,
    host: str = DEFAULT_HOST,
    admin_token: str | None = None,
    driver: str = "locust",
    seed: int | None = None,
    out: Printer = print,
) -> int:
    """Run the scenario against a running rag-api; returns the process exit code."""
    app = AppClient(host, admin_token)
    app.check_up()
    _check_models(scenario, app.chat_models(), app.host)
    if scenario.faulty and not admin_token:
        raise LoadgenError(
            f"scenario {scenario.name!r} sets faults through {host}/admin/faults, which needs the "
            "admin token: set ADMIN_TOKEN in the environment or in .env (the stack's rag-api "
            "reads the same .env), or pass --admin-token."
        )
    out(describe(scenario))
    # Only a scenario with faults of its own touches /admin/faults: steady load (`make load`)
    # beside someone's incident must not clear that incident's faults.
    manage_faults = scenario.faulty
    if not manage_faults:
        out("  (no faults of its own: the fault profile is left as it is)")
    interrupted = False
    with _sigterm_raises():
        try:
            if manage_faults:
                app.set_faults(scenario.phases[0].faults)
            if driver == "locust":
                _run_locust(scenario, app, host, seed, manage_faults, out)
            elif driver == "builtin":
                asyncio.run(_run_builtin(scenario, app, host, seed, manage_faults, out))
            else:
                raise LoadgenError(f"unknown driver {driver!r} (locust or builtin)")
        except (KeyboardInterrupt, Interrupted):
            interrupted = True
            out("Interrupted: stopping traffic and clearing faults")
        finally:
            if manage_faults:
                _clear(app, out)
    return EXIT_INTERRUPTED if interrupted else 0


def _check_models(scenario: Scenario, served: Sequence[str], host: str) -> None:
    # Before any traffic: a model the app does not serve would make every request a 422.
    unknown = [m for m in scenario.mix.models if m not in served]
    if unknown:
        raise LoadgenError(
            f"{scenario.mix.models_at}: scenario {scenario.name!r}: mix: models: rag-api at "
            f"{host} does not serve {', '.join(map(repr, unknown))} (it serves: "
            f"{', '.join(served)}; OPENAI_MODEL sets the model on a real provider)"
        )


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored for the duration: a second one must not abandon the cleanup."""
    old_int = old_term = None
    try:
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        old_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        if old_int is not None:
            signal.signal(signal.SIGINT, old_int)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _clear(app: AppClient, out: Printer) -> None:
    # A second Ctrl-C must not leave faults behind.
    with _signals_ignored():
        for attempt in range(3):
            try:
                app.clear_faults()
                out("Faults cleared.")
                return
            except LoadgenError as exc:
                if attempt == 2:
                    out(f"WARNING: could not clear faults: {exc}")
                time.sleep(1)


def _phase_banner(scenario: Scenario, i: int, elapsed: float) -> str:
    p = scenario.phases[i]
    faults = ", ".join(f"{k}={v:g}" for k, v in p.faults.items()) or "none"
    return (
        f"[{elapsed:5.0f}s] phase {p.name}: {scenario.rate * p.rate_factor:g} req/s, "
        f"faults: {faults}"
    )


def _run_locust(
    scenario: Scenario,
    app: AppClient,
    host: str,
    seed: int | None,
    manage_faults: bool,
    out: Printer,
) -> None:
    proc = LocustProcess(host, scenario, seed)
    start = time.monotonic()
    try:
        t = start
        for i, phase in enumerate(scenario.phases):
            if i > 0 and manage_faults:
                app.set_faults(phase.faults)
            out(_phase_banner(scenario, i, time.monotonic() - start))
            t += phase.duration
            _sleep_while(proc.alive, t)
            if not proc.alive():
                break
        code = proc.wait(timeout=30)
        if code is None:  # still running after its plan
            code = proc.stop()
        if code:
            early = "early " if time.monotonic() < t else ""
            raise TrafficError(
                f"Locust exited {early}with code {code}: the load generator failed (see its "
                "output above); failed requests alone never fail a run"
            )
    finally:
        # Locust ends its plan and prints its summary (a second or so): a second Ctrl-C meanwhile
        # must not leave it running, orphaned, after the runner is gone.
        with _signals_ignored():
            proc.stop()


async def _run_builtin(
    scenario: Scenario,
    app: AppClient,
    host: str,
    seed: int | None,
    manage_faults: bool,
    out: Printer,
) -> None:
    from demo_app.loadgen.driver import AsyncDriver

    drv = AsyncDriver(host, scenario.mix, rate=scenario.rate, seed=seed, progress=out)
    task = asyncio.create_task(drv.run())
    start = time.monotonic()
    try:
        for i, phase in enumerate(scenario.phases):
            if i > 0 and manage_faults:
                await asyncio.to_thread(app.set_faults, phase.faults)
            drv.rate = scenario.rate * phase.rate_factor
            out(_phase_banner(scenario, i, time.monotonic() - start))
            await asyncio.sleep(phase.duration)
    finally:
        drv.stop()
        stats = await task
        out(stats.summary(time.monotonic() - start))
