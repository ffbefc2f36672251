"""Fault profiles: validation naming field and reason, env defaults, the thread-safe store."""

from __future__ import annotations

import math
import threading

import pytest

from demo_app.faults import FaultProfile, FaultProfileError, FaultStore

KNOBS = (
    "error_rate",
    "rate_limit_rate",
    "latency_multiplier",
    "extra_ttft_seconds",
    "output_token_multiplier",
    "retrieval_degradation",
    "tool_error_rate",
)


def test_defaults_are_healthy() -> None:
    profile = FaultProfile()
    assert profile.is_healthy
    assert profile.to_dict() == {
        "error_rate": 0.0,
        "rate_limit_rate": 0.0,
        "latency_multiplier": 1.0,
        "extra_ttft_seconds": 0.0,
        "output_token_multiplier": 1.0,
        "retrieval_degradation": 0.0,
        "tool_error_rate": 0.0,
    }
    assert FaultProfile.knobs() == KNOBS


def test_from_mapping_is_a_full_profile_with_omitted_knobs_reset() -> None:
    profile = FaultProfile.from_mapping({"error_rate": 0.5, "latency_multiplier": 4})
    assert profile.error_rate == 0.5 and profile.latency_multiplier == 4.0
    assert isinstance(profile.latency_multiplier, float)
    assert profile.rate_limit_rate == 0.0 and profile.output_token_multiplier == 1.0
    assert not profile.is_healthy
    assert FaultProfile.from_mapping({}) == FaultProfile()
    assert FaultProfile.from_mapping(profile.to_dict()) == profile


@pytest.mark.parametrize(
    ("knob", "value", "reason"),
    [
        ("error_rate", 1.5, "must be between 0 and 1"),
        ("error_rate", -0.1, "must be between 0 and"),
        ("rate_limit_rate", 2, "must be between 0 and 1"),
        ("retrieval_degradation", 1.01, "must be between 0 and 1"),
        ("latency_multiplier", -1, "must be between 0 and"),
        ("extra_ttft_seconds", -0.5, "must be between 0 and"),
        ("output_token_multiplier", -2, "must be between 0 and"),
        ("output_token_multiplier", 1e308, "must be between 0 and 20, got 1e+308"),
        ("extra_ttft_seconds", 1e9, "must be between 0 and 120"),
        ("latency_multiplier", 20.5, "must be between 0 and 20"),
        # The value as sent: rounded, it read "must be between 0 and 20, got 20".
        ("latency_multiplier", 20.000000000000004, "got 20.000000000000004"),
        ("latency_multiplier", math.inf, "finite"),
        ("error_rate", math.nan, "finite"),
        ("error_rate", "0.5", "must be a number"),
        ("error_rate", True, "must be a number"),
        ("error_rate", None, "must be a number"),
    ],
)
def test_invalid_values_name_the_field_and_reason(knob: str, value: object, reason: str) -> None:
    with pytest.raises(FaultProfileError) as info:
        FaultProfile.from_mapping({knob: value})
    assert info.value.field == knob
    assert reason in info.value.reason
    assert knob in str(info.value)


def test_unknown_knob_is_rejected_listing_the_allowed_ones() -> None:
    with pytest.raises(FaultProfileError) as info:
        FaultProfile.from_mapping({"error_rate": 0.1, "chaos": 1})
    assert info.value.field == "chaos"
    assert "retrieval_degradation" in info.value.reason


def test_non_mapping_body_is_rejected() -> None:
    with pytest.raises(FaultProfileError, match="JSON object"):
        FaultProfile.from_mapping([1, 2])  # type: ignore[arg-type]


def test_from_env_reads_every_knob() -> None:
    env = {
        "FAULT_ERROR_RATE": "0.2",
        "FAULT_RATE_LIMIT_RATE": "0.1",
        "FAULT_LATENCY_MULTIPLIER": "4",
        "FAULT_EXTRA_TTFT_SECONDS": "1.5",
        "FAULT_OUTPUT_TOKEN_MULTIPLIER": "5",
        "FAULT_RETRIEVAL_DEGRADATION": " 0.6 ",
        "UNRELATED": "x",
    }
    assert FaultProfile.from_env(env) == FaultProfile(0.2, 0.1, 4.0, 1.5, 5.0, 0.6)
    assert FaultProfile.from_env({"FAULT_ERROR_RATE": ""}) == FaultProfile()


@pytest.mark.parametrize(
    ("env", "variable", "reason"),
    [
        ({"FAULT_ERROR_RATE": "lots"}, "FAULT_ERROR_RATE", "must be a number"),
        ({"FAULT_RETRIEVAL_DEGRADATION": "3"}, "FAULT_RETRIEVAL_DEGRADATION", "between 0 and 1"),
    ],
)
def test_from_env_errors_name_the_variable(env: dict, variable: str, reason: str) -> None:
    with pytest.raises(FaultProfileError) as info:
        FaultProfile.from_env(env)
    assert info.value.field == variable and reason in info.value.reason


def test_store_get_set_reset() -> None:
    store = FaultStore(FaultProfile(error_rate=0.3))
    assert store.get().error_rate == 0.3
    store.set(FaultProfile(latency_multiplier=4))
    assert store.get() == FaultProfile(latency_multiplier=4)
    store.reset()
    assert store.get().is_healthy
    with pytest.raises(TypeError):
        store.set({"error_rate": 1})  # type: ignore[arg-type]


def test_store_readers_always_see_a_whole_profile() -> None:
    store = FaultStore()
    a, b = FaultProfile(error_rate=1.0, rate_limit_rate=1.0), FaultProfile()
    torn: list[FaultProfile] = []

    def writer() -> None:
        for i in range(2000):
            store.set(a if i % 2 else b)

    def reader() -> None:
        for _ in range(2000):
            profile = store.get()
            if profile not in (a, b):
                torn.append(profile)

    threads = [
        threading.Thread(target=writer),
        *(threading.Thread(target=reader) for _ in range(3)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert torn == []
