"""Pseudonyms of the end user and tenant (demo_app/api/identity.py): stable, distinct, safe for
the redaction path, and defined for every string a JSON body can carry."""

from __future__ import annotations

import re

import pytest

from demo_app.api.identity import ANONYMOUS, main, tenant_of, user_pseudonym
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


def test_the_lookup_command_prints_pseudonyms_and_refuses_no_user(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/telemetry.md: `python -m demo_app.api.identity <user>` prints the pseudonym; without
    a user it is a usage error (it printed nothing and exited 0), and `--help` is help (it
    printed the pseudonym of "--help")."""
    main(["alice@example.com", "bob"])
    assert capsys.readouterr().out.split() == [
        user_pseudonym("alice@example.com"),
        user_pseudonym("bob"),
    ]
    for argv, code in (([], 2), (["--help"], 0)):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == code
    assert not re.search(r"u-[a-z2-7]{16}", capsys.readouterr().out)
