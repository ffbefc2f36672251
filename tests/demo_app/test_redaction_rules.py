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


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("xh -a alice:{pw} get :8000", "xh -a alice:"),
        ("http --auth alice:{pw} https://x", "http --auth alice:"),
        ("mysqldump -u app -p{pw} shop", "mysqldump -u app -p"),
        ("MARIADB -uroot -p'{pw}' shop", "MARIADB -uroot -p'"),
        ("sshpass -p{pw} ssh host", "sshpass -p"),
        ("redis-cli --user app --pass {pw} ping", "redis-cli --user app --pass "),
    ],
)
def test_command_line_passwords_are_masked_and_the_command_kept(line: str, kept: str) -> None:
    secret = "Qx7" + "vR2mN9pL4"
    out = redact(line.format(pw=secret))
    assert secret not in out
    assert out.startswith(kept + "[REDACTED:credential]"), out


@pytest.mark.parametrize(
    "line",
    [
        "mysql -h db -P 3306 -u app shop",  # -P is the port
        "http -A bearer -a x https://x",  # -A is the auth type; no user:password
        "sshpass -P assword: -f pw ssh host",  # -P is the prompt
        "echo done | mysql -u root -p shop",  # -p alone prompts
        "curl -s https://x | redis-cli -x set k; redis-cli -a",
    ],
)
def test_command_lines_without_a_password_stay(line: str) -> None:
    assert redact(line) == line
