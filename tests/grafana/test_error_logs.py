"""The error-log panel keeps warnings and errors whatever case the app's logging library writes
its level names in: Python's WARNING, Java's WARN, .NET's Warning and Error, winston's warn."""

from __future__ import annotations

from tests.grafana import dashlib, telemetry_eval


def _error_log_query() -> str:
    dash = dashlib.load()["llm-overview.json"]
    panel = next(p for p in dashlib.all_panels(dash) if p["title"].startswith("Recent errors"))
    (target,) = panel["targets"]
    return target["expr"]


def test_error_logs_match_any_case_and_only_warnings_and_worse() -> None:
    predicates = telemetry_eval.parse_logql(_error_log_query())
    kept = ["WARNING", "WARN", "Warning", "warn", "ERROR", "Error", "error", "CRITICAL", "FATAL"]
    dropped = ["INFO", "Information", "debug", "TRACE", ""]
    service = {"service_name": "rag-api"}

    def selected(severity: str) -> bool:
        line = telemetry_eval.LogLine({**service, "severity_text": severity}, "text")
        return all(p(line) for p in predicates)

    assert [s for s in kept if not selected(s)] == []
    assert [s for s in dropped if selected(s)] == []
