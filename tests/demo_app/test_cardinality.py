"""Cardinality is a product property: 1,000 requests with random model / feature / tier /
conversation values, and 200 feedback calls on random request and trace ids with free-text
comments, add no series to /metrics once every bounded value has been seen.

The bound (docs/telemetry.md): values come from fixed allow-lists (5 chat models + the embedding
model, 3 features, 3 tiers, each plus `_OTHER`), so for this app the total is a constant that
does not depend on traffic. We assert the count is unchanged AND below MAX_SERIES.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from demo_app.providers.simulated import load_catalog
from genai_telemetry import semconv as sc
from harness.procs import Proc

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
                    "question": f"{rng.choice(QUESTIONS[:4])}? {uuid.uuid4()}",
                    "model": model,
                    "feature": feature,
                    "user_tier": tier,
                }
                warmup.append(("/v1/chat", body))
        warmup.append(
            ("/v1/chat/stream", {"question": f"Why stream? {uuid.uuid4()}", "model": model})
        )
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
            "question": f"{rng.choice(QUESTIONS)}? {uuid.uuid4().hex[:6]}",
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
