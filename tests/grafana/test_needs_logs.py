"""The Needs column (docs/dashboards.md) and the export README's count of panels that stay empty
without rag-api's extras must see log panels that read rag-api's own log records.

Another app's OTLP logs carry `service_name`, `severity_text`, `trace_id` and `span_id`, not
rag-api's events (`chat_failed`, `user_feedback`, `guardrail_triggered` …) nor its fields
(`user_id`, `tenant`, `conversation_id`, `sentiment`, `guardrail` …). A panel filtering on those
is empty for such an app; classed "OTLP logs" it was promised to work there.
"""

from __future__ import annotations

import re

import pytest

from grafana.dashgen.docs import NEEDS_EXTRAS, needs, reads_app_logs
from tests.grafana import dashlib


def _loki_panels() -> list[tuple[str, dashlib.Json]]:
    out = []
    for dash in dashlib.load().values():
        for panel in dashlib.all_panels(dash):
            targets = panel.get("targets", [])
            if any(t.get("datasource", {}).get("type") == "loki" for t in targets):
                out.append((f"{dash['uid']}: {panel['title']}", panel))
    return out


def _reads_rag_api_logs(expr: str) -> bool:
    """Independently of the generator: a documented rag-api event or log field in the query."""
    fields = dashlib.log_fields() - dashlib.LOG_OTLP_FIELDS
    events = dashlib.log_events()
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"|`[^`]*`', '""', expr)  # a value is no field
    return any(f'"{e}"' in expr for e in events) or any(
        re.search(rf"(?<![\w.]){re.escape(f)}(?!\w)", outside_strings) for f in fields
    )


def test_log_panels_reading_rag_api_events_or_fields_need_the_extras() -> None:
    panels = _loki_panels()
    wrong = []
    for where, panel in panels:
        targets = panel["targets"]
        exprs = [t["expr"] for t in targets if t.get("datasource", {}).get("type") == "loki"]
        app_specific = any(_reads_rag_api_logs(e) for e in exprs)
        if app_specific != (needs(panel)[0] == NEEDS_EXTRAS):
            wrong.append(f"{where}: {needs(panel)[0]} ({exprs})")
    assert wrong == []
    # both kinds are present, so the check can tell them apart
    kinds = {needs(p)[0] for _, p in panels}
    assert {NEEDS_EXTRAS, "OTLP logs"} <= kinds, kinds


@pytest.mark.parametrize(
    ("expr", "app_specific"),
    [
        ('{service_name="s"} | severity_text=~"WARN|ERROR"', False),
        ('{service_name="s"} | trace_id != ""', False),
        ('sum by (severity_text) (rate({service_name="s"} [$__auto]))', False),
        ('{service_name="s"} |= "chat_failed"', True),
        ('{service_name="s"} != "healthz"', True),
        ('{service_name="s"} |~ `chat_.*`', True),
        ('{service_name="s"} | user_id != ""', True),
        ('{service_name="s"} | conversation_id = "$conversation"', True),
        ('sum by (tenant) (count_over_time({service_name="s"} [$__range]))', True),
        ('sum(sum_over_time({service_name="s"} | unwrap cost_usd | __error__="" [5m]))', True),
    ],
)
def test_reads_app_logs(expr: str, app_specific: bool) -> None:
    assert reads_app_logs(expr) is app_specific
