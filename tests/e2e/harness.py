"""One scenario end to end: its own rag-api, Prometheus and Alertmanager, traffic, observations.

The shipped configs are used as they are, except hosts, ports and demo intervals (scrape and
evaluation 5 s as shipped, the long-window SLO groups too (shipped 1 min); Alertmanager
group_wait/group_interval of every route 1 s/2 s). The traffic is
the scenario's own mix (`demo_app.loadgen.traffic`) sent by the in-process asyncio driver, and
the faults are the scenario's own profiles, PUT to /admin/faults, each for its phase's length
(`tests/e2e/plan.py`); alerts are watched from the first phase to a grace period after the last.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from demo_app.loadgen.driver import AsyncDriver
from demo_app.loadgen.scenarios import AlertRef, Scenario
from harness.procs import (
    ALERTMANAGER_CONFIG,
    PROMETHEUS_CONFIG,
    SELF,
    Proc,
    start_alertmanager,
    start_prometheus,
    start_rag_api,
)
from tests.e2e import history
from tests.e2e.plan import final_goals, grace, phase_plans

ADMIN_TOKEN = "e2e-admin-token"
DEFAULT_SIM_LATENCY_SCALE = "0.1"  # fast, but latencies keep their shape
# Healthy traffic sampled for the history's rates (tests/e2e/history.py) before Prometheus starts.
SAMPLE_S = 12.0
SAMPLE_MAX_S = 30.0  # ... longer only while some SLO's events (sparse feedback) are not in it
# Then live, before the first fault: Prometheus finds its targets and Alertmanager (~5 s) and
# evaluates every group a few times. The history already fills every window.
SETTLE_TIMEOUT_S = 60.0
SETTLE_S = 5.0
POLL_S = 1.0
# A day of normal spend, backfilled so LLMCostSpike has its baseline (USD/h per req/s of the
# scenario's base rate; measured on the steady mix: 8–11 USD/h at 4 req/s). Not the sampled
# spend: `recovery` doubles its rate after the fix, which would cross 2x a baseline that exact.
BASELINE_USD_PER_HOUR_PER_RPS = 2.5
COST_SERVICE = "rag-api"  # the `service` label the spend recording rule sets
APP_TARGET = "rag-api:8000"  # the shipped scrape target of rag-api
# The severity → receiver contract of alertmanager/alertmanager.yml.
RECEIVER_BY_SEVERITY = {"page": "pager", "ticket": "tickets"}
WATCHDOG_RECEIVER = "heartbeat"


def alert_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def expected_receiver(labels: dict[str, str]) -> str:
    if labels.get("alertname") == "Watchdog":
        return WATCHDOG_RECEIVER
    return RECEIVER_BY_SEVERITY.get(labels.get("severity", ""), "tickets")


def rag_api_job() -> str:
    """The shipped scrape job of rag-api: the `job` label of the live series."""
    cfg = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    for job in cfg["scrape_configs"]:
        if any(APP_TARGET in sc.get("targets", []) for sc in job.get("static_configs", [])):
            return str(job["job_name"])
    raise AssertionError(f"no scrape job for {APP_TARGET} in {PROMETHEUS_CONFIG}")


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
    history_series: list[str] = field(default_factory=list)  # names with backfilled events
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
        """Start app and Alertmanager (blocking; run in a thread). Prometheus starts in run(),
        on the history of the app's sampled traffic."""
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

    def start_prometheus(self, per_second: dict[history.Series, float], end: float) -> None:
        """Backfill the history ending at `end`, then start Prometheus on it (blocking)."""
        assert self.app and self.am
        data_dir = self.workdir / "prometheus-data"
        job = rag_api_job()
        per_second = history.read_by_rules(per_second)
        self.result.history_series = sorted(history.moved(per_second))
        target = {"job": job, "instance": self.app.address}
        history.backfill(data_dir, history.history_openmetrics(per_second, target, end), "sli")
        usd = BASELINE_USD_PER_HOUR_PER_RPS * self.scenario.rate
        cost = history.cost_baseline_openmetrics(COST_SERVICE, usd, end)
        history.backfill(data_dir, cost, "cost")
        self.prom = start_prometheus(
            self.workdir,
            targets={
                APP_TARGET: self.app.address,
                "alertmanager:9093": self.am.address,
                "localhost:9090": SELF,  # rule-evaluation failures would show up too
            },
            alertmanager=self.am.address,
            interval="5s",
            # The long-window SLO groups too (shipped: 1m). Not 1 s: nine Prometheus evaluating
            # every group each second were half the tier's CPU, and `make test` is CPU-bound.
            rule_group_interval="5s",
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
        if ref in e2e.webhook:  # seen firing too: a slow poll may see the webhook first
            return all(self.result.first(ref, a) is not None for a in ("firing_at", "webhook_at"))
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
        until_met: bool = True,
    ) -> list[str]:
        """Poll for `duration` (or until every goal is met, if `until_met`); the unmet goals."""
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
            if (until_met and goals and not unmet) or time.monotonic() >= deadline:
                return unmet
            await asyncio.sleep(POLL_S)

    async def _counters(self, client: httpx.AsyncClient) -> dict[history.Series, float]:
        assert self.app
        r = await client.get(f"{self.app.url}/metrics", headers={"Accept": history.SCRAPE_ACCEPT})
        r.raise_for_status()
        return history.counters(r.text)

    async def _sampled(
        self, client: httpx.AsyncClient, before: dict[history.Series, float], began: float
    ) -> dict[history.Series, float]:
        """Rates of the traffic since `began`, once every SLO's events are among the series the
        rules read (feedback comes from a share of answers), or at SAMPLE_MAX_S."""
        while True:
            per_second = history.rates(before, await self._counters(client), time.time() - began)
            read = history.moved(history.read_by_rules(per_second))
            if not history.slos_without_history(read) or time.time() - began >= SAMPLE_MAX_S:
                return per_second
            await asyncio.sleep(POLL_S)

    async def _settle(self, client: httpx.AsyncClient) -> None:
        """Wait until Prometheus scrapes the app and knows Alertmanager, then SETTLE_S live."""
        assert self.prom
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            targets = (await client.get(f"{self.prom.url}/api/v1/targets")).json()["data"]
            ams = (await client.get(f"{self.prom.url}/api/v1/alertmanagers")).json()["data"]
            app_up = any(
                t["scrapeUrl"].startswith(f"{self.app.url}/") and t["health"] == "up"
                for t in targets["activeTargets"]
            )
            if app_up and ams["activeAlertmanagers"]:
                break
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Prometheus not scraping rag-api or no Alertmanager: {targets}")
            await asyncio.sleep(POLL_S)
        await self._phase(client, [], SETTLE_S)

    async def _play(self, client: httpx.AsyncClient, driver: AsyncDriver) -> None:
        """The phases for their length, then the faults cleared and the grace (plan.py)."""
        s = self.scenario
        for i, (phase, plan) in enumerate(zip(s.phases, phase_plans(s), strict=True)):
            await self._put_faults(client, phase.faults)
            if phase.faults and self.result.fault_start is None:
                self.result.fault_start = time.monotonic()
            driver.rate = s.rate * phase.rate_factor
            if i == 0 and s.e2e.history_mix is not None:
                driver.use_mix(s.mix)  # the scenario's own traffic (its fault) starts now
            if self.result.fault_start is None and i == 0 and not phase.faults:
                self.result.fault_start = time.monotonic()  # healthy scenarios: t0 here
            unmet = await self._phase(client, list(plan.goals), plan.length, plan.until_met)
            self.result.unmet.extend(f"phase {phase.name}: {u}" for u in unmet)
            if unmet:
                break
        await self._put_faults(client, {})
        if not self.result.unmet:
            after = grace(s)
            unmet = await self._phase(client, list(final_goals(s)), after, until_met=False)
            self.result.unmet.extend(f"by {after:.0f} s after the last phase: {u}" for u in unmet)

    async def _put_faults(self, client: httpx.AsyncClient, faults: dict[str, float]) -> None:
        assert self.app
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        r = await client.put(f"{self.app.url}/admin/faults", json=faults, headers=headers)
        r.raise_for_status()

    async def run(self) -> Result:
        """Sample healthy traffic, start Prometheus on its history, then play the phases."""
        s = self.scenario
        assert self.app is not None
        history_mix = s.e2e.history_mix or s.mix
        driver = AsyncDriver(
            self.app.url, history_mix, rate=s.rate, seed=zlib.crc32(s.name.encode())
        )
        traffic = None
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                before = await self._counters(client)
                began = time.time()  # the history ends here: the app's counters were ~0
                traffic = asyncio.create_task(driver.run())
                await asyncio.sleep(SAMPLE_S)
                per_second = await self._sampled(client, before, began)
                await asyncio.to_thread(self.start_prometheus, per_second, began)
                await self._settle(client)
                await self._play(client, driver)
        finally:
            self.result.end_offset = self._now()
            driver.stop()
            driver.drain_timeout = 2.0
            if traffic is not None:
                stats = await traffic
                self.result.traffic = stats.summary(max(1.0, driver.elapsed))
        return self.result
