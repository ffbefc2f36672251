"""Answer-quality heuristics: hand-worked examples, labels at the SLO cut, and [0, 1] bounds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from demo_app.corpus import RetrievedDoc
from demo_app.evaluation import (
    LABEL_FAIL,
    LABEL_PASS,
    answer_relevancy,
    context_relevancy,
    evaluate,
    faithfulness,
    score,
)
from genai_telemetry import semconv

CACHE_DOC = RetrievedDoc(
    id="prompt-caching",
    title="Prompt caching",
    text=(
        "Providers cache the processed prompt prefix. Cached input tokens are billed at a "
        "discount and reduce time to first token."
    ),
    score=0.9,
)
LIMIT_DOC = RetrievedDoc(
    id="rate-limits",
    title="Provider rate limits",
    text="Exceeding a rate limit returns HTTP 429 with a Retry-After header.",
    score=0.4,
)


def test_grounded_answer_is_fully_faithful_and_citations_are_ignored() -> None:
    answer = (
        "Cached input tokens are billed at a discount [1]. "
        "They also reduce time to first token [1]."
    )
    assert faithfulness(answer, [CACHE_DOC]) == 1.0


def test_unsupported_sentences_lower_faithfulness() -> None:
    # Sentence 1 fully supported; sentence 2 ("bananas grow quickly tropical climates")
    # shares none of its content tokens with the context → 1 of 2 supported.
    answer = (
        "Cached input tokens are billed at a discount. Bananas grow quickly in tropical climates."
    )
    assert faithfulness(answer, [CACHE_DOC]) == 0.5


def test_empty_context_or_empty_answer_is_not_faithful() -> None:
    assert faithfulness("Cached input tokens are billed at a discount.", []) == 0.0
    assert faithfulness("", [CACHE_DOC]) == 0.0
    assert faithfulness("Yes. It is.", [CACHE_DOC]) == 0.0  # no content tokens at all


def test_answer_relevancy_is_question_token_coverage() -> None:
    # question content tokens: {prompt, caching, affect, cost}
    question = "How does prompt caching affect cost?"
    assert answer_relevancy(question, "Prompt caching can affect the cost [1].") == 1.0
    # answer covers "prompt" only: 1 of 4
    assert answer_relevancy(question, "The prompt is long.") == 0.25
    assert answer_relevancy("what is it?", "anything") == 0.0


def test_context_relevancy_is_mean_per_passage_coverage() -> None:
    question = "What do cached tokens cost?"  # tokens: {cached, token, cost}
    # CACHE_DOC contains cached and token (2/3); LIMIT_DOC none (0/3) → mean 1/3
    assert context_relevancy(question, [CACHE_DOC]) == 2 / 3
    assert context_relevancy(question, [CACHE_DOC, LIMIT_DOC]) == 1 / 3
    assert context_relevancy(question, []) == 0.0


def test_labels_use_the_quality_slo_cut_strictly_above_0_7() -> None:
    assert score("faithfulness", 0.7).label == LABEL_FAIL
    assert score("faithfulness", 0.7001).label == LABEL_PASS
    assert score("faithfulness", 1.0).label == LABEL_PASS
    assert score("faithfulness", 2.0).value == 1.0  # clamped
    assert score("faithfulness", -1.0).value == 0.0


def test_evaluate_returns_the_three_contract_scores() -> None:
    question = "Do cached input tokens reduce time to first token?"
    answer = "Cached input tokens reduce time to first token [1]."
    result = evaluate(question, answer, [CACHE_DOC])
    assert [s.name for s in result.scores()] == list(semconv.EVALUATION_NAMES)
    assert result.faithfulness.value == 1.0 and result.faithfulness.label == LABEL_PASS
    assert result.answer_relevancy.value == 1.0
    assert result.as_dict()["context_relevancy"] == result.context_relevancy.value

    ungrounded = evaluate(question, "I do not know, it depends.", [])
    assert ungrounded.faithfulness.value == 0.0
    assert ungrounded.faithfulness.label == LABEL_FAIL


_docs = st.lists(
    st.builds(
        RetrievedDoc,
        id=st.text(max_size=5),
        title=st.text(max_size=20),
        text=st.text(max_size=200),
        score=st.floats(0, 1),
    ),
    max_size=4,
)


@settings(deadline=None)  # no per-example time limit: a loaded machine is not a failure
@given(question=st.text(max_size=200), answer=st.text(max_size=400), context=_docs)
def test_scores_stay_in_unit_interval(question: str, answer: str, context: list) -> None:
    scores = evaluate(question, answer, context).scores()
    assert len(scores) == len(semconv.EVALUATION_NAMES)
    for item in scores:
        assert 0.0 <= item.value <= 1.0
        assert item.label in (LABEL_PASS, LABEL_FAIL)
        assert (item.label == LABEL_PASS) == (item.value > 0.7)
