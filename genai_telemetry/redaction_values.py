"""What a secret name's value becomes in `redaction`: the `name=value` scan (`_key_values`: the
whole value however long, a quoted one over its escapes, an unquoted password on a line of its
own to the end of the line), and the replacements of names written apart from their values
(`_named_value`: XML elements, name/value pairs, tuples, options, shell settings, `.netrc`)
and of YAML block scalars (`_block_scalar`)."""

from __future__ import annotations

import re

from genai_telemetry.redaction_names import (
    _NAME_HINT,
    _password_name,
    _secret_value,
    secret_name,
)
from genai_telemetry.redaction_patterns import _KEY_VALUE, _VALUE_CHUNK, _VALUE_REST, _tag

# A password name that starts its line (YAML, .env, a log value of its own), after indentation,
# a YAML list dash or `export`; and after its unquoted first word, more words to the end of the
# line, none of them a field of its own (`=`, or a colon ending a word), taken whole.
_LINE_HEAD = re.compile(r"[ \t]*+(?:-[ \t]++|export[ \t]++)?")
_LINE_HEAD_MAX = 64
_LINE_REST = re.compile(r"[ \t](?:[^\r\n=＝:：]|[:：](?=\S))*+(?=\r?\n|\Z)")


def _line_end(text: str, name_start: int, end: int) -> int:
    """Where an unquoted password that starts at `end` ends: on a line of its own, a passphrase
    (`password: correct horse battery staple`) runs to the end of the line when nothing else is
    on it. After prose (`My password=x here`) or with another field on the line (`password=x
    user=bob`), its first word is all there is to tell."""
    lowest = max(0, name_start - _LINE_HEAD_MAX)
    head_start = text.rfind("\n", lowest, name_start) + 1
    if head_start == 0 and lowest > 0:  # the line starts further back: prose before the name
        return end
    if not _LINE_HEAD.fullmatch(text, head_start, name_start):
        return end
    rest = _LINE_REST.match(text, end)
    return end if rest is None else end + len(rest.group().rstrip())


_DIGEST_PARAMETER = re.compile(r"\s++[A-Za-z][\w-]*+\s*+=")


def _digest_scheme(value: str, text: str, end: int) -> bool:
    """`Authorization: Digest username=…`: the scheme, whose parameters `_DIGEST` judged."""
    return value.lower() == "digest" and _DIGEST_PARAMETER.match(text, end) is not None


# The word before a bare `key` written with a space (`API key: …`, `Secret key = …`).
_WORD_BEFORE = re.compile(r"([A-Za-z]{2,16}) $")


def _spaced_name(text: str, start: int, name: str) -> str:
    """`name`, or `<word>_key` when a lone `key` follows a word with a space (`API key:`)."""
    if name.lower() != "key":
        return name
    word = _WORD_BEFORE.search(text, max(0, start - 17), start)
    return name if word is None else f"{word.group(1)}_{name}"


def _key_values(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _KEY_VALUE.finditer(text):
        if match.start() < pos or _NAME_HINT.search(match.group(1)) is None:
            continue  # inside a value already masked, or a name `secret_name` refuses
        groups = match.groups()[2:]
        i = next(i for i in range(0, len(groups), 3) if groups[i + 1] is not None)
        opening, value, closing = groups[i : i + 3]
        end = match.end() + len(opening) + len(value)
        name = _spaced_name(text, match.start(), match.group(1))
        if not _secret_value(name, value) or _digest_scheme(value, text, end):
            continue
        if closing == "" and len(value) >= _VALUE_CHUNK:  # longer than the lookahead reads
            rest = _VALUE_REST[opening].match(text, end)
            assert rest is not None  # every rest pattern matches the empty string
            closing, end = rest.group("close"), rest.start("close")
        if opening == "" and _password_name(match.group(1)):
            end = _line_end(text, match.start(), end)
        out.append(text[pos : match.end()] + opening + _tag("secret") + closing)
        pos = end + len(closing)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_NAMED_GROUPS = (("name", "xv"), ("pname", "pv"), ("tname", "tv"), ("fname", "fv"))
_HEADER_NAME = re.compile(r"[A-Z][a-z]++(?:-[A-Z][a-z]++)++")
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _named_value(match: re.Match[str]) -> str:
    """A `_NAMED_VALUE` match with its value masked when its name says it is a secret (and the
    value is not itself such a name: `["password", "token"]` is a list of names)."""
    name_group, value_group = next(g for g in _NAMED_GROUPS if match.group(g[1]) is not None)
    name, value = match.group(name_group), match.group(value_group)
    quote = value[: len(value) - len(value.lstrip("\\\"'"))]
    bare = value[len(quote) : len(value) - len(quote)] if quote else value
    if "[REDACTED" in bare or not _secret_value(name, bare) or secret_name(bare):
        return match.group()
    if name_group == "tname" and _HEADER_NAME.fullmatch(bare):  # a list of header names
        return match.group()
    # Only an Authorization header's value has a scheme before it (`['token', 'quoted string']`
    # is a list of words).
    scheme = name_group == "tname" and match.start("tv") != match.end("tq2")
    if scheme and name.lower() not in _SCHEME_HEADERS:
        return match.group()
    # After an option a lower-case word is the next argument of a flag without a value
    # (`redis-cli --askpass ping`), not a password.
    if name_group == "fname" and bare.isalpha() and bare.islower():
        return match.group()
    start, end = match.span(value_group)
    whole = match.group()
    cut_start, cut_end = start - match.start(), end - match.start()
    return whole[:cut_start] + quote + _tag("secret") + quote + whole[cut_end:]


def _block_scalar(match: re.Match[str]) -> str:
    if not secret_name(match.group("name")):
        return match.group()
    body = match.group("body")
    keep = match.start("body") - match.start()
    return match.group()[:keep] + _tag("secret") + ("\n" if body.endswith("\n") else "")
