"""The per-tier token bucket: refill, tiers, and a key table hostile clients cannot grow."""

from __future__ import annotations

import pytest

from demo_app.config import DEMO_API_KEYS, ConfigError, Settings, TierLimit, parse_api_keys
from demo_app.ratelimit import OVERFLOW_HOST, RateLimiter, effective_tier

LIMITS = {
    "free": TierLimit(rate_per_s=1.0, burst=2.0),
    "pro": TierLimit(rate_per_s=5.0, burst=5.0),
    "enterprise": TierLimit(rate_per_s=50.0, burst=50.0),
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_and_says_when_to_retry() -> None:
    clock = Clock()
    limiter = RateLimiter(LIMITS, clock=clock)
    assert [limiter.check("free", "h").allowed for _ in range(3)] == [True, True, False]
    denied = limiter.check("free", "h")
    assert denied.retry_after_s == 1
    clock.now += 1.0
    assert limiter.check("free", "h").allowed
    assert not limiter.check("free", "h").allowed
    # Another client address has its own bucket; unknown tiers count as free.
    assert limiter.check("free", "other").allowed
    assert limiter.check("diamond", "h").tier == "free"
    assert not limiter.check("diamond", "h").allowed


def test_key_table_is_bounded_and_cycling_hosts_does_not_escape_the_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(LIMITS, max_keys=50, clock=clock)
    allowed = 0
    for i in range(5000):  # a client inventing a new address per request, no time passing
        allowed += limiter.check("free", f"10.0.{i // 256}.{i % 256}").allowed
    assert len(limiter) <= 50
    # 50 fresh buckets of 2, then newcomers share one overflow bucket of 2: nothing more.
    assert allowed <= 50 * 2 + 2
    assert ("free", OVERFLOW_HOST) in limiter._buckets
    # Idle buckets are evicted first once they refill: honest clients get their own again.
    clock.now += 10
    assert limiter.check("pro", "honest").allowed
    assert ("pro", "honest") in limiter._buckets
    assert len(limiter) <= 50


# --- the tier comes from the server --------------------------------------------------------------
@pytest.mark.parametrize(
    ("granted", "requested", "tier"),
    [
        (None, None, "free"),
        (None, "enterprise", "free"),  # no key: a body claim cannot raise the tier
        ("pro", "enterprise", "pro"),
        ("pro", None, "pro"),
        ("enterprise", "free", "free"),  # the body may lower it
        ("enterprise", "pro", "pro"),
        ("pro", "gold", "pro"),  # unknown body tiers are ignored
        ("gold", None, "free"),
    ],
)
def test_effective_tier_can_only_be_lowered(
    granted: str | None, requested: str | None, tier: str
) -> None:
    assert effective_tier(granted, requested) == tier


def test_api_keys_parse_and_fail_naming_the_variable() -> None:
    assert parse_api_keys(" a-key:pro , b:c:enterprise,") == {"a-key": "pro", "b:c": "enterprise"}
    assert parse_api_keys(DEMO_API_KEYS)["demo-enterprise-key"] == "enterprise"
    for raw, reason in (
        ("nokey-secret", "entry 1: expected key:tier"),
        ("a:pro,k-secret:gold", "entry 2: the tier after the last ':' must be one of free,"),
        ("a:pro,b:secret-part", "entry 2: the tier"),
        (":pro", "entry 1: expected key:tier"),
        ("k-secret:pro,b:free, k-secret:enterprise", "entry 3: the key of an earlier entry"),
    ):
        with pytest.raises(ConfigError, match="API_KEYS") as info:
            parse_api_keys(raw)
        assert reason in str(info.value)
        assert "secret" not in str(info.value)  # a key (or a fragment of one) is never echoed
    assert Settings.from_env({"API_KEYS": "k1:pro"}).api_keys == {"k1": "pro"}
    assert "k1" not in repr(Settings.from_env({"API_KEYS": "k1:pro"}))  # keys are secrets


def test_no_credential_appears_in_the_settings_repr() -> None:
    env = {"API_KEYS": "key-aaa:pro", "ADMIN_TOKEN": "adm-bbb", "ALERTS_WEBHOOK_TOKEN": "wh-ccc"}
    text = repr(Settings.from_env(env))
    for secret in ("key-aaa", "adm-bbb", "wh-ccc"):
        assert secret not in text, secret


def test_env_example_ships_the_demo_keys() -> None:
    from harness import ROOT

    assert f"API_KEYS={DEMO_API_KEYS}" in (ROOT / ".env.example").read_text().splitlines()
