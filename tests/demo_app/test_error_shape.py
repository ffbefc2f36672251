"""One error shape for every bad input, as the OpenAPI document says, over real HTTP.

The inputs the issue found answered with an undocumented 400 (invalid UTF-8, JSON nested 20,000
deep, a 5,000-digit integer) are 422s naming `body`; 404/405 use the same shape, and a 405 lists
every method of the path; the spec references only ErrorResponse for errors and lists the
catalog's models as the only accepted `model` values.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import httpx
import jsonschema
import pytest

AUTH_ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}  # conftest.ADMIN_TOKEN


@pytest.fixture(scope="module")
def spec(shared_app: Any) -> dict[str, Any]:
    return httpx.get(shared_app.url + "/openapi.json", timeout=10).json()


def error_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return {"$ref": "#/components/schemas/ErrorResponse", "components": spec["components"]}


def assert_error(spec: dict[str, Any], r: httpx.Response, status: int, field: str) -> None:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    jsonschema.validate(body, error_schema(spec))
    assert field in {d["field"] for d in body["detail"]}, body
    assert all(d["reason"] for d in body["detail"]), body
    assert body["request_id"] == r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"question": "caf\xe9 \xff"}', "UTF-8"),
        (b'{"question": "q", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nested too deeply"),
        (b'{"question": "q", "max_tokens": ' + b"9" * 5_000 + b"}", "malformed JSON"),
        (b'{"question": "q",', "malformed JSON"),
        (b"", "body"),
    ],
)
def test_unparseable_bodies_are_422_naming_the_body(
    client: httpx.Client, spec: dict[str, Any], content: bytes, reason: str
) -> None:
    for path in ("/v1/chat", "/v1/chat/stream"):
        r = client.post(path, content=content, headers={"Content-Type": "application/json"})
        assert_error(spec, r, 422, "body")
        assert reason in r.json()["detail"][0]["reason"] or reason == "body"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        # json's message alone ends in a dangling "at"; where it is comes from the position
        (
            b'{"question": "a\x01b"}',
            "malformed JSON: Invalid control character after 15 characters",
        ),
        (
            b'{"question": "q",',
            "Expecting property name enclosed in double quotes after 17 characters",
        ),
        # Python's own advice (sys.set_int_max_str_digits) is no help to a client
        (b'{"question": "q", "max_tokens": ' + b"9" * 5_000 + b"}", "more than 4300 digits"),
    ],
)
def test_malformed_json_reasons_say_what_and_where(
    client: httpx.Client, content: bytes, reason: str
) -> None:
    r = client.post("/v1/chat", content=content, headers={"Content-Type": "application/json"})
    got = r.json()["detail"][0]["reason"]
    assert r.status_code == 422 and reason in got, got
    assert not got.endswith(" at") and "sys." not in got, got


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/admin/faults", "GET, PUT"),
        ("DELETE", "/admin/faults", "GET, PUT"),
        ("GET", "/v1/chat", "POST"),
        ("PUT", "/v1/alerts", "GET, POST"),
    ],
)
def test_405_lists_every_method_of_the_path(
    client: httpx.Client, spec: dict[str, Any], method: str, path: str, allow: str
) -> None:
    r = client.request(method, path, headers=AUTH_ADMIN)
    assert_error(spec, r, 405, "method")
    assert r.headers["allow"] == allow


def test_unknown_path_is_404_in_the_same_shape(client: httpx.Client, spec: dict[str, Any]) -> None:
    assert_error(spec, client.get("/v2/nothing-here"), 404, "path")


def test_spec_documents_only_the_error_shape_it_answers(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")) and "content" in response:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorResponse"), (method, path, status)
            if op.get("requestBody"):
                assert {"413", "422"} <= set(op["responses"]), (method, path)


def test_model_is_an_enum_of_the_catalog(client: httpx.Client, spec: dict[str, Any]) -> None:
    model = spec["components"]["schemas"]["ChatRequestBody"]["properties"]["model"]
    (enum,) = [s["enum"] for s in model["anyOf"] if "enum" in s]
    assert "gpt-4o-mini" in enum
    r = client.post("/v1/chat", json={"question": "hi", "model": "not-a-model"})
    assert_error(spec, r, 422, "model")
    for name in enum:
        r = client.post("/v1/chat", json={"question": "What is 2+2?", "model": name})
        assert r.status_code == 200, (name, r.text[:200])


def test_a_client_that_hangs_up_mid_body_is_499_not_bad_input(shared_app: Any) -> None:
    """Half a body, then the connection closes: nothing can be answered, and it was not bad
    input. The access log and the HTTP metric say 499 (client closed request), never 422."""

    def count(status: str) -> float:
        metrics = httpx.get(shared_app.url + "/metrics", timeout=10).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("http_server_request_duration_seconds_count{")
            and 'http_route="/v1/feedback"' in line
            and f'http_response_status_code="{status}"' in line
        )

    before = {status: count(status) for status in ("422", "499")}
    request_id = f"hang-up-{uuid.uuid4().hex[:12]}"
    head = (
        f"POST /v1/feedback HTTP/1.1\r\nHost: test\r\nX-Request-ID: {request_id}\r\n"
        "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", shared_app.port), timeout=10) as sock:
        sock.sendall(head.encode() + b'{"request_id": "abc", "thu')

    def logged() -> list[dict[str, Any]]:
        lines = shared_app.log_path.read_text().splitlines()
        return [json.loads(x) for x in lines if request_id in x and '"http_request"' in x]

    deadline = time.monotonic() + 10
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [line["status"] for line in logged()] == [499]
    assert count("499") == before["499"] + 1
    assert count("422") == before["422"]


SECRET_MODEL = "sk-" + "proj-" + "Zq8" * 14  # a key-shaped value, not a real key
PASSWORD_MODEL = "pass" + "word=hunter2-secret"  # split: a fixture, not a credential


@pytest.mark.parametrize(
    ("body", "field", "secret"),
    [
        ({"question": "hi", "model": PASSWORD_MODEL}, "model", "hunter2"),
        ({"question": "hi", "model": SECRET_MODEL}, "model", SECRET_MODEL[:20]),
        ({"question": "hi", SECRET_MODEL: 1}, "[REDACTED:api_key]", SECRET_MODEL[:20]),
    ],
)
def test_error_bodies_pass_the_redaction(
    client: httpx.Client, spec: dict[str, Any], body: dict[str, Any], field: str, secret: str
) -> None:
    """An error that quotes the caller's value or key goes through the one redaction path."""
    r = client.post("/v1/chat", json=body)
    assert_error(spec, r, 422, field)
    assert secret not in r.text and "[REDACTED:" in r.text, r.text


def test_a_trailing_slash_is_404_not_a_redirect_to_the_callers_host(client: httpx.Client) -> None:
    r = client.post("/v1/chat/", json={"question": "hi"}, headers={"Host": "evil.example"})
    assert r.status_code == 404 and "location" not in r.headers, (r.status_code, r.headers)
    assert r.json()["error"] == "not_found"
