"""Per-tier token-bucket rate limiting of the chat API (→ HTTP 429 + Retry-After).

The tier comes from the server, never from the caller's say-so: `effective_tier` maps the API key
the caller presented (API_KEYS) to its tier, unknown or missing keys to the lowest (`free`); the
request body's `user_tier` can only lower it (a client may choose to be treated as free).

Buckets are keyed by (tier, client host). Unknown tiers are limited as `free` (least privilege).
The key table is bounded (`max_keys`): when it is full, idle buckets (refilled to capacity, so
dropping them loses nothing) are evicted first; if none is idle, the newcomer shares one overflow
bucket per tier. A client cycling through spoofed hosts therefore cannot grow memory without
bound, nor escape the limit by evicting its own bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from demo_app.config import TierLimit
from genai_telemetry import semconv

OVERFLOW_HOST = "_overflow"
LOWEST_TIER = semconv.USER_TIERS[0]
_RANK = {tier: rank for rank, tier in enumerate(semconv.USER_TIERS)}


def effective_tier(granted: str | None, requested: str | None) -> str:
    """The tier a request is served (and labelled) as: the key's `granted` tier, lowered to
    `requested` if that is a known, lower tier; never raised."""
    tier = granted if granted in _RANK else LOWEST_TIER
    if requested in _RANK and _RANK[requested] < _RANK[tier]:
        return requested
    return tier


@dataclass
class TokenBucket:
    """Holds up to `limit.burst` tokens, refilled at `limit.rate_per_s`; an event takes one.
    Not locked: its owner holds the lock (RateLimiter, alerts.LogBudget)."""

    tokens: float
    updated: float

    def refill(self, limit: TierLimit, now: float) -> None:
        self.tokens = min(limit.burst, self.tokens + (now - self.updated) * limit.rate_per_s)
        self.updated = now

    def take(self, limit: TierLimit, now: float) -> bool:
        self.refill(limit, now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    tier: str = "free"


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, TierLimit],
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(limits)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _evict_idle(self, now: float) -> None:
        for key in list(self._buckets):
            bucket = self._buckets[key]
            limit = self.limits[key[0]]
            bucket.refill(limit, now)
            if bucket.tokens >= limit.burst:
                del self._buckets[key]

    def check(self, tier: str | None, host: str | None) -> Decision:
        """Take one token for (tier, host); Decision.allowed False → answer 429."""
        tier = tier if tier in semconv.USER_TIERS and tier in self.limits else "free"
        limit = self.limits[tier]
        key = (tier, (host or "unknown")[:64])
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._evict_idle(now)
                if len(self._buckets) >= self.max_keys:
                    key = (tier, OVERFLOW_HOST)
                    bucket = self._buckets.get(key)
                if bucket is None:
                    if len(self._buckets) >= self.max_keys:
                        # Make room for the overflow bucket itself (oldest first).
                        self._buckets.popitem(last=False)
                    bucket = TokenBucket(limit.burst, now)
                    self._buckets[key] = bucket
            self._buckets.move_to_end(key)
            if bucket.take(limit, now):
                return Decision(True, 0, tier)
            wait = (1.0 - bucket.tokens) / limit.rate_per_s
            return Decision(False, max(1, math.ceil(wait)), tier)
