"""Fuzzing of rag-api from its own OpenAPI spec (schemathesis → Hypothesis), over real HTTP.

Properties, for every operation the app publishes:
- valid and invalid requests alike never get a 5xx, except 502/503/504 on the chat routes while
  a provider fault is injected (that is their documented meaning);
- every rejection is a 4xx with a JSON body naming the problem:
  {"error": str, "detail": [{"field": str, "reason": str}, ...]} with non-empty field and reason.
Both schemathesis modes run: positive (valid per the schema) and negative (schema-breaking).

Plus schemathesis's own CLI with ALL its checks (`st run --checks all`: server errors, status
codes, content types and response bodies against the spec, response headers, positive data
accepted, negative data rejected, auth enforced, Allow headers, unsupported methods, …) over the
whole spec; PUT /admin/faults runs on its own app, so the fault profiles it sets cannot fail the
chat routes.

Bounded: FUZZ_EXAMPLES examples per operation and mode (default 50; the CLI runs take FUZZ_CLI_
EXAMPLES, default 25, and a hard timeout). Raise them locally to dig deeper: FUZZ_EXAMPLES=500
pytest tests/fuzz.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation

from harness.procs import Proc, start_rag_api

TOKEN = "fuzz-admin-token"  # also the webhook's: one Authorization header for the CLI run
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CLI_EXAMPLES = int(os.environ.get("FUZZ_CLI_EXAMPLES", "25"))
CLI_TIMEOUT_S = 300
APP_ENV = {
    "ADMIN_TOKEN": TOKEN,
    "ALERTS_WEBHOOK_TOKEN": TOKEN,
    "RATE_LIMIT_ENABLED": "false",
    "LOG_LEVEL": "warning",
}
# What must be in the spec (a schema change must not silently shrink what is fuzzed).
EXPECTED = {
    "POST /v1/chat",
    "POST /v1/chat/stream",
    "POST /v1/alerts",
    "GET /v1/alerts",
    "GET /admin/faults",
    "PUT /admin/faults",
    "POST /v1/feedback",
}
FAULT_STATUSES = {502, 503, 504}

Check = Callable[[Any, Any], None]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_rag_api(tmp_path_factory.mktemp("fuzz"), APP_ENV)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def uncached_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """For the fault test: with the response cache on, questions the fuzzer repeats (it does,
    across tests) are answered from cache and never meet the injected provider faults."""
    proc = start_rag_api(
        tmp_path_factory.mktemp("fuzz-uncached"),
        {**APP_ENV, "CACHE_ENABLED": "false"},
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def operations(app: Proc) -> dict[str, APIOperation]:
    schema = schemathesis.openapi.from_url(app.url + "/openapi.json")
    ops = {}
    for result in schema.get_all_operations():
        op = result.ok()
        ops[f"{op.method.upper()} {op.path}"] = op
    missing = EXPECTED - set(ops)
    assert not missing, f"operations missing from /openapi.json: {missing}"
    return ops


def _set_faults(app: Proc, profile: dict[str, float]) -> None:
    r = httpx.put(app.url + "/admin/faults", json=profile, headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text


def assert_named_rejection(label: str, response: Any) -> None:
    """A 4xx must say what was wrong and where, as JSON."""
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{label}: {response.status_code} without a JSON body") from None
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (
        f"{label}: {response.status_code} body lacks an error code: {body!r}"
    )
    detail = body.get("detail")
    assert isinstance(detail, list) and detail, f"{label}: no detail in {body!r}"
    for item in detail:
        assert isinstance(item, dict), f"{label}: detail item {item!r}"
        assert isinstance(item.get("field"), str) and item["field"], f"{label}: {item!r}"
        assert isinstance(item.get("reason"), str) and item["reason"], f"{label}: {item!r}"


def make_check(label: str, allowed_5xx: set[int]) -> Check:
    def check(case: Any, response: Any) -> None:
        status = response.status_code
        # Not case.as_curl_command(): it masks values of keys like max_tokens as [Filtered].
        sent = json.dumps(case.body, default=str)[:300] if case.body is not None else "no body"
        where = f"{label} {status} for {sent} (query {case.query})"
        if status >= 500:
            assert status in allowed_5xx, f"server error: {where}\n{response.content[:500]!r}"
            assert_named_rejection(where, response)
        elif status >= 400:
            assert_named_rejection(where, response)

    return check


def needs_auth(op: APIOperation) -> bool:
    return op.path.startswith("/admin") or op.path == "/v1/alerts"


def has_inputs(op: APIOperation) -> bool:
    return bool(op.body) or any(len(c) for c in (op.query, op.path_parameters, op.headers))


def run_fuzz(
    app: Proc,
    op: APIOperation,
    label: str,
    mode: GenerationMode,
    check: Check,
) -> int:
    """Run EXAMPLES generated cases of one operation; returns how many were sent."""
    headers = AUTH if needs_auth(op) else None
    if mode == GenerationMode.NEGATIVE and not has_inputs(op):
        return 0  # nothing to make invalid (GET /healthz): Hypothesis would find no example
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: it can take minutes; the failing request is printed as curl anyway.
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        nonlocal sent
        response = case.call(base_url=app.url, headers=headers, timeout=30)
        sent += 1
        check(case, response)

    fuzz()
    return sent


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_public_api_never_5xx_and_names_every_rejection(
    app: Proc, operations: dict[str, APIOperation], mode: GenerationMode
) -> None:
    _set_faults(app, {})
    total = 0
    for label, op in sorted(operations.items()):
        if op.path.startswith("/admin"):
            continue
        total += run_fuzz(app, op, label, mode, make_check(label, set()))
    assert total >= EXAMPLES  # the fuzzer really sent requests


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_admin_api_never_5xx_and_names_every_rejection(
    app: Proc, operations: dict[str, APIOperation], mode: GenerationMode
) -> None:
    total = 0
    try:
        for label in ("GET /admin/faults", "PUT /admin/faults"):
            total += run_fuzz(app, operations[label], label, mode, make_check(label, set()))
    finally:
        _set_faults(app, {})  # whatever profile the fuzzer left behind
    assert total >= EXAMPLES  # the fuzzer really sent requests (PUT has a body in both modes)


def test_chat_under_injected_faults_fails_only_with_documented_statuses(
    uncached_app: Proc, operations: dict[str, APIOperation]
) -> None:
    """With the provider failing, rate limiting and timing out, the chat routes may answer
    502/503/504 — and those, too, name the problem."""
    statuses: list[int] = []

    def check_and_count(label: str) -> Check:
        inner = make_check(label, FAULT_STATUSES)

        def check(case: Any, response: Any) -> None:
            statuses.append(response.status_code)
            inner(case, response)

        return check

    _set_faults(uncached_app, {"error_rate": 0.5, "rate_limit_rate": 0.3})
    try:
        for label in ("POST /v1/chat", "POST /v1/chat/stream"):
            run_fuzz(
                uncached_app,
                operations[label],
                label,
                GenerationMode.POSITIVE,
                check_and_count(label),
            )
    finally:
        _set_faults(uncached_app, {})
    # The faults were really in effect: otherwise this is the fault-free test over again.
    assert len(statuses) >= EXAMPLES
    assert FAULT_STATUSES & set(statuses), f"no 502/503/504 under 80% provider faults: {statuses}"


def test_schema_breaking_bodies_are_rejected(
    app: Proc, operations: dict[str, APIOperation]
) -> None:
    """Bodies that break the published schema (wrong types, out-of-range numbers, unknown
    fields, missing `question`) are refused with a 4xx, never served: the API accepts exactly
    what its OpenAPI document promises. An independent judge (jsonschema on the spec) decides
    whether a generated body really breaks the schema."""
    _set_faults(app, {})
    labels = ("POST /v1/chat", "POST /v1/chat/stream", "PUT /admin/faults", "POST /v1/alerts")
    for label in (*labels, "POST /v1/feedback"):
        accepted, judged = _accepted_invalid_bodies(app, operations[label])
        _set_faults(app, {})  # an accepted invalid fault profile must not leak into the next
        assert not accepted, f"{label} accepted invalid bodies:\n" + "\n".join(accepted[:5])
        # The judge saw bodies that break the schema: else "none accepted" proves nothing.
        assert judged, f"{label}: no generated body breaks the schema by jsonschema"


def _accepted_invalid_bodies(app: Proc, op: APIOperation) -> tuple[list[str], int]:
    """The bodies that break `op`'s schema and were served; how many broke it."""
    headers = AUTH if needs_auth(op) else None
    accepted: list[str] = []
    judged = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=op.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def fuzz(case: Any) -> None:
        nonlocal judged
        response = case.call(base_url=app.url, headers=headers, timeout=30)
        assert response.status_code < 500, json.dumps(case.body, default=str)[:300]
        if not _breaks_schema(op, case.body):
            return
        judged += 1
        if response.status_code < 300:
            accepted.append(f"{response.status_code}: {json.dumps(case.body, default=str)[:300]}")

    fuzz()
    return accepted, judged


