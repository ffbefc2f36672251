"""The one JSON parser of request bodies, for every route with a body (`StrictJsonRoute`).

FastAPI reads a JSON body with `Request.json()`: Python's `json.loads`, which keeps the LAST of
two members with one name (`{"question": "benign", "question": "evil"}` is "evil") and decodes
UTF-16 and UTF-32 bodies as readily as UTF-8. A proxy or WAF in front reads the first member, or
the bytes as UTF-8, and the app would act on something it never inspected. Here an object that
names a member twice, at any depth, and a body that is not UTF-8 (RFC 8259 § 8.1) are refused:
`BodyError`, which FastAPI raises as its "error parsing the body" (a 400 whose cause it is) and
demo_app/api/errors.py answers as the uniform 422 naming each duplicated field.

The accepted path costs one `len()` comparison per object (docs/security.md has the figures: a
chat body parses faster than Starlette's own `json.loads`, which builds no decoder but sniffs the
encoding); the duplicates' paths are found only once a body is refused, by parsing it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

MAX_NAMED = 20  # duplicated fields named in one error (the first ones, in document order)
_NOT_UTF8 = ("utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be", "utf-32-le")

KeyPath = tuple[str | int, ...]


class BodyError(ValueError):
    """A body refused before validation: `paths` are its duplicated members (empty: the body as a
    whole, e.g. not UTF-8), `reason` says why."""

    def __init__(self, reason: str, paths: list[KeyPath] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.paths = paths or []


class _Duplicate(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


class _Marked(dict[str, Any]):
    """An object of the second parse that named `dups` more than once."""

    dups: list[str]


# One decoder for every body: json.loads with a hook would build a new one per call (~1.4 µs).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique)
BOM = "\ufeff"


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Marked(obj)
    seen: set[str] = set()
    marked.dups = []
    for key, _ in pairs:
        if key in seen and key not in marked.dups:
            marked.dups.append(key)
        seen.add(key)
    return marked


def duplicate_paths(text: str) -> list[KeyPath]:
    """Where `text` (JSON that parses) names a member twice, in document order (at most
    MAX_NAMED). Iterative: a body nested as deep as the parser allows is no deeper here."""
    found: list[KeyPath] = []
    stack: list[tuple[KeyPath, Any]] = [
        ((), json.JSONDecoder(object_pairs_hook=_marking).decode(text))
    ]
    while stack and len(found) < MAX_NAMED:
        path, value = stack.pop()
        if isinstance(value, dict):
            found.extend((*path, key) for key in getattr(value, "dups", ()))
            children = [((*path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [((*path, i), v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return found[:MAX_NAMED]


def _not_utf8(body: bytes) -> None:
    """BodyError naming the encoding when `body` is UTF-16 or UTF-32 (json.loads would take it);
    asked only of a body that failed as UTF-8, so the accepted path never pays for it."""
    encoding = json.detect_encoding(body)
    if encoding in _NOT_UTF8:
        raise BodyError(f"the body is {encoding.upper()}; JSON must be UTF-8 (RFC 8259)")


def parse(body: bytes) -> Any:
    """`body` as JSON: UTF-8 (a leading byte order mark is ignored, as RFC 8259 allows), each
    object naming a member once. json.JSONDecodeError for malformed JSON, UnicodeDecodeError for
    bytes that are no UTF-8, BodyError for the rest."""
    try:
        text = body.decode("utf-8").removeprefix(BOM)
        return _DECODER.decode(text)
    except _Duplicate:
        pass
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, too many digits
        _not_utf8(body)
        raise
    reason = "duplicate key: a JSON object may name each member only once"
    raise BodyError(reason, duplicate_paths(text))


class StrictJsonRequest(Request):
    """A request whose `json()` is `parse`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse(await self.body())
        return self._json


_UTF8 = frozenset({"utf-8", "utf8"})


def _header_error(name: str, reason: str) -> RequestValidationError:
    """The uniform 422 naming header `name` (demo_app/api/errors.py renders it)."""
    return RequestValidationError([{"type": "value_error", "loc": ("header", name), "msg": reason}])


def check_body_headers(request: Request) -> None:
    """The headers that say how to read a body, refused when a proxy in front could read the
    body otherwise than `parse` does: a Content-Type sent twice (Starlette reads the first, a
    proxy may read the last), a charset other than UTF-8 (which `parse` reads whatever it says),
    a Content-Encoding (nothing here decompresses: a WAF that does inspects other bytes)."""
    types = request.headers.getlist("content-type")
    if len(types) > 1:
        raise _header_error("Content-Type", "sent more than once: send one")
    if types:
        message = Message()
        message["content-type"] = types[0]
        # Every charset parameter: one reader takes the first, another the last.
        params = (message.get_params() or [])[1:]
        charsets = [str(v).lower() for k, v in params if k.lower().startswith("charset")]
        if any(charset not in _UTF8 for charset in charsets):
            got = f"got {', '.join(charsets)[:64]!r}"
            raise _header_error("Content-Type", f"the charset must be utf-8 ({got})")
    encodings = [e.strip() for e in request.headers.getlist("content-encoding")]
    if any(e.lower() != "identity" for e in encodings):
        got = ", ".join(encodings)[:64]
        raise _header_error("Content-Encoding", f"not supported: send the body as is (got {got!r})")


class StrictJsonRoute(APIRoute):
    """Reads its JSON body with `parse` (FastAPI's documented custom-Request route class), after
    `check_body_headers` when the route has a body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        has_body = self.body_field is not None

        async def strict(request: Request) -> Response:
            if has_body:
                check_body_headers(request)
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
