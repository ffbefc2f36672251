"""Answer-quality heuristics for RAG answers, each a score in [0, 1] (cheap, online, per request).

All three work on content tokens from `retrieval.tokenize` (lowercase words without stop words,
plurals folded). Citation markers such as "[2]" are removed from the answer first.

- faithfulness — share of answer sentences that are supported by the retrieved context. A
  sentence is supported when at least `SUPPORT_THRESHOLD` (60 %) of its distinct content tokens
  occur somewhere in the context passages. Sentences without content tokens are ignored.
  No context, or an answer without content → 0.0 (nothing can be grounded).
- answer_relevancy — share of the question's distinct content tokens that the answer uses.
  A question without content tokens → 0.0.
- context_relevancy — mean over the retrieved passages of the share of the question's content
  tokens each passage contains (a precision-like measure: padding the context with unrelated
  passages lowers it). No context → 0.0.

Each score carries a label: "pass" when the value is ABOVE `PASS_THRESHOLD` (0.7), else "fail" —
the same cut as the `rag-answer-quality` SLO (good = faithfulness > 0.7, i.e. not in the
`le="0.7"` bucket). Values are rounded to 4 decimals before labelling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from demo_app.corpus import RetrievedDoc
from demo_app.retrieval import tokenize
from genai_telemetry import semconv

PASS_THRESHOLD = 0.7
SUPPORT_THRESHOLD = 0.6
LABEL_PASS = "pass"
LABEL_FAIL = "fail"

FAITHFULNESS, ANSWER_RELEVANCY, CONTEXT_RELEVANCY = semconv.EVALUATION_NAMES

_CITATION = re.compile(r"\[\d+\]")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class EvaluationScore:
    """One `gen_ai.evaluation.result`: name, value in [0, 1], label pass/fail."""

    name: str  # one of semconv.EVALUATION_NAMES
    value: float
    label: str


@dataclass(frozen=True)
class Evaluation:
    """The three scores of one answer."""

    faithfulness: EvaluationScore
    answer_relevancy: EvaluationScore
    context_relevancy: EvaluationScore

    def scores(self) -> list[EvaluationScore]:
        """The three scores in semconv.EVALUATION_NAMES order."""
        return [self.faithfulness, self.answer_relevancy, self.context_relevancy]

    def as_dict(self) -> dict[str, float]:
        return {s.name: s.value for s in self.scores()}


def score(name: str, value: float) -> EvaluationScore:
    """An EvaluationScore with the value clamped to [0, 1], rounded, and labelled."""
    value = round(min(1.0, max(0.0, value)), 4)
    return EvaluationScore(name, value, LABEL_PASS if value > PASS_THRESHOLD else LABEL_FAIL)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(_CITATION.sub(" ", text)) if s.strip()]


def faithfulness(answer: str, context: Sequence[RetrievedDoc]) -> float:
    """Share of the answer's content sentences supported by the context (see module doc)."""
    context_terms = {t for doc in context for t in tokenize(f"{doc.title} {doc.text}")}
    if not context_terms:
        return 0.0
    judged = supported = 0
    for sentence in _sentences(answer):
        terms = set(tokenize(sentence))
        if not terms:
            continue
        judged += 1
        if len(terms & context_terms) / len(terms) >= SUPPORT_THRESHOLD:
            supported += 1
    return supported / judged if judged else 0.0


def answer_relevancy(question: str, answer: str) -> float:
    """Share of the question's content tokens that appear in the answer."""
    question_terms = set(tokenize(question))
    if not question_terms:
        return 0.0
    answer_terms = set(tokenize(_CITATION.sub(" ", answer)))
    return len(question_terms & answer_terms) / len(question_terms)


def context_relevancy(question: str, context: Sequence[RetrievedDoc]) -> float:
    """Mean share of the question's content tokens contained in each retrieved passage."""
    question_terms = set(tokenize(question))
    if not question_terms or not context:
        return 0.0
    shares = [
        len(question_terms & set(tokenize(f"{doc.title} {doc.text}"))) / len(question_terms)
        for doc in context
    ]
    return sum(shares) / len(shares)


def evaluate(question: str, answer: str, context: Sequence[RetrievedDoc]) -> Evaluation:
    """Score an answer against its question and retrieved context."""
    return Evaluation(
        faithfulness=score(FAITHFULNESS, faithfulness(answer, context)),
        answer_relevancy=score(ANSWER_RELEVANCY, answer_relevancy(question, answer)),
        context_relevancy=score(CONTEXT_RELEVANCY, context_relevancy(question, context)),
    )
