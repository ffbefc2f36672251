"""Edges of single redaction rules that the corpus (redaction_corpus.yaml) holds one sample of:
which one-word names count as secret, which command lines carry a password, and that a secret
written with look-alike letters of another script is masked while the rest keeps its letters."""

from __future__ import annotations

import pytest

from genai_telemetry.redaction import (
    redact,
    redact_query,
    redact_value,
    secret_header_attribute,
    secret_name,
)
from genai_telemetry.redaction_names import _SECRET_WORDS


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


def test_look_alike_letters_in_a_latin_word_are_read_as_latin_and_kept_as_written() -> None:
    # Cyrillic р, а, о, ѕ, е and Greek ο: the secret goes, everything else keeps its letters.
    assert redact("Мой раssword=Zx81qwe тут") == "Мой раssword=[REDACTED:secret] тут"
    assert redact("tοken: Zx81qwe, раѕѕwоrd_file=/etc/x") == (
        "tοken: [REDACTED:secret], раѕѕwоrd_file=/etc/x"
    )
    key = "ѕk-" + "proj-" + "Zx81" * 6
    assert redact(f"ключ {key}!") == "ключ [REDACTED:api_key]!"
    # With fullwidth letters in the same text: one view for both.
    assert redact("ｐａｓｓｗｏｒｄ＝Zx81qwe ѕk-short api_kеy=Zx81qwe") == (
        "ｐａｓｓｗｏｒｄ＝[REDACTED:secret] ѕk-short api_kеy=[REDACTED:secret]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "ОТР: 431 и АРІ: 2",  # Russian words wholly in Cyrillic, not OTP and API
        "ΤΟ ΚΑΙ: 7",  # Greek
        "mах_tоkens=256 ѕkі-trip",  # look-alikes in harmless names
    ],
)
def test_words_of_another_script_stay(text: str) -> None:
    assert redact(text) == text


# Found by hand-made mutation testing: each test below failed with one rule weakened.


@pytest.mark.parametrize("length", [16, 22])  # the documented minimum; a LiteLLM virtual key
def test_short_sk_keys_are_api_keys(length: int) -> None:
    key = "sk-" + ("Zx81" * 6)[:length]
    assert redact(f"proxy key {key} here") == "proxy key [REDACTED:api_key] here"


def test_an_iban_with_a_wrong_check_digit_stays() -> None:
    assert redact("DE89 3704 0044 0532 0130 00") == "[REDACTED:iban]"
    assert redact("DE80 3704 0044 0532 0130 00") == "DE80 3704 0044 0532 0130 00"


def test_an_allowed_query_parameter_named_like_a_secret_is_still_replaced() -> None:
    allowed = frozenset({"token", "receiver"})
    out = redact_query("token=Zx81qwe&receiver=team", allowed)
    assert out == "token=[REDACTED:query_value]&receiver=team"


def test_log_fields_holding_mappings_are_redacted_inside() -> None:
    value = {"a": {"b": "mail alice@example.com"}, "c": ["x", {"d": "password=Zx81qwe"}]}
    assert redact_value(value) == {
        "a": {"b": "mail [REDACTED:email]"},
        "c": ["x", {"d": "password=[REDACTED:secret]"}],
    }


@pytest.mark.parametrize("word", sorted(_SECRET_WORDS))
def test_every_secret_word_alone_passes_the_precheck(word: str) -> None:
    # The precheck (_KEY_WORDS) must let through every name secret_name accepts.
    out = redact(f"{word}=Zx81qwe")
    assert "Zx81qwe" not in out and "[REDACTED:" in out, out


