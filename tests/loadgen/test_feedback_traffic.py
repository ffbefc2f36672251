"""User feedback in the load generator: the mix keys, the answer parsing and the verdicts."""

from __future__ import annotations

import json
import random
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from demo_app.feedback import sentiment
from demo_app.loadgen.scenarios import ScenarioError, load_scenarios
from demo_app.loadgen.traffic import answer_of, verdict

ANSWER = {
    "answer": "…",
    "route": "retrieval",
    "request_id": "r1",
    "trace_id": "ab" * 16,
    "evaluation": {"faithfulness": 0.9, "answer_relevancy": 0.8, "context_relevancy": 0.7},
}


def _sse(answer: dict) -> str:
    return f'event: chunk\ndata: {{"text": "…"}}\n\nevent: done\ndata: {json.dumps(answer)}\n\n'


def test_the_steady_mix_rates_a_quarter_of_the_answers_and_dislikes_none_on_purpose() -> None:
    files = load_scenarios()
    assert files.default_mix.feedback == 0.25 and files.default_mix.dislike == 0.0
    assert files.scenarios["steady"].mix.feedback == 0.25


def test_answer_of_reads_json_and_stream_bodies() -> None:
    assert answer_of(False, 200, json.dumps(ANSWER)) == ANSWER
    assert answer_of(True, 200, _sse(ANSWER)) == ANSWER
    assert answer_of(False, 502, json.dumps(ANSWER)) is None
    assert answer_of(True, 200, "event: error\ndata: {}\n\n") is None
    assert answer_of(False, 200, "not json") is None


def _verdicts(answer: dict, feedback: float, dislike: float = 0.0, n: int = 2000) -> list:
    mix = load_scenarios().default_mix
    mix = type(mix)(**{**mix.as_dict(), "feedback": feedback, "dislike": dislike})
    rng = random.Random(5)
    return [verdict(answer, mix, rng) for _ in range(n)]


def _moods(verdicts: list) -> Counter[str]:
    return Counter(sentiment(v.get("score"), v.get("thumbs")) for v in verdicts if v)


def test_verdicts_follow_the_answer_and_name_it_by_request_or_trace_id() -> None:
    verdicts = _verdicts(ANSWER, 0.25)
    given = [v for v in verdicts if v]
    assert 0.2 < len(given) / len(verdicts) < 0.3
    assert {("request_id" in v) + ("trace_id" in v) for v in given} == {1}
    assert {("score" in v) + ("thumbs" in v) for v in given} == {1}
    assert any("trace_id" in v for v in given) and any("request_id" in v for v in given)
    assert _moods(given)["negative"] == 0  # a faithful answer is liked
    poor = _moods(_verdicts({**ANSWER, "evaluation": {"faithfulness": 0.1}}, 1.0))
    assert poor["negative"] > 0.8 * sum(poor.values())


def test_dislike_makes_users_unhappy_whatever_the_answer() -> None:
    moods = _moods(_verdicts(ANSWER, 1.0, dislike=0.8))
    assert 0.7 < moods["negative"] / sum(moods.values()) < 0.9


def test_refusals_get_no_verdict() -> None:
    assert not any(_verdicts({**ANSWER, "route": "guardrail", "evaluation": None}, 1.0))


@pytest.mark.parametrize(("key", "value"), [("feedback", 1.5), ("dislike", -0.1)])
def test_feedback_keys_are_shares(tmp_path: Path, key: str, value: float) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            mix:
              stream: 0.3
              questions: {{corpus: 1}}
              tiers: {{free: 1}}
              features: {{chat: 1}}
              models: {{gpt-4o-mini: 1}}
              {key}: {value}
            scenarios:
              steady:
                description: d
                rate: 1
                phases: [{{name: p, duration: 10}}]
                expect: {{raise: [], forbid: []}}
            """
        )
    )
    with pytest.raises(ScenarioError, match=key):
        load_scenarios(path)
