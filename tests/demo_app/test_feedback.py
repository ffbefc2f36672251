"""POST /v1/feedback over real HTTP (docs/telemetry.md § User feedback): the metric as scraped,
the log line on stdout and over OTLP, the evaluation event and the feedback call's span decoded
from the real OTLP output; bad input is a 422 in the one error shape; unknown and evicted request
ids are accepted and counted as unknown. The mappings and the index bound:
test_feedback_index.py; who may judge which answer: test_feedback_ownership.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from genai_telemetry import semconv as sc
from harness.otlp_receiver import OTLPReceiver
from harness.procs import Proc
from tests.demo_app.conftest import log_lines, unique_question

CARD = "4111111111111111"  # a Luhn-valid test card number

EMAIL = "jane.doe@example.org"
FEEDBACK = "/v1/feedback"


def feedback_series(url: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(url + "/metrics", timeout=10).text
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sc.LLM_USER_FEEDBACK
    }


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


@pytest.fixture(scope="module")
def judged(start_app: Callable[..., Proc]):
    """Three answers (retrieval, calculator, streamed) and feedback on each, on an app
    exporting to a loopback OTLP receiver."""
    with OTLPReceiver("ok") as receiver:
        app = start_app(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"},
            name="feedback",
        )
        with httpx.Client(base_url=app.url, timeout=15) as c:
            rag = c.post("/v1/chat", json={"question": unique_question()}).json()
            tool = c.post("/v1/chat", json={"question": "What is 6 * 7?"}).json()
            stream = c.post("/v1/chat/stream", json={"question": unique_question()})
            stream_id = stream.headers["x-request-id"]
            sent = {
                "rag": c.post(FEEDBACK, json={"request_id": rag["request_id"], "thumbs": "up"}),
                "tool": c.post(FEEDBACK, json={"trace_id": tool["trace_id"], "score": 0.1}),
                "stream": c.post(
                    FEEDBACK,
                    json={"request_id": stream_id, "score": 0.5, "comment": f"mail {EMAIL}"},
                ),
                "unknown": c.post(FEEDBACK, json={"request_id": "never-seen", "thumbs": "down"}),
                "unknown_trace": c.post(FEEDBACK, json={"trace_id": "ab" * 16, "score": 0.9}),
                # A caller's id is text like any other: redacted before it is logged.
                "unknown_card": c.post(FEEDBACK, json={"request_id": CARD, "thumbs": "down"}),
            }
        ids = {k: r.headers["x-request-id"] for k, r in sent.items()}

        def all_in() -> bool:
            logged = {r.attributes.get("feedback_id") for r in receiver.logs()}
            spans = {s.attributes.get("http.route") for s in receiver.spans()}
            return set(ids.values()) <= logged and FEEDBACK in spans

        assert receiver.wait_for(all_in, timeout=20), receiver.requests
        yield app, receiver, {"rag": rag, "tool": tool, "stream_id": stream_id}, sent, ids


def test_feedback_is_accepted_and_says_whether_the_request_was_known(judged) -> None:
    _, _, _, sent, ids = judged
    expected = {
        "rag": (True, "positive"),
        "tool": (True, "negative"),
        "stream": (True, "neutral"),
        "unknown": (False, "negative"),
        "unknown_trace": (False, "positive"),
        "unknown_card": (False, "negative"),
    }
    for key, (known, mood) in expected.items():
        r = sent[key]
        assert r.status_code == 200, r.text
        assert r.json() == {"feedback_id": ids[key], "request_known": known, "sentiment": mood}


def test_metric_joins_feedback_to_model_route_and_retrieval_quality(judged) -> None:
    app, *_ = judged
    series = feedback_series(app.url)
    none = {sc.L_MODEL: "", sc.L_ANSWER_ROUTE: "", sc.L_RETRIEVAL_QUALITY: ""}
    rag = {sc.L_MODEL: "gpt-4o-mini", sc.L_ANSWER_ROUTE: "retrieval"}
    counted = {k: v for k, v in series.items() if v > 0}
    quality = {dict(k)[sc.L_RETRIEVAL_QUALITY] for k in counted if dict(k)[sc.L_ANSWER_ROUTE]}
    assert quality - {""} <= set(sc.RETRIEVAL_QUALITIES) and len(quality - {""}) >= 1
    kinds = {sc.L_FEEDBACK_KIND: "thumbs"}, {sc.L_FEEDBACK_KIND: "score"}
    expected_known = [
        {**kinds[0], sc.L_FEEDBACK_SENTIMENT: "positive", **rag},
        {**kinds[1], sc.L_FEEDBACK_SENTIMENT: "neutral", **rag},
        {
            **kinds[1],
            sc.L_FEEDBACK_SENTIMENT: "negative",
            sc.L_MODEL: "",
            sc.L_ANSWER_ROUTE: "tool",
            sc.L_RETRIEVAL_QUALITY: "",
        },
    ]
    for want in expected_known:
        hits = [v for k, v in counted.items() if want.items() <= dict(k).items()]
        assert hits == [1.0], (want, counted)
        assert all(
            dict(k)[sc.L_REQUEST_KNOWN] == "true"
            for k in counted
            if want.items() <= dict(k).items()
        )
    unknown = dict(none, **{sc.L_REQUEST_KNOWN: "false"})
    assert series[labels(**unknown, feedback_kind="thumbs", feedback_sentiment="negative")] == 2
    assert series[labels(**unknown, feedback_kind="score", feedback_sentiment="positive")] == 1
    assert sum(counted.values()) == 6
    for key in series:  # every label value bounded
        values = dict(key)
        assert set(values) == set(sc.METRIC_LABELS[sc.LLM_USER_FEEDBACK])
        assert values[sc.L_FEEDBACK_KIND] in sc.FEEDBACK_KINDS
        assert values[sc.L_FEEDBACK_SENTIMENT] in sc.FEEDBACK_SENTIMENTS


def test_log_line_sits_in_the_judged_request_trace(judged) -> None:
    app, receiver, answers, _, ids = judged
    records = {r.attributes["feedback_id"]: r for r in receiver.logs() if r.body == "user_feedback"}
    rag = records[ids["rag"]]
    assert rag.trace_id == answers["rag"]["trace_id"]
    assert rag.attributes["request_id"] == answers["rag"]["request_id"]
    assert rag.attributes["request_known"] is True
    assert rag.attributes["model"] == "gpt-4o-mini" and rag.attributes["route"] == "retrieval"
    server = {
        s.trace_id: s for s in receiver.spans() if s.kind == "SERVER" and s.name == "POST /v1/chat"
    }
    assert rag.span_id == server[rag.trace_id].span_id  # the judged request's server span
    tool = records[ids["tool"]]
    assert tool.trace_id == answers["tool"]["trace_id"] and tool.attributes["route"] == "tool"
    assert tool.attributes["request_id"] == answers["tool"]["request_id"]
    stream = records[ids["stream"]]
    assert stream.attributes["request_id"] == answers["stream_id"]
    assert EMAIL not in stream.attributes["comment"]
    assert "[REDACTED:email]" in stream.attributes["comment"]
    # Unknown ids: counted as such; the line carries what the caller named, in no trace (a
    # trace the caller merely names may be another tenant's).
    unknown = records[ids["unknown"]]
    assert unknown.attributes["request_known"] is False
    assert unknown.attributes["request_id"] == "never-seen"
    assert records[ids["unknown_trace"]].attributes["named_trace_id"] == "ab" * 16
    assert records[ids["unknown_trace"]].trace_id != "ab" * 16
    assert records[ids["unknown_card"]].attributes["request_id"] == "[REDACTED:card_number]"
    # The same lines on stdout, with the same correlation fields.
    app.stop()
    lines = {
        line.get("feedback_id"): line for line in log_lines(app) if line["event"] == "user_feedback"
    }
    assert lines[ids["rag"]]["trace_id"] == answers["rag"]["trace_id"]
    assert lines[ids["rag"]]["request_id"] == answers["rag"]["request_id"]
    assert EMAIL not in str(lines[ids["stream"]])
    assert lines[ids["unknown_trace"]]["named_trace_id"] == "ab" * 16
    assert "trace_id" not in lines[ids["unknown_trace"]]
    assert lines[ids["unknown_card"]]["request_id"] == "[REDACTED:card_number]"
    assert CARD not in str(lines[ids["unknown_card"]])


def test_evaluation_event_is_parented_to_the_judged_request(judged) -> None:
    _, receiver, answers, *_ = judged
    events = [
        r
        for r in receiver.logs()
        if r.body == sc.EVENT_EVALUATION_RESULT
        and r.attributes.get(sc.A_EVALUATION_NAME) == sc.EVALUATION_USER_FEEDBACK
    ]
    assert len(events) == 3  # the known requests only
    by_trace = {e.trace_id: e for e in events}
    rag = by_trace[answers["rag"]["trace_id"]]
    assert rag.attributes[sc.A_EVALUATION_SCORE_VALUE] == 1.0
    assert rag.attributes[sc.A_EVALUATION_SCORE_LABEL] == "positive"
    assert rag.attributes[sc.A_LLM_FEEDBACK_KIND] == "thumbs"
    tool = by_trace[answers["tool"]["trace_id"]]
    assert tool.attributes[sc.A_EVALUATION_SCORE_VALUE] == pytest.approx(0.1)
    comments = [e.attributes.get(sc.A_EVALUATION_EXPLANATION) for e in events]
    assert [c for c in comments if c] == ["mail [REDACTED:email]"]


def test_feedback_span_carries_the_evaluation_and_links_the_judged_span(judged) -> None:
    _, receiver, answers, *_ = judged
    spans = [s for s in receiver.spans() if s.attributes.get("http.route") == FEEDBACK]
    assert len(spans) == 6
    judged_server = {s.trace_id: s.span_id for s in receiver.spans() if s.name == "POST /v1/chat"}
    rag_trace = answers["rag"]["trace_id"]
    linked = [s for s in spans if s.links and s.links[0][0] == rag_trace]
    assert len(linked) == 1
    assert linked[0].links == [(rag_trace, judged_server[rag_trace])]
    assert linked[0].trace_id != rag_trace  # the feedback call is its own trace
    assert linked[0].attributes[sc.A_EVALUATION_NAME] == sc.EVALUATION_USER_FEEDBACK
    assert sum(1 for s in spans if not s.links) == 3  # the unknown ones link nothing
    assert all(s.attributes[sc.A_LLM_FEEDBACK_REQUEST_KNOWN] is bool(s.links) for s in spans)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 1}, "request_id"),
        ({"request_id": "r1", "trace_id": "ab" * 16, "score": 1}, "request_id"),
        ({"request_id": "r1"}, "score"),
        ({"request_id": "r1", "score": 0.5, "thumbs": "up"}, "score"),
        ({"request_id": "r1", "score": 1.5}, "score"),
        ({"request_id": "r1", "score": -0.1}, "score"),
        ({"request_id": "r1", "score": "0.5"}, "score"),
        ({"request_id": "r1", "score": True}, "score"),
        ({"request_id": "r1", "thumbs": "sideways"}, "thumbs"),
        ({"request_id": "r1", "thumbs": "up", "comment": "x" * 1001}, "comment"),
        ({"request_id": "has space", "thumbs": "up"}, "request_id"),
        ({"request_id": None, "trace_id": "ab" * 16, "thumbs": "up"}, "request_id"),
        ({"trace_id": "AB" * 16, "thumbs": "up"}, "trace_id"),
        ({"trace_id": "ab", "thumbs": "up"}, "trace_id"),
        ({"trace_id": "ab" * 8, "thumbs": "up"}, "trace_id"),  # a span id, not a trace id
        ({"request_id": "r1", "thumbs": "up", "user": "u1"}, "user"),
    ],
)
def test_bad_feedback_is_a_422_naming_the_field(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    r = client.post(FEEDBACK, json=body)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["error"] == "validation_error"
    assert field in {d["field"] for d in payload["detail"]}, payload
    assert payload["request_id"] == r.headers["x-request-id"]


def test_evicted_requests_count_as_unknown(start_app: Callable[..., Proc]) -> None:
    app = start_app({"FEEDBACK_INDEX_SIZE": "2"}, name="feedback-evict")
    with httpx.Client(base_url=app.url, timeout=15) as c:
        first, second, third = (
            c.post("/v1/chat", json={"question": unique_question()}).json() for _ in range(3)
        )
        known = [
            c.post(FEEDBACK, json={"request_id": a["request_id"], "thumbs": "up"}).json()[
                "request_known"
            ]
            for a in (first, second, third)
        ]
        by_trace = c.post(FEEDBACK, json={"trace_id": first["trace_id"], "thumbs": "up"}).json()
    assert known == [False, True, True]
    assert by_trace["request_known"] is False


def test_feedback_is_rate_limited_like_chat(start_app: Callable[..., Proc]) -> None:
    app = start_app(
        {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_FREE_RPS": "0.01", "RATE_LIMIT_FREE_BURST": "2"},
        name="feedback-limit",
    )
    with httpx.Client(base_url=app.url, timeout=15) as c:
        statuses = [
            c.post(FEEDBACK, json={"request_id": f"r{i}", "thumbs": "up"}).status_code
            for i in range(3)
        ]
        limited = c.post(FEEDBACK, json={"request_id": "r9", "thumbs": "up"})
    assert statuses[:2] == [200, 200] and 429 in [*statuses[2:], limited.status_code]
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert limited.json()["detail"][0]["field"] == "X-API-Key"
