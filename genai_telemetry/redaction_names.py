"""Which names say their value is a secret, for `redaction`: a name is split into words (snake,
kebab, dotted and camelCase, a secret word glued to a prefix, a value ending glued after it),
judged on those words in English and other languages (`secret_name`), captured headers judged
the same way (`secret_header_attribute`), and a name/value pair judged together (`_secret_value`:
token counts and placeholders are not secrets)."""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[_.\-]+")
# "Password" in other languages (German, Portuguese, Spanish, French, Dutch, Polish, Russian,
# Chinese, Japanese, Korean), and the ones in English; French `mot_de_passe` and Portuguese
# `palavra-passe` are judged whole (`_COMPACT_SECRETS`). Spanish `clave` is left out: it is
# also "key" as in `palabra clave` (keyword), `clave primaria` (primary key).
_PASSWORD_WORDS = frozenset(
    {
        *("password", "passwd", "passphrase", "pwd", "passcode"),
        *("passwort", "kennwort", "senha", "contraseña", "contrasena", "mdp", "wachtwoord"),
        *("hasło", "haslo", "пароль", "密码", "密碼", "パスワード", "비밀번호"),
    }
)
# A word of the name that makes its value a secret.
_SECRET_WORDS = frozenset(
    {
        *("secret", "secrets", "password", "passwd", "pwd", "passphrase", "pass", "pin"),
        *("token", "apikey", "accesskey", "accountkey", "auth", "authorization", "credential"),
        *("credentials", "sig", "signature", "cookie", "session", "sessionid", "privatekey"),
        *("otp", "mfa", "totp", "sas", "refresh", "passcode", "hmac"),
        *_PASSWORD_WORDS,
    }
)
# "<word> key" pairs (api_key, access-key, privateKey, …); a plain "key" or "cache_key" is not.
_KEY_QUALIFIERS = frozenset(
    {
        *("api", "access", "account", "private", "secret", "signing", "master", "shared"),
        *("encryption", "client", "subscription", "license", "auth", "session", "ssh", "app"),
        *("routing", "integration", "service"),  # PagerDuty's routing_key / service_key
        *("application", "admin", "ingest"),  # DD-APPLICATION-KEY, ALGOLIA_ADMIN_KEY, ingest keys
        # Providers whose key is often named after them alone (OPENAI_KEY, GROQ_KEY).
        *("openai", "anthropic", "gemini", "google", "mistral", "cohere", "groq", "deepseek"),
        *("perplexity", "together", "fireworks", "replicate", "huggingface", "hf", "pinecone"),
        *("azure", "aws", "gcp", "stripe", "github", "gitlab", "slack", "sendgrid", "twilio"),
    }
)
# Secret words that may be written glued to a prefix in a one-word name (PGPASSWORD, dbpass,
# jwtsecret, sshkey; German and Dutch compounds, Benutzerkennwort; CJK, which has no spaces,
# 新密码), longest first; a glued "key" still needs a qualifier before it (sshkey, not monkey or
# turkey). "pin", "auth", "sig", "session" and "senha" are left out: spin, oauth, design, resenha.
_GLUED_WORDS = (
    *("wachtwoord", "passwort", "kennwort", "パスワード", "비밀번호", "密码", "密碼"),
    *("passphrase", "credentials", "credential", "password", "secrets", "passwd", "secret"),
    *("token", "pass", "pwd", "key"),
)
# English words ending in one of them.
_NOT_GLUED = frozenset(
    {"bypass", "compass", "encompass", "overpass", "surpass", "trespass", "underpass"}
)
# Endings that still name the secret itself when glued after its word (passwordvalue, tokenstr,
# secrethash); any other ending describes or derives (passwordless, tokenizer, secretary).
_VALUE_SUFFIXES = (
    "plaintext",
    "cleartext",
    "string",
    "value",
    "plain",
    "hash",
    "raw",
    "str",
    "val",
)
# A last word that makes the name describe a secret rather than hold one (token_type,
# password_file, secret_name).
_DESCRIPTOR_WORDS = frozenset(
    {
        *("type", "types", "count", "counts", "limit", "length", "size", "name", "names", "url"),
        *("uri", "endpoint", "file", "path", "env", "ttl", "expiry", "expires", "enabled"),
        *("required", "policy", "header", "field", "version", "usage", "format", "algorithm"),
    }
)
# Values after token/session-like names that are counts, flags or placeholders, not secrets.
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_HARMLESS_VALUES = frozenset({"true", "false", "null", "none", "yes", "no", "on", "off", ""})
_COUNT_WORDS = frozenset({"token", "tokens", "session", "auth", "sig", "signature", "refresh"})


