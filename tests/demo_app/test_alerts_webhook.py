"""POST/GET /v1/alerts: the Alertmanager webhook receiver (payload version 4)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from harness.procs import WEBHOOK_TOKEN, Proc
from tests.demo_app.conftest import log_lines

AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


def alert(name: str, status: str = "firing", **labels: str) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "service": "rag-api", **labels},
        "annotations": {"summary": f"{name} summary", "runbook_url": "docs/runbooks.md#x"},
        "startsAt": "2026-11-27T05:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": uuid.uuid4().hex[:16],
    }


def payload(receiver: str, alerts: list[dict], status: str = "firing") -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": {"service": "rag-api"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def test_webhook_stores_and_logs_each_alert(client: httpx.Client, shared_app: Proc) -> None:
    receiver = f"page-{uuid.uuid4().hex[:6]}"
    burn = alert("SLOFastBurn", severity="page", slo="chat-availability")
    errors = alert("LLMErrorRatioHigh", severity="page")
    r = client.post("/v1/alerts", headers=AUTH, json=payload(receiver, [burn, errors]))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2}
    resolved = alert("SLOFastBurn", status="resolved", severity="page", slo="chat-availability")
    resolved["fingerprint"] = burn["fingerprint"]
    client.post("/v1/alerts", headers=AUTH, json=payload(receiver, [resolved], status="resolved"))

    stored = client.get("/v1/alerts", params={"receiver": receiver}).json()["alerts"]
    assert [(a["alertname"], a["status"]) for a in stored] == [
        ("SLOFastBurn", "resolved"),  # newest first
        ("LLMErrorRatioHigh", "firing"),
        ("SLOFastBurn", "firing"),
    ]
    first = stored[-1]
    assert first["severity"] == "page" and first["slo"] == "chat-availability"
    assert first["service"] == "rag-api" and first["fingerprint"] == burn["fingerprint"]
    assert first["receiver"] == receiver
    assert first["labels"]["alertname"] == "SLOFastBurn"
    only = client.get("/v1/alerts", params={"receiver": receiver, "alertname": "LLMErrorRatioHigh"})
    assert len(only.json()["alerts"]) == 1

    # One summary line per notification, not one per alert.
    logged = [
        x
        for x in log_lines(shared_app)
        if x.get("event") == "alerts_received" and x.get("receiver") == receiver
    ]
    assert len(logged) == 2
    first_line, second_line = logged
    assert first_line["alerts"] == 2 and first_line["firing"] == 2
    assert first_line["alertnames"] == ["LLMErrorRatioHigh", "SLOFastBurn"]
    assert first_line["severities"] == ["page"] and first_line["services"] == ["rag-api"]
    assert first_line["notification_status"] == "firing" and first_line["request_id"]
    assert second_line["resolved"] == 1 and second_line["notification_status"] == "resolved"
    assert not [x for x in log_lines(shared_app) if x.get("event") == "alert_received"]


def test_store_keeps_the_last_100(client: httpx.Client) -> None:
    receiver = f"bulk-{uuid.uuid4().hex[:6]}"
    for batch in range(3):
        alerts = [alert(f"Bulk{batch}-{i}") for i in range(50)]
        r = client.post("/v1/alerts", headers=AUTH, json=payload(receiver, alerts))
        assert r.status_code == 200
    everything = client.get("/v1/alerts").json()
    assert len(everything["alerts"]) == 100
    assert everything["alerts"][0]["alertname"] == "Bulk2-49"
    assert everything["alerts"][-1]["alertname"] == "Bulk1-0"


def _bad(mutate) -> dict:
    body = payload("r", [alert("X")])
    mutate(body)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_bad(lambda b: b.update(version="3")), "version"),
        (_bad(lambda b: b.update(status="exploded")), "status"),
        (_bad(lambda b: b.pop("alerts")), "alerts"),
        (_bad(lambda b: b.pop("receiver")), "receiver"),
        (_bad(lambda b: b["alerts"][0].update(startsAt="yesterday")), "alerts.0.startsAt"),
        (
            _bad(lambda b: b["alerts"][0].update(labels={"alertname": 5})),
            "alerts.0.labels.alertname",
        ),
        (_bad(lambda b: b["alerts"][0].update(status=None)), "alerts.0.status"),
    ],
)
def test_invalid_payload_is_422_naming_the_field(
    client: httpx.Client, body: dict, field: str
) -> None:
    r = client.post("/v1/alerts", headers=AUTH, json=copy.deepcopy(body))
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["detail"]}, r.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startsAt", "1700000000"),  # Unix seconds
        ("startsAt", "2026-01-01"),  # a date
        ("startsAt", "2026-01-01T00:00:00"),  # no offset: which instant?
        ("startsAt", "2026-01-01 00:00:00Z"),  # RFC 3339's date-time has a "T"
        ("endsAt", "2026-01-01T00:00:00+0100"),  # the offset needs its colon
    ],
)
def test_timestamps_must_be_rfc3339_date_times(
    client: httpx.Client, field: str, value: str
) -> None:
    """The OpenAPI schema says `format: date-time` (RFC 3339, offset required); these were
    accepted with 200, the naive ones stored as if they were UTC."""
    body = payload("timestamps", [alert("Clock")])
    body["alerts"][0][field] = value
    r = client.post("/v1/alerts", headers=AUTH, json=body)
    assert r.status_code == 422, r.text
    [detail] = r.json()["detail"]
    assert detail["field"] == f"alerts.0.{field}"
    assert "RFC 3339" in detail["reason"]


@pytest.mark.parametrize(
    ("starts_at", "stored"),
    [
        # Alertmanager writes Go's RFC3339Nano: nanoseconds, trailing zeros cut, Z or an offset
        ("2026-12-04T05:00:00.123456789Z", "2026-12-04T05:00:00.123456+00:00"),
        ("2026-12-04T05:00:00.5+01:00", "2026-12-04T05:00:00.500000+01:00"),
        ("2026-12-04t05:00:00z", "2026-12-04T05:00:00+00:00"),
    ],
)
def test_alertmanagers_own_timestamps_are_accepted(
    client: httpx.Client, starts_at: str, stored: str
) -> None:
    receiver = f"clock-{uuid.uuid4().hex[:6]}"
    body = payload(receiver, [alert("Clock")])
    body["alerts"][0]["startsAt"] = starts_at  # endsAt: 0001-01-01T00:00:00Z, as when firing
    r = client.post("/v1/alerts", headers=AUTH, json=body)
    assert r.status_code == 200, r.text
    [entry] = client.get("/v1/alerts", params={"receiver": receiver}).json()["alerts"]
    assert entry["starts_at"] == stored
    assert entry["ends_at"] == "0001-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["alerts"][0]["labels"].update(alertname="\ud800"), "alerts.0.labels"),
        (lambda b: b["alerts"][0]["annotations"].update({"\udfff": "x"}), "alerts.0.annotations"),
        (lambda b: b.update(groupKey="g\ud83d"), "groupKey"),
        (lambda b: b["commonLabels"].update(service="\udc00"), "commonLabels.service"),
        (lambda b: b.update(truncatedAlerts=10**20), "truncatedAlerts"),
    ],
)
def test_values_that_could_not_be_served_again_are_422(
    client: httpx.Client, change: Callable[[dict], None], field: str
) -> None:
    """A lone surrogate (valid JSON, no Unicode text) or an integer beyond int64 was accepted,
    then broke every GET /v1/alerts (500) and the OTLP attribute (a traceback on stdout)."""
    body = payload("surrogates", [alert("Lone")])
    change(body)
    raw = json.dumps(body)  # ASCII with \\u escapes: the surrogate travels as JSON allows
    headers = {**AUTH, "Content-Type": "application/json"}
    r = client.post("/v1/alerts", headers=headers, content=raw)
    assert r.status_code == 422, r.text
    assert any(d["field"].startswith(field) for d in r.json()["detail"]), r.json()
    assert client.get("/v1/alerts").status_code == 200


def test_a_filter_given_twice_is_422_naming_it(client: httpx.Client) -> None:
    r = client.get("/v1/alerts", params=[("receiver", "a"), ("receiver", "b")])
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {"field": "receiver", "reason": "given more than once: give one value"}
    ]
    assert client.get("/v1/alerts", params={"receiver": "a", "alertname": "b"}).status_code == 200
