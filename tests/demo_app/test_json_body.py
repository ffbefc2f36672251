"""Request bodies a proxy and the app could read differently, over real HTTP: a member named
twice (the app kept the last, a WAF reads the first), UTF-16/32 (json.loads took them, a WAF
reads UTF-8), and a body without a JSON Content-Type. Each is the uniform 422 naming the field,
on every route with a body, counted and logged like any other 422.

The parser alone: test_jsonbody_parse.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.procs import WEBHOOK_TOKEN, Proc
from tests.demo_app.conftest import ADMIN_TOKEN, log_lines
from tests.demo_app.test_alerts_webhook import alert, payload
from tests.demo_app.test_error_shape import assert_error
from tests.demo_app.test_metrics import total

JSON = {"Content-Type": "application/json"}
# The credential each operator route asks for; the public routes need none.
AUTH = {
    "/admin/faults": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
    "/v1/alerts": {"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
}
# A field each body declares, written twice: the first value valid and harmless.
FIRST_FIELD = {
    "/v1/chat": ("question", '"What is 2+2?"'),
    "/v1/chat/stream": ("question", '"What is 2+2?"'),
    "/v1/feedback": ("thumbs", '"up"'),
    "/v1/alerts": ("receiver", '"team"'),
    "/admin/faults": ("error_rate", "0.0"),
}
DUPLICATE = "duplicate key"


@pytest.fixture(scope="module")
def spec(shared_app: Proc) -> dict[str, Any]:
    return httpx.get(shared_app.url + "/openapi.json", timeout=10).json()


def body_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, op in operations.items()
        if op.get("requestBody")
    ]


def test_every_route_with_a_body_refuses_a_member_named_twice(
    client: httpx.Client, spec: dict[str, Any]
) -> None:
    operations = body_operations(spec)
    assert {path for _, path in operations} == set(FIRST_FIELD), "a new body route: add it"
    for method, path in operations:
        name, value = FIRST_FIELD[path]
        content = f'{{"{name}": {value}, "{name}": {value}}}'.encode()
        headers = {**JSON, **AUTH.get(path, {})}
        r = client.request(method, path, content=content, headers=headers)
        assert_error(spec, r, 422, name)
        assert DUPLICATE in r.json()["detail"][0]["reason"], (path, r.text)


def test_the_benign_then_evil_question_is_not_answered(client: httpx.Client) -> None:
    for field, first, last in (
        ("question", "benign", "What is 2+2?"),
        ("user_tier", "free", "enterprise"),
    ):
        body = {"question": "What is 2+2?", field: first}
        content = json.dumps(body)[:-1] + f', "{field}": "{last}"}}'
        r = client.post("/v1/chat", content=content.encode(), headers=JSON)
        assert r.status_code == 422, r.text
        assert [d["field"] for d in r.json()["detail"]] == [field]


def test_a_nested_duplicate_is_named_by_its_path(client: httpx.Client, spec: dict) -> None:
    text = json.dumps(payload("team", [alert("A", severity="page")]))
    content = text.replace('"severity": "page"', '"severity": "page", "severity": "info"')
    headers = {**JSON, **AUTH["/v1/alerts"]}
    r = client.post("/v1/alerts", content=content.encode(), headers=headers)
    assert_error(spec, r, 422, "alerts.0.labels.severity")


def test_the_refusal_is_counted_and_logged_like_any_other_422(
    client: httpx.Client, shared_app: Proc
) -> None:
    series = {
        "name": "http_server_request_duration_seconds_count",
        "http_route": "/v1/chat",
        "http_response_status_code": "422",
        "error_type": "",
    }
    before = total(client.get("/metrics").text, **series)
    bodies = {
        "unknown": b'{"question": "What is 2+2?", "nope": 1}',
        "duplicate": b'{"question": "What is 2+2?", "question": "What is 3+3?"}',
    }
    ids = {}
    for kind, content in bodies.items():
        r = client.post("/v1/chat", content=content, headers=JSON)
        assert r.status_code == 422
        ids[kind] = r.headers["x-request-id"]
    assert total(client.get("/metrics").text, **series) == before + 2
    access = {
        line["request_id"]: (line["route"], line["status"], line["level"])
        for line in log_lines(shared_app)
        if line.get("event") == "http_request" and line.get("request_id") in ids.values()
    }
    assert access[ids["duplicate"]] == access[ids["unknown"]] == ("/v1/chat", 422, "info")
    lines = [ln for ln in log_lines(shared_app) if ln.get("request_id") == ids["duplicate"]]
    assert not [ln for ln in lines if ln["level"] in ("error", "critical")], lines


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be"])
def test_a_body_that_is_not_utf8_is_422(
    client: httpx.Client, spec: dict[str, Any], encoding: str
) -> None:
    content = json.dumps({"question": "What is 2+2?"}).encode(encoding)
    r = client.post("/v1/chat", content=content, headers=JSON)
    assert_error(spec, r, 422, "body")
    assert "JSON must be UTF-8" in r.json()["detail"][0]["reason"]


def test_a_utf8_byte_order_mark_is_allowed(client: httpx.Client) -> None:
    content = b"\xef\xbb\xbf" + json.dumps({"question": "What is 2+2?"}).encode()
    assert client.post("/v1/chat", content=content, headers=JSON).status_code == 200


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "none given"),
        ({"Content-Type": "text/plain"}, "got 'text/plain'"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "got 'application/x-www"),
    ],
)
def test_a_body_without_a_json_content_type_names_the_header(
    client: httpx.Client, spec: dict[str, Any], headers: dict[str, str], says: str
) -> None:
    content = json.dumps({"question": "What is 2+2?"}).encode()
    r = client.post("/v1/chat", content=content, headers=headers)
    assert_error(spec, r, 422, "Content-Type")
    assert says in r.json()["detail"][0]["reason"], r.text


def test_json_content_types_with_parameters_still_parse(client: httpx.Client) -> None:
    content = json.dumps({"question": "What is 2+2?"}).encode()
    for ctype in ("application/json; charset=utf-8", "APPLICATION/JSON", "application/x+json"):
        r = client.post("/v1/chat", content=content, headers={"Content-Type": ctype})
        assert r.status_code == 200, (ctype, r.text)


@pytest.mark.parametrize(
    ("headers", "field", "says"),
    [
        ({"Content-Encoding": "gzip"}, "Content-Encoding", "got 'gzip'"),
        ({"Content-Encoding": "br, zstd"}, "Content-Encoding", "got 'br, zstd'"),
        ({"Content-Type": "application/json; charset=utf-16"}, "Content-Type", "charset"),
        ({"Content-Type": "application/json; charset=latin-1"}, "Content-Type", "charset"),
        (
            {"Content-Type": "application/json; charset=utf-8; charset=utf-16"},
            "Content-Type",
            "charset",
        ),
    ],
)
def test_a_body_a_proxy_would_decode_otherwise_is_422_on_every_route(
    client: httpx.Client, spec: dict[str, Any], headers: dict[str, str], field: str, says: str
) -> None:
    """A body the app reads as plain UTF-8 JSON while its headers say compressed or another
    charset: a proxy or WAF that honours them inspects something else (the app ignored both)."""
    operations = body_operations(spec)
    assert {path for _, path in operations} == set(FIRST_FIELD), "a new body route: add it"
    for method, path in operations:
        name, value = FIRST_FIELD[path]
        content = f'{{"{name}": {value}}}'.encode()
        sent = {**JSON, **headers, **AUTH.get(path, {})}
        r = client.request(method, path, content=content, headers=sent)
        assert_error(spec, r, 422, field)
        assert says in r.json()["detail"][0]["reason"], (path, r.text)


def test_a_content_type_sent_twice_is_422(client: httpx.Client, spec: dict[str, Any]) -> None:
    """Starlette read the first (JSON: answered), a proxy may read the last (not JSON: not
    inspected), as with two X-API-Key headers."""
    content = json.dumps({"question": "What is 2+2?"}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    r = client.post("/v1/chat", content=content, headers=headers)
    assert_error(spec, r, 422, "Content-Type")
    assert "more than once" in r.json()["detail"][0]["reason"]


def test_identity_encoding_and_a_utf8_charset_still_parse(client: httpx.Client) -> None:
    content = json.dumps({"question": "What is 2+2?"}).encode()
    for headers in (
        {**JSON, "Content-Encoding": "identity"},
        {"Content-Type": 'application/json; charset="UTF-8"'},
        {"Content-Type": "application/json;charset=utf8"},
    ):
        r = client.post("/v1/chat", content=content, headers=headers)
        assert r.status_code == 200, (headers, r.text)
