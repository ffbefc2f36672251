"""The exact-match response cache: keys, TTL, LRU bound, saved cost, thread safety."""

from __future__ import annotations

import threading

from demo_app.cache import ResponseCache, cache_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_normalises_question_but_not_parameters() -> None:
    base = cache_key("gpt-4o-mini", "What is  TTFT?", 256, 0.2, "chat")
    assert cache_key("gpt-4o-mini", "  what is ttft? ", 256, 0.2, "chat") == base
    assert cache_key("gpt-4o-mini", "What is TTFT?\n", 256, 0.2, "chat") == base
    variants = [
        cache_key("gpt-4.1", "What is TTFT?", 256, 0.2, "chat"),
        cache_key("gpt-4o-mini", "What is TTFT now?", 256, 0.2, "chat"),
        cache_key("gpt-4o-mini", "What is TTFT?", 128, 0.2, "chat"),
        cache_key("gpt-4o-mini", "What is TTFT?", None, 0.2, "chat"),
        cache_key("gpt-4o-mini", "What is TTFT?", 256, 0.7, "chat"),
        cache_key("gpt-4o-mini", "What is TTFT?", 256, 0.2, "search"),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_key_does_not_contain_the_question() -> None:
    key = cache_key("gpt-4o-mini", "my email is someone@example.com")
    assert "example" not in key and len(key) == 64


def test_hit_returns_value_and_original_cost() -> None:
    cache: ResponseCache[dict] = ResponseCache(ttl_s=60, max_entries=10, clock=FakeClock())
    key = cache_key("gpt-4o-mini", "q")
    assert cache.get(key) is None
    cache.put(key, {"answer": "a"}, cost_usd=0.00042)
    entry = cache.get(key)
    assert entry is not None
    assert entry.value == {"answer": "a"} and entry.cost_usd == 0.00042


def test_unpriced_cost_is_kept_as_none() -> None:
    cache: ResponseCache[str] = ResponseCache(ttl_s=60, max_entries=10)
    cache.put("k", "v", cost_usd=None)
    entry = cache.get("k")
    assert entry is not None and entry.cost_usd is None


def test_entries_expire_after_ttl() -> None:
    clock = FakeClock()
    cache: ResponseCache[str] = ResponseCache(ttl_s=30, max_entries=10, clock=clock)
    cache.put("k", "v", cost_usd=0.1)
    clock.now += 29.9
    assert cache.get("k") is not None
    clock.now += 0.1
    assert cache.get("k") is None
    assert len(cache) == 0  # the expired entry was dropped


def test_least_recently_used_entry_is_evicted() -> None:
    cache: ResponseCache[str] = ResponseCache(ttl_s=60, max_entries=3, clock=FakeClock())
    for key in ("a", "b", "c"):
        cache.put(key, key, cost_usd=0.0)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", "d", cost_usd=0.0)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [k for k in "acd" if cache.get(k) is not None] == ["a", "c", "d"]


def test_put_replaces_and_refreshes_an_entry() -> None:
    clock = FakeClock()
    cache: ResponseCache[str] = ResponseCache(ttl_s=10, max_entries=3, clock=clock)
    cache.put("k", "old", cost_usd=1.0)
    clock.now += 8
    cache.put("k", "new", cost_usd=2.0)
    clock.now += 8
    entry = cache.get("k")
    assert entry is not None and (entry.value, entry.cost_usd) == ("new", 2.0)
    assert len(cache) == 1


def test_zero_ttl_or_size_disables_the_cache() -> None:
    for cache in (ResponseCache(ttl_s=0, max_entries=10), ResponseCache(ttl_s=60, max_entries=0)):
        assert not cache.enabled
        cache.put("k", "v", cost_usd=1.0)
        assert cache.get("k") is None and len(cache) == 0


def test_clear() -> None:
    cache: ResponseCache[str] = ResponseCache()
    cache.put("k", "v", cost_usd=1.0)
    cache.clear()
    assert cache.get("k") is None


def test_concurrent_use_keeps_the_bound_and_loses_nothing_recent() -> None:
    cache: ResponseCache[int] = ResponseCache(ttl_s=60, max_entries=50)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(500):
                key = f"{offset}-{i}"
                cache.put(key, i, cost_usd=0.001)
                entry = cache.get(key)
                # Another thread may evict it right away, but never corrupt it.
                assert entry is None or entry.value == i
        except BaseException as exc:  # surfaced to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 50
