"""The configuration the dashboard builders render with (set by generators.render)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from genobs.config import Config, load_config

_CURRENT: ContextVar[Config | None] = ContextVar("genai_obs_config", default=None)


@cache
def _default() -> Config:
    return load_config()


def current() -> Config:
    """The active configuration; genai-obs.yaml with its default profile outside use()."""
    return _CURRENT.get() or _default()


@contextmanager
def use(cfg: Config) -> Iterator[Config]:
    token = _CURRENT.set(cfg)
    try:
        yield cfg
    finally:
        _CURRENT.reset(token)
