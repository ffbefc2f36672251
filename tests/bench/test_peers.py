"""bench peers: the arithmetic of its figures, and that each variant really emits what its row
says (counted in its own sink), from one short real run. No timing is asserted."""

from __future__ import annotations

from typing import Any

import pytest

from bench import common, peers, profile
from bench import peer_figures as figures


def _segment(cpu_us: float, requests: int = 100) -> common.Segment:
    load = {"requests": requests, "statuses": {"200": requests}, "elapsed_s": 1.0}
    return common.Segment("x", load, cpu_us * requests / 1e6)


def test_costs_are_per_round_differences_with_median_and_range() -> None:
    segments = {
        "rag-api on": [_segment(1300), _segment(1500), _segment(1200)],
        "rag-api off": [_segment(1000), _segment(1100), _segment(1000)],
        "official on": [_segment(3000), _segment(3000), _segment(2900)],
        "official off": [_segment(1000), _segment(1000), _segment(1000)],
    }
    costs = figures.costs(segments)
    assert costs["rag-api"] == pytest.approx({"median": 300, "min": 200, "max": 400})
    assert costs["official"] == pytest.approx({"median": 2000, "min": 1900, "max": 2000})
    assert figures.FLOOR not in costs  # not run: no figure
    # the floor in the app: its CPU minus the same round's rag-api off
    segments[figures.FLOOR] = [_segment(1100), _segment(1250), _segment(1150)]
    assert figures.costs(segments)[figures.FLOOR] == pytest.approx(
        {"median": 150, "min": 100, "max": 150}
    )


def test_round_ratios_pair_the_two_stacks_within_each_round() -> None:
    """Each round's ratio takes both stacks' differences from that round (a slow round moves
    both); rounds where the official stack's difference is not above 0 give no ratio."""
    segments = {
        "rag-api on": [_segment(1300), _segment(2500), _segment(1200), _segment(1500)],
        "rag-api off": [_segment(1000), _segment(2000), _segment(1000), _segment(1000)],
        "official on": [_segment(2000), _segment(3000), _segment(1400), _segment(900)],
        "official off": [_segment(1000), _segment(2000), _segment(1000), _segment(1000)],
    }
    assert figures.round_ratios(segments) == pytest.approx({"median": 0.5, "min": 0.3, "max": 0.5})
    segments["official on"] = [_segment(1000)] * 4
    assert figures.round_ratios(segments) is None


def test_round_ratios_carry_the_median_interval_when_there_are_enough_rounds() -> None:
    base = [_segment(1000)] * 9
    segments = {
        "rag-api on": [_segment(1000 + 50 * i) for i in range(1, 10)],
        "rag-api off": base,
        "official on": [_segment(1000 + 500)] * 9,
        "official off": base,
    }
    got = figures.round_ratios(segments)
    assert got is not None
    assert got["median"] == pytest.approx(0.5)
    assert (got["median_low"], got["median_high"]) == pytest.approx((0.2, 0.8))


def _rps(rps: float) -> common.Segment:
    load = {"requests": int(rps * 8), "throughput_rps": rps, "statuses": {}, "elapsed_s": 8.0}
    return common.Segment("x", load, 1.0)


def test_throughput_loss_is_taken_round_by_round_with_its_interval() -> None:
    """Each round's loss compares the on and off twins of that round only (a slow round slows
    both); six rounds or more also give the median's interval."""
    off = [100.0, 50.0, 100.0, 100.0, 100.0, 100.0]
    segments = {
        "rag-api on": [_rps(99.0), _rps(49.0), _rps(100.0), _rps(97.0), _rps(98.0), _rps(99.5)],
        "rag-api off": [_rps(x) for x in off],
        "official on": [_rps(x * 0.9) for x in off],
        "official off": [_rps(x) for x in off],
    }
    got = figures.round_losses(segments)
    assert got["rag-api"] == pytest.approx(
        {"median": 0.015, "min": 0.0, "max": 0.03, "median_low": 0.0, "median_high": 0.03}
    )
    assert got["official"] is not None
    assert got["official"]["median"] == pytest.approx(0.1)
    assert figures.FLOOR not in got  # not run: no figure
    # the floor variant, when it ran, against the same off twin: the loss its bare calls cost
    segments[figures.FLOOR] = [_rps(x * 0.98) for x in off]
    floor_loss = figures.round_losses(segments)[figures.FLOOR]
    assert floor_loss is not None and floor_loss["median"] == pytest.approx(0.02)
    # no off throughput in any round: nothing to compare
    assert common.loss_by_round([_rps(10.0)], [_rps(0.0)]) is None


