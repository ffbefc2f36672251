"""Redaction of secrets and personal data before any telemetry sink (logs, spans, exceptions).

Every match becomes `[REDACTED:<kind>]`. Kinds: `api_key`, `bearer_token`, `jwt`, `email`,
`card_number` (only digit runs that pass the Luhn check, so order ids stay readable) and
`phone_number`. Patterns are deliberately a little greedy: a false positive costs a word in a
log line, a false negative leaks a credential into a log store with 30-day retention.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)


def _tag(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# Order matters: specific shapes first, so a bearer JWT is tagged bearer_token, not jwt.
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_API_KEYS = re.compile(
    r"""
    \b(?:
        sk-[A-Za-z0-9_\-]{16,}                    # OpenAI / Anthropic (sk-, sk-proj-, sk-ant-)
      | (?:AKIA|ASIA)[0-9A-Z]{16}                 # AWS access key id
      | gh[pousr]_[A-Za-z0-9]{20,}                # GitHub tokens
      | github_pat_[A-Za-z0-9_]{20,}
      | AIza[0-9A-Za-z_\-]{30,}                   # Google API key
      | xox[abposr]-[A-Za-z0-9-]{10,}             # Slack
      | glpat-[A-Za-z0-9_\-]{20,}                 # GitLab
      | hf_[A-Za-z0-9]{30,}                       # Hugging Face
      | (?:rk|pk|sk)_(?:live|test)_[A-Za-z0-9]{16,}  # Stripe
    )
    """,
    re.VERBOSE,
)
# `api_key=...`, `"password": "..."`: keep the key name, drop the value.
_KEY_VALUE = re.compile(
    r"""(?ix)
    \b((?:api[_-]?key|apikey|secret|token|access[_-]?token|password|passwd|pwd)
       ["']?\s*[:=]\s*["']?)
    ([^\s"',;&]{6,})
    """
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
_CARD_CANDIDATE = re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])")
_PHONE = re.compile(
    r"""(?x)
    (?<![\w+])
    (?:
        \+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)|\d{1,4})(?:[\s.\-]?\d{2,4}){2,4}   # international
      | \(\d{3}\)\s?\d{3}[\s.\-]\d{4}                                     # (555) 123-4567
      | \d{3}[\s.\-]\d{3}[\s.\-]\d{4}                                     # 555-123-4567
    )
    (?![\w])
    """
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _cards(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return _tag("card_number")
    return match.group(0)


# A cheap precheck that proves, for most telemetry values, that no pattern above can match.
# What each pattern cannot match without: bearer → "bearer" (any case); jwt → "eyJ"; api keys →
# one of their prefixes (gh[pousr]_ and github_pat_ contain "gh"; Stripe keys "_live_" or
# "_test_"); key=value → ":" or "=" AND one of the key words (api_key/apikey contain "key",
# access_token "token", password/passwd "pass"); email → "@"; card → 13+ digits; phone → "+" or
# "(" or 10+ digits and its own pattern. Non-ASCII text (Unicode digits, Unicode case folding)
# always takes the full path. tests/demo_app/test_redaction.py checks the precheck against the
# patterns.
_NEEDLES = ("@", "+", "(", "eyJ", "sk-", "AKIA", "ASIA", "gh", "hf_", "_live_", "_test_")
_NEEDLES += ("AIza", "xox", "glpat-")
_KEY_WORDS = ("key", "secret", "token", "pass", "pwd")
_DIGITS = "0123456789"


def may_need_redaction(text: str) -> bool:
    """False only when no redaction pattern can match `text` (so `redact` returns it as is)."""
    if not text.isascii():
        return True
    for needle in _NEEDLES:
        if needle in text:
            return True
    lower = text.lower()
    if "bearer" in lower:
        return True
    if ":" in text or "=" in text:
        for word in _KEY_WORDS:
            if word in lower:
                return True
    digits = sum(map(text.count, _DIGITS))
    # 10-12 digits can only be a phone number ("127.0.0.1:41234" is not): ask its pattern.
    return digits >= 13 or (digits >= 10 and _PHONE.search(text) is not None)


def redact(text: str) -> str:
    """Return `text` with every secret or personal datum replaced by `[REDACTED:<kind>]`."""
    if not text or not may_need_redaction(text):
        return text
    return _redact_all(text)


def _redact_all(text: str) -> str:
    """Every pattern, in order (no precheck)."""
    out = _BEARER.sub(_tag("bearer_token"), text)
    out = _JWT.sub(_tag("jwt"), out)
    out = _API_KEYS.sub(_tag("api_key"), out)
    out = _KEY_VALUE.sub(lambda m: m.group(1) + _tag("api_key"), out)
    out = _EMAIL.sub(_tag("email"), out)
    out = _CARD_CANDIDATE.sub(_cards, out)
    out = _PHONE.sub(_tag("phone_number"), out)
    return out


def redact_value(value: Any) -> Any:
    """Redact strings inside scalars, sequences and mappings (other types pass through)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Span/log attributes with string values (and string sequences) redacted."""
    if not attributes:
        return {}
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, str):
            out[key] = redact(value)
        elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
            out[key] = tuple(redact(v) if isinstance(v, str) else v for v in value)
        else:
            out[key] = value
    return out
