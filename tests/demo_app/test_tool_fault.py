"""The calculator tool's backend failing (fault `tool_error_rate`), over real HTTP."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from genai_telemetry import semconv as sc


def test_a_failing_tool_backend_is_answered_and_counted_as_the_tools_failure(
    client: httpx.Client, admin_headers: dict[str, str], reset_faults: None
) -> None:
    """tool_error_rate 1: the calculator agent answers that the tool is unavailable (HTTP 200,
    route tool) and the tool's duration counts a server_error; no model call is made."""

    def failed_tool_calls() -> float:
        families = text_string_to_metric_families(client.get("/metrics").text)
        return sum(
            s.value
            for f in families
            for s in f.samples
            if s.name == sc.GENAI_EXECUTE_TOOL_DURATION + "_count"
            and s.labels.get(sc.L_ERROR_TYPE) == sc.ERROR_SERVER
        )

    before = failed_tool_calls()
    faults = {"tool_error_rate": 1.0}
    client.put("/admin/faults", json=faults, headers=admin_headers).raise_for_status()
    r = client.post("/v1/chat", json={"question": "What is 17 * 3?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["route"] == "tool" and "unavailable" in body["answer"], body
    assert failed_tool_calls() == before + 1