def _breaks_schema(op: APIOperation, body: Any) -> bool:
    content = op.definition.raw.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    if not media:
        raise AssertionError(f"{op.label}: no JSON request body in the spec to judge against")
    # The operation's schema with the spec's components beside it, so $refs resolve.
    schema = {**media["schema"], "components": op.schema.raw_schema.get("components", {})}
    return not jsonschema.Draft202012Validator(schema).is_valid(body)


# --- schemathesis CLI, all checks -----------------------------------------------------------------
def run_cli(app: Proc, workdir: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    args = [str(st), "run", app.url + "/openapi.json", "--checks", "all"]
    args += ["-H", f"Authorization: Bearer {TOKEN}", "-n", str(CLI_EXAMPLES), "-w", "1"]
    args += ["--seed", "20261201", "--no-color", "--generation-database", "none", *selection]
    return subprocess.run(
        args, cwd=workdir, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False
    )


def test_schemathesis_all_checks_find_nothing(app: Proc, tmp_path: Path) -> None:
    _set_faults(app, {})
    result = run_cli(app, tmp_path, "--exclude-operation-id-regex", "^put_faults")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 9" in result.stdout, result.stdout[-2000:]  # every other operation


def test_schemathesis_all_checks_on_the_fault_knobs(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    own = start_rag_api(tmp_path_factory.mktemp("fuzz-faults"), APP_ENV)
    try:
        result = run_cli(own, tmp_path, "--include-operation-id-regex", "^put_faults")
    finally:
        own.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 1" in result.stdout, result.stdout[-2000:]
