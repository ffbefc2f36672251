"""Pseudonyms of the end user and tenant (demo_app/api/identity.py): stable, distinct, safe for
the redaction path, and defined for every string a JSON body can carry."""

from __future__ import annotations

import re

import pytest

from demo_app.api.identity import ANONYMOUS, tenant_of, user_pseudonym
from genai_telemetry.redaction import redact


def test_user_pseudonym_is_stable_and_opaque() -> None:
    a = user_pseudonym("alice@example.com")
    assert a == user_pseudonym("alice@example.com") != user_pseudonym("bob@example.com")
    assert a is not None and re.fullmatch(r"u-[a-z2-7]{16}", a)
    assert "alice" not in a and user_pseudonym(None) is None


@pytest.mark.parametrize("user", ["\ud800", "é" * 256, "x", "4111 1111 1111 1111"])
def test_any_json_string_has_a_pseudonym(user: str) -> None:
    assert re.fullmatch(r"u-[a-z2-7]{16}", user_pseudonym(user) or "")


def test_pseudonyms_survive_redaction() -> None:
    """No digit runs a card or phone pattern could take: the per-user views stay keyed."""
    values = [user_pseudonym(f"user-{n}") or "" for n in range(5000)]
    values += [tenant_of(f"key-{n}", True) for n in range(5000)]
    assert [v for v in values if redact(v) != v] == []


def test_tenant_only_for_configured_keys() -> None:
    assert re.fullmatch(r"t-[a-z2-7]{12}", tenant_of("demo-pro-key", True))
    assert tenant_of("demo-pro-key", False) == ANONYMOUS  # a wrong key may be a typo'd secret
    assert tenant_of(None, False) == tenant_of("", True) == ANONYMOUS