def test_loss_beyond_the_floor_is_the_difference_within_each_round() -> None:
    """rag-api's loss minus the floor variant's, each round against its own off twin: a round
    where both lose alike adds nothing, whatever the window's speed."""
    segments = {
        "rag-api on": [_rps(97.0), _rps(48.0), _rps(99.0)],
        "rag-api off": [_rps(100.0), _rps(50.0), _rps(100.0)],
        figures.FLOOR: [_rps(98.0), _rps(48.0), _rps(98.0)],
    }
    got = figures.loss_beyond_floor(segments)
    assert got == pytest.approx({"median": 0.0, "min": -0.01, "max": 0.01})
    assert (
        figures.loss_beyond_floor({k: v for k, v in segments.items() if k != figures.FLOOR}) is None
    )


def test_per_request_counts_normalise_by_every_request_sent() -> None:
    stats = {
        "items": {
            "spans": 60,
            "span_attributes": 420,
            "logs": 22,
            "logs_with_trace": 20,
            "log_attributes": 220,
            "observations": 140,
        }
    }
    counts = figures.per_request(stats, 10)
    assert counts == pytest.approx(
        {
            "spans": 6,
            "logs": 2.2,
            "logs_with_trace": 2,
            "observations": 14,
            "span_attributes": 7,
            "log_attributes": 10,
        }
    )
    assert figures.per_request(None, 10)["spans"] == 0


def test_profile_charges_each_sample_to_the_innermost_component() -> None:
    collapsed = "\n".join(
        [
            "thread (1);run (uvicorn/main.py:1);__call__ (/x/opentelemetry/instrumentation/asgi/"
            "__init__.py:9);get_scores (/x/rank_bm25.py:3) 5",
            "thread (2);worker (/x/opentelemetry/sdk/_shared_internal/__init__.py:1);export "
            "(/x/genai_telemetry/otlp.py:2);encode (/x/genai_telemetry/otlp.py:3) 7",
            "thread (1);info (/x/structlog/_native.py:1);dumps (/usr/lib/json/__init__.py:2) 3",
            "thread (1);__call__ (/x/fastapi/telemetry/_asgi.py:1);get_tracer_provider "
            "(/x/opentelemetry/trace/__init__.py:5) 2",
            # rag-api's own span, log record and export queue code counts as that machinery
            "thread (1);operation (/x/genai_telemetry/telemetry.py:1);start_span "
            "(/x/genai_telemetry/spans.py:2) 4",
            "thread (1);event (/x/genai_telemetry/telemetry.py:1);emit "
            "(/x/genai_telemetry/log_records.py:2) 2",
            "thread (3);_run (/x/genai_telemetry/export.py:1);wait (threading.py:2) 1",
        ]
    )
    assert profile.classify(collapsed) == {
        "app (not telemetry)": 7,
        "OTLP encoding": 7,
        "log formatting (structlog, stdout)": 3,
        "span creation and end": 4,
        "OTel log records": 2,
        "export thread: batching": 1,
    }


def test_profile_lists_the_innermost_telemetry_frames() -> None:
    collapsed = "\n".join(
        [
            "thread (1);run (uvicorn/main.py:1);may_need_redaction (/x/genai_telemetry/"
            "redaction.py:9);search (/usr/lib/re/__init__.py:2) 4",
            "thread (1);run (uvicorn/main.py:1);get_scores (/x/rank_bm25.py:3) 5",
            "thread (1);info (/x/structlog/_native.py:1);dumps (/usr/lib/json/__init__.py:2) 3",
        ]
    )
    assert profile.top_frames(collapsed) == [
        ("may_need_redaction (/x/genai_telemetry/redaction.py:9)", 4),
        ("info (/x/structlog/_native.py:1)", 3),
    ]


