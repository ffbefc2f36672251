"""Who may judge an answer, over real HTTP (docs/telemetry.md § User feedback, docs/security.md
T18): only the tenant that asked (same API key; anonymous answers by anonymous callers), once;
another tenant's ids answer exactly like ids never seen and leave the answer's trace alone; a
reused X-Request-ID or a forged traceparent never hands one caller's feedback to another's
answer. The index's rules in-process: test_feedback_index.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from genai_telemetry import semconv as sc
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc
from tests.demo_app.conftest import unique_question
from tests.demo_app.test_feedback import feedback_series

VICTIM_KEY = "victim-key-0001"
OTHER_KEY = "other-key-0002"
UNCONFIGURED_KEY = "typo-key-0003"  # not in API_KEYS: served as anonymous
FEEDBACK = "/v1/feedback"
REPEATS = 15


@dataclass
class Run:
    app: Proc
    receiver: OTLPReceiver
    client: httpx.Client
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: dict[str, httpx.Response] = field(default_factory=dict)
    repeats: dict[str, list[httpx.Response]] = field(default_factory=dict)
    calls: list[httpx.Response] = field(default_factory=list)  # every feedback, in order

    def chat(self, name: str, key: str | None = None, **headers: str) -> dict[str, Any]:
        if key:
            headers["X-API-Key"] = key
        r = self.client.post("/v1/chat", json={"question": unique_question()}, headers=headers)
        assert r.status_code == 200, r.text
        self.answers[name] = r.json()
        return self.answers[name]

    def feedback(self, name: str, key: str | None = None, **body: Any) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        r = self.client.post(FEEDBACK, json={"thumbs": "down", **body}, headers=headers)
        self.sent[name] = r
        self.calls.append(r)
        return r

    def records(self, body: str) -> list[Any]:
        return [r for r in self.receiver.logs() if r.body == body]


def _cross_tenant(run: Run) -> None:
    victim = run.chat("victim", VICTIM_KEY)
    run.repeats["anonymous"] = [
        run.feedback("anonymous", request_id=victim["request_id"]) for _ in range(REPEATS)
    ]
    run.repeats["other"] = [
        run.feedback("other", OTHER_KEY, trace_id=victim["trace_id"]) for _ in range(3)
    ]
    run.feedback("never_seen", OTHER_KEY, request_id="never-seen-0001")
    run.feedback("owner", VICTIM_KEY, request_id=victim["request_id"], thumbs="up")
    run.feedback("owner_again", VICTIM_KEY, request_id=victim["request_id"])
    run.feedback("owner_by_trace", VICTIM_KEY, trace_id=victim["trace_id"])
    anonymous = run.chat("anonymous_answer")
    run.feedback("keyed_on_anonymous", VICTIM_KEY, request_id=anonymous["request_id"])
    run.feedback("anonymous_on_anonymous", request_id=anonymous["request_id"])
    typo = run.chat("unconfigured_answer", UNCONFIGURED_KEY)
    run.feedback("unconfigured_on_own", UNCONFIGURED_KEY, request_id=typo["request_id"])


def _reused_ids(run: Run) -> None:
    # A keyed victim's id reused by an anonymous caller; then both callers anonymous.
    run.chat("reuse_victim", VICTIM_KEY, **{"X-Request-ID": "order-1001"})
    run.chat("reuse_attacker", **{"X-Request-ID": "order-1001"})
    run.feedback("reuse_victim", VICTIM_KEY, request_id="order-1001")
    run.feedback("reuse_attacker", request_id="order-1001")
    both = run.chat("anon_reuse_victim", **{"X-Request-ID": "order-2002"})
    run.chat("anon_reuse_attacker", **{"X-Request-ID": "order-2002"})
    run.feedback("anon_reuse_by_id", request_id="order-2002")
    run.feedback("anon_reuse_by_trace", trace_id=both["trace_id"])


def _forged_traceparents(run: Run) -> None:
    victim = run.chat("forged_victim", VICTIM_KEY)
    run.chat("forged_attacker", traceparent=f"00-{victim['trace_id']}-{'ab' * 8}-01")
    run.feedback("forged_victim", VICTIM_KEY, trace_id=victim["trace_id"])
    run.feedback("forged_attacker", trace_id=victim["trace_id"])
    both = run.chat("anon_forged_victim")
    run.chat("anon_forged_attacker", traceparent=f"00-{both['trace_id']}-{'cd' * 8}-01")
    run.feedback("anon_forged_by_trace", trace_id=both["trace_id"])
    run.feedback("anon_forged_by_id", request_id=both["request_id"])


@pytest.fixture(scope="module")
def run(start_app: Callable[..., Proc]):
    with OTLPReceiver("ok") as receiver:
        app = start_app(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "API_KEYS": f"{VICTIM_KEY}:enterprise,{OTHER_KEY}:pro",
            },
            name="feedback-ownership",
        )
        with httpx.Client(base_url=app.url, timeout=15) as client:
            r = Run(app, receiver, client)
            _cross_tenant(r)
            _reused_ids(r)
            _forged_traceparents(r)
            logged = {x.headers["x-request-id"] for x in r.calls if x.status_code == 200}

            def all_in() -> bool:
                ids = {rec.attributes.get("feedback_id") for rec in r.records("user_feedback")}
                spans = [s for s in receiver.spans() if s.attributes.get("http.route") == FEEDBACK]
                return logged <= ids and len(spans) >= len(r.calls)

            assert receiver.wait_for(all_in, timeout=20), receiver.requests
            yield r


def _known(r: httpx.Response) -> bool:
    assert r.status_code == 200, r.text
    return r.json()["request_known"]


def _conflict(r: httpx.Response, field_name: str) -> None:
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "feedback_exists" and body["request_id"] == r.headers["x-request-id"]
    assert [d["field"] for d in body["detail"]] == [field_name]


def test_another_tenants_answer_is_unknown_to_the_caller(run: Run) -> None:
    never = run.sent["never_seen"].json()
    for name in ("anonymous", "other"):
        first, *again = run.repeats[name]
        # The same answer as for an id never seen: nothing says the answer exists.
        assert first.status_code == 200
        assert {**first.json(), "feedback_id": ""} == {**never, "feedback_id": ""}
        for r in again:  # a repeat of the same unknown id is not counted again
            _conflict(r, "request_id" if name == "anonymous" else "trace_id")
    assert _known(run.sent["owner"])  # the answer was there all along, for its owner
    assert not _known(run.sent["keyed_on_anonymous"])
    assert _known(run.sent["anonymous_on_anonymous"])
    # An unconfigured key is anonymous, like no key (its hash names no tenant).
    assert _known(run.sent["unconfigured_on_own"])


def test_one_feedback_per_answer(run: Run) -> None:
    _conflict(run.sent["owner_again"], "request_id")
    _conflict(run.sent["owner_by_trace"], "trace_id")  # the same answer by its trace id


def test_cross_tenant_and_repeated_feedback_is_not_counted_as_known(run: Run) -> None:
    series = feedback_series(run.app.url)
    counted = {"true": 0.0, "false": 0.0}
    for key, value in series.items():
        counted[dict(key)[sc.L_REQUEST_KNOWN]] += value
    answered = [r for r in run.calls if r.status_code == 200]
    assert counted["true"] == sum(1 for r in answered if r.json()["request_known"]) == 9
    assert counted["false"] == sum(1 for r in answered if not r.json()["request_known"]) == 6


def test_another_tenants_feedback_leaves_the_answers_trace_alone(run: Run) -> None:
    trace_id = run.answers["victim"]["trace_id"]
    in_trace = [r for r in run.receiver.logs() if r.trace_id == trace_id]
    feedback = [r for r in in_trace if r.body == "user_feedback"]
    assert [r.attributes["feedback_id"] for r in feedback] == [
        run.sent["owner"].headers["x-request-id"]
    ]
    events = [
        r
        for r in in_trace
        if r.body == sc.EVENT_EVALUATION_RESULT
        and r.attributes.get(sc.A_EVALUATION_NAME) == sc.EVALUATION_USER_FEEDBACK
    ]
    assert [e.attributes[sc.A_EVALUATION_SCORE_LABEL] for e in events] == ["positive"]
    links = [s for s in run.receiver.spans() if any(t == trace_id for t, _ in s.links)]
    assert len(links) == 1
    # The unknown feedback is logged with the id the caller named, outside that trace.
    other = _record(run, run.repeats["other"][0])
    assert other.attributes["named_trace_id"] == trace_id and other.trace_id != trace_id


def _record(run: Run, r: httpx.Response) -> Any:
    feedback_id = r.headers["x-request-id"]
    return next(
        x for x in run.records("user_feedback") if x.attributes["feedback_id"] == feedback_id
    )


def test_a_reused_request_id_does_not_redirect_feedback(run: Run) -> None:
    answers = run.answers
    assert answers["reuse_victim"]["request_id"] == answers["reuse_attacker"]["request_id"]
    for name in ("reuse_victim", "reuse_attacker"):  # each tenant judges its own answer
        assert _known(run.sent[name])
        assert _record(run, run.sent[name]).trace_id == answers[name]["trace_id"]
    # Both anonymous: the id names two answers, so it names neither; the trace id still works.
    assert not _known(run.sent["anon_reuse_by_id"])
    assert _record(run, run.sent["anon_reuse_by_id"]).trace_id not in {
        answers["anon_reuse_victim"]["trace_id"],
        answers["anon_reuse_attacker"]["trace_id"],
    }
    assert _known(run.sent["anon_reuse_by_trace"])
    by_trace = _record(run, run.sent["anon_reuse_by_trace"])
    assert by_trace.trace_id == answers["anon_reuse_victim"]["trace_id"]


def test_a_forged_traceparent_does_not_redirect_feedback(run: Run) -> None:
    answers = run.answers
    for victim, attacker in (
        ("forged_victim", "forged_attacker"),
        ("anon_forged_victim", "anon_forged_attacker"),
    ):
        assert answers[victim]["trace_id"] == answers[attacker]["trace_id"]  # the forgery took
    for name in ("forged_victim", "forged_attacker"):  # each tenant judges its own answer
        assert _known(run.sent[name])
        judged = _record(run, run.sent[name]).attributes["request_id"]
        assert judged == answers[name]["request_id"]
    # Both anonymous: the trace id names two answers, so neither; the request id still works.
    assert not _known(run.sent["anon_forged_by_trace"])
    assert _known(run.sent["anon_forged_by_id"])
    judged = _record(run, run.sent["anon_forged_by_id"]).attributes["request_id"]
    assert judged == answers["anon_forged_victim"]["request_id"]
