"""The store behind GET /v1/alerts: the last alerts, bounded in count and in text."""

from __future__ import annotations

import threading

from demo_app.alerts import AlertStore, WebhookPayload


def _payload(*annotations: str) -> WebhookPayload:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"A{i}"},
            "annotations": {"description": text},
            "startsAt": "2026-12-04T00:00:00Z",
        }
        for i, text in enumerate(annotations)
    ]
    body = {"version": "4", "status": "firing", "receiver": "r", "alerts": alerts}
    return WebhookPayload.model_validate(body)


def _names(store: AlertStore) -> list[str]:
    return [a["alertname"] for a in store.list()]


def _texts(store: AlertStore) -> list[str]:
    return [a["annotations"]["description"][0] for a in store.list()]


def test_count_bound_keeps_the_newest() -> None:
    store = AlertStore(capacity=3)
    store.add(_payload(*"abcde"))
    assert _names(store) == ["A4", "A3", "A2"] and store.received_total == 5


def test_text_bound_drops_the_oldest_and_keeps_the_newest() -> None:
    store = AlertStore(capacity=100, max_chars=1000)
    store.add(_payload("x" * 400, "y" * 400))
    assert _texts(store) == ["y", "x"]
    store.add(_payload("z" * 400))  # 1,200+ characters: the oldest goes
    assert _texts(store) == ["z", "y"]
    store.add(_payload("w" * 5000))  # larger than the bound alone: still kept, alone
    assert _texts(store) == ["w"]
    store.add(_payload("v"))
    assert _texts(store) == ["v"]


def test_count_and_text_bounds_agree_when_the_deque_drops_an_item() -> None:
    store = AlertStore(capacity=2, max_chars=2100)
    store.add(_payload("a" * 1000, "b" * 1000))
    store.add(_payload("c" * 1000))  # the count bound drops "a"; its text must be freed too
    assert _texts(store) == ["c", "b"]


def test_concurrent_adds_lose_no_count() -> None:
    store = AlertStore(capacity=50, max_chars=10_000)

    def add() -> None:
        for _ in range(100):
            store.add(_payload("t" * 30))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.received_total == 400 and len(store.list()) == 50