def _drop_value_suffix(word: str) -> str:
    """`word` without a value ending glued after a secret word (passwordvalue → password)."""
    for suffix in _VALUE_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            if stem in _SECRET_WORDS or (stem.endswith(_GLUED_WORDS) and stem not in _NOT_GLUED):
                return stem
    return word


def _name_words(name: str) -> list[str]:
    """The lower-case words of a name; a secret word glued to a prefix counts as two, and a
    value ending glued after it is dropped. A number ending the name is dropped (password2,
    API_KEY_2: numbered or rotated copies), and a plural last `keys` read as `key` (api_keys)."""
    parts = _SPLIT.split(_CAMEL.sub("_", name).lower())
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    last = parts[-1].rstrip("0123456789") or parts[-1]
    parts[-1] = last[:-1] if last.endswith("keys") else last
    words = []
    for word in parts:
        word = _drop_value_suffix(word)
        if not word:
            continue
        if word.endswith(_GLUED_WORDS) and word not in _SECRET_WORDS and word not in _NOT_GLUED:
            glued = next((g for g in _GLUED_WORDS if word.endswith(g) and word != g), None)
            if glued is not None:
                words.append(word[: -len(glued)])
                word = glued
        words.append(word)
    return words


# Names whose words, run together, end in one of these (api_key, mot_de_passe, motDePasse).
_COMPACT_SECRETS = ("apikey", "accesskey", "secretkey", "privatekey", "accesstoken")
_COMPACT_PASSWORDS = ("motdepasse", "palavrapasse")
_COMPACT_SECRETS += _COMPACT_PASSWORDS


def secret_name(name: str) -> bool:
    """True when `name` (a key, parameter or field name) says its value is a secret."""
    if _NAME_HINT.search(name) is None:  # most names: one scan instead of the word split
        return False
    words = _name_words(name)
    if not words or (len(words) > 1 and words[-1] in _DESCRIPTOR_WORDS):
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    if words[-1] == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS:
        return True
    return "".join(words).endswith(_COMPACT_SECRETS)


# A captured header or RPC metadata attribute (semconv: http.request.header.<name>,
# http.response.header.<name>, rpc.grpc.request.metadata.<name>, rpc.request.metadata.<name>, ...).
_CAPTURED_HEADER = re.compile(r"(?:^|\.)(?:request|response)\.(?:header|metadata)\.(.+)", re.I)


# Header names hold a credential more often than other names: any `*-key` header (Azure
# Functions' X-Functions-Key, Ocp-Apim-Subscription-Key) but the two known nonces, and a few
# words and vendor names a key-value scan would not call secret (X-Sentry-Auth is `auth`).
_HEADER_SECRET_WORDS = frozenset({"authentication", "creds"})
_HEADER_SECRET_NAMES = frozenset({"x_honeycomb_team"})
_HEADER_NONCES = frozenset({"sec_websocket_key", "idempotency_key"})


def secret_header_attribute(key: str) -> bool:
    """True when `key` records a header (or RPC metadata) whose name says it holds a secret
    (`x_auth_token`, `set_cookie`, `openai_api_key`, `x_functions_key`, ...): such a value is
    dropped, not scanned, since a credential in a header need not have any recognisable shape."""
    match = _CAPTURED_HEADER.search(key)
    if match is None:
        return False
    name = match.group(1).lower().replace("-", "_")
    if name in _HEADER_NONCES:
        return False
    words = _name_words(name)
    return (
        secret_name(name)
        or name in _HEADER_SECRET_NAMES
        or (bool(words) and words[-1] == "key")
        or not _HEADER_SECRET_WORDS.isdisjoint(words)
    )


def _secret_value(name: str, value: str) -> bool:
    if not secret_name(name) or value.startswith(("[REDACTED", "${", "****")):
        return False
    if value.lower() in _HARMLESS_VALUES:
        return False
    words = set(_name_words(name))
    # Only passwords and secrets can be a bare number; token/session counts are not secrets.
    return not (_NUMBER.match(value) and not words.isdisjoint(_COUNT_WORDS))


def _password_name(name: str) -> bool:
    words = _name_words(name)
    return not _PASSWORD_WORDS.isdisjoint(words) or "".join(words).endswith(_COMPACT_PASSWORDS)


# What every name `secret_name` accepts contains (its words are pieces of the lower-cased name);
# the precheck (redaction_precheck.py) looks for them too.
_KEY_WORDS = ("key", "secret", "token", "pass", "pwd", "pin", "auth", "credential", "sig")
_KEY_WORDS += ("cookie", "session", "otp", "mfa", "sas", "refresh", "hmac")
_KEY_WORDS += ("kennwort", "senha", "contrasena", "mdp", "wachtwoord", "haslo")  # _PASSWORD_WORDS
_NAME_HINT = re.compile(
    "|".join((*_KEY_WORDS, *(w for w in _PASSWORD_WORDS if not w.isascii()))), re.IGNORECASE
)
