"""The ordered steps of `redaction`'s full pass: each pattern with its replacement and a cheap
guard that skips it when it cannot match (`_STEPS`), the replacements that look closer at a
match (Basic credentials decoded, card numbers and IBANs checked, base64 PEM decoded), and the
pass itself (`_apply_steps`), with the `name=value` scan after the API key step."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from genai_telemetry.redaction_checksums import iban_valid, luhn_valid
from genai_telemetry.redaction_patterns import (
    _API_KEYS,
    _AUTH_HEADER,
    _BASIC,
    _BEARER,
    _BLOCK_SCALAR,
    _CARD_CANDIDATE,
    _CARD_GROUPS,
    _CLI_PASSWORD,
    _CURL_USER,
    _DIGEST,
    _DIGIT_RUN,
    _EMAIL,
    _ESCAPED_KEY,
    _IBAN,
    _JWT,
    _NAMED_VALUE,
    _PEM,
    _PEM_BASE64,
    _PHONE,
    _PHONE_CHARS,
    _SSN,
    _URL_PASSWORD,
    _URL_PASSWORD_ENCODED,
    _WEBHOOK_URL,
    _named_shape,
    _tag,
)
from genai_telemetry.redaction_values import _block_scalar, _key_values, _named_value


def _pem_base64(match: re.Match[str]) -> str:
    head = match.group()[:64]
    if b"PRIVATE KEY" in base64.b64decode(head[: len(head) // 4 * 4]):
        return _tag("private_key")
    return match.group()


def _auth_header(match: re.Match[str]) -> str:
    return match.group(1) + _tag("credential")


def _basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(1) + "=" * (-len(match.group(1)) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    # user:password in printable ASCII; "Basic authentication" decodes to noise.
    if b":" in decoded and decoded.isascii() and decoded.decode().isprintable():
        return _tag("credential")
    return match.group(0)


def _cards(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = text.replace(" ", "").replace("-", "")
    # Written in groups, a card starts with 4 digits and no group is longer than 6 (4-4-4-4,
    # Amex 4-6-5); a UUID's groups are 8-4-4-4-12.
    grouped = len(digits) != len(text)
    if grouped and _CARD_GROUPS.fullmatch(text) is None:
        return text
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return _tag("card_number")
    return text


def _iban(match: re.Match[str]) -> str:
    return _tag("iban") if iban_valid(match.group(0)) else match.group(0)


_Guard = Callable[[str, str], bool]


def _cli_flag(text: str, lower: str) -> bool:
    # Its flags match in their case only, so this holds for non-ASCII text too (where the
    # pattern, a slow one, would otherwise always run).
    return "-a" in text or "-p" in text


def _escaped_key(match: re.Match[str]) -> str:
    return match.group(1) + _tag("jwt" if match.group("jwt") else "api_key")


def _url_password(match: re.Match[str]) -> str:
    return match.group(1) + _tag("credential") + match.group(3)


def _has(needle: str) -> _Guard:
    return lambda text, lower: needle in text


def _has_lower(needle: str) -> _Guard:
    return lambda text, lower: needle in lower


# In order: whole blocks and header values first, so a bearer JWT is one credential, not a jwt.
# What a step's pattern cannot match without (case-sensitive substring, lower-cased substring or
# a pattern), so the full pass skips most steps on most text. Applied to ASCII text only (bar
# `_cli_flag`): Unicode case folding and digits are left to the patterns themselves.
_STEPS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str], _Guard | None], ...] = (
    (_PEM, _tag("private_key"), _has("PRIVATE KEY")),
    (_PEM_BASE64, _pem_base64, _has("LS0tLS1CRUdJTi")),
    (_DIGEST, lambda m: m.group(1) + _tag("credential"), _has_lower("digest")),
    (_AUTH_HEADER, _auth_header, _has_lower("authori")),
    (_BEARER, _tag("bearer_token"), _has_lower("bearer")),
    (_BASIC, _basic, _has_lower("basic")),
    (_URL_PASSWORD, _url_password, _has("://")),
    (_URL_PASSWORD_ENCODED, _url_password, _has_lower("%2f%2f")),
    (_CURL_USER, lambda m: m.group(1) + _tag("credential"), _has_lower("curl")),
    (_CLI_PASSWORD, lambda m: m.group(1) + _tag("credential"), _cli_flag),
    (_JWT, _tag("jwt"), _has("eyJ")),
    (_WEBHOOK_URL, lambda m: m.group(1) + _tag("credential"), _has_lower("hook")),
    (_BLOCK_SCALAR, _block_scalar, lambda text, lower: "|" in text or ">" in text),
    (_NAMED_VALUE, _named_value, lambda text, lower: _named_shape(text, lower)),
    (_API_KEYS, _tag("api_key"), None),
    (_ESCAPED_KEY, _escaped_key, lambda text, lower: "%" in text or "\\" in text),
    (_EMAIL, _tag("email"), _has("@")),
    (_CARD_CANDIDATE, _cards, lambda text, lower: _DIGIT_RUN.search(text) is not None),
    (_IBAN, _iban, lambda text, lower: lower != text),
    (_SSN, _tag("us_ssn"), _has("-")),
    (_PHONE, _tag("phone_number"), lambda text, lower: any(c in text for c in _PHONE_CHARS)),
)
_KEY_VALUE_SEPARATORS = (":", "=", "%3")


def _apply_steps(text: str) -> str:
    guarded = text.isascii()
    lower = text.lower() if guarded else ""  # lower-cased again only when a step changed text
    for pattern, replacement, guard in _STEPS:
        if guard is None or not (guarded or guard is _cli_flag) or guard(text, lower):
            redacted = pattern.sub(replacement, text)
            if redacted != text:
                text, lower = redacted, redacted.lower() if guarded else ""
        if pattern is _API_KEYS and (
            not guarded or any(sep in text for sep in _KEY_VALUE_SEPARATORS)
        ):
            redacted = _key_values(text)
            if redacted != text:
                text, lower = redacted, redacted.lower() if guarded else ""
    return text
