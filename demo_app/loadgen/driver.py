"""A light in-process traffic driver on httpx + asyncio (the e2e tier and `--driver builtin`).

Open loop: requests start at the configured rate whatever the response times are (a slow
provider does not slow the arrivals down, as in real traffic); in-flight requests are capped.
It draws the same request mix as the Locust user (`traffic.RequestFactory`), user feedback on
the answers included (`traffic.verdict`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from demo_app.loadgen.scenarios import Mix
from demo_app.loadgen.stats import Stats, progress_line
from demo_app.loadgen.traffic import (
    FEEDBACK_PATH,
    Request,
    RequestFactory,
    answer_of,
    classify_status,
    verdict,
)

# Below uvicorn's default keep-alive timeout (5 s): see run().
KEEPALIVE_EXPIRY_S = 2.0


class AsyncDriver:
    """Sends the mix at `self.rate` requests/s until `stop()`; `rate` may change while running."""

    def __init__(
        self,
        host: str,
        mix: Mix,
        *,
        rate: float,
        seed: int | None = None,
        max_in_flight: int = 200,
        request_timeout: float = 120.0,
        progress: Callable[[str], None] | None = None,
        progress_every: float = 5.0,
        drain_timeout: float = 10.0,
    ):
        self.host = host.rstrip("/")
        self.seed = seed
        self.factory = RequestFactory(mix, seed=seed)
        self.rate = rate
        self.stats = Stats()
        self.max_in_flight = max_in_flight
        self.request_timeout = request_timeout
        self.progress = progress
        self.progress_every = progress_every
        self.drain_timeout = drain_timeout
        self.started = 0.0
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stop.set()

    def use_mix(self, mix: Mix) -> None:
        """Draw the requests from here on from `mix` (same seed)."""
        self.factory = RequestFactory(mix, seed=self.seed)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    async def _send(self, client: httpx.AsyncClient, req: Request) -> None:
        t0 = time.monotonic()
        text = ""
        try:
            if req.stream:
                async with client.stream(
                    "POST", req.path, json=req.body, headers=req.headers
                ) as resp:
                    text = (await resp.aread()).decode("utf-8", errors="replace")
                    status = resp.status_code
            else:
                resp = await client.post(req.path, json=req.body, headers=req.headers)
                status, text = resp.status_code, resp.text
            label, outcome = str(status), classify_status(status)
        except httpx.HTTPError as exc:
            label, outcome, status = f"error:{type(exc).__name__}", "failed", 0
        t1 = time.monotonic()
        self.stats.record(t1, t1 - t0, label, outcome, req.kind)
        answer = answer_of(req.stream, status, text)
        body = verdict(answer, self.factory.mix, self.factory.rng) if answer else None
        if body is not None:
            await self._feedback(client, body, req.headers)

    async def _feedback(
        self, client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
    ) -> None:
        """The user's verdict on the answer, counted as a request of kind `feedback`."""
        t0 = time.monotonic()
        try:
            resp = await client.post(FEEDBACK_PATH, json=body, headers=headers)
            label, outcome = str(resp.status_code), classify_status(resp.status_code)
        except httpx.HTTPError as exc:
            label, outcome = f"error:{type(exc).__name__}", "failed"
        t1 = time.monotonic()
        self.stats.record(t1, t1 - t0, label, outcome, "feedback")

    def _report(self) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        rps, p95 = self.stats.recent(now)
        self.progress(
            progress_line(
                now - self.started,
                self.stats.requests,
                self.stats.failures,
                self.stats.throttled,
                rps,
                p95,
            )
        )

    async def run(self) -> Stats:
        """Drive traffic until stop(); then wait up to `drain_timeout` for in-flight requests."""
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, so a
        # request never goes out on a connection the server is closing (httpx.ReadError).
        limits = httpx.Limits(
            max_connections=self.max_in_flight,
            max_keepalive_connections=50,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        timeout = httpx.Timeout(self.request_timeout, connect=5.0)
        self.started = time.monotonic()
        next_report = self.started + self.progress_every
        next_send = self.started
        async with httpx.AsyncClient(base_url=self.host, limits=limits, timeout=timeout) as client:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_report:
                    self._report()
                    next_report += self.progress_every
                if self.rate <= 0:
                    next_send = now + 0.2
                elif now >= next_send:
                    if len(self._tasks) < self.max_in_flight:
                        task = asyncio.create_task(self._send(client, self.factory.next()))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                    next_send += 1.0 / self.rate
                    if next_send < now - 1.0:  # fell behind (overloaded loop): do not burst
                        next_send = now
                    continue
                with contextlib.suppress(TimeoutError):
                    wait = min(next_send, next_report) - time.monotonic()
                    await asyncio.wait_for(self._stop.wait(), timeout=max(0.0, wait))
            if self._tasks:
                _, pending = await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
                for task in pending:
                    task.cancel()
        return self.stats