@pytest.fixture(scope="module", params=[False, True], ids=["interleaved", "together"])
def short_run(request: pytest.FixtureRequest) -> dict[str, Any]:
    return peers.run(quick=True, rounds=1, seconds=1.0, concurrency=2, together=request.param)


def test_every_variant_answers_every_request(short_run: dict[str, Any]) -> None:
    assert short_run["variants"], "no variant ran"
    for name, variant in short_run["variants"].items():
        assert variant["requests"] > 0 and variant["ok"] == variant["requests"], name


def test_each_variant_emits_what_its_row_claims(short_run: dict[str, Any]) -> None:
    counts = short_run["counts_per_request"]
    rag, official = counts["rag-api on"], counts["official on"]
    # rag-api: the contract's 6 spans, 5 log records per generated answer (http_request,
    # chat_answered and 3 gen_ai.evaluation.result events; no httpx line), 16 histogram
    # observations (14 before the per-agent durations).
    assert rag["spans"] == pytest.approx(6.0)
    assert rag["logs_with_trace"] == pytest.approx(5.0)
    assert rag["observations"] == pytest.approx(16.0)
    # The official stack: server span + its 3 ASGI receive/send spans + embeddings + chat; 8
    # histogram observations (3 HTTP + 2 operation durations + 3 token usages), no log record.
    assert official["spans"] == pytest.approx(6.0)
    assert official["observations"] == pytest.approx(8.0)
    assert official["logs"] == 0
    for off in ("rag-api off", "official off", figures.FLOOR):
        assert counts[off]["spans"] == counts[off]["logs"] == counts[off]["observations"] == 0
        assert short_run["sinks"][off] is None


def test_ratios_are_reported(short_run: dict[str, Any]) -> None:
    assert short_run["floor_us"] > 0
    for key in ("ratio_to_official", "ratio_to_floor", "ratio_to_floor_under_load"):
        assert isinstance(short_run[key], float), key
    by_round = short_run["ratio_to_official_by_round"]
    assert by_round is None or by_round["min"] <= by_round["median"] <= by_round["max"]
    assert set(short_run["telemetry_cpu_us_per_request"]) == {
        "rag-api",
        "official",
        figures.FLOOR,
    }
    assert set(short_run["throughput_loss"]) == {"rag-api", "official", figures.FLOOR}
    assert set(short_run["throughput_loss_by_round"]) == {"rag-api", "official", figures.FLOOR}
    beyond = short_run["loss_beyond_floor_by_round"]
    assert beyond is not None and beyond["min"] <= beyond["median"] <= beyond["max"]
    for loss in short_run["throughput_loss_by_round"].values():
        assert loss is not None and loss["min"] <= loss["median"] <= loss["max"]


def test_rounds_keep_twins_adjacent_and_alternate() -> None:
    orders = [peers.round_order(r) for r in range(4)]
    for order in orders:
        assert sorted(order) == sorted(peers.VARIANTS)
        for a, b in [(on, off) for _, on, off in figures.PAIRS] + [(figures.FLOOR, "rag-api off")]:
            assert abs(order.index(a) - order.index(b)) == 1, (a, b, order)
    assert [order[0] for order in orders] == [
        "rag-api on",
        "official off",
        "official on",
        figures.FLOOR,
    ]


def test_peer_traffic_leaves_the_model_to_each_app() -> None:
    import json

    from bench import loadgen

    method, path, body, _ = loadgen.TRAFFIC[peers.TRAFFIC]()(3)
    payload = json.loads(body)
    assert (method, path) == ("POST", "/v1/chat")
    assert "model" not in payload and payload["question"] in loadgen.QUESTIONS
    assert "model" in json.loads(loadgen.TRAFFIC["steady"]()(3)[2])
