"""Edges of single redaction rules that the corpus (redaction_corpus.yaml) holds one sample of:
which one-word names count as secret, which command lines carry a password, and that a secret
written with look-alike letters of another script is masked while the rest keeps its letters."""

from __future__ import annotations

import pytest

from genai_telemetry.redaction import redact, secret_name


@pytest.mark.parametrize(
    "name",
    ["passwordvalue", "secretvalue", "tokenstr", "dbpasswordhash", "sshkeyvalue", "PINVALUE"],
)
def test_a_value_ending_after_a_secret_word_is_still_secret(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        *("passwordless", "tokenizer", "secretary", "tokenvalidator", "keyvalue", "monkeyvalue"),
        *("bypassvalue", "spinvalue", "passwordexpiry", "interval", "password_file"),
    ],
)
def test_other_endings_keep_the_name_whole(name: str) -> None:
    assert not secret_name(name)


def test_a_count_after_a_token_name_with_a_value_ending_stays() -> None:
    assert redact("tokenvalue=256 tokenvalue=Zx81") == "tokenvalue=256 tokenvalue=[REDACTED:secret]"
