"""Variants of the shipped genai-obs.yaml for tests of another service's artifacts."""

from __future__ import annotations

from pathlib import Path

from harness import ROOT

# Another app: its service name and scrape job, without rag-api's own metrics.
MY_LLM_APP = (
    ("service_name: rag-api", "service_name: my-llm-app"),
    ("service: 'job=\"rag-api\"'", "service: 'job=\"my-llm-app\"'"),
    ("extras: true", "extras: false"),
)


def own_config(path: Path, *changes: tuple[str, str]) -> Path:
    """genai-obs.yaml with each (old, new) text replaced, written to `path`; an `old` that is not
    in the file fails, so a reworded config cannot silently leave a test on the defaults."""
    text = (ROOT / "genai-obs.yaml").read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return path
