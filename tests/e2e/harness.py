"""One scenario end to end: its own rag-api, Prometheus and Alertmanager, traffic, observations.

The shipped configs are used as they are, except hosts, ports and demo intervals (scrape and
evaluation 1 s; Alertmanager group_wait/group_interval of every route 1 s/2 s). The traffic is
the scenario's own mix (`demo_app.loadgen.traffic`) sent by the in-process asyncio driver, and
the faults are the scenario's own profiles, PUT to /admin/faults.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from demo_app.loadgen.driver import AsyncDriver
from demo_app.loadgen.scenarios import AlertRef, Scenario
from genai_telemetry import semconv
from harness import require_binary
from harness.procs import (
    ALERTMANAGER_CONFIG,
    SELF,
    Proc,
    start_alertmanager,
    start_prometheus,
    start_rag_api,
)

ADMIN_TOKEN = "e2e-admin-token"
DEFAULT_SIM_LATENCY_SCALE = "0.1"  # fast, but latencies keep their shape
# Healthy live traffic before the first fault: as long as the shortest SLO window (5m), so the
# outage condition sees a running stack's last 5 minutes, not a hole between the backfilled
# history and the first scrapes (which would make pages look faster than they are).
WARMUP_S = 300.0
POLL_S = 1.0
# A day of normal spend, backfilled so LLMCostSpike has its baseline (USD/h per req/s of the
# scenario's base rate; measured on the steady mix: 8–11 USD/h at 4 req/s).
BASELINE_USD_PER_HOUR_PER_RPS = 2.5
# The severity → receiver contract of alertmanager/alertmanager.yml.
RECEIVER_BY_SEVERITY = {"page": "pager", "ticket": "tickets"}
WATCHDOG_RECEIVER = "heartbeat"


def alert_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def expected_receiver(labels: dict[str, str]) -> str:
    if labels.get("alertname") == "Watchdog":
        return WATCHDOG_RECEIVER
    return RECEIVER_BY_SEVERITY.get(labels.get("severity", ""), "tickets")


def render_alertmanager_config(webhook_url: str) -> str:
    """The shipped alertmanager.yml with the webhook host and the demo intervals rewritten."""
    text = ALERTMANAGER_CONFIG.read_text().replace("http://rag-api:8000", webhook_url)
    cfg = yaml.safe_load(text)

    def shorten(route: dict[str, Any]) -> None:
        route["group_wait"] = "1s"
        route["group_interval"] = "2s"
        for child in route.get("routes", []) or []:
            shorten(child)

    shorten(cfg["route"])
    return yaml.safe_dump(cfg, sort_keys=False)


# Healthy SLI history before the run: longer than the longest page window (6h), so every page
# window holds a running stack's past and the detection times are what a running stack gives
# (a fresh Prometheus would see the fault alone in its 1h and 6h windows and page far sooner).
# Only the raw SLI series: the recorded long windows (1d, 3d) stay young, as the slow-burn
# ticket's history guard expects.
SLI_HISTORY_HOURS = 7
HISTORY_INSTANCE = "history"  # its own series: the live app's counters start at 0 beside them


def _histogram(
    name: str, labels: str, per_min: float, good: dict[float, float]
) -> list[tuple[str, float]]:
    """Lines of one cumulative histogram (no _sum): `good` maps bucket bound → share at or below."""
    out: list[tuple[str, float]] = []
    for bound in sorted(good):
        le = "+Inf" if bound == float("inf") else semconv.le(bound)
        out.append((f'{name}_bucket{{{labels}, le="{le}"}}', per_min * good[bound]))
    out.append((f"{name}_count{{{labels}}}", per_min))
    return out


def _shares(buckets: tuple[float, ...], fast: float) -> dict[float, float]:
    """Every observation at or below `fast` (a healthy, fast histogram)."""
    return {**{b: 1.0 if b >= fast else 0.0 for b in buckets}, float("inf"): 1.0}


def sli_history(rate: float) -> list[tuple[str, float]]:
    """(series, events per minute) of a healthy run at `rate` requests/s: the mix's shares."""
    app = f'job="{semconv.SERVICE_NAME}", instance="{HISTORY_INSTANCE}"'
    per_min = rate * 60
    chat = (
        f'{app}, {semconv.L_OPERATION}="{semconv.OP_CHAT}", {semconv.L_PROVIDER}="openai", '
        f'{semconv.L_MODEL}="gpt-4o-mini"'
    )
    series: list[tuple[str, float]] = []
    for route, share in (("/v1/chat", 0.7), ("/v1/chat/stream", 0.3)):
        labels = (
            f'{app}, {semconv.L_HTTP_METHOD}="POST", {semconv.L_HTTP_ROUTE}="{route}", '
            f'{semconv.L_HTTP_STATUS}="200"'
        )
        series += _histogram(
            semconv.HTTP_SERVER_DURATION,
            labels,
            per_min * share,
            _shares(semconv.DURATION_BUCKETS, 0.64),
        )
    series.append(
        (f'{semconv.GENAI_OPERATION_DURATION}_count{{{chat}, {semconv.L_ERROR_TYPE}=""}}',
         per_min * 0.7)
    )  # fmt: skip
    series += _histogram(
        semconv.GENAI_TIME_TO_FIRST_CHUNK,
        chat,
        per_min * 0.3 * 0.7,
        _shares(semconv.DURATION_BUCKETS, 0.32),
    )
    quality = {b: 0.03 for b in semconv.SCORE_BUCKETS if b <= 0.8}  # off-topic answers
    quality |= {0.9: 0.5, 1.0: 1.0, float("inf"): 1.0}
    series += _histogram(
        semconv.RAG_EVALUATION_SCORE,
        f'{app}, {semconv.L_EVALUATION_NAME}="faithfulness"',
        per_min * 0.7,
        quality,
    )
    return series