# A secret value's shape must not decide whether it is masked: JSON escapes inside it, a value
# longer than the lookahead reads, or a message cut short inside it (errors are truncated).
PW = "Qx7" + "vR2mN9pL4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # json.dumps of a password holding a quote or a backslash (password generators do)
        (
            '{"password": "a\\"' + PW + '", "user": "bob"}',
            '{"password": "[REDACTED:secret]", "user": "bob"}',
        ),
        ('{"password": "C:\\\\' + PW + '"}', '{"password": "[REDACTED:secret]"}'),
        # a JSON string inside a JSON string: its own escapes are escaped again
        (
            '{"body": "{\\"password\\": \\"a\\\\\\"' + PW + '\\"}"}',
            '{"body": "{\\"password\\": \\"[REDACTED:secret]\\"}"}',
        ),
        # truncated inside the secret: the closing quote never comes
        ('upstream said {"password": "' + PW, 'upstream said {"password": "[REDACTED:secret]'),
        ("token: '" + PW, "token: '[REDACTED:secret]"),
    ],
)
def test_a_quoted_secret_is_masked_whatever_it_holds(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "template",
    [
        '{"refresh_token": "%s", "expires_in": 3600}',  # an opaque token (Entra ID's run ~1 KB)
        '{\\"SessionToken\\": \\"%s\\", \\"n\\": 1}',  # an STS answer inside a log message
        "aws_session_token=%s next=1",
        "password%%3D%%22%s%%22&next=1",
        "password: '%s' next=1",
    ],
)
@pytest.mark.parametrize("length", [512, 513, 2000])
def test_a_long_secret_value_is_masked_to_its_end(template: str, length: int) -> None:
    value = (PW * 300)[:length]
    out = redact(template % value)
    assert PW[:8] not in out and PW[-8:] not in out, out
    assert out == template % "[REDACTED:secret]"


@pytest.mark.parametrize(
    "name", ["password2", "DB_PASSWORD_2", "api_key_2", "apikey1", "secret1", "apiKeys", "ssh_keys"]
)
def test_a_numbered_or_plural_secret_name_is_still_secret(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name", ["auth0_domain", "auth0_client_id", "sha256", "http2", "keys", "monkeys", "hotkeys"]
)
def test_numbers_and_plurals_make_no_other_name_secret(name: str) -> None:
    assert not secret_name(name)


def test_passcodes_and_hmac_signatures_are_secret_values_and_headers() -> None:
    line = "passcode=48213377 hmac: 9f86d081884c7d65 hmac_algorithm=sha256"
    assert (
        redact(line) == "passcode=[REDACTED:secret] hmac: [REDACTED:secret] hmac_algorithm=sha256"
    )
    for header in ("x_passcode", "x_shopify_hmac_sha256", "x_hmac"):
        assert secret_header_attribute(f"http.request.header.{header}"), header


# --- connection-string passwords holding separators -----------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # ODBC: a braced value holds ";", and "}}" is an escaped "}"
            "Driver={ODBC Driver 18};Server=db;Uid=app;PWD={p@ss;w}}rd};Encrypt=yes",
            "Driver={ODBC Driver 18};Server=db;Uid=app;PWD={[REDACTED:secret]};Encrypt=yes",
        ),
        (  # ADO.NET: a quoted value holds ";"
            'Server=db;User Id=app;Password="a;b c";Database=shop',
            'Server=db;User Id=app;Password="[REDACTED:secret]";Database=shop',
        ),
        ("Server=db;Password='a;b';", "Server=db;Password='[REDACTED:secret]';"),
    ],
)
def test_connection_string_passwords_holding_separators_are_masked(
    text: str, expected: str
) -> None:
    assert redact(text) == expected


# --- HTTP Digest credentials --------------------------------------------------------------
DIGEST = "6629fae4" + "9393a05397450978507c4ef1"  # RFC 2617's example response


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'Authorization: Digest username="bob", realm="api", nonce="dcd98b7102dd2f0e", '
            f'uri="/v1/chat", qop=auth, nc=00000001, cnonce="0a4f113b", response="{DIGEST}"',
            'Authorization: Digest username="bob", realm="api", nonce="dcd98b7102dd2f0e", '
            'uri="/v1/chat", qop=auth, nc=00000001, cnonce="0a4f113b", '
            'response="[REDACTED:credential]"',
        ),
        (  # in an exception message, without the header name
            f'401 from upstream: Digest username="svc", realm="r", response="{DIGEST}", opaque="x"',
            '401 from upstream: Digest username="svc", realm="r", '
            'response="[REDACTED:credential]", opaque="x"',
        ),
        (  # a curl command line, and JSON-escaped inside a log message
            f'curl -H \'Authorization: Digest username="u", response="{DIGEST}"\' http://x',
            'curl -H \'Authorization: Digest username="u", '
            'response="[REDACTED:credential]"\' http://x',
        ),
        (
            f'{{"headers": "Digest username=\\"u\\", response=\\"{DIGEST}\\""}}',
            '{"headers": "Digest username=\\"u\\", response=\\"[REDACTED:credential]\\""}',
        ),
    ],
)
def test_the_response_of_http_digest_credentials_is_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'WWW-Authenticate: Digest realm="api", qop="auth", nonce="dcd98b7102dd2f0e", opaque="5c"',
        'upstream response="ok" status=200',  # a response outside Digest credentials
        'image digest response="ok"',  # "digest" as a word, no parameter before the response
    ],
)
def test_digest_challenges_and_other_responses_stay(text: str) -> None:
    assert redact(text) == text


