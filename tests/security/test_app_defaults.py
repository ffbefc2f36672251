"""rag-api's security defaults, on the real app over HTTP.

- The fault-injection admin API does not exist unless ADMIN_TOKEN is set (404, not 401: an
  unconfigured deployment shows no attack surface), and with a token it needs exactly that token.
- Request bodies are limited (413 with a JSON error naming the body), whether the client declares
  the length or streams a chunked body without one.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness.procs import Proc, start_rag_api

TOKEN = "test-admin-token-for-this-run-only"
BODY_LIMIT = 64 * 1024  # the app's default MAX_BODY_BYTES


@pytest.fixture(scope="module")
def app_without_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    # ADMIN_TOKEN="" overrides anything the developer's shell exports.
    proc = start_rag_api(tmp_path_factory.mktemp("no-token"), {"ADMIN_TOKEN": ""})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def app_with_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_rag_api(tmp_path_factory.mktemp("token"), {"ADMIN_TOKEN": TOKEN})
    yield proc
    proc.stop()


def _assert_error_body(r: httpx.Response, field: str) -> None:
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    fields = [d.get("field") for d in body.get("detail", [])]
    assert field in fields, body
    assert all(d.get("reason") for d in body["detail"]), body


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_admin_api_absent_without_token(app_without_token: Proc, method: str) -> None:
    for auth in ({}, {"Authorization": "Bearer anything"}):
        r = httpx.request(
            method,
            app_without_token.url + "/admin/faults",
            json={"error_rate": 1.0} if method == "PUT" else None,
            headers=auth,
            timeout=10,
        )
        assert r.status_code == 404, (auth, r.status_code, r.text)
    # Not advertised either.
    spec = httpx.get(app_without_token.url + "/openapi.json", timeout=10).json()
    assert not [p for p in spec["paths"] if p.startswith("/admin")]
    # And no fault was injected: chat still answers.
    r = httpx.post(app_without_token.url + "/v1/chat", json={"question": "hello?"}, timeout=30)
    assert r.status_code == 200, r.text


def test_admin_api_requires_the_exact_bearer_token(app_with_token: Proc) -> None:
    url = app_with_token.url + "/admin/faults"
    missing = httpx.get(url, timeout=10)
    assert missing.status_code == 401
    assert missing.headers.get("www-authenticate", "").lower().startswith("bearer")
    wrong = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}x"}, timeout=10)
    assert wrong.status_code == 403
    prefix = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN[:-1]}"}, timeout=10)
    assert prefix.status_code == 403
    basic = httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}, timeout=10)
    assert basic.status_code == 401
    ok = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert ok.status_code == 200, ok.text
    # A rejected PUT changes nothing, and says nothing about the body before the credential:
    # malformed JSON without a token is 401/403 too, not 422.
    put = httpx.put(url, json={"error_rate": 1.0}, headers={"Authorization": "Bearer no"})
    assert put.status_code == 403
    for auth, status in (({}, 401), ({"Authorization": "Bearer no"}, 403)):
        headers = {**auth, "Content-Type": "application/json"}
        for body in (b'{"error_rate": ', b"\xff{", b'{"error_rate": "high"}'):
            r = httpx.put(url, content=body, headers=headers, timeout=10)
            assert r.status_code == status, (auth, body, r.text)
            assert r.json()["detail"][0]["field"] == "Authorization", r.text
    profile = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert profile["error_rate"] == 0


@pytest.mark.parametrize("order", ["right first", "wrong first"])
def test_two_authorization_headers_are_refused_whichever_comes_first(
    app_with_token: Proc, order: str
) -> None:
    """The app checked the first and a proxy in front may check (or log) the last: with the right
    token first a wrong one rode along, with the wrong one first the right one was refused."""
    pair = [("Authorization", f"Bearer {TOKEN}"), ("Authorization", "Bearer wrong")]
    headers = pair if order == "right first" else pair[::-1]
    for method, path in (("GET", "/admin/faults"), ("PUT", "/admin/faults")):
        body = {"error_rate": 1.0} if method == "PUT" else None
        r = httpx.request(method, app_with_token.url + path, json=body, headers=headers, timeout=10)
        assert r.status_code == 401, (method, r.text)
        assert r.json()["detail"] == [
            {"field": "Authorization", "reason": "sent more than once: send one credential"}
        ]
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
    hook = httpx.post(app_with_token.url + "/v1/alerts", json={}, headers=headers, timeout=10)
    assert hook.status_code == 401, hook.text
    profile = httpx.get(
        app_with_token.url + "/admin/faults", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert profile.json()["error_rate"] == 0


def test_oversized_body_is_413_with_declared_length(app_without_token: Proc) -> None:
    question = "x" * (BODY_LIMIT + 1)
    r = httpx.post(app_without_token.url + "/v1/chat", json={"question": question}, timeout=30)
    assert r.status_code == 413, r.status_code
    _assert_error_body(r, "body")


def test_oversized_chunked_body_is_413(app_without_token: Proc) -> None:
    """No Content-Length: the limit must be enforced while reading, not trusted from a header."""

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(BODY_LIMIT // 1024 + 8):
            yield b"y" * 1024
        yield b'"}'

    r = httpx.post(
        app_without_token.url + "/v1/chat",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413, (r.status_code, r.text[:300])
    _assert_error_body(r, "body")


def test_body_just_under_the_limit_is_not_413(app_without_token: Proc) -> None:
    """The limit is the documented size, not something smaller that breaks real requests."""
    r = httpx.post(
        app_without_token.url + "/v1/chat",
        json={"question": "q" * 3000, "conversation_id": "c" * 100},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:300]
    alerts = {"version": "4", "status": "firing", "alerts": [], "padding": "p" * (BODY_LIMIT * 2)}
    r = httpx.post(app_without_token.url + "/v1/alerts", json=alerts, timeout=30)
    # The Alertmanager webhook has its own, larger limit (batches of alerts are big).
    assert r.status_code != 413, r.text[:300]


def test_local_run_binds_loopback_and_the_image_binds_its_network() -> None:
    """`make run` (and a bare `python -m demo_app`) listen on 127.0.0.1 only; the container image
    sets HOST=0.0.0.0, reachable inside the compose network (published on BIND_ADDRESS)."""
    import re
    import subprocess

    from demo_app.config import Settings
    from harness import ROOT

    dry = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    assert re.search(r"-m demo_app --host 127\.0\.0\.1$", dry.stdout, re.M), dry.stdout
    assert Settings.from_env({}).host == "127.0.0.1"
    assert "HOST=0.0.0.0" in (ROOT / "demo_app" / "Dockerfile").read_text()
