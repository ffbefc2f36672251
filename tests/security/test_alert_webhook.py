"""POST /v1/alerts (the Alertmanager webhook) is authenticated and bounded, over real HTTP.

- Not mounted without ALERTS_WEBHOOK_TOKEN; missing credential → 401, wrong → 403 (the body is
  not even read); the token may come from a file (ALERTS_WEBHOOK_TOKEN_FILE).
- More than MAX_ALERTS alerts → 422 naming `alerts`; a body over ALERTS_MAX_BODY_BYTES → 413.
- One log line per notification; a flood of notifications (accepted or rejected) cannot push
  other records out of a small OTLP log queue: every chat's records reach the OTLP receiver.
- The real Alertmanager (0.25) with the shipped alertmanager.yml presents the credential from its
  file: a matching token delivers, a wrong one is refused.
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo_app.alerts import LOG_BURST, MAX_ALERTS
from demo_app.config import ConfigError, Settings
from harness.otlp_receiver import OTLPReceiver
from harness.procs import (
    ALERTMANAGER_CONFIG,
    WEBHOOK_TOKEN,
    Proc,
    rag_api_factory,
    start_alertmanager,
    start_rag_api,
)

AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
# JSON of the wrong shape, malformed JSON, and bytes that are not UTF-8.
INVALID_BODIES = (b'{"alerts": "x", "receiver": "intruder"}', b'{"alerts": [', b"\xff\xfe{")


def alert(name: str = "Watchdog", **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "severity": "page", **labels},
        "annotations": {"summary": "s"},
        "startsAt": "2026-12-01T00:00:00Z",
        "fingerprint": uuid.uuid4().hex[:16],
    }


def notification(alerts: list[dict[str, Any]], receiver: str = "pager") -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": receiver, "alerts": alerts}


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Proc]]:
    with rag_api_factory(tmp_path_factory.mktemp) as start:
        yield start


@pytest.fixture(scope="module")
def app(procs: Callable[..., Proc]) -> Proc:
    return procs({}, "webhook")


def test_not_mounted_without_a_token(procs: Callable[..., Proc]) -> None:
    bare = procs({"ALERTS_WEBHOOK_TOKEN": ""}, "no-webhook")
    for method in ("GET", "POST"):
        r = httpx.request(method, bare.url + "/v1/alerts", json={}, headers=AUTH, timeout=10)
        assert r.status_code == 404, r.text
    assert "/v1/alerts" not in httpx.get(bare.url + "/openapi.json", timeout=10).json()["paths"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": f"Bearer {WEBHOOK_TOKEN[:-1]}"}, 403),
    ],
)
def test_credential_is_required(app: Proc, headers: dict[str, str], status: int) -> None:
    # The body is invalid too: without credentials it is not even looked at, whether it is
    # JSON of the wrong shape or no JSON at all (FastAPI decodes a body before dependencies).
    for body in INVALID_BODIES:
        sent = {**headers, "Content-Type": "application/json"}
        r = httpx.post(app.url + "/v1/alerts", content=body, headers=sent, timeout=10)
        assert r.status_code == status, (body, r.text)
        assert r.json()["detail"][0]["field"] == "Authorization"
        if status == 401:
            assert r.headers["www-authenticate"] == "Bearer"
    stored = httpx.get(app.url + "/v1/alerts", timeout=10).json()
    assert not [a for a in stored["alerts"] if a["receiver"] == "intruder"]


def test_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-file-0123456789\n")
    env = {"ALERTS_WEBHOOK_TOKEN_FILE": str(secret)}
    assert Settings.from_env(env).alerts_webhook_token == "from-a-file-0123456789"
    with pytest.raises(ConfigError, match="both set"):
        Settings.from_env({**env, "ALERTS_WEBHOOK_TOKEN": "x"})
    with pytest.raises(ConfigError, match=r"ALERTS_WEBHOOK_TOKEN_FILE=.*cannot read"):
        Settings.from_env({"ALERTS_WEBHOOK_TOKEN_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        Settings.from_env({"ALERTS_WEBHOOK_TOKEN_FILE": str(tmp_path / "empty")})


def test_alert_count_and_body_size_are_limited(app: Proc) -> None:
    r = httpx.post(
        app.url + "/v1/alerts",
        json=notification([alert() for _ in range(MAX_ALERTS + 1)]),
        headers=AUTH,
        timeout=30,
    )
    assert r.status_code == 422, r.text
    assert "alerts" in {d["field"] for d in r.json()["detail"]}
    huge = notification([alert(padding="p" * 1024) for _ in range(1100)])
    r = httpx.post(app.url + "/v1/alerts", json=huge, headers=AUTH, timeout=30)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"][0]["field"] == "body"
    spec = httpx.get(app.url + "/openapi.json", timeout=10).json()
    responses = spec["paths"]["/v1/alerts"]["post"]["responses"]
    assert {"401", "403", "413", "422"} <= set(responses)


def test_flood_cannot_push_other_log_records_out(tmp_path: Path) -> None:
    """An OTLP log queue of 64 records, ~280 notifications (six of 500 alerts; half with a wrong
    credential) racing 20 chats: every chat's records arrive, webhook lines stay within their
    budget and say how many were suppressed, and no line is written per alert."""
    chats = 20
    with OTLPReceiver("ok") as receiver:
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BLRP_MAX_QUEUE_SIZE": "64",
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "info",
        }
        app = start_rag_api(tmp_path, env, name="flood")
        try:
            big = notification([alert(f"Flood{i}") for i in range(MAX_ALERTS)])
            small = notification([alert()])

            def post(i: int) -> int:
                if i % 15 == 0 and i // 15 < chats:
                    body = {"question": f"How do I monitor TTFT? ({i})"}
                    return httpx.post(app.url + "/v1/chat", json=body, timeout=30).status_code
                headers = AUTH if i % 2 else {"Authorization": "Bearer wrong"}
                payload = big if i < 6 else small
                r = httpx.post(app.url + "/v1/alerts", json=payload, headers=headers, timeout=30)
                return r.status_code

            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(post, range(chats * 15)))
            elapsed = time.monotonic() - started
            assert statuses.count(200) >= chats, statuses
            time.sleep(1.0)  # refill the budget: the next line reports what was suppressed
            r = httpx.post(app.url + "/v1/alerts", json=small, headers=AUTH, timeout=10)
            assert r.status_code == 200
        finally:
            app.stop()  # flushes the log queue
        records = receiver.logs()
    answered = [r for r in records if r.body == "chat_answered"]
    assert len(answered) == chats, f"{len(answered)}/{chats} chat records reached the receiver"
    webhook = [
        r
        for r in records
        if r.body == "alerts_received"
        or (r.body == "http_request" and r.attributes.get("route") == "/v1/alerts")
    ]
    budget = LOG_BURST + 5.0 * (elapsed + 2) + 2
    assert 0 < len(webhook) <= budget, (len(webhook), budget)
    assert any(r.attributes.get("suppressed_since_last", 0) > 0 for r in webhook)
    assert not [r for r in records if r.body == "alert_received"]  # no per-alert lines


def test_real_alertmanager_presents_the_credential(tmp_path: Path, app: Proc) -> None:
    """The shipped alertmanager.yml, its credential file pointing at the test token (and, for
    the second instance, at a wrong one): Watchdog is routed at once (group_wait 0s)."""
    rewrite = {"http://rag-api:8000": app.url}
    good = start_alertmanager(tmp_path, rewrite=rewrite, name="am-good")
    try:
        name = f"Watchdog{uuid.uuid4().hex[:6]}"
        am_alert = {"labels": {"alertname": "Watchdog", "probe": name}}
        assert httpx.post(good.url + "/api/v2/alerts", json=[am_alert], timeout=10).is_success
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = httpx.get(app.url + "/v1/alerts", params={"receiver": "heartbeat"}, timeout=10)
            if any(a["labels"].get("probe") == name for a in got.json()["alerts"]):
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"Alertmanager never delivered to rag-api:\n{good.log_tail()}")
    finally:
        good.stop()
    wrong_config = tmp_path / "wrong.yml"
    token_file = tmp_path / "wrong-token"
    token_file.write_text("not-the-token\n")
    shipped = ALERTMANAGER_CONFIG.read_text()
    wrong_config.write_text(shipped.replace("/run/secrets/alerts_webhook_token", str(token_file)))
    refusals_before = Path(app.log_path).read_text().count('"status": 403')
    bad = start_alertmanager(tmp_path, config_path=wrong_config, rewrite=rewrite, name="am-bad")
    try:
        name = f"Watchdog{uuid.uuid4().hex[:6]}"
        am_alert = {"labels": {"alertname": "Watchdog", "probe": name}}
        assert httpx.post(bad.url + "/api/v2/alerts", json=[am_alert], timeout=10).is_success
        deadline = time.monotonic() + 30
        refused = False
        while time.monotonic() < deadline and not refused:
            refused = Path(app.log_path).read_text().count('"status": 403') > refusals_before
            time.sleep(0.3)
        assert refused, "rag-api never saw (and refused) the wrong credential"
        got = httpx.get(app.url + "/v1/alerts", params={"receiver": "heartbeat"}, timeout=10)
        assert not any(a["labels"].get("probe") == name for a in got.json()["alerts"])
    finally:
        bad.stop()
