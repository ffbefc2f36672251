"""Cost from standard token usage (prometheus/rules/llm-prices.yml) vs rag-api's own cost.

A real Prometheus (Debian 2.42 here) scrapes the real rag-api and loads the shipped rules. The
price series times rag-api's standard `gen_ai_client_token_usage` must equal its own
`llm_cost_usd_total` to within 1 % once the prompt-cache discount is taken out: standard metrics
have only `input`/`output` token types, so cache reads are priced as input (an upper bound).
The discount is computed from the cached-token counts rag-api returns with each answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from genai_telemetry.pricing import PriceTable
from harness import wait_until
from harness.procs import Proc, start_prometheus, start_rag_api
from slo import prices

MODELS = ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash")
UNPRICED = "llama-3.1-8b-local"
CALLS = 48
TOLERANCE = 0.01


@dataclass(frozen=True)
class Stack:
    app: Proc
    prometheus: Proc
    reported: Decimal  # the cost the answers reported
    discount: Decimal  # what their cached input tokens saved against the list price


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """rag-api scraped by Prometheus, after the traffic of _drive (every test reads the same
    run, whichever runs first or alone)."""
    tmp = tmp_path_factory.mktemp("cost")
    app = start_rag_api(
        tmp, env={"SIM_LATENCY_SCALE": "0.01", "SIM_SEED": "11", "RATE_LIMIT_ENABLED": "false"}
    )
    try:
        prometheus = start_prometheus(tmp, targets={"rag-api:8000": app.address}, interval="1s")
    except BaseException:
        app.stop()
        raise
    try:
        yield Stack(app, prometheus, *_drive(app))
    finally:
        prometheus.stop()
        app.stop()


def _query(prometheus: Proc, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def _scalar(prometheus: Proc, expr: str) -> float:
    (sample,) = _query(prometheus, expr)
    return float(sample["value"][1])


def _drive(app: Proc) -> tuple[Decimal, Decimal]:
    """Chats over every priced model (and an unpriced one); returns (reported cost, discount)."""
    table = PriceTable.load()
    reported = discount = Decimal(0)
    with httpx.Client(base_url=app.url, timeout=30) as client:
        for i in range(CALLS):
            model = UNPRICED if i % 12 == 11 else MODELS[i % len(MODELS)]
            r = client.post(
                "/v1/chat", json={"question": f"Explain burn rates, #{i}", "model": model}
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert not body["cache"]["hit"], "distinct questions: no response-cache hits"
            if body["cost_usd"] is None:
                continue
            reported += Decimal(str(body["cost_usd"]))
            price = table.price(model)
            assert price is not None
            cache_price = price.cache_read_input_token_cost or price.input_cost_per_token
            cached = body["usage"]["cached_input_tokens"]
            discount += cached * (price.input_cost_per_token - cache_price)
    return reported, discount


def test_token_priced_cost_matches_rag_api_cost(stack: Stack) -> None:
    prometheus, reported, discount = stack.prometheus, stack.reported, stack.discount
    own_expr = 'sum(llm_cost_usd_total{job="rag-api"})'

    # Scraped after the last answer: the total reaches what the answers reported (it is a bit
    # more: the embedding calls of unpriced answers are priced, their answers report None).
    def reached() -> bool:
        found = _query(prometheus, own_expr)
        return bool(found) and float(found[0]["value"][1]) >= float(reported)

    wait_until(reached, 20, every=0.5)  # if not, the comparison below says by how much
    time.sleep(2)  # and two more scrapes of the final counters
    own = _scalar(prometheus, own_expr)
    assert own == pytest.approx(float(reported), rel=1e-3)
    # The rule's own expression, on the cumulative token counts instead of their rate.
    priced = prices.one_line(prices.token_cost_expr("1m", 'job="rag-api"', "last_over_time"))
    listed = _scalar(prometheus, f"sum({priced})")
    gap = listed / own - 1
    print(
        f"\n[cost] llm_cost_usd_total={own:.6f} tokens×price={listed:.6f} (+{gap:.2%}); "
        f"prompt-cache discount={float(discount):.6f}"
    )
    assert listed >= own, "list price is an upper bound"
    assert listed - float(discount) == pytest.approx(own, rel=TOLERANCE)


def test_recorded_cost_prefers_the_apps_own_figure(stack: Stack) -> None:
    prometheus = stack.prometheus
    wait_until(lambda: _query(prometheus, prices.TOKEN_COST_RATE), 20, every=0.5)
    assert _query(prometheus, f'{prices.TOKEN_COST_RATE}{{job="rag-api"}}')
    recorded = {
        s["metric"]["gen_ai_request_model"]: float(s["value"][1])
        for s in _query(prometheus, f'{prices.COST_RATE_BY_MODEL}{{job="rag-api"}}')
    }
    own = {
        s["metric"]["gen_ai_request_model"]
        for s in _query(prometheus, 'llm_cost_usd_total{job="rag-api"}')
    }
    assert set(recorded) == own, "one series per priced model, none for the unpriced one"
    unpriced = _query(prometheus, f'{prices.UNPRICED_TOKENS_RATE}{{job="rag-api"}}')
    assert {s["metric"]["gen_ai_request_model"] for s in unpriced} == {UNPRICED}