# --- password names in other languages --------------------------------------------------------
@pytest.mark.parametrize(
    "template",
    [
        *("Passwort=%s", "Kennwort: %s", "DB_PASSWORT=%s", "Benutzerkennwort: %s"),  # German
        *("senha=%s", "palavra-passe: %s"),  # Portuguese
        *("contraseña=%s", "Contrasena: %s"),  # Spanish
        *("mot_de_passe=%s", "motdepasse=%s", "nouveauMotDePasse: %s", "mdp=%s"),  # French
        *("wachtwoord=%s", "hasło: %s", "haslo=%s", "Пароль: %s"),  # Dutch, Polish, Russian
        *("密码：%s", "密码=%s", "新密码：%s", "密碼：%s"),  # Chinese
        *("パスワード：%s", "新しいパスワード＝%s", "비밀번호: %s"),  # Japanese, Korean
        "密码：%s，请妥善保管。",  # the value ends at fullwidth punctuation
    ],
)
def test_password_names_in_other_languages(template: str) -> None:
    assert redact(template % PW) == template % "[REDACTED:secret]"


@pytest.mark.parametrize(
    "text",
    [
        "palabra clave: redis, clave primaria=id",  # Spanish "clave" is also just "key"
        "resenha: ótima, Passwortlänge=12, wachtwoordbeleid: streng",  # words around the names
        "密码长度：12，密码错误：3次",  # password length, password errors
        "パスワードリセット：完了、비밀번호 변경: 완료",  # password reset: done
        "Пароль сброшен, длина пароля: 12",  # reset; a name before the word
        "hasło reklamowe: Zmień nawyki",  # a slogan ("hasło" before another word)
    ],
)
def test_words_near_password_names_in_other_languages_stay(text: str) -> None:
    assert redact(text) == text


# --- passwords holding spaces ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password: correct horse battery staple", "password: [REDACTED:secret]"),
        ("  db_password: correct horse battery staple  ", "  db_password: [REDACTED:secret]  "),
        ("export PASSPHRASE=correct horse battery\n", "export PASSPHRASE=[REDACTED:secret]\n"),
        (
            "user: bob\npassword: correct horse battery staple\nhost: db",
            "user: bob\npassword: [REDACTED:secret]\nhost: db",
        ),
        ("- Kennwort: richtiges Pferd", "- Kennwort: [REDACTED:secret]"),
        ("密码：正确 马 电池", "密码：[REDACTED:secret]"),
    ],
)
def test_a_password_with_spaces_is_masked_to_the_end_of_its_line(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # another field on the line: the value is its first word, as before
        ("password=hunter2 user=bob", "password=[REDACTED:secret] user=bob"),
        ("password: hunter2 user: bob", "password: [REDACTED:secret] user: bob"),
        ("password=hunter2&next=1 x", "password=[REDACTED:secret]&next=1 x"),
        # prose before the name: the rest of the line may be prose too
        (
            "Question: my password: hunter2 please",
            "Question: my password: [REDACTED:secret] please",
        ),
        ("Мой пароль=hunter2 тут", "Мой пароль=[REDACTED:secret] тут"),
        # names that are not passwords keep their first word only (tokens hold no spaces)
        ("token: abc def", "token: [REDACTED:secret] def"),
        # nothing masked, nothing extended
        ("password: none set yet", "password: none set yet"),
        ("password: ${DB_PASSWORD} from vault", "password: ${DB_PASSWORD} from vault"),
    ],
)
def test_the_rest_of_the_line_is_kept_when_it_is_not_the_value(text: str, expected: str) -> None:
    assert redact(text) == expected
