"""Who a chat request is for: a pseudonymous end user and the tenant (API key), for logs and spans.

Both are unbounded (one value per user or key), so they go on log records and spans only, never
on a metric label (tests/demo_app/test_cardinality.py). Neither is reversible from what is
stored: the end user is the caller's optional `user` field, the tenant is the API key the request
authenticated with, each replaced by a truncated SHA-256 in base32 (no long digit runs, so the
redaction path never mistakes one for a card or phone number). To find one user's requests,
compute the same pseudonym: `python -m demo_app.api.identity alice@example.com`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib

import structlog
from opentelemetry import trace

from genai_telemetry import semconv as sc

ANONYMOUS = "anonymous"  # tenant of requests without a known API key


def _digest(value: str, length: int) -> str:
    raw = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()  # any JSON string
    return base64.b32encode(raw).decode("ascii")[:length].lower()


def user_pseudonym(user: str | None) -> str | None:
    """`u-` + 16 base32 characters (80 bits) of SHA-256 of the caller's user id; None if none."""
    return None if user is None else "u-" + _digest(user, 16)


def tenant_of(api_key: str | None, known: bool) -> str:
    """`t-` + 12 base32 characters of the API key's SHA-256 for a configured key, else
    `anonymous` (a wrong key may be a mistyped real secret: it leaves no trace)."""
    return "t-" + _digest(api_key, 12) if api_key and known else ANONYMOUS


def bind_identity(
    user: str | None, conversation_id: str | None, api_key: str | None, *, known_key: bool
) -> None:
    """User pseudonym, tenant and conversation on every log line of this request (structlog
    context) and user and tenant on its server span: what the per-user views query (LogQL,
    TraceQL), never a metric label."""
    user_id, tenant = user_pseudonym(user), tenant_of(api_key, known_key)
    fields = {"user_id": user_id, "tenant": tenant, "conversation_id": conversation_id}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})
    span = trace.get_current_span()
    span.set_attribute(sc.A_LLM_TENANT_ID, tenant)
    if user_id is not None:
        span.set_attribute(sc.A_ENDUSER_PSEUDO_ID, user_id)


def main(argv: list[str] | None = None) -> None:
    """`python -m demo_app.api.identity USER ...`: each user id's pseudonym, one per line."""
    parser = argparse.ArgumentParser(
        prog="python -m demo_app.api.identity",
        description="Print the pseudonym (u-...) rag-api records for each end user id, to find "
        "that user's spans and log lines.",
    )
    parser.add_argument("users", nargs="+", metavar="USER", help="the `user` of a chat request")
    for user in parser.parse_args(argv).users:
        print(user_pseudonym(user))


if __name__ == "__main__":
    main()