def backfill_history(data_dir: Path, usd_per_hour: float, rate: float, now: float) -> None:
    """Write TSDB blocks ending 10 s ago: 25 h of `llm:cost_usd_per_hour:rate5m` (the baseline
    LLMCostSpike compares with) and SLI_HISTORY_HOURS of healthy SLI counters at `rate`."""
    promtool = require_binary("promtool")
    data_dir.mkdir(parents=True, exist_ok=True)
    src = data_dir.parent / "history.om"
    end = int(now) - 10  # before Prometheus starts: the head begins after the blocks
    lines = ["# TYPE llm:cost_usd_per_hour:rate5m gauge"]
    for t in range(end - 25 * 3600, end, 60):
        lines.append(f'llm:cost_usd_per_hour:rate5m{{service="rag-api"}} {usd_per_hour} {t}')
    # gauges in the file: OpenMetrics would want a whole histogram family (_sum, _created) per
    # counter; Prometheus stores samples, types do not matter to rate()
    families: dict[str, list[tuple[str, float]]] = {}
    for name, per_min in sli_history(rate):
        families.setdefault(name.split("{", 1)[0], []).append((name, per_min))
    start = end - SLI_HISTORY_HOURS * 3600
    for family, members in families.items():
        lines.append(f"# TYPE {family} gauge")  # one TYPE per family, its series together
        for name, per_min in members:
            name = name.replace(", ", ",")  # OpenMetrics allows no blanks between labels
            lines += [f"{name} {per_min * i:.10g} {t}" for i, t in enumerate(range(start, end, 60))]
    lines.append("# EOF")
    src.write_text("\n".join(lines) + "\n")
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(src), str(data_dir)],
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class Observation:
    """What one alert did during the run (times in seconds from the first fault)."""

    labels: dict[str, str]
    pending_at: float | None = None
    firing_at: float | None = None
    webhook_at: float | None = None
    webhook_receiver: str | None = None
    webhook_labels: dict[str, str] | None = None
    resolved_webhook_at: float | None = None
    last_seen_state: str | None = None
    inactive_at: float | None = None  # gone from Prometheus after having been active


