"""BM25 retrieval over the bundled corpus, with normalised scores and fault injection.

STUB: interface only, implementation follows.
"""

from __future__ import annotations

from collections.abc import Sequence

from demo_app.corpus import Document, RetrievedDoc, load_documents
from demo_app.faults import FaultStore

__all__ = ["DATA_SOURCE_ID", "RetrievedDoc", "Retriever", "tokenize"]

DATA_SOURCE_ID = "ops-handbook"  # gen_ai.data_source.id of the bundled corpus
DEFAULT_TOP_K = 4
DEFAULT_MIN_SCORE = 0.2


def tokenize(text: str) -> list[str]:
    """Lowercase alphanumeric tokens without stop words."""
    raise NotImplementedError


class Retriever:
    """Ranks documents for a query with BM25Okapi; scores normalised to [0, 1]."""

    data_source_id: str = DATA_SOURCE_ID

    def __init__(
        self,
        documents: Sequence[Document],
        *,
        faults: FaultStore | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        seed: int | None = None,
    ) -> None:
        raise NotImplementedError

    @classmethod
    def from_corpus(cls, *, faults: FaultStore | None = None, **kwargs: object) -> Retriever:
        """A retriever over the bundled corpus (`demo_app/corpus/documents.yaml`)."""
        return cls(load_documents(), faults=faults, **kwargs)  # type: ignore[arg-type]

    def __len__(self) -> int:
        raise NotImplementedError

    def search(self, query: str, top_k: int = DEFAULT_TOP_K) -> list[RetrievedDoc]:
        """Best `top_k` documents scoring >= min_score, best first (may be empty)."""
        raise NotImplementedError
