"""BM25 retrieval over the bundled corpus, with normalised scores and fault injection.

Tokenizer (`tokenize`): lowercase, alphanumeric runs (so `gen_ai.usage.input_tokens` yields
`gen`, `ai`, `usage`, `input`, `tokens`→`token`), English stop words and question-framing words
("explain", "summarize", ...) removed, identifiers dropped (8+ characters mixing letters and
digits such as trace ids or `3f9a1c2e`, or 6+ digits: they never match prose), and a light plural
folding (`retries`→`retry`, `tokens`→`token`). The same tokenizer serves the evaluation
heuristics.

Ranking: `rank_bm25.BM25Okapi` (k1=1.5, b=0.75) over title + text of every document.

Score normalisation (what `RetrievedDoc.score` means): the raw BM25 score divided by a
reference score for the query, clipped to [0, 1]:

    reference = sum over distinct query tokens t of idf(t) * 2 (k1 + 1) / (2 + k1)

i.e. the BM25 score of an average-length document containing every query token exactly twice.
A token that occurs in no document counts with the corpus's mean idf (a typical word), so
unknown words lower the score without erasing a strong match on the known ones.
So 1.0 means "all of the question's terms, each about twice or more"; a document mentioning
the idf-weighted half of the terms once scores ~0.35. Off-topic questions ("banana bread
recipe") score < 0.25 and return no documents (empty retrieval); questions about a corpus
topic score ≥ 0.5.

Documents below `min_score` (default 0.25) are dropped, so `search` may return [].

Faults: with `FaultProfile.retrieval_degradation = d`, each search returns [] with probability
d; otherwise every score is multiplied by (1 − d) before the `min_score` cut.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence

from rank_bm25 import BM25Okapi

from demo_app.corpus import Document, RetrievedDoc, load_documents
from demo_app.faults import FaultStore

__all__ = [
    "DATA_SOURCE_ID",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_TOP_K",
    "RetrievedDoc",
    "Retriever",
    "tokenize",
]

DATA_SOURCE_ID = "ops-handbook"  # gen_ai.data_source.id of the bundled corpus
DEFAULT_TOP_K = 4
DEFAULT_MIN_SCORE = 0.25
MAX_TOP_K = 20
REFERENCE_TF = 2  # see "Score normalisation" above

_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else even
    ever every few for from further get gets got had has have having he her here hers him his
    how i if in into is it its itself just me more most my no nor not now of off on once only
    or other our ours out over own please same she should so some such than that the their
    them then there these they this those through to too under until up us very was we were
    what when where which while who whom why will with would you your yours
    explain tell describe give show mean means use using used need want know way ways thing
    things really much many lot like make makes one two
    summarize summarise summary guidance key point points overview detail details information
    info write
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_WORD = re.compile(r"[a-z0-9]+")
_IDENTIFIER = re.compile(r"[0-9]{6,}|(?=[a-z0-9]*[0-9])(?=[a-z0-9]*[a-z])[a-z0-9]{8,}")


def _fold(token: str) -> str:
    """Light plural folding so `tokens` matches `token` (consistent, not linguistic)."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lowercase alphanumeric tokens without stop words, plurals folded (order kept)."""
    return [
        _fold(t)
        for t in _WORD.findall(text.lower())
        if t not in STOP_WORDS and not _IDENTIFIER.fullmatch(t)
    ]


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
        if not documents:
            raise ValueError("Retriever needs at least one document")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must be in [0, 1]")
        self._documents = list(documents)
        self._faults = faults
        self.min_score = min_score
        self._bm25 = BM25Okapi([tokenize(f"{d.title} {d.text}") for d in self._documents])
        idfs = list(self._bm25.idf.values())
        self._unseen_idf = sum(idfs) / len(idfs) if idfs else 1.0
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    @classmethod
    def from_corpus(
        cls,
        *,
        faults: FaultStore | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        seed: int | None = None,
    ) -> Retriever:
        """A retriever over the bundled corpus (`demo_app/corpus/documents.yaml`)."""
        return cls(load_documents(), faults=faults, min_score=min_score, seed=seed)

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def documents(self) -> list[Document]:
        return list(self._documents)

    def _reference(self, terms: Sequence[str]) -> float:
        k1 = self._bm25.k1
        per_term = REFERENCE_TF * (k1 + 1) / (REFERENCE_TF + k1)
        return per_term * sum(max(self._bm25.idf.get(t, self._unseen_idf), 0.0) for t in terms)

    def scores(self, query: str) -> list[float]:
        """Normalised score of every document for `query` (no faults, no cut-off)."""
        terms = list(dict.fromkeys(tokenize(query)))
        reference = self._reference(terms)
        if not terms or reference <= 0:
            return [0.0] * len(self._documents)
        raw = self._bm25.get_scores(terms)
        return [min(1.0, max(0.0, float(s) / reference)) for s in raw]

    def search(self, query: str, top_k: int = DEFAULT_TOP_K) -> list[RetrievedDoc]:
        """Best `top_k` (1–20) documents scoring >= min_score, best first (may be empty)."""
        if not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
        degradation = self._faults.get().retrieval_degradation if self._faults else 0.0
        if degradation > 0:
            with self._rng_lock:
                dropped = self._rng.random() < degradation
            if dropped:
                return []
        factor = 1.0 - degradation
        scored = [
            (score * factor, index)
            for index, score in enumerate(self.scores(query))
            if score * factor >= self.min_score and score > 0
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [
            RetrievedDoc(
                id=self._documents[i].id,
                title=self._documents[i].title,
                text=self._documents[i].text,
                score=round(score, 4),
            )
            for score, i in scored[:top_k]
        ]
