"""The two test tiers.

`make test` runs everything. `make check` (the edit loop) runs only the tests that start no
external process: `pytest -m "not external"` with CHECK_TIER=1. Which modules start processes
(app servers, Prometheus, Alertmanager, promtool, amtool, node, compose) is said once, in
EXTERNAL below. The list cannot go stale silently: under CHECK_TIER=1 any attempt to start a
process fails the test that made it, naming the module to add.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from pathlib import Path

import pytest

from harness import IN_CI, MissingTool

# Modules (globs relative to tests/) whose tests start external processes.
EXTERNAL = (
    "alertmanager/test_alertmanager.py",
    "bench/*",
    "demo_app/test_admin.py",
    "demo_app/test_alerts_webhook.py",
    "demo_app/test_api.py",
    "demo_app/test_cardinality.py",
    "demo_app/test_collector_down.py",
    "demo_app/test_config.py",
    "demo_app/test_config_otel.py",
    "demo_app/test_dockerfile.py",
    "demo_app/test_error_shape.py",
    "demo_app/test_fault_bounds.py",
    "demo_app/test_hostile_input_time.py",
    "demo_app/test_hostile_unicode.py",
    "demo_app/test_json_body.py",
    "demo_app/test_malformed_upstream.py",
    "demo_app/test_feedback.py",
    "demo_app/test_feedback_ownership.py",
    "demo_app/test_metrics.py",
    "demo_app/test_otlp.py",
    "demo_app/test_redaction.py",
    "demo_app/test_redaction_corpus.py",
    "demo_app/test_semconv_conformance.py",
    "demo_app/test_streaming.py",
    "demo_app/test_tool_fault.py",
    "e2e/*",
    "export/test_export_tools.py",
    "export/test_two_services.py",
    "fuzz/*",
    "generators/test_config.py",
    "generators/test_custom_config.py",
    "generators/test_drift.py",
    "generators/test_out.py",
    "generators/test_regex_vs_promtool.py",
    "grafana/test_dashgen_promtool.py",
    "grafana/test_grammars.py",
    "grafana/test_lint.py",
    "grafana/test_logql_traceql_live.py",
    "grafana/test_queries_live.py",
    "grafana/test_slo_burn_lines.py",
    "grafana/test_version_join.py",
    "loadgen/test_cli.py",
    "loadgen/test_locust_run.py",
    "ownapp/*",
    "prometheus/test_rules.py",
    "prometheus/test_rules_live.py",
    "prometheus/test_slo_properties.py",
    "reliability/*",
    "security/test_alert_webhook.py",
    "security/test_app_defaults.py",
    "security/test_secret_scan.py",
    "security/test_stack_defaults.py",
    "slo/test_generator.py",
    "smoke/*",
    "stack/*",
    "test_harness.py",
    "test_make_run.py",
    "test_tiers.py",
)
TESTS = Path(__file__).resolve().parent
CHECK_TIER = os.environ.get("CHECK_TIER") == "1"


def _matches(path: Path, patterns: tuple[str, ...]) -> bool:
    rel = path.resolve().relative_to(TESTS).as_posix()
    return any(fnmatch.fnmatch(rel, pattern) for pattern in patterns)


def _is_external(path: Path) -> bool:
    return _matches(path, EXTERNAL)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "external: starts an external process (not run by `make check`)"
    )
    if CHECK_TIER:
        _refuse_processes()


# Collected first: the longest module, mostly waiting (`make test` gives it a worker of its own
# from the start, and the rest runs beside it).
FIRST = ("e2e/test_alert_path.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_external(item.path):
            item.add_marker(pytest.mark.external)
    items.sort(key=lambda item: not _matches(item.path, FIRST))  # stable: the rest keeps its order


def _refuse_processes() -> None:
    """Under CHECK_TIER=1 starting a process is a classification error, reported as such."""

    def refuse(self: subprocess.Popen, args: object, *rest: object, **kwargs: object) -> None:
        raise RuntimeError(
            f"a test in the `make check` tier started {args!r}: add its module to EXTERNAL "
            "in tests/conftest.py"
        )

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A missing real tool (harness.MissingTool) skips the test locally and fails it in CI."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not call.excinfo.errisinstance(MissingTool) or IN_CI:
        return
    report.outcome = "skipped"
    report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")
