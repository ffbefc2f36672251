"""Redaction of secrets and personal data before any telemetry sink.

The one redaction path of rag-api: stdout and OTLP logs (genai_telemetry/logs.py), span
names, attributes, events and status messages (tracing.py), metric label values (metrics.py),
exception messages and the server span's URL query string (`redact_query`). Every match becomes
`[REDACTED:<kind>]`:

- `private_key`: PEM private key blocks (multi-line or with escaped `\\n`; a block cut short is
  redacted to the end of the text; base64-wrapped, as in a kubeconfig);
- `credential`: the value of an `Authorization:` header whatever its scheme (of Digest's
  parameters the `response` hash, also without the header name), `Basic` credentials,
  passwords in URLs (`scheme://user:${PASSWORD}@host`, up to the last `@`) and on a command
  line (`curl -u user:${PASSWORD}`, `http -a`, `mysql -p…`, `sshpass -p`, `redis-cli -a`), the
  path of Slack, Discord and Teams incoming-webhook URLs;
- `bearer_token`, `jwt`, `api_key` (provider and cloud key shapes with a known prefix);
- `secret`: the value after a secret-looking name (`password=`, `"client_secret": "…"`,
  "password" in other languages: `Kennwort:`, `contraseña=`, `пароль:`, `密码：`,
  `aws_secret_access_key=`, `AccountKey=`, `sig=`, `auth=`, URL-encoded `%3D` too, `:=`, `=>`,
  `API key:`), or written apart from it (`_NAMED_VALUE`: YAML block scalars, name/value pairs,
  XML elements, header tuples, `--api-key …`, `setx`, `.netrc`). Names are
  split into words (snake, kebab, dotted and camelCase) so `max_tokens=256` or `author=…` stay,
  a value ending glued after a secret word is dropped (`passwordvalue=`, not `passwordless=`);
  numbers after token/session-like names stay (they are counts); the whole value however long,
  a quoted one over JSON escapes (`"a\\"b"`) or to the end of a text cut short inside it, an
  ODBC braced one (`PWD={p@ss;word}`) to its closing brace; an unquoted password on a line of
  its own to the end of the line when nothing else is on it (`password: correct horse …`);
- `email`, `card_number` (13–19 digits with a card-network prefix that pass the Luhn check, also
  followed by punctuation; not inside a word, and in groups only as cards group them, so hex
  ids and UUIDs stay whole), `iban` (mod-97 check), `us_ssn`, `phone_number`.

Text not in NFKC form, or with look-alike letters of other scripts inside a Latin word, is also
searched in an ASCII view of it, one character for one (fullwidth `ｓｋ-proj-…`,
`ｐａｓｓｗｏｒｄ＝…`, Cyrillic `ѕk-proj-…`, `раssword=…`: redaction_view.py); only masked
stretches change, kept text keeps its characters.
Captured headers named like a secret are dropped from spans, not scanned
(`secret_header_attribute`, used by tracing.py's span processor).

Patterns are deliberately a little greedy: a false positive costs a word in a log line, a false
negative leaks a credential into a log store with 30-day retention. tests/demo_app/
redaction_corpus.yaml holds the measured corpus (recall and false positives: docs/security.md).

The parts, each with one job: redaction_patterns.py (the shapes looked for and the mark that
replaces them), redaction_names.py (which names are secret), redaction_values.py (what a secret
name's value becomes), redaction_checksums.py (Luhn, IBAN), redaction_steps.py (the ordered full
pass and the guards that skip its steps), redaction_precheck.py (the fast path that proves most
values clean, and its cache) and redaction_view.py (the ASCII view). This module is the API
every sink calls. A precheck that misses one pattern leaks that secret: tests/demo_app/
test_redaction.py checks it against the patterns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

from genai_telemetry.redaction_checksums import iban_valid, luhn_valid
from genai_telemetry.redaction_names import secret_header_attribute, secret_name
from genai_telemetry.redaction_patterns import _tag
from genai_telemetry.redaction_precheck import _may_need_redaction, may_need_redaction
from genai_telemetry.redaction_steps import _apply_steps
from genai_telemetry.redaction_view import ascii_view, redact_in_view, redact_visible, visible_view

__all__ = [
    "iban_valid",
    "luhn_valid",
    "may_need_redaction",
    "redact",
    "redact_attributes",
    "redact_query",
    "redact_value",
    "secret_header_attribute",
    "secret_name",
]


def redact(text: str) -> str:
    """Return `text` with every secret or personal datum replaced by `[REDACTED:<kind>]`."""
    if not text or not may_need_redaction(text):
        return text
    return _redact_all(text)


def _redact_all(text: str) -> str:
    """Every pattern, in order (no precheck; each step skipped only if its guard proves it
    cannot match), on the text as seen (invisible characters dropped, if any), then again on
    the compatibility-folded text if folding changes it."""
    return _with_compat(text, _apply_steps, _prechecked_steps)


def _with_compat(text: str, apply: Callable[[str], str], apply_view: Callable[[str], str]) -> str:
    if not text.isascii() and (seen := visible_view(text)) is not None:
        # Searched as seen (no invisible character is left in it: this recursion ends there).
        return redact_visible(text, seen, lambda view: _with_compat(view, apply, apply_view))
    text = apply(text)
    if not text.isascii() and (view := ascii_view(text)) is not None:
        text = redact_in_view(text, view, apply_view)
    return text


def _prechecked_steps(view: str) -> str:
    # The compatibility view is ASCII, so the precheck and the step guards hold for it.
    return _apply_steps(view) if _may_need_redaction(view) else view


def redact_query(query: str, allowed: frozenset[str] = frozenset()) -> str:
    """A URL query string for telemetry: values of parameters outside `allowed` (the API's own
    parameter names) are replaced whole, since an unknown parameter may carry anything
    (`?auth=…`, `?x=<token>`); allowed values still pass `redact`. Names are kept (redacted)."""
    if not query:
        return query
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in allowed and not secret_name(name):
            shown = quote(redact(value), safe="[]:")
        else:
            shown = _tag("query_value") if value else ""
        parts.append(f"{quote(redact(name), safe='[]:')}={shown}")
    return "&".join(parts)


_SCALARS = frozenset({int, float, bool})


def redact_value(value: Any) -> Any:
    """Redact strings inside scalars, sequences and mappings (other types pass through)."""
    if isinstance(value, str):
        return redact(value)
    if value is None or type(value) in _SCALARS:  # before the ABC check, which is slow
        return value
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
