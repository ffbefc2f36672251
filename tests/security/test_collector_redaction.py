"""The collector's `redaction` processor (otel-collector/config.yaml) against the app's corpus.

The collector cannot run here, so its patterns run under RE2 (google-re2: the syntax and
leftmost-first semantics of Go's regexp) the way the processor applies them: every
`blocked_values` match in a string value is replaced by `****`. It must mask every corpus secret
not marked `collector: false` and keep every look-alike not so marked (those need a checksum,
context, or a view that reads look-alike letters of another script as Latin, which RE2 cannot
express: docs/security.md). Keys are checked against the processor's
configuration struct at the pinned version (contrib 0.159, processor/redactionprocessor/
config.go), since an unknown key makes the collector refuse to start.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import re2
import yaml

from genobs.promql import regex_problem
from harness import ROOT
from tests.demo_app.redaction_corpus import load_all

CONFIG = ROOT / "otel-collector" / "config.yaml"
# mapstructure keys of redactionprocessor.Config at contrib v0.159.
KNOWN_KEYS = {
    "allow_all_keys",
    "allowed_keys",
    "blocked_key_patterns",
    "hash_function",
    "ignored_keys",
    "redact_all_types",
    "blocked_values",
    "allowed_values",
    "db_sanitizer",
    "summary",
    "url_sanitizer",
}
SAMPLES, LOOKALIKES = load_all()


@pytest.fixture(scope="module")
def redaction() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())["processors"]["redaction"]


@pytest.fixture(scope="module")
def mask(redaction: dict[str, Any]) -> Any:
    patterns = [re2.compile(p) for p in redaction["blocked_values"]]

    def apply(value: str) -> str:
        for pattern in patterns:
            value = pattern.sub("****", value)
        return value

    return apply


def test_only_keys_the_pinned_processor_knows(redaction: dict[str, Any]) -> None:
    assert set(redaction) <= KNOWN_KEYS, set(redaction) - KNOWN_KEYS


def test_every_pattern_compiles_under_re2(redaction: dict[str, Any]) -> None:
    patterns = [*redaction["blocked_values"], *redaction["blocked_key_patterns"]]
    assert patterns, "no redaction patterns found"
    for pattern in patterns:
        re2.compile(pattern)
        assert regex_problem(pattern) is None, regex_problem(pattern)  # Go-only syntax too


def test_conversation_ids_are_not_exempt(redaction: dict[str, Any]) -> None:
    # Other apps' conversation ids are free text: a card number there must be masked.
    assert "gen_ai.conversation.id" not in redaction["ignored_keys"]


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES if s.collector], ids=lambda s: f"{s.kind}:{s.template[:40]}"
)
def test_collector_masks_corpus_secret(mask: Any, sample: Any) -> None:
    out = mask(sample.text)
    assert sample.secrets, f"{sample.kind}: a sample without secrets proves nothing"
    for secret in sample.secrets:
        assert secret not in out, f"{sample.kind} survived the collector: {out!r}"


@pytest.mark.parametrize("text", [t for t, collector in LOOKALIKES if collector])
def test_collector_keeps_lookalike(mask: Any, text: str) -> None:
    assert mask(text) == text


def test_app_only_entries_are_few_and_documented() -> None:
    app_only = [s for s in SAMPLES if not s.collector]
    doc = (ROOT / "docs" / "security.md").read_text()
    for kind in {s.kind for s in app_only}:
        assert f"`{kind}`" in doc, kind
    m = re.search(r"\*\*(\d+)\*\* of the (\d+) corpus secrets are left to the app", doc)
    assert m, "docs/security.md lost its '**n** of the m corpus secrets are left to the app'"
    assert (int(m[1]), int(m[2])) == (len(app_only), len(SAMPLES))
    assert len(app_only) <= 10
