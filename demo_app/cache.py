"""Exact-match response cache with a TTL and a bounded size (least recently used evicted).

Keys come from `cache_key(model, question, max_tokens, temperature, feature)`: the question is
normalised (Unicode NFKC, case-folded, whitespace collapsed) so trivially different spellings
hit; everything else must match exactly. Each entry stores the cached value (whatever the
pipeline wants to replay, e.g. the response payload) and the cost in USD the original call had,
so a hit can be counted as saved spend (`None` cost = unpriced model, nothing saved).

`ttl_s <= 0` or `max_entries <= 0` disables the cache (every lookup misses, nothing is stored).
The clock is injectable for tests. All methods take one short lock: safe from threads and from
asyncio tasks (no awaits inside).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL_S = 300.0
DEFAULT_MAX_ENTRIES = 1024


def normalise_question(question: str) -> str:
    """NFKC, case-folded, whitespace-collapsed form of a question."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


def cache_key(
    model: str,
    question: str,
    max_tokens: int | None = None,
    temperature: float | None = None,
    feature: str | None = None,
) -> str:
    """A stable key (sha256 hex) for one request; contains no prompt text in the clear."""
    payload = json.dumps(
        [model, normalise_question(question), max_tokens, temperature, feature],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry(Generic[T]):
    """A cached value, the USD cost of the call that produced it, and when it was stored."""

    value: T
    cost_usd: float | None
    stored_at: float


class ResponseCache(Generic[T]):
    """Bounded LRU map from cache_key() to CacheEntry, entries expiring after `ttl_s`."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = float(ttl_s)
        self.max_entries = int(max_entries)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, CacheEntry[T]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and self.max_entries > 0

    def get(self, key: str) -> CacheEntry[T] | None:
        """The live entry for `key` (and mark it recently used), or None (miss/expired)."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now - entry.stored_at >= self.ttl_s:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, value: T, cost_usd: float | None) -> None:
        """Store `value` (replacing any entry for `key`), evicting the least recently used."""
        if not self.enabled:
            return
        entry = CacheEntry(value=value, cost_usd=cost_usd, stored_at=self._clock())
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """Number of stored entries (expired ones count until looked up or evicted)."""
        with self._lock:
            return len(self._entries)
