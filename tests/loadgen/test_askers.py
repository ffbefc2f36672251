"""Load traffic comes from many users holding multi-turn conversations (the per-user, per-tenant
and per-conversation panels need them), without changing what is asked."""

from __future__ import annotations

from collections import Counter

from demo_app.loadgen.scenarios import load_scenarios
from demo_app.loadgen.traffic import TURNS, USERS, RequestFactory


def _bodies(seed: int, n: int = 3000) -> list[dict]:
    factory = RequestFactory(load_scenarios().default_mix, seed=seed)
    return [factory.next().body for _ in range(n)]


def test_users_are_many_and_skewed() -> None:
    users = Counter(b["user"] for b in _bodies(5))
    assert 50 <= len(users) <= USERS
    counts = [c for _, c in users.most_common()]
    assert counts[0] > 10 * counts[len(counts) // 2], users.most_common(5)


def test_conversations_last_several_turns_of_one_user() -> None:
    bodies = _bodies(6)
    turns = Counter(b["conversation_id"] for b in bodies)
    assert max(turns.values()) <= TURNS[1] and any(v >= 2 for v in turns.values())
    owner = {b["conversation_id"]: b["user"] for b in bodies}
    assert all(c.startswith(owner[c] + "-c") for c in turns)


def test_who_asks_does_not_change_what_is_asked() -> None:
    asked = [
        {k: v for k, v in b.items() if k not in ("user", "conversation_id")} for b in _bodies(7)
    ]
    factory = RequestFactory(load_scenarios().default_mix, seed=7)
    factory.asker = lambda: {}  # type: ignore[method-assign]
    assert asked == [factory.next().body for _ in range(3000)]
