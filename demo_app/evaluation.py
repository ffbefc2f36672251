"""Answer-quality heuristics for RAG answers, each a score in [0, 1].

STUB: interface only, implementation follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from demo_app.corpus import RetrievedDoc

PASS_THRESHOLD = 0.7  # label "pass" when score > 0.7 (the rag-answer-quality SLO's good event)
LABEL_PASS = "pass"
LABEL_FAIL = "fail"


@dataclass(frozen=True)
class EvaluationScore:
    """One `gen_ai.evaluation.result`: name, value in [0, 1], label pass/fail."""

    name: str  # faithfulness | answer_relevancy | context_relevancy (semconv.EVALUATION_NAMES)
    value: float
    label: str


@dataclass(frozen=True)
class Evaluation:
    faithfulness: EvaluationScore
    answer_relevancy: EvaluationScore
    context_relevancy: EvaluationScore

    def scores(self) -> list[EvaluationScore]:
        """The three scores in semconv.EVALUATION_NAMES order."""
        return [self.faithfulness, self.answer_relevancy, self.context_relevancy]

    def as_dict(self) -> dict[str, float]:
        return {s.name: s.value for s in self.scores()}


def evaluate(question: str, answer: str, context: Sequence[RetrievedDoc]) -> Evaluation:
    """Score an answer against its question and retrieved context."""
    raise NotImplementedError
