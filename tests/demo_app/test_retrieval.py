"""The bundled corpus and the BM25 retriever: relevance, normalised scores, empty retrieval,
fault-driven degradation, and corpus validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demo_app.corpus import CorpusError, Document, load_documents
from demo_app.faults import FaultProfile, FaultStore
from demo_app.retrieval import DEFAULT_MIN_SCORE, Retriever, tokenize


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    return Retriever.from_corpus()


def test_corpus_has_at_least_40_short_documents_with_unique_ids() -> None:
    documents = load_documents()
    assert len(documents) >= 40
    assert len({d.id for d in documents}) == len(documents)
    for doc in documents:
        words = len(doc.text.split())
        assert 80 <= words <= 220, f"{doc.id} has {words} words"
        assert doc.title and "\n" not in doc.text


def test_corpus_covers_the_operations_topics() -> None:
    text = " ".join(f"{d.title} {d.text}" for d in load_documents()).lower()
    for topic in (
        "token",
        "time to first token",
        "cost",
        "prompt caching",
        "rate limit",
        "retry",
        "slo",
        "burn rate",
        "trace",
        "gen_ai.",
        "faithfulness",
        "hallucination",
        "prompt injection",
        "pii",
        "histogram",
        "loki",
        "tempo",
        "exemplar",
        "cardinality",
    ):
        assert topic in text, topic


def test_tokenizer_lowercases_drops_stop_words_and_folds_plurals() -> None:
    assert tokenize("What are the Retries for TOKENS?") == ["retry", "token"]
    assert tokenize("gen_ai.usage.input_tokens") == ["gen", "ai", "usage", "input", "token"]
    assert tokenize("how is it") == []
    assert tokenize("") == []


@pytest.mark.parametrize(
    ("question", "expected_id"),
    [
        ("What is time to first token and how do I measure it?", "ttft"),
        ("How should I retry after a 429 rate limit?", "rate-limits"),
        ("How do burn rate alerts work?", "burn-rate"),
        ("How do exemplars link metrics to traces?", "exemplars"),
        ("Why is label cardinality a problem in Prometheus?", "cardinality"),
        ("What are reasoning tokens?", "reasoning-tokens"),
        ("How to redact PII like emails from logs?", "pii-redaction"),
        ("What is faithfulness in RAG evaluation?", "rag-evaluation"),
        ("How does the watchdog alert work?", "watchdog"),
        ("What is prompt injection?", "prompt-injection"),
    ],
)
def test_on_topic_questions_find_the_right_document_with_a_high_score(
    retriever: Retriever, question: str, expected_id: str
) -> None:
    results = retriever.search(question, top_k=3)
    assert expected_id in [d.id for d in results]
    assert results[0].score >= 0.5


@pytest.mark.parametrize("template", ["Explain {t}.", "Summarize the guidance on {t}."])
def test_every_document_is_found_by_a_question_about_its_title(
    retriever: Retriever, template: str
) -> None:
    # The load generator builds its on-topic questions this way; each must hit its document.
    assert retriever.documents, "an empty corpus would prove nothing"
    for doc in retriever.documents:
        results = retriever.search(template.format(t=doc.title), top_k=3)
        assert doc.id in [d.id for d in results], doc.title
        assert results[0].score >= 0.5, doc.title


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Who won the football world cup in 1998?",
        "How do I make pasta?",
        "What is the best recipe for banana bread?",
        "hello",
        "what is it?",
    ],
)
def test_off_topic_questions_retrieve_nothing(retriever: Retriever, question: str) -> None:
    assert retriever.search(question) == []
    assert max(retriever.scores(question)) < DEFAULT_MIN_SCORE


def test_results_are_sorted_bounded_and_above_min_score(retriever: Retriever) -> None:
    results = retriever.search("How do I monitor LLM cost, tokens and latency?", top_k=5)
    assert 1 <= len(results) <= 5
    scores = [d.score for d in results]
    assert scores == sorted(scores, reverse=True)
    assert all(DEFAULT_MIN_SCORE <= s <= 1.0 for s in scores)
    assert len(retriever.search("How do I monitor LLM cost, tokens and latency?", top_k=1)) == 1


@pytest.mark.parametrize("top_k", [0, -1, 21])
def test_top_k_is_validated(retriever: Retriever, top_k: int) -> None:
    with pytest.raises(ValueError, match="top_k"):
        retriever.search("tokens", top_k=top_k)


def test_full_degradation_always_returns_nothing() -> None:
    store = FaultStore(FaultProfile(retrieval_degradation=1.0))
    retriever = Retriever.from_corpus(faults=store, seed=1)
    assert all(retriever.search("What are reasoning tokens?") == [] for _ in range(20))


def test_partial_degradation_empties_some_queries_and_lowers_scores() -> None:
    healthy = Retriever.from_corpus(seed=1)
    store = FaultStore(FaultProfile(retrieval_degradation=0.5))
    degraded = Retriever.from_corpus(faults=store, seed=1)
    question = "How do burn rate alerts work?"
    baseline = {d.id: d.score for d in healthy.search(question, top_k=10)}
    assert len(baseline) >= 3

    runs = [degraded.search(question, top_k=10) for _ in range(400)]
    empty = sum(1 for r in runs if not r)
    assert 140 <= empty <= 260  # ~200 expected (p = 0.5); bounds are > 6 sigma wide
    for result in runs:
        for doc in result:
            assert doc.score == pytest.approx(baseline[doc.id] * 0.5, abs=1e-3)
    # Weak documents fall below the minimum score once halved.
    assert max(len(r) for r in runs) < len(baseline)

    store.set(FaultProfile())
    assert [d.id for d in degraded.search(question, top_k=10)] == list(baseline)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_scores_are_always_in_unit_interval(text: str) -> None:
    retriever = _shared()
    assert all(0.0 <= s <= 1.0 for s in retriever.scores(text))
    assert all(0.0 <= d.score <= 1.0 for d in retriever.search(text))


_RETRIEVER: list[Retriever] = []


def _shared() -> Retriever:
    if not _RETRIEVER:
        _RETRIEVER.append(Retriever.from_corpus())
    return _RETRIEVER[0]


def test_retriever_needs_documents_and_a_sane_min_score() -> None:
    with pytest.raises(ValueError):
        Retriever([])
    with pytest.raises(ValueError, match="min_score"):
        Retriever([Document("a", "A", "text")], min_score=1.5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("documents:\n  - {id: a, title: A, text: one}\n  - {id: a, title: B, text: two}\n",
         "documents[1]: duplicate id 'a'"),
        ("documents:\n  - {id: a, title: A}\n", "documents[0]: field 'text'"),
        ("documents:\n  - {id: a, title: '', text: x}\n", "documents[0]: field 'title'"),
        ("documents:\n  - just a string\n", "documents[0]: expected a mapping"),
        ("documents: []\n", "non-empty list"),
        ("documents: [\n", "cannot read corpus"),
    ],
)  # fmt: skip
def test_malformed_corpus_names_file_and_entry(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "docs.yaml"
    path.write_text(body)
    with pytest.raises(CorpusError) as info:
        load_documents(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_identifiers_in_a_question_do_not_hide_its_topic(retriever: Retriever) -> None:
    assert tokenize("trace 4bf92f3577b34da6 request 12345678 took 2026") == [
        "trace",
        "request",
        "took",
        "2026",
    ]
    question = "How do I monitor time to first token?"
    baseline = [d.id for d in retriever.search(question)]
    assert "ttft" in baseline
    for suffix in ("(case 3f9a1c2e)", "(case 12345678)", "(case 4bf92f3577b34da6)"):
        ids = [d.id for d in retriever.search(f"{question} {suffix}")]
        assert ids and ids[0] == baseline[0] and "ttft" in ids