@dataclass
class Result:
    scenario: Scenario
    fault_start: float | None = None  # monotonic
    end_offset: float = 0.0
    alerts: dict[str, Observation] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)  # forbidden alerts seen
    unmet: list[str] = field(default_factory=list)  # goals not reached in time
    traffic: str = ""
    error: str | None = None
    logs: dict[str, str] = field(default_factory=dict)

    def matching(self, ref: AlertRef) -> list[Observation]:
        return [o for o in self.alerts.values() if ref.matches(o.labels)]

    def first(self, ref: AlertRef, attr: str) -> float | None:
        times = [getattr(o, attr) for o in self.matching(ref) if getattr(o, attr) is not None]
        return min(times) if times else None


class ScenarioRun:
    """Processes and the observation loop of one scenario."""

    def __init__(self, scenario: Scenario, workdir: Path):
        self.scenario = scenario
        self.workdir = workdir
        self.procs: list[Proc] = []
        self.app: Proc | None = None
        self.prom: Proc | None = None
        self.am: Proc | None = None
        self.result = Result(scenario)
        self._seen_webhook: set[tuple[str, str, str]] = set()

    # --- processes ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start app, Alertmanager and Prometheus (blocking; run in a thread)."""
        env = {
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "SIM_LATENCY_SCALE": DEFAULT_SIM_LATENCY_SCALE,
            "LOG_LEVEL": "warning",
            **self.scenario.e2e.app_env,
        }
        self.app = start_rag_api(self.workdir, env=env)
        self.procs.append(self.app)
        self.am = start_alertmanager(
            self.workdir, config_text=render_alertmanager_config(self.app.url)
        )
        self.procs.append(self.am)
        data_dir = self.workdir / "prometheus-data"
        backfill_history(
            data_dir,
            BASELINE_USD_PER_HOUR_PER_RPS * self.scenario.rate,
            self.scenario.rate,
            time.time(),
        )
        self.prom = start_prometheus(
            self.workdir,
            targets={
                "rag-api:8000": self.app.address,
                "alertmanager:9093": self.am.address,
                "localhost:9090": SELF,  # rule-evaluation failures would show up too
            },
            alertmanager=self.am.address,
            interval="1s",
            rule_group_interval="1s",  # the long-window SLO groups too (shipped: 1m)
            data_dir=data_dir,
        )
        self.procs.append(self.prom)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()

    def collect_logs(self) -> None:
        for p in self.procs:
            self.result.logs[p.name] = p.log_tail(30)

    # --- observation ----------------------------------------------------------------------------
    def _now(self) -> float:
        fs = self.result.fault_start
        return time.monotonic() - fs if fs is not None else 0.0

    async def _poll(self, client: httpx.AsyncClient) -> None:
        assert self.prom and self.app
        now = self._now()
        r = await client.get(f"{self.prom.url}/api/v1/alerts")
        r.raise_for_status()
        active = set()
        for a in r.json()["data"]["alerts"]:
            labels = a["labels"]
            key = alert_key(labels)
            active.add(key)
            obs = self.result.alerts.setdefault(key, Observation(labels))
            obs.last_seen_state = a["state"]
            obs.inactive_at = None
            if obs.pending_at is None:
                obs.pending_at = now
            if a["state"] == "firing" and obs.firing_at is None:
                obs.firing_at = now
            if self.scenario.is_forbidden(labels):
                msg = f"{labels.get('alertname')} {a['state']} ({alert_key(labels)})"
                if msg not in self.result.violations:
                    self.result.violations.append(msg)
        for key, obs in self.result.alerts.items():
            if key not in active and obs.last_seen_state is not None and obs.inactive_at is None:
                obs.inactive_at = now
                obs.last_seen_state = "inactive"

        r = await client.get(f"{self.app.url}/v1/alerts")
        r.raise_for_status()
        for entry in r.json()["alerts"]:
            labels = entry["labels"]
            mark = (alert_key(labels), entry["status"], entry["received_at"])
            if mark in self._seen_webhook:
                continue
            self._seen_webhook.add(mark)
            obs = self.result.alerts.setdefault(alert_key(labels), Observation(labels))
            if entry["status"] == "firing" and obs.webhook_at is None:
                obs.webhook_at = now
                obs.webhook_receiver = entry["receiver"]
                obs.webhook_labels = labels
            if entry["status"] == "resolved" and obs.resolved_webhook_at is None:
                obs.resolved_webhook_at = now

    # --- goals ----------------------------------------------------------------------------------
    def _raise_goal_met(self, ref: AlertRef) -> bool:
        e2e = self.scenario.e2e
        if ref in e2e.webhook:
            return self.result.first(ref, "webhook_at") is not None
        if ref in e2e.pending_ok:
            return self.result.first(ref, "pending_at") is not None
        return self.result.first(ref, "firing_at") is not None

    def _resolve_goal_met(self, ref: AlertRef) -> bool:
        obs = self.result.matching(ref)
        if not obs or any(o.last_seen_state in ("pending", "firing") for o in obs):
            return False
        if ref in self.scenario.e2e.webhook:
            return all(o.resolved_webhook_at is not None for o in obs if o.webhook_at is not None)
        return True

    async def _phase(
        self,
        client: httpx.AsyncClient,
        goals: list[tuple[str, AlertRef]],
        duration: float,
    ) -> list[str]:
        """Poll until every goal is met or `duration` passes; returns the unmet goals."""
        deadline = time.monotonic() + duration
        while True:
            try:
                await self._poll(client)
            except httpx.HTTPError as exc:  # a slow poll is retried, a dead process is not
                for p in self.procs:
                    if not p.alive():
                        raise RuntimeError(f"{p.name} exited:\n{p.log_tail()}") from exc
            unmet = [
                f"{kind} {ref}"
                for kind, ref in goals
                if not (
                    self._raise_goal_met(ref) if kind == "raise" else self._resolve_goal_met(ref)
                )
            ]
            if (goals and not unmet) or time.monotonic() >= deadline:
                return unmet
            await asyncio.sleep(POLL_S)

    async def run(self) -> Result:
        """Warm up, then play the phases (faults, rate) until their goals are met."""
        s = self.scenario
        assert self.app is not None
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        driver = AsyncDriver(self.app.url, s.mix, rate=s.rate, seed=zlib.crc32(s.name.encode()))
        traffic = asyncio.create_task(driver.run())
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                await self._phase(client, [], WARMUP_S)
                scale = s.e2e.timeout / s.duration  # phases without goals: shortened, in proportion
                had_fault = False
                for i, phase in enumerate(s.phases):
                    r = await client.put(
                        f"{self.app.url}/admin/faults", json=phase.faults, headers=headers
                    )
                    r.raise_for_status()
                    if phase.faults and self.result.fault_start is None:
                        self.result.fault_start = time.monotonic()
                    driver.rate = s.rate * phase.rate_factor
                    if phase.faults:
                        goals = [("raise", ref) for ref in s.expect_raise]
                        had_fault = True
                    elif had_fault and s.e2e.resolve:
                        goals = [("resolve", ref) for ref in s.e2e.resolve]
                    else:
                        goals = []
                    if self.result.fault_start is None and i == 0 and not phase.faults:
                        self.result.fault_start = time.monotonic()  # healthy scenarios: t0 here
                    duration = s.e2e.timeout if goals else phase.duration * scale
                    unmet = await self._phase(client, goals, duration)
                    self.result.unmet.extend(f"phase {phase.name}: {u}" for u in unmet)
                    if unmet:
                        break
                await client.put(f"{self.app.url}/admin/faults", json={}, headers=headers)
        finally:
            self.result.end_offset = self._now()
            driver.stop()
            driver.drain_timeout = 2.0
            stats = await traffic
            self.result.traffic = stats.summary(max(1.0, driver.elapsed))
        return self.result
