"""demo_app/api/jsonbody.py without a server: what the one body parser accepts and refuses.

Over real HTTP (every route with a body, the telemetry of the refusal): test_json_body.py.
"""

from __future__ import annotations

import json
import timeit

import pytest

from demo_app.api.jsonbody import MAX_NAMED, BodyError, duplicate_paths, parse

CHAT = {"question": "How do I monitor time to first token?", "user_tier": "pro", "max_tokens": 9}


def test_a_plain_body_parses_as_json_loads_would() -> None:
    body = json.dumps({**CHAT, "nested": [{"a": 1}, {"b": [1.5, None, True]}]}).encode()
    assert parse(body) == json.loads(body)


def test_a_utf8_byte_order_mark_is_ignored() -> None:
    assert parse(b"\xef\xbb\xbf" + json.dumps(CHAT).encode()) == CHAT


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        (b'{"question": "benign", "question": "evil"}', [("question",)]),
        (b'{"user_tier": "free", "q": 1, "user_tier": "enterprise"}', [("user_tier",)]),
        (b'{"a": {"b": [0, {"c": 1, "c": 2}]}}', [("a", "b", 1, "c")]),
        (b'{"x": 1, "x": 2, "x": 3}', [("x",)]),  # named once, however often repeated
        (b'{"": 1, "": 2}', [("",)]),
        (b'{"b": 1, "b": 2, "a": {"c": 1, "c": 2}}', [("b",), ("a", "c")]),  # document order
        (b'[{"k": 1}, {"k": 1, "k": 1}]', [(1, "k")]),  # equal values too
    ],
)
def test_a_member_named_twice_is_refused_with_its_path(body: bytes, paths: list) -> None:
    with pytest.raises(BodyError) as caught:
        parse(body)
    assert caught.value.paths == paths
    assert "duplicate key" in caught.value.reason


def test_names_differing_only_in_escapes_are_the_same_name() -> None:
    with pytest.raises(BodyError) as caught:
        parse(b'{"question": "a", "questio\\u006e": "b"}')
    assert caught.value.paths == [("question",)]


def test_at_most_max_named_duplicates_are_named() -> None:
    body = "{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(MAX_NAMED + 30)) + "}"
    with pytest.raises(BodyError) as caught:
        parse(body.encode())
    assert caught.value.paths == [(f"k{i}",) for i in range(MAX_NAMED)]


def test_a_duplicate_as_deep_as_the_parser_goes_is_found_without_recursion() -> None:
    depth = 900
    body = ("[" * depth + '{"d": 1, "d": 2}' + "]" * depth).encode()
    assert duplicate_paths(body.decode()) == [(*([0] * depth), "d")]


def test_malformed_json_after_a_duplicate_is_reported_as_malformed() -> None:
    with pytest.raises(json.JSONDecodeError):
        parse(b'{"x": {"a": 1, "a": 2}, "y": ')


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16-LE"),
        ("utf-16-be", "UTF-16-BE"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32-LE"),
        ("utf-32-be", "UTF-32-BE"),
    ],
)
def test_bodies_json_loads_would_take_but_that_are_not_utf8_are_refused(
    encoding: str, named: str
) -> None:
    body = json.dumps(CHAT).encode(encoding)
    assert json.loads(body) == CHAT  # what Starlette's Request.json() accepted
    with pytest.raises(BodyError) as caught:
        parse(body)
    assert caught.value.reason.startswith(f"the body is {named};"), caught.value.reason
    assert caught.value.paths == []


@pytest.mark.parametrize("body", [b'{"q": "caf\xe9"}', b'{"q": "\xed\xa0\x80"}'])
def test_bytes_that_are_no_utf8_stay_a_unicode_error(body: bytes) -> None:
    # including an encoded surrogate, which json.loads(bytes) decodes with 'surrogatepass'
    with pytest.raises(UnicodeDecodeError):
        parse(body)


def test_the_check_costs_a_chat_body_nothing_measurable() -> None:
    """Starlette's json.loads(bytes) sniffs the encoding; parse decodes UTF-8 and reuses one
    decoder: a chat body parses at least as fast (measured ~2.2 vs ~2.5 µs). Generous bound:
    a shared machine's noise, not the figure, is what this guards against."""
    body = json.dumps(CHAT).encode()
    runs = 20_000
    base = min(timeit.repeat(lambda: json.loads(body), number=runs, repeat=5))
    ours = min(timeit.repeat(lambda: parse(body), number=runs, repeat=5))
    assert ours < base * 1.5, (ours / runs * 1e6, base / runs * 1e6)
