"""Secrets split by characters drawn as nothing (zero-width spaces and joiners, soft hyphens,
variation selectors) or written in Unicode tag letters: masked, and text with such characters
and no secret comes back as written. The same over real HTTP: test_hostile_unicode.py."""

from __future__ import annotations

import unicodedata

import pytest

from genai_telemetry.redaction import redact

_KEY = "sk-" + "proj-" + "Zx81" * 6


def _tags(text: str) -> str:
    """`text` in Unicode tag letters (U+E0020…): invisible, yet a model reads them as ASCII."""
    return "".join(chr(0xE0000 + ord(c)) for c in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {_KEY[:9]}\u200b{_KEY[9:]} ok", "key [REDACTED:api_key] ok"),  # zero-width space
        (
            "the pass\u00adword=Zx81qwe now",
            "the pass\u00adword=[REDACTED:secret] now",
        ),  # soft hyphen
        ("mail jane\u200d.doe@example.org", "mail [REDACTED:email]"),  # zero-width joiner
        ("card 4111\u20601111\u20601111\u20601111.", "card [REDACTED:card_number]."),
        (f"key {_KEY[:5]}\ufe0f{_KEY[5:]}", "key [REDACTED:api_key]"),  # variation selector
        (f"x {_tags(_KEY)} y", "x [REDACTED:api_key] y"),  # tag letters
        ("\u200bпароль: Zx81qwe\u200b", "\u200bпароль: [REDACTED:secret]"),
    ],
)
def test_a_secret_split_by_invisible_characters_is_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467 emoji",  # ZWJ sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a ZWNJ
        "soft\u00adhyphen\u200band\u2060joiner, max_tokens=256",
        f"kept {_tags('hello')} as written",
    ],
)
def test_text_with_invisible_characters_and_no_secret_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_every_invisible_format_character_is_read_through() -> None:
    """The view drops Unicode's default-ignorable characters: every format (Cf) character but
    the visible prepended marks and interlinear annotations, and every variation selector. (Tag
    letters are read as the ASCII they encode, a tag space as a space: tested above.)"""
    visible = {
        *range(0xE0020, 0xE007F),
        *range(0x600, 0x606),
        0x6DD,
        0x70F,
        0x890,
        0x891,
        0x8E2,
        0x110BD,
        0x110CD,
    }
    visible |= {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440)}
    chars = [chr(c) for c in range(0x110000) if c not in visible]
    format_chars = [c for c in chars if unicodedata.category(c) == "Cf"]
    selectors = [c for c in chars if unicodedata.name(c, "").startswith("VARIATION SELECTOR")]
    assert len(format_chars) >= 40 and len(selectors) == 256
    key = "sk-" + "proj-" + "Zx81" * 6
    missed = [
        c
        for c in format_chars + selectors
        if redact(key[:8] + c + key[8:]) == key[:8] + c + key[8:]
    ]
    assert missed == []


def test_compatibility_characters_are_searched_and_kept_text_keeps_them() -> None:
    """Fullwidth secrets are found in an NFKC view; what is kept comes back as written."""
    key = "ｓｋ-" + "ｐｒｏｊ-" + "Zx81" * 6
    assert redact(f"鍵：{key}、ｏｋ") == "鍵：[REDACTED:api_key]、ｏｋ"
    assert redact("注 ｐａｓｓｗｏｒｄ＝Ｈｕｎ２ 次") == "注 ｐａｓｓｗｏｒｄ＝[REDACTED:secret] 次"
    assert redact("ｍａｉｌ ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ！") == "ｍａｉｌ [REDACTED:email]！"
    clean = "全角の「ＡＢＣ」と１２３、ｓｋｉ　ｔｒｉｐ！ café ﬁle"
    assert redact(clean) == clean
