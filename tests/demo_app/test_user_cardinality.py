"""10,000 distinct end users (and 20 tenants, 10,000 conversations) add no Prometheus series.

The per-user and per-tenant dashboards read the logs (LogQL), so `user`, the API key and the
conversation id must never reach a metric label: after a warm-up that covers every bounded
label combination the traffic below uses, /metrics is the same set of series before and after
10,000 requests from 10,000 users, and no pseudonym or conversation id appears in any label.
Meanwhile every request's log line carries its user (read back from the app's stdout).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import httpx

from demo_app.api.identity import tenant_of, user_pseudonym
from harness.procs import Proc
from tests.demo_app.test_cardinality import MAX_SERIES, series

USERS = 10_000
KEYS = [f"user-cardinality-key-{n}" for n in range(20)]  # throwaway keys of the app under test
# The bounded combinations the traffic uses (path, model; None = the calculator path, which
# calls no model and keeps 10,000 requests cheap): all seen in the warm-up. Every tenth request
# is a model call, so the model-call metrics see the users too.
COMBOS = [
    ("/v1/chat", "gpt-4o-mini"),
    ("/v1/chat/stream", "gpt-4o-mini"),
    ("/v1/chat", "claude-sonnet-4"),
]
CALCULATOR = ("/v1/chat", None)


def _body(model: str | None, n: int, user: str | None = None) -> dict[str, str]:
    # A fresh question each time: no cache hit (its series would be new after the warm-up).
    if model is None:
        body = {"question": f"What is {n} * 7?"}
    else:
        body = {"question": f"How do burn rates work? ref {uuid.uuid4().hex[:8]}", "model": model}
    if user is not None:
        body.update(user=user, conversation_id=f"conversation-{user}")
    return body


def _combo(n: int) -> tuple[str, str | None]:
    return COMBOS[n // 10 % len(COMBOS)] if n % 10 == 0 else CALCULATOR


async def _send(url: str, requests: list[tuple[str, dict[str, str], str]]) -> list[int]:
    sem = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(path: str, body: dict[str, str], key: str) -> int:
            async with sem:
                r = await client.post(path, json=body, headers={"X-API-Key": key})
                return r.status_code

        return await asyncio.gather(*(one(*r) for r in requests))


def test_ten_thousand_users_add_no_series(start_app: Callable[..., Proc]) -> None:
    app = start_app(
        {"API_KEYS": ",".join(f"{k}:pro" for k in KEYS), "SIM_LATENCY_SCALE": "0.01"},
        name="user-cardinality",
    )
    warmup = [(path, _body(model, -n), KEYS[0]) for n, (path, model) in enumerate(COMBOS)]
    warmup.append((CALCULATOR[0], _body(None, -10), KEYS[0]))
    assert set(asyncio.run(_send(app.url, warmup))) == {200}
    series(app.url)  # the first scrape adds the /metrics HTTP series
    before = series(app.url)

    users = [f"user-{n}@example.com" for n in range(USERS)]
    traffic = [
        (_combo(n)[0], _body(_combo(n)[1], n, user), KEYS[n % len(KEYS)])
        for n, user in enumerate(users)
    ]
    statuses = asyncio.run(_send(app.url, traffic))
    assert statuses.count(200) == USERS, {s: statuses.count(s) for s in set(statuses)}

    after = series(app.url)
    assert after == before, f"new series: {sorted(after - before)[:10]}"
    assert len(after) < MAX_SERIES
    values = {v for _, labels in after for _, v in labels}
    pseudonyms = {user_pseudonym(u) for u in users} | {tenant_of(k, True) for k in KEYS}
    assert not values & (pseudonyms | set(users) | {f"conversation-{u}" for u in users})
    print(f"series on /metrics: {len(after)} before and after {USERS} distinct users")

    # The users are in the logs instead: every answered chat line names its user.
    app.stop()
    log = app.log_path.read_text(errors="replace")
    answered = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"chat_answered"' in line
    ]
    assert "@example.com" not in log and KEYS[0] not in log  # only pseudonyms are written
    logged = {r.get("user_id") for r in answered}
    assert {user_pseudonym(u) for u in users} <= logged
