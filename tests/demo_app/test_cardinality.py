"""Cardinality is a product property: 1,000 requests with random model / feature / tier /
conversation values, and 200 feedback calls on random request and trace ids with free-text
comments, add no series to /metrics once every bounded value has been seen.

The bound (docs/telemetry.md): values come from fixed allow-lists (5 chat models + the embedding
model, 3 features, 3 tiers, each plus `_OTHER`), so for this app the total is a constant that
does not depend on traffic. We assert the count is unchanged AND below MAX_SERIES. The same
holds for 10,000 distinct end users, 20 tenants and 10,000 conversations (they live in the logs).
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from demo_app.api.identity import tenant_of, user_pseudonym
from demo_app.loadgen.driver import KEEPALIVE_EXPIRY_S
from demo_app.providers.simulated import load_catalog
from genai_telemetry import semconv as sc
from harness.procs import Proc
from tests.demo_app.conftest import nonce

# Every chat model of the shipped simulated catalog (demo_app/providers/catalog.yaml).
CHAT_MODELS = sorted(m.name for m in load_catalog()[0].values() if m.kind == "chat")
# Upper bound for the whole exposition of this app (it exposes only contract metrics), far
# below what one label taking raw request values would produce after 1,000 requests.
MAX_SERIES = 3000
QUESTIONS = [
    "How do I monitor time to first token",
    "What is a burn rate alert",
    "Why count unpriced tokens",
    "How does the response cache save money",
    "What is 17 * 23",
]


def series(url: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = httpx.get(url + "/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _post(client: httpx.AsyncClient, sem: asyncio.Semaphore, path: str, body: dict) -> int:
    async with sem:
        r = await client.post(path, json=body)
        return r.status_code


async def _run(url: str, bodies: list[tuple[str, dict]], concurrency: int = 16) -> list[int]:
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await asyncio.gather(*(_post(client, sem, p, b) for p, b in bodies))


def test_random_labels_do_not_grow_series(start_app: Callable[..., Proc]) -> None:
    app = start_app({}, name="cardinality")
    rng = random.Random(7)
    # Warm-up: every bounded value once (models x features x tiers, plus the odd paths).
    warmup: list[tuple[str, dict]] = []
    for model in CHAT_MODELS:
        for feature in [*sc.FEATURES, "unknown-feature"]:
            for tier in [*sc.USER_TIERS, "unknown-tier"]:
                body = {
                    "question": f"{rng.choice(QUESTIONS[:4])}? {nonce()}",
                    "model": model,
                    "feature": feature,
                    "user_tier": tier,
                }
                warmup.append(("/v1/chat", body))
        warmup.append(("/v1/chat/stream", {"question": f"Why stream? {nonce()}", "model": model}))
    warmup += [
        ("/v1/chat", {"question": "What is 17 * 23?"}),
        ("/v1/chat/stream", {"question": "What is 17 * 23?"}),
        ("/v1/chat", {"question": "Why cache?"}),
        ("/v1/chat", {"question": "Why cache?"}),
        ("/v1/chat", {"question": "hi", "model": "no-such-model"}),
        ("/v1/chat/stream", {"question": "hi", "model": "no-such-model"}),
        # feedback's HTTP series (accepted, refused); its metric series exist from the start
        ("/v1/feedback", {"request_id": "warm-up", "thumbs": "up"}),
        ("/v1/feedback", {"request_id": "warm-up"}),
    ]
    statuses = asyncio.run(_run(app.url, warmup))
    assert set(statuses) <= {200, 422}, statuses
    series(app.url)  # the first scrape itself adds the /metrics HTTP series
    before = series(app.url)

    def random_value(allowed: list[str]) -> str:
        return rng.choice(allowed) if rng.random() < 0.6 else uuid.uuid4().hex[: rng.randint(1, 32)]

    bodies: list[tuple[str, dict]] = []
    for _ in range(1000):
        body = {
            "question": f"{rng.choice(QUESTIONS)}? {nonce()}",
            "model": random_value(CHAT_MODELS),
            "feature": random_value(list(sc.FEATURES)),
            "user_tier": random_value(list(sc.USER_TIERS)),
            "conversation_id": uuid.uuid4().hex,
            "max_tokens": rng.randint(16, 512),
            "temperature": round(rng.random(), 2),
        }
        bodies.append((rng.choice(["/v1/chat", "/v1/chat/stream"]), body))
    for _ in range(200):  # feedback on ids never answered, with free-text comments
        ref = (
            {"request_id": uuid.uuid4().hex}
            if rng.random() < 0.5
            else {"trace_id": uuid.uuid4().hex}
        )
        verdict = {"thumbs": rng.choice(["up", "down"])} if rng.random() < 0.5 else {}
        bodies.append(
            (
                "/v1/feedback",
                {
                    **ref,
                    **(verdict or {"score": round(rng.random(), 2)}),
                    "comment": f"answer {uuid.uuid4().hex} was odd",
                },
            )
        )
    statuses = asyncio.run(_run(app.url, bodies))
    assert statuses.count(200) > 400 and set(statuses) <= {200, 422}
    after = series(app.url)
    assert after == before, f"new series: {sorted(after - before)[:10]}"
    print(f"series on /metrics: {len(after)} (bound {MAX_SERIES})")
    assert len(after) < MAX_SERIES
    labels_seen = {v for _, labels in after for _, v in labels}
    raw = ("conversation_id", "request_id", "trace_id")
    assert not any(b[k] in labels_seen for _, b in bodies for k in raw if k in b)


# --- 10,000 distinct end users (and 20 tenants, 10,000 conversations) add no series -----------
# The per-user and per-tenant dashboards read the logs (LogQL), so `user`, the API key and the
# conversation id must never reach a metric label: after a warm-up that covers every bounded
# label combination the traffic below uses, /metrics is the same set of series before and after
# 10,000 requests from 10,000 users, and no pseudonym or conversation id appears in any label.
# Meanwhile every request's log line carries its user (read back from the app's stdout).
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
        body = {"question": f"How do burn rates work? ref {nonce()}", "model": model}
    if user is not None:
        body.update(user=user, conversation_id=f"conversation-{user}")
    return body


def _combo(n: int) -> tuple[str, str | None]:
    return COMBOS[n // 10 % len(COMBOS)] if n % 10 == 0 else CALCULATOR


async def _send(url: str, requests: list[tuple[str, dict[str, str], str]]) -> list[int]:
    sem = asyncio.Semaphore(16)
    # Idle connections expire before uvicorn closes them (its keep-alive is 5 s): no ReadError.
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

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
