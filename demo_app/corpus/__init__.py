"""The bundled knowledge base: short original documents on LLM operations and observability.

The documents live in `documents.yaml` next to this module (a list of `{id, title, text}`),
written for this project. `load_documents()` reads and validates them; `Document` is one entry
and `RetrievedDoc` is a document returned by the retriever together with its normalised score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DOCUMENTS_PATH = Path(__file__).with_name("documents.yaml")


class CorpusError(ValueError):
    """The corpus file is malformed (message names the file and the entry)."""


@dataclass(frozen=True)
class Document:
    """One knowledge-base document."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class RetrievedDoc:
    """A document returned by a search; `score` is normalised to [0, 1] (1 = best possible)."""

    id: str
    title: str
    text: str
    score: float


def load_documents(path: Path | str | None = None) -> list[Document]:
    """Read and validate the corpus (default: the bundled `documents.yaml`).

    Raises CorpusError naming the file and the offending entry when an entry lacks a
    non-empty `id`, `title` or `text`, or when ids repeat.
    """
    path = Path(path) if path is not None else DOCUMENTS_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: cannot read corpus: {exc}") from exc
    entries = raw.get("documents") if isinstance(raw, dict) else raw
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f"{path}: expected a non-empty list under 'documents'")
    documents: list[Document] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: documents[{index}]"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where}: expected a mapping with id, title, text")
        values = {}
        for key in ("id", "title", "text"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise CorpusError(f"{where}: field {key!r} must be a non-empty string")
            values[key] = " ".join(value.split())
        if values["id"] in seen:
            raise CorpusError(f"{where}: duplicate id {values['id']!r}")
        seen.add(values["id"])
        documents.append(Document(**values))
    return documents
