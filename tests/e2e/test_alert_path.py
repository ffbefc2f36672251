"""The whole alert path, per scenario: real rag-api → real Prometheus → real Alertmanager → webhook.

Every scenario of demo_app/loadgen/scenarios.yaml runs in parallel against its own rag-api
(uvicorn), Prometheus (shipped prometheus.yml + rules) and Alertmanager (shipped
alertmanager.yml), with only hosts, ports and demo intervals rewritten. The driver sends the
scenario's own traffic mix and PUTs its own fault profiles. We check, per scenario:
- the expected alerts reach firing (or pending, where the scenario says `pending_ok`);
- page alerts and LLMErrorRatioHigh arrive at rag-api /v1/alerts through Alertmanager, with the
  receiver the severity routes to and the labels the rules promise;
- forbidden alerts never go pending or firing, from the first phase to a minute after the last,
  each phase held for its scenario length (tests/e2e/plan.py; steady: nothing but Watchdog);
- recovery: the alerts resolve in Prometheus and the resolution reaches the webhook;
- Watchdog reaches the heartbeat receiver (the pipeline is alive).
Detection times are printed and written to docs/scenarios.md (with the machine).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from demo_app.loadgen.docs import MEASURED, machine, write_section
from demo_app.loadgen.scenarios import AlertRef, load_scenarios
from harness import require_binary
from tests.e2e import history
from tests.e2e.harness import Result, ScenarioRun, expected_receiver

pytestmark = pytest.mark.e2e

SCENARIOS = load_scenarios()
# `make e2e` sets E2E_WRITE_DOCS=1 to record the measured table in docs/scenarios.md.
WRITE_DOCS = os.environ.get("E2E_WRITE_DOCS", "0") == "1"
WATCHDOG = AlertRef("Watchdog")


def _fmt(t: float | None) -> str:
    return "—" if t is None else f"{t:.0f} s"


def detection_table(results: dict[str, Result]) -> str:
    lines = [
        f"Machine: {machine()}.",
        "",
        "| scenario | expected alert | fault → pending | fault → firing | fault → webhook "
        "(receiver) | result |",
        "|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        s = res.scenario
        ok = not (res.error or res.unmet or res.violations)
        verdict = "pass" if ok else "FAIL"
        if not s.expect_raise:
            beat = sorted(
                {
                    o.webhook_receiver or ""
                    for o in res.matching(WATCHDOG)
                    if o.webhook_at is not None
                }
            )
            seen = sorted(
                {
                    o.labels.get("alertname", "")
                    + (f"{{slo={o.labels['slo']}}}" if o.labels.get("slo") else "")
                    for o in res.alerts.values()
                }
            )
            lines.append(
                f"| `{name}` | none for {res.end_offset:.0f} s (seen: {', '.join(seen)}) | — | — "
                f"| Watchdog → {', '.join(beat) or '—'} | {verdict} |"
            )
        for ref in s.expect_raise:
            receivers = sorted(
                {o.webhook_receiver or "" for o in res.matching(ref) if o.webhook_at is not None}
            )
            hook = _fmt(res.first(ref, "webhook_at"))
            if ref not in s.e2e.webhook and not receivers:
                hook = "not awaited (ticket)"
            if receivers:
                hook += f" ({', '.join(receivers)})"
            wanted = "webhook" if ref in s.e2e.webhook else "firing"
            if ref in s.e2e.pending_ok:
                wanted = "pending"
            label = f"`{ref}` (→ {wanted})"
            lines.append(
                f"| `{name}` | {label} | {_fmt(res.first(ref, 'pending_at'))} | "
                f"{_fmt(res.first(ref, 'firing_at'))} | {hook} | {verdict} |"
            )
        for ref in s.e2e.resolve:
            lines.append(
                f"| `{name}` | `{ref}` resolves after the fix | | "
                f"{_fmt(_resolved_at(res, ref))} (inactive) | "
                f"{_fmt(_resolved_hook_at(res, ref))} (resolved) | {verdict} |"
            )
    return "\n".join(lines)


def _resolved_at(res: Result, ref: AlertRef) -> float | None:
    times = [o.inactive_at for o in res.matching(ref)]
    return None if not times or None in times else max(t for t in times if t is not None)


def _resolved_hook_at(res: Result, ref: AlertRef) -> float | None:
    times = [o.resolved_webhook_at for o in res.matching(ref) if o.webhook_at is not None]
    return None if not times or None in times else max(t for t in times if t is not None)


def selected(items: list[pytest.Item]) -> list[str]:
    """The scenarios whose tests run: `-k cost-spike` starts that one alone; else all."""
    names = {
        item.callspec.params["name"]
        for item in items
        if getattr(item, "originalname", "") == "test_scenario_alert_path"
    }
    if any(getattr(item, "originalname", "") == "test_steady_raises_nothing_but_watchdog"
           for item in items):  # fmt: skip
        names.add("steady")
    return [n for n in SCENARIOS.names() if n in names] or SCENARIOS.names()


@pytest.fixture(scope="module")
def e2e_results(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Result]]:
    for binary in ("prometheus", "prometheus-alertmanager", "promtool"):
        require_binary(binary)
    runs = {
        name: ScenarioRun(SCENARIOS.get(name), tmp_path_factory.mktemp(f"e2e-{name}"))
        for name in selected(request.session.items)
    }
    try:
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            futures = {name: pool.submit(run.start) for name, run in runs.items()}
            for name, fut in futures.items():
                exc = fut.exception()
                if exc is not None:
                    runs[name].result.error = f"start failed: {exc}"

        async def play(run: ScenarioRun) -> None:
            if run.result.error:
                run.collect_logs()
                return
            try:
                await run.run()
            except Exception as exc:
                run.result.error = f"{type(exc).__name__}: {exc}"
            finally:  # done: free the CPU for the scenarios still running
                run.collect_logs()
                await asyncio.to_thread(run.stop)

        asyncio.run(_gather([play(r) for r in runs.values()]))
        results = {name: run.result for name, run in runs.items()}
        table = detection_table(results)
        print("\n" + table)
        # `make e2e` records the figures of a whole run; plain `make test` leaves the tree clean
        if WRITE_DOCS and len(runs) == len(SCENARIOS.scenarios):
            write_section(MEASURED, table)
        yield results
    finally:
        for run in runs.values():
            run.stop()


async def _gather(coros: list) -> None:
    await asyncio.gather(*coros)


def _explain(res: Result) -> str:
    lines = [f"scenario {res.scenario.name}:"]
    if res.error:
        lines.append(f"  error: {res.error}")
    lines += [f"  unmet: {u}" for u in res.unmet]
    lines += [f"  forbidden: {v}" for v in res.violations]
    lines.append("  alerts seen:")
    for o in res.alerts.values():
        lines.append(
            f"    {o.labels.get('alertname')} {dict(o.labels)} pending={_fmt(o.pending_at)} "
            f"firing={_fmt(o.firing_at)} webhook={_fmt(o.webhook_at)}/{o.webhook_receiver} "
            f"state={o.last_seen_state}"
        )
    lines.append("  traffic: " + res.traffic.replace("\n", "\n    "))
    for name, log in res.logs.items():
        if res.error or res.unmet:
            lines.append(f"  --- {name} log tail ---\n{log}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", SCENARIOS.names())
def test_scenario_alert_path(e2e_results: dict[str, Result], name: str) -> None:
    res = e2e_results[name]
    s = res.scenario
    why = _explain(res)
    assert res.error is None, why
    assert not res.unmet, why
    assert not res.violations, why

    # A running stack's past: every SLO's events (user feedback too) were backfilled from the
    # scenario's traffic.
    assert history.slos_without_history(res.history_series) == [], res.history_series

    # Page alerts and the error-ratio alert: through Alertmanager, right receiver and labels.
    for ref in s.e2e.webhook:
        delivered = [o for o in res.matching(ref) if o.webhook_at is not None]
        assert delivered, why
        for o in delivered:
            labels = o.webhook_labels or {}
            assert o.webhook_receiver == expected_receiver(labels), why
            assert labels.get("service") == "rag-api", why
            assert labels.get("severity") in ("page", "ticket"), why
            for k, v in ref.labels:
                assert labels.get(k) == v, why
            if ref.name == "SLOFastBurn":
                assert labels.get("severity") == "page" and labels.get("slo"), why
            if ref.name == "LLMErrorRatioHigh":
                assert labels.get("severity") == "page", why
                assert labels.get("gen_ai_provider_name") and labels.get("gen_ai_request_model")

    # Every other expected alert reached firing (or pending where allowed).
    for ref in s.expect_raise:
        if ref in s.e2e.pending_ok:
            assert res.first(ref, "pending_at") is not None, why
        else:
            assert res.first(ref, "firing_at") is not None, why

    # Recovery: resolved in Prometheus and the resolution notified.
    for ref in s.e2e.resolve:
        assert _resolved_at(res, ref) is not None, why
        assert _resolved_hook_at(res, ref) is not None, why

    # The heartbeat reached its own receiver: the pipeline itself was alive throughout.
    beats = [o for o in res.matching(WATCHDOG) if o.webhook_at is not None]
    assert beats and all(o.webhook_receiver == "heartbeat" for o in beats), why


def test_steady_raises_nothing_but_watchdog(e2e_results: dict[str, Result]) -> None:
    res = e2e_results["steady"]
    # not even pending: with healthy history behind it, and the slow-burn ticket waiting for a
    # full window, a fresh Prometheus shows no small-sample noise
    raised = {o.labels.get("alertname") for o in res.alerts.values()}
    assert raised == {"Watchdog"}, _explain(res)


def test_detection_times_table(e2e_results: dict[str, Result]) -> None:
    table = detection_table(e2e_results)
    for name in e2e_results:
        assert f"| `{name}` |" in table
    assert "cores (nproc)" in table
    if WRITE_DOCS and len(e2e_results) == len(SCENARIOS.scenarios):
        text = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
        assert table.strip() in text
