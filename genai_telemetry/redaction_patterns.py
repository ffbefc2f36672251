"""The shapes `redaction` looks for: one compiled pattern per kind of secret or personal datum
(PEM blocks, header credentials, passwords in URLs and on command lines, provider key prefixes,
`name=value` and names written apart from their values, e-mail, card, IBAN, SSN, phone), the
`[REDACTED:<kind>]` mark that replaces a match, and what some patterns cannot match without
(shared by the step guards in redaction_steps.py and the precheck in redaction_precheck.py).
Which names are secret is judged in redaction_names.py; what a match becomes, in redaction_steps.py
and redaction_values.py."""

from __future__ import annotations

import re


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
# (drivers split at the last "@"). The user may hold "@" too (Azure Database for PostgreSQL and
# MySQL single server: `pgadmin@server`). Bounded, so a long token cannot make the search
# quadratic.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:\"']*:)([^\s\"']{1,256})(@)")
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
# PASSWORD` (`--pass`), `docker login -p PASSWORD` (podman, nerdctl, `helm registry login`).
# Flags match in their case only (`-P` is a port, a prompt or the auth type); a `$VARIABLE` stays.
_CLI_PASSWORD = re.compile(
    r"""(?x)(
        (?i:\b(?:https?|xhs?))(?:\s++[^\s|;&]++){0,16}?\s++
        (?:-a\s*+|--auth(?:\s++|=))['"]?[^\s:'"]*:
      | (?i:\b(?:mysql(?:dump|admin|import|show|check|slap)?|mariadb))(?:\s++[^\s|;&]++){0,16}?
        \s++-p['"]?
      | (?i:\bsshpass)(?:\s++[^\s|;&]++){0,4}?\s++-p\s*+['"]?
      | (?i:\bredis-cli)(?:\s++[^\s|;&]++){0,16}?\s++(?:-a|--pass)\s++['"]?
      | (?i:\b(?:docker|podman|nerdctl)\s++login|\bhelm\s++registry\s++login)
        (?:\s++[^\s|;&]++){0,16}?\s++-p\s*+['"]?
    )[^\s'"$][^\s'"]*"""
)
_JWT_SHAPE = r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"
_JWT = re.compile(r"\b" + _JWT_SHAPE)
# A Discord bot token: the bot's user id in base64 (M, N or O: a 17-19 digit id), a timestamp and
# an HMAC. No fixed text in it, so the precheck runs `_DISCORD_BOT` itself (on text with 2 dots).
_DISCORD_BOT_SHAPE = r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}"
_DISCORD_BOT = re.compile(_DISCORD_BOT_SHAPE)
_API_KEY_SHAPES = r"""
    (?:
        sk-[A-Za-z0-9_\-]{16,}                    # OpenAI / Anthropic (sk-, sk-proj-, sk-ant-)
      | (?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}       # AWS access key id, and the secret key
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
      | (?:bot)?[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}   # Telegram bot token (in its API URL: /bot…)
      | lsv2_(?:pt|sk)_[A-Za-z0-9_]{20,}          # LangSmith
      | NRAK-[A-Z0-9]{27}                         # New Relic user key
      | lin_api_[A-Za-z0-9]{40} | lin_oauth_[A-Za-z0-9]{40,}  # Linear
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
      | AT(?:AT|CT)T3[A-Za-z0-9_\-=]{50,}         # Atlassian API and Connect tokens
      | ATBB[A-Za-z0-9]{28,}                      # Bitbucket app password
      | gl(?:sa|c)_[A-Za-z0-9+/_=]{32,}            # Grafana service account / Cloud tokens
      | eyJrIjoi[A-Za-z0-9+/]{40,}={0,3}           # Grafana legacy API key: base64 of {"k":"
      | ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,}={0,2}  # Bedrock: base64 of "BedrockAPIKey-"
      | bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]*={0,2}  # (bedrock.amazonaws.com)
      | tvly-(?:[a-z]{2,8}-)?[A-Za-z0-9]{24,}     # Tavily (tvly-dev-, tvly-prod-)
      | llx-[A-Za-z0-9]{40,}                      # LlamaCloud
      | jina_[A-Za-z0-9]{40,}                     # Jina AI
      | e2b_[0-9a-f]{40}                          # E2B
      | fc-[0-9a-f]{32}                           # Firecrawl
      | dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,}  # Doppler
      | ops_eyJ[A-Za-z0-9+/]{100,}={0,3}          # 1Password service account (base64 JSON)
      | A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}  # 1Password
      | dckr_(?:pat|oat)_[A-Za-z0-9_\-]{24,}      # Docker Hub personal / organisation
      | HRKU-AA[A-Za-z0-9_\-]{50,}                # Heroku
      | nfp_[A-Za-z0-9_]{36,}                     # Netlify
      | cf(?:k|ut|at)_[A-Za-z0-9]{40,}            # Cloudflare API key, user and account tokens
      | ntn_[0-9]{11}[A-Za-z0-9]{30,}             # Notion
      | secret_[A-Za-z0-9]{43}(?![\w-])           # Notion (until 2024)
      | NRII-[A-Za-z0-9_\-]{20,}                  # New Relic insert key
      | (?:eu[0-9]{2}xx[0-9a-f]{26}|[0-9a-f]{32})FFFFNRAL  # New Relic license key
      | key-[0-9a-f]{32}                          # Mailgun
      | tskey-[a-z]{3,10}-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,}  # Tailscale
      | [A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}  # HCP Terraform
      | fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3} | fo1_[A-Za-z0-9_\-]{40,}  # Fly.io
      | pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-=.]{32,}  # PlanetScale
      | phx_[A-Za-z0-9_]{40,}                     # PostHog personal API key
      | 1//0[A-Za-z0-9_\-]{40,}                   # Google OAuth refresh token
      | AGE-SECRET-KEY-1[0-9A-Z]{58}              # age
      | x(?:keysib|smtpsib)-[0-9a-f]{64}-[A-Za-z0-9]{16}  # Brevo
      | pat-(?:na|eu|ap)[0-9]-[0-9a-f]{8}-[0-9a-f-]{27}  # HubSpot private app
      | DISCORD_BOT                               # Discord bot token (user id, time, HMAC)
    )
    """.replace("DISCORD_BOT", _DISCORD_BOT_SHAPE)
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
    ((?:\\?["'`]|%22|%27)?\]?\s*(?::=|=>|[?+]=|[:=：＝]|%3[AaDd])\s*)
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
# - `tname`: a two-string tuple or list (ASGI and httpx headers `(b'x-api-key', b'…')`, a
#   scheme before the value kept: `('authorization', 'Token …')`,
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
      (?P<tq2>["'])(?:[A-Za-z][\w\-]*+[ ]++)?(?P<tv>[^"'\\\s]{1,512}+)(?P=tq2)
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

# --- what some patterns cannot match without (step guards and the precheck) ---------------
_DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")  # 13+ digits, spaces and dashes, digit to digit
_PHONE_CHARS = ("+", "(", " ", ".", "-")


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
