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

Long because: the patterns, the guards that skip them and the precheck that skips all of them
are audited together (a precheck that misses one pattern leaks that secret), so they stay in one
file rather than three that must be kept in step.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

from genai_telemetry.redaction_view import ascii_view, redact_in_view


def _tag(kind: str) -> str:
    return f"[REDACTED:{kind}]"


_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z0-9 ]*-----|.*)", re.S
)
# A PEM block wrapped in base64 (kubeconfig `client-key-data:`, a Kubernetes Secret's `data:`,
# a `*_B64` variable): base64 of "-----BEGIN"; `_pem_base64` decodes its start to tell a private
# key from a certificate (`certificate-authority-data:` stays).
_PEM_BASE64 = re.compile(r"\bLS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}+={0,2}")
# `Authorization: <scheme> <credential>` (header dumps, JSON, curl lines): whatever the scheme,
# bar Digest's parameter list, whose one secret `_DIGEST` masks.
_AUTH_HEADER = re.compile(
    r"""(?ix)\b((?:proxy-)?authori[sz]ation\\?["']?\s*[:=]\s*\\?["']?)
    (?!digest\s++[a-z][\w-]*+\s*+=)([A-Za-z][\w-]*\s+)?[^\s"',;\\]+"""
)
# HTTP Digest credentials (RFC 7616), with or without the header name (an exception message, a
# curl line, JSON-escaped quotes): the `response` hash after at least one other parameter goes;
# username, realm, nonce and cnonce are sent in the clear and stay. At most 24 parameters, each
# taken whole, so the search stays linear.
_DIGEST = re.compile(
    r"""(?ix)(\bdigest\s++
    (?:[a-z][\w-]*+\s*+=\s*+(?:\\?"[^"]*+"|[^\s,"\\]++)\s*+,\s*+){1,24}?
    response\s*+=\s*+\\?"?)[^\s",\\]++"""
)
# Not a word followed by `=value`: that is the next field (`token_type=bearer expires_in=3600`).
# Also URL-encoded (`Bearer%20…`, form-encoded `Bearer+…`).
_BEARER = re.compile(r"(?i)\bbearer(?:\s+|%20|\+)[A-Za-z0-9\-._~+/]{8,}+=*+(?![A-Za-z0-9\-._~+/])")
_BASIC = re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/]{6,}={0,2})")
# The password runs to the LAST "@" before the host: real ones hold "/" and "@" unencoded
# (drivers split at the last "@"). Bounded, so a long token cannot make the search quadratic.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@\"']*:)([^\s\"']{1,256})(@)")
# The same URL percent-encoded (a redirect or callback parameter, a form body):
# `https%3A%2F%2Fuser%3Apassword%40host`.
_URL_PASSWORD_ENCODED = re.compile(
    r"(?i)\b([a-z][a-z0-9+.\-]*%3A%2F%2F[^\s/:@\"'%&]*+%3A)((?:[^\s\"'&%]|%(?!40)[0-9A-F]{2}){1,256})(%40)"
)
# `curl -u user:password` (also `-su`, `-U` for the proxy, `--user user:password`, quoted): the
# password goes, the user stays. At most 16 words after "curl" (not past a pipe or ";"), taken
# whole (possessive), so text repeating "curl" cannot make the search quadratic.
_CURL_USER = re.compile(
    r"""(?ix)(\bcurl(?:\s++[^\s|;&]++){0,16}?\s++
    (?:-[a-z]*u\s*+|--(?:proxy-)?user(?:\s++|=))['"]?[^\s:'"]*:)[^\s'"]+"""
)
# Passwords on other command lines, the same way: HTTPie and xh `-a user:password` (`--auth`),
# `mysql -pPASSWORD` (glued: `-p shop` prompts for it), `sshpass -p PASSWORD`, `redis-cli -a
# PASSWORD` (`--pass`). Flags match in their case only (`-P` is a port, a prompt or the auth
# type); a `$VARIABLE` stays.
_CLI_PASSWORD = re.compile(
    r"""(?x)(
        (?i:\b(?:https?|xhs?))(?:\s++[^\s|;&]++){0,16}?\s++
        (?:-a\s*+|--auth(?:\s++|=))['"]?[^\s:'"]*:
      | (?i:\b(?:mysql(?:dump|admin|import|show|check|slap)?|mariadb))(?:\s++[^\s|;&]++){0,16}?
        \s++-p['"]?
      | (?i:\bsshpass)(?:\s++[^\s|;&]++){0,4}?\s++-p\s*+['"]?
      | (?i:\bredis-cli)(?:\s++[^\s|;&]++){0,16}?\s++(?:-a|--pass)\s++['"]?
    )[^\s'"$][^\s'"]*"""
)
_JWT_SHAPE = r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"
_JWT = re.compile(r"\b" + _JWT_SHAPE)
_API_KEY_SHAPES = r"""
    (?:
        sk-[A-Za-z0-9_\-]{16,}                    # OpenAI / Anthropic (sk-, sk-proj-, sk-ant-)
      | (?:AKIA|ASIA)[0-9A-Z]{16}                 # AWS access key id, and the secret key
        (?:[\t ,:;|]{1,3}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))?  # after it (credentials CSV)
      | gh[pousr]_[A-Za-z0-9]{20,}                # GitHub tokens
      | github_pat_[A-Za-z0-9_]{20,}
      | AIza[0-9A-Za-z_\-]{30,}                   # Google API key
      | ya29\.[0-9A-Za-z_\-]{20,}                 # Google OAuth access token
      | GOCSPX-[0-9A-Za-z_\-]{20,}                # Google OAuth client secret
      | xox[abcdeposr]-[A-Za-z0-9-]{10,}          # Slack (xoxe-: rotating refresh token)
      | xapp-[0-9]-[A-Za-z0-9-]{10,}
      | gl(?:pat|dt|rt|cbt|ptt|ft|imt|soat|oas|ffct|agent)-[A-Za-z0-9_\-]{20,}  # GitLab
      | hf_[A-Za-z0-9]{30,}                       # Hugging Face
      | (?:rk|pk|sk)_(?:live|test)_[A-Za-z0-9]{16,}  # Stripe
      | whsec_[A-Za-z0-9]{20,}                    # Stripe webhook secret
      | npm_[A-Za-z0-9]{36}                       # npm
      | pypi-AgE[A-Za-z0-9_\-]{50,}               # PyPI
      | SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}  # SendGrid
      | AccountKey=[A-Za-z0-9+/]{20,}={0,2}       # Azure storage connection string
      | SharedAccessKey=[A-Za-z0-9+/]{20,}={0,2}  # Azure Service Bus / Event Hubs
      | gsk_[A-Za-z0-9]{40,}                      # Groq
      | xai-[A-Za-z0-9]{40,}                      # xAI
      | pplx-[A-Za-z0-9]{40,}                     # Perplexity
      | r8_[A-Za-z0-9]{30,}                       # Replicate
      | pcsk_[A-Za-z0-9]{4,}_[A-Za-z0-9]{40,}     # Pinecone
      | api_org_[A-Za-z0-9]{30,}                  # Hugging Face organisation
      | dapi[0-9a-f]{32}(?:-[0-9]+)?              # Databricks
      | hv[sbr]\.[A-Za-z0-9_\-]{24,}              # HashiCorp Vault
      | do[por]_v1_[0-9a-f]{64}                   # DigitalOcean
      | shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}        # Shopify
      | GenieKey\s+[0-9a-f]{8}-[0-9a-f-]{27}      # Opsgenie (Authorization scheme)
      | [0-9]{8,10}:AA[A-Za-z0-9_\-]{33}          # Telegram bot token
      | lsv2_(?:pt|sk)_[A-Za-z0-9_]{20,}          # LangSmith
      | NRAK-[A-Z0-9]{27}                         # New Relic user key
      | lin_api_[A-Za-z0-9]{40}                   # Linear
      | fw_[A-Za-z0-9]{20,}                       # Fireworks
      | pa-(?=[\w-]{0,42}[0-9])(?=[\w-]{0,42}[A-Z])[A-Za-z0-9_\-]{40,}  # Voyage (not a slug)
      | csk-[A-Za-z0-9]{40,}                      # Cerebras
      | nvapi-[A-Za-z0-9_\-]{40,}                 # NVIDIA
      | tgp_v1_[A-Za-z0-9_\-]{30,}                # Together
      | pk-lf-[0-9a-f]{8}-[0-9a-f-]{27}           # Langfuse public key (sk-lf-: sk- above)
      | sk_[0-9a-f]{48}                           # ElevenLabs
      | sntry[su]_[A-Za-z0-9+/=_]{40,}            # Sentry auth tokens
      | sbp_[0-9a-f]{40} | sb_secret_[A-Za-z0-9_\-]{20,}  # Supabase
      | [A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}  # Microsoft Entra client secret
      | ATATT3[A-Za-z0-9_\-=]{50,}                # Atlassian API token
      | gl(?:sa|c)_[A-Za-z0-9+/_=]{32,}            # Grafana service account / Cloud tokens
    )
    """
