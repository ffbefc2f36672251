"""GET/PUT /admin/faults: only with ADMIN_TOKEN, bearer auth, full-profile replace, validation."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from demo_app.faults import FaultProfile
from harness.procs import Proc

DEFAULTS = FaultProfile().to_dict()


def test_admin_api_is_absent_without_admin_token(start_app: Callable[..., Proc]) -> None:
    app = start_app({"ADMIN_TOKEN": ""}, name="noadmin")
    for method in ("GET", "PUT"):
        r = httpx.request(
            method,
            app.url + "/admin/faults",
            json={},
            headers={"Authorization": "Bearer anything"},
        )
        assert r.status_code == 404, r.text
    assert "/admin/faults" not in httpx.get(app.url + "/openapi.json").text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer wrong-token"}, 403),
        ({"Authorization": "Bearer test-admin-token-012345678"}, 403),  # prefix of the real one
    ],
)
def test_admin_auth(client: httpx.Client, headers: dict[str, str], status: int) -> None:
    r = client.get("/admin/faults", headers=headers)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    # A bad PUT body is not even looked at without valid credentials.
    r = client.put("/admin/faults", json={"error_rate": 7}, headers=headers)
    assert r.status_code == status


def test_put_replaces_the_full_profile(
    client: httpx.Client, admin_headers: dict[str, str], reset_faults: None
) -> None:
    assert client.get("/admin/faults", headers=admin_headers).json() == DEFAULTS
    r = client.put(
        "/admin/faults", json={"error_rate": 0.25, "latency_multiplier": 3}, headers=admin_headers
    )
    assert r.status_code == 200
    assert r.json() == {**DEFAULTS, "error_rate": 0.25, "latency_multiplier": 3.0}
    # Omitted knobs reset to defaults: PUT is a replace, not a patch.
    r = client.put("/admin/faults", json={"extra_ttft_seconds": 1.5}, headers=admin_headers)
    assert r.json() == {**DEFAULTS, "extra_ttft_seconds": 1.5}
    assert client.get("/admin/faults", headers=admin_headers).json() == r.json()
    assert client.put("/admin/faults", json={}, headers=admin_headers).json() == DEFAULTS


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"error_rate": 1.5}, "error_rate", "must be between 0 and 1, got 1.5"),
        ({"rate_limit_rate": -0.1}, "rate_limit_rate", "must be between 0 and 1"),
        ({"latency_multiplier": "fast"}, "latency_multiplier", "valid number"),
        ({"retrieval_degradation": 2}, "retrieval_degradation", "must be between 0 and 1"),
        ({"output_token_multiplier": 1e308}, "output_token_multiplier", "between 0 and 20"),
        ({"extra_ttft_seconds": 1e9}, "extra_ttft_seconds", "between 0 and 120"),
        ({"chaos": 1}, "chaos", "unknown field"),
    ],
)
def test_put_validation_names_the_field(
    client: httpx.Client, admin_headers: dict[str, str], body: dict, field: str, reason: str
) -> None:
    before = client.get("/admin/faults", headers=admin_headers).json()
    r = client.put("/admin/faults", json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == field and reason in detail["reason"]
    assert client.get("/admin/faults", headers=admin_headers).json() == before
