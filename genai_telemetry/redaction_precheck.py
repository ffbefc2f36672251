"""The fast path of `redaction`: a cheap precheck (`may_need_redaction`) that proves most
telemetry values clean without running the patterns, and the bounded cache of strings it has
proven clean. It mirrors the patterns of redaction_patterns.py and the names of
redaction_names.py: a value it lets through is returned unredacted, so a pattern it misses
leaks (tests/demo_app/test_redaction.py checks it against the patterns)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from genai_telemetry.redaction_names import _KEY_WORDS
from genai_telemetry.redaction_patterns import (
    _BASIC,
    _CLI_PASSWORD,
    _DIGIT_RUN,
    _DISCORD_BOT,
    _IBAN,
    _PHONE,
    _PHONE_CHARS,
    _SSN,
    _named_shape,
)

# A cheap precheck that proves, for most telemetry values, that no pattern can match.
# What each pattern cannot match without: PEM → "PRIVATE KEY"; auth header, bearer, basic →
# "authori"/"bearer" (any case), or its own pattern for Basic; Digest → "digest" and
# "response" (any case); URL password and email → "@"; curl -u → "curl" (any case); other
# command lines → "-a" or "-p" and their own pattern; jwt →
# "eyJ"; webhook URLs → "hook" (any case); api keys → one of their prefixes (a Discord bot
# token, which has none: two dots and its own pattern); key=value → ":",
# "=" or "%3" (or a shape of `_NAMED_VALUE`: `_named_shape`) AND a word of `_KEY_WORDS` (every
# name `secret_name` accepts contains one); encoded URL password → "%2F%2F"; base64 PEM, escaped
# keys → their prefix (a needle); card →
# a 13-digit run; IBAN, SSN and phone → 9+ digits and their own pattern. Non-ASCII text
# (Unicode digits, Unicode case folding) always takes the full path.
# tests/demo_app/test_redaction.py checks the precheck against the patterns.
_NEEDLES = (
    "@",
    "eyJ",
    "sk-",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
)
_NEEDLES += ("hf_", "_live_", "_test_", "AIza", "ya29.")
_NEEDLES += ("GOCSPX-", "xox", "xapp-", "glpat-", "whsec_", "npm_", "pypi-", "SG.", "PRIVATE KEY")
_NEEDLES += ("gsk_", "xai-", "pplx-", "r8_", "pcsk_", "api_org_", "dapi", "hvs.", "hvb.", "hvr.")
_NEEDLES += ("_v1_", "shpat_", "shpca_", "shppa_", "shpss_", "GenieKey", ":AA")
_NEEDLES += ("gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glsoat-", "gloas-")
_NEEDLES += ("glffct-", "glagent-", "lsv2_", "NRAK-", "lin_api_", "fw_", "pa-", "csk-", "nvapi-")
_NEEDLES += ("tgp_v1_", "pk-lf-", "sk_", "sntrys_", "sntryu_", "sbp_", "sb_secret_", "Q~")
_NEEDLES += ("ATATT3", "glsa_", "glc_", "LS0tLS1CRUdJTi")
# (1Password's `ops_eyJ…` has "eyJ"; Bedrock's short-lived key, "bedrock.amazonaws.com" in base64)
_NEEDLES += ("ABIA", "ACCA", "ABSK", "cm9jay5hbW", "tvly-", "llx-", "e2b_", "fc-", "dp.", "A3-")
_NEEDLES += ("dckr_", "HRKU-", "nfp_", "cfk_", "cfut_", "cfat_", "ntn_", "secret_", "NRII-", "NRAL")
_NEEDLES += ("lin_oauth_", "ATCTT3", "ATBB", "tskey-", "atlasv1", "fm1", "fm2_", "fo1_", "pscale_")
_NEEDLES += ("phx_", "AGE-SECRET-KEY-", "xkeysib-", "xsmtpsib-", "pat-na", "pat-eu", "pat-ap")


def _literal_trie(words: Sequence[str]) -> str:
    """A pattern matching any of `words`, written as a tree of their common prefixes
    (`(?:s(?:k(?:\\-|_)|…)|…)`): the regex engine then tries one branch per character of the
    text instead of every word, 3-4x faster than `a|b|c` on text with no needle."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(sub) for char, sub in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # a shorter word already matched here

    return pattern(tree)


_NEEDLE = re.compile(_literal_trie(_NEEDLES))  # one scan instead of one per needle
_NO_DIGITS = str.maketrans("", "", "0123456789")


# Strings the precheck has proven clean. Telemetry values repeat (span names, models, routes,
# user agents, hosts, log field values), so most prechecks become one set lookup. Bounded in
# entry count and entry length; emptied when full, so a stream of unique values (ids, hostile
# input) costs at most one lost cache, and steady values come back on their next use. Only
# clean strings are stored: a string that may hold a secret is never kept here. (A set, not
# functools.lru_cache: the lookup is a C-level membership test with no wrapper call.)
CLEAN_CACHE_SIZE = 4096
CLEAN_CACHE_MAX_LEN = 256
_known_clean: set[str] = set()


def may_need_redaction(text: str) -> bool:
    """False only when no redaction pattern can match `text` (so `redact` returns it as is)."""
    if text in _known_clean:
        return False
    if _may_need_redaction(text):
        return True
    if len(text) <= CLEAN_CACHE_MAX_LEN:
        if len(_known_clean) >= CLEAN_CACHE_SIZE:
            _known_clean.clear()
        _known_clean.add(text)
    return False


def _may_need_redaction(text: str) -> bool:
    if not text.isascii():
        return True
    if _NEEDLE.search(text) is not None:
        return True
    # Shapes with no needle in the tree, none shorter than 36 characters (most values are): Mailgun
    # and Jina keys and Google refresh tokens, whose first characters no needle starts with (a
    # substring test each: a new first letter in the tree slows its scan of every text, ~1 µs per
    # KiB), and Discord bot tokens, which hold no fixed text (two dots and their own pattern).
    if len(text) >= 36 and (
        "key-" in text
        or "jina_" in text
        or "1//0" in text
        or (text.count(".") >= 2 and _DISCORD_BOT.search(text) is not None)
    ):
        return True
    lower = text.lower()
    if "bearer" in lower or "authori" in lower or "hook" in lower or "curl" in lower:
        return True
    if "%2f%2f" in lower:  # a percent-encoded URL (its password)
        return True
    if "digest" in lower and "response" in lower:
        return True
    if "basic" in lower and _BASIC.search(text) is not None:
        return True
    if ("-a" in text or "-p" in text) and _CLI_PASSWORD.search(text) is not None:
        return True
    if ":" in text or "=" in text or "%3" in text or _named_shape(text, lower):
        for word in _KEY_WORDS:
            if word in lower:
                return True
    digits = len(text) - len(text.translate(_NO_DIGITS))
    if digits < 9:
        return False
    # A card needs a run of 13 digits (spaces or dashes between); an SSN (with "-"), a phone
    # number (with "+", "(", a space, "." or "-") or an IBAN (upper-case letters) 9 digits in all.
    # A lower-case hex id has digits but none of these.
    if _DIGIT_RUN.search(text) is not None:
        return True
    if "-" in text and _SSN.search(text) is not None:
        return True
    if any(c in text for c in _PHONE_CHARS) and _PHONE.search(text) is not None:
        return True
    return lower != text and _IBAN.search(text) is not None