_API_KEYS = re.compile(r"\b" + _API_KEY_SHAPES, re.VERBOSE)
# A key or JWT glued after a URL escape (`key%3Dsk-…`, `%20sk-…`) or a JSON/C escape (`\\nsk-…`
# in an escaped log line), whose last character, a letter or digit, hides the word boundary. A
# pattern of its own that starts with `%` or a backslash, so the engine skips to those: a
# look-behind for them in `_API_KEYS` made that scan ~50 % slower.
_ESCAPED_KEY = re.compile(
    rf"(%[0-9A-Fa-f]{{2}}|\\[nrt])(?:(?P<jwt>{_JWT_SHAPE})|{_API_KEY_SHAPES})", re.VERBOSE
)
# Incoming-webhook URLs whose path is the credential (Alertmanager receivers, chat-ops): the
# host stays, the path goes.
_WEBHOOK_URL = re.compile(
    r"""(?ix)\b(
        hooks\.slack\.com/(?:services|workflows|triggers)/
      | discord(?:app)?\.com/api/webhooks/
      | [a-z0-9-]+\.webhook\.office\.com/webhookb2/
    )[A-Za-z0-9/_@\-]{20,}"""
)
# `name=value`, `"name": "value"`, `name%3Dvalue`, `name := "value"` (Go), `name => 'value'`
# (Ruby, PHP), `NAME ?= value` (make), `environ["NAME"] = "value"`: the name is judged in
# `_secret_value`. Names
# are words of any script (`contraseña=`, `пароль:`, `密码：`, fullwidth `：` and `＝` too); an
# unquoted value ends at CJK punctuation as at its ASCII kin (`密码：…，请妥善保管。`). The
# value is a lookahead, so a harmless `Question: password=…` does not swallow the secret after it.
# A quoted value runs to its closing quote over JSON escapes (`"a\"b\\c"`; inside `\"…\"`, a
# JSON string within a JSON string, over the escapes of that inner string), or to the end of
# the text when cut short (a message truncated inside a secret); so does a braced one (ODBC
# connection strings: `PWD={p@ss;word}`, `}}` an escaped `}`). The lookahead reads at most
# `_VALUE_CHUNK` characters or escapes (so a text of many `a=` cannot make the search
# quadratic); a longer value is followed to its end by `_VALUE_REST`, once, in `_key_values`.
_VALUE_CHUNK = 512  # the bound written in _KEY_VALUE
_KEY_VALUE = re.compile(
    r"""(?x)
    (?:(?<![^\W_])|(?<=%22)|(?<=%27))([^\W\d_][\w.\-]{0,63}+)
    ((?:\\?["']|%22|%27)?\]?\s*(?::=|=>|[?+]=|[:=：＝]|%3[AaDd])\s*)
    (?=
        (\\")((?:[^"\\]|\\\\(?:\\["\\]|[^"\\])){1,512}+)(\\"|)
      | (")((?:[^"\\]|\\.){1,512}+)("|) | (')([^']{1,512}+)('|) | (%22)([^%&\s]{1,512}+)(%22|)
      | (\{)((?:[^}]|\}\}){1,512}+)(\}|)
      | ()([^\s"'&,;<>\\，。；、！？」』）]{1,512})()
    )
    """
)
# A secret name and its value written apart, the name judged in `_named_value`:
# - `name`: an XML element (`<password>…</password>`, `<apiKey>…</apiKey>`);
# - `pname`: a name/value pair, JSON, YAML or XML attributes (Kubernetes and ECS `env` entries:
#   `{"name": "OPENAI_API_KEY", "value": "…"}`, `- name: X` with `value: …` on the next line,
#   .NET `<add key="ApiKey" value="…"/>`);
# - `tname`: a two-string tuple or list (ASGI and httpx headers `(b'x-api-key', b'…')`,
#   `os.environ.setdefault("OPENAI_API_KEY", "…")`, `SetEnvironmentVariable('…', '…')`);
# - `fname`: a command-line option and its next word unless a lower-case word (`--api-key …`,
#   `--password …`; `--askpass ping` is a flag and an argument), a shell
#   setting (`setx OPENAI_API_KEY …`, fish `set -gx OPENAI_API_KEY …`) and `.netrc`
#   (`login bob password …`).
# Each value is read to at most 512 characters (taken whole) so the search stays linear.
_NAMED_VALUE = re.compile(
    r"""(?x)
      <(?P<name>[A-Za-z][\w.\-]{0,63}+)>(?P<xv>[^<\s][^<]{0,511}+)(?=</(?P=name)\s*>)
    | (?i:\b(?:name|key)\\?["']?\s*+[:=]\s*+\\?["']?)(?P<pname>[A-Za-z][\w.\-]{0,63}+)
      (?i:\\?["']?[ \t]*+,?\s*+\\?["']?value\\?["']?[ \t]*+[:=][ \t]*+)
      (?P<pv>\\?"(?:[^"\\]|\\[^"]){1,512}+\\?"|'[^']{1,512}+'|[^\s"'&,;<>\\]{1,512}+)
    | [\[(]\s*+b?(?P<tq>["'])(?P<tname>[A-Za-z][\w.\-]{0,63}+)(?P=tq)\s*+,\s*+b?
      (?P<tq2>["'])(?P<tv>[^"'\\\s]{1,512}+)(?P=tq2)
    | (?:(?<![\w-])--|(?i:\b(?:setx|set(?:[ \t]++-[A-Za-z]++)++|login[ \t]++\S++))[ \t]++)
      (?P<fname>[A-Za-z][\w.\-]{0,63}+)[ \t]++["']?
      (?P<fv>[^\s"'$\-;&|<>][^\s"';&|<>]{0,511}+)
    """
)
# A YAML block scalar (`api_key: |` or `password: >-`, the value on the indented lines below).
_BLOCK_SCALAR = re.compile(
    r"""(?mx)^(?P<indent>[ \t]*+)(?:-[ \t]++)?(?P<name>[A-Za-z][\w.\-]{0,63}+)[ \t]*+:[ \t]*+
    (?P<body>[|>][1-9+\-]{0,2}+[ \t]*+(?:\#[^\n]*+)?\n
      (?:[ \t]*+\n|(?P=indent)[ \t]++[^\n]*+(?:\n|\Z))*+)"""
)
# The rest of a value longer than `_VALUE_CHUNK`, by the opening `_KEY_VALUE` matched; `close`
# is its closing quote (empty when the text ends first).
_VALUE_REST = {
    '\\"': re.compile(r'(?:[^"\\]|\\\\(?:\\["\\]|[^"\\]))*+(?P<close>(?:\\")?)'),
    '"': re.compile(r'(?:[^"\\]|\\.)*+(?P<close>"?)'),
    "'": re.compile(r"[^']*+(?P<close>'?)"),
    "%22": re.compile(r"[^%&\s]*+(?P<close>(?:%22)?)"),
    "{": re.compile(r"(?:[^}]|\}\})*+(?P<close>\}?)"),
    "": re.compile(r'[^\s"\'&,;<>\\，。；、！？」』）]*+(?P<close>)'),
}
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
# Digit runs, not inside a longer number ("1.4111…" or "…1111.5" are decimals, "…1111." is not)
# nor inside a word: trace, span and request ids and UUIDs are hex, and 1 in 1,000 trace ids
# holds a Luhn-valid run of 13+ digits between letters ("…4b948a34054847598346").
_CARD_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(?<!\d[.,])[2-6](?:[ -]?\d){12,18}(?![0-9A-Za-z])(?![.,]\d)"
)
_CARD_GROUPS = re.compile(r"\d{4}(?:[ -]\d{1,6})+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
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

# --- which names hold secrets ------------------------------------------------------------------
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


# A password name that starts its line (YAML, .env, a log value of its own), after indentation,
# a YAML list dash or `export`; and after its unquoted first word, more words to the end of the
# line, none of them a field of its own (`=`, or a colon ending a word), taken whole.
_LINE_HEAD = re.compile(r"[ \t]*+(?:-[ \t]++|export[ \t]++)?")
_LINE_HEAD_MAX = 64
_LINE_REST = re.compile(r"[ \t](?:[^\r\n=＝:：]|[:：](?=\S))*+(?=\r?\n|\Z)")


def _password_name(name: str) -> bool:
    words = _name_words(name)
    return not _PASSWORD_WORDS.isdisjoint(words) or "".join(words).endswith(_COMPACT_PASSWORDS)


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


def _pem_base64(match: re.Match[str]) -> str:
    head = match.group()[:64]
    if b"PRIVATE KEY" in base64.b64decode(head[: len(head) // 4 * 4]):
        return _tag("private_key")
    return match.group()


_NAMED_GROUPS = (("name", "xv"), ("pname", "pv"), ("tname", "tv"), ("fname", "fv"))
_HEADER_NAME = re.compile(r"[A-Z][a-z]++(?:-[A-Z][a-z]++)++")


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


def iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _iban(match: re.Match[str]) -> str:
    return _tag("iban") if iban_valid(match.group(0)) else match.group(0)


# In order: whole blocks and header values first, so a bearer JWT is one credential, not a jwt.
# What a step's pattern cannot match without (case-sensitive substring, lower-cased substring or
# a pattern), so the full pass skips most steps on most text. Applied to ASCII text only (bar
# `_cli_flag`): Unicode case folding and digits are left to the patterns themselves.
_Guard = Callable[[str, str], bool]
_DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")  # 13+ digits, spaces and dashes, digit to digit
_PHONE_CHARS = ("+", "(", " ", ".", "-")


def _cli_flag(text: str, lower: str) -> bool:
    # Its flags match in their case only, so this holds for non-ASCII text too (where the
    # pattern, a slow one, would otherwise always run).
    return "-a" in text or "-p" in text


def _escaped_key(match: re.Match[str]) -> str:
    return match.group(1) + _tag("jwt" if match.group("jwt") else "api_key")


def _url_password(match: re.Match[str]) -> str:
    return match.group(1) + _tag("credential") + match.group(3)


def _named_shape(text: str, lower: str) -> bool:
    """What `_NAMED_VALUE` cannot match without: a closing tag, a quote before a comma, an
    option, a shell setting or a `.netrc` login (or a name/value pair's `:` or `=`)."""
    return (
        "</" in text
        or '",' in text
        or "'," in text
        or "--" in text
        or "value" in lower
        or "setx" in lower
        or "set -" in lower
        or "login" in lower
    )


def _has(needle: str) -> _Guard:
    return lambda text, lower: needle in text


def _has_lower(needle: str) -> _Guard:
    return lambda text, lower: needle in lower


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

# A cheap precheck that proves, for most telemetry values, that no pattern above can match.
# What each pattern cannot match without: PEM → "PRIVATE KEY"; auth header, bearer, basic →
# "authori"/"bearer" (any case), or its own pattern for Basic; Digest → "digest" and
# "response" (any case); URL password and email → "@"; curl -u → "curl" (any case); other
# command lines → "-a" or "-p" and their own pattern; jwt →
# "eyJ"; webhook URLs → "hook" (any case); api keys → one of their prefixes; key=value → ":",
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
_KEY_WORDS = ("key", "secret", "token", "pass", "pwd", "pin", "auth", "credential", "sig")
_KEY_WORDS += ("cookie", "session", "otp", "mfa", "sas", "refresh", "hmac")
_KEY_WORDS += ("kennwort", "senha", "contrasena", "mdp", "wachtwoord", "haslo")  # _PASSWORD_WORDS
# What every name `secret_name` accepts contains (its words are pieces of the lower-cased name).
_NAME_HINT = re.compile(
    "|".join((*_KEY_WORDS, *(w for w in _PASSWORD_WORDS if not w.isascii()))), re.IGNORECASE
)


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


def redact(text: str) -> str:
    """Return `text` with every secret or personal datum replaced by `[REDACTED:<kind>]`."""
    if not text or not may_need_redaction(text):
        return text
    return _redact_all(text)


def _redact_all(text: str) -> str:
    """Every pattern, in order (no precheck; each step skipped only if its guard proves it
    cannot match), then again on the compatibility-folded text if folding changes it."""
    return _with_compat(text, _apply_steps, _prechecked_steps)


def _with_compat(text: str, apply: Callable[[str], str], apply_view: Callable[[str], str]) -> str:
    text = apply(text)
    if not text.isascii() and (view := ascii_view(text)) is not None:
        text = redact_in_view(text, view, apply_view)
    return text


def _prechecked_steps(view: str) -> str:
    # The compatibility view is ASCII, so the precheck and the step guards hold for it.
    return _apply_steps(view) if _may_need_redaction(view) else view


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
