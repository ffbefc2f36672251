"""Fault injection knobs for demos and tests.

A `FaultProfile` is a complete set of knobs; a `FaultStore` holds the current one (thread-safe,
swapped atomically by `PUT /admin/faults`). Faults act INSIDE the simulated provider and the
retriever, so the telemetry shows them exactly like a real incident:

- `error_rate` (0–1): probability a chat call fails with
  `ProviderError(server_error, 500)`. Always server_error, never timeout, so the demo's
  classification is deterministic.
- `rate_limit_rate` (0–1): probability a call fails with `ProviderError(rate_limited, 429)`
  carrying `retry_after_s`. Checked before error_rate; both fail fast-ish (before generation).
- `latency_multiplier` (0–20, default 1): scales all simulated latency (time to first chunk and
  generation).
- `extra_ttft_seconds` (0–120): added before the first chunk, and to non-streamed responses. Like
  all simulated latency it is multiplied by `SIM_LATENCY_SCALE` (so fast e2e runs stay fast;
  at the default scale 1 it is exactly the configured seconds).
- `output_token_multiplier` (0–20, default 1): scales output tokens (a cost spike), still
  capped by the request's max_tokens and the model's max output.
- `retrieval_degradation` (0–1): probability a query returns no documents; otherwise every
  score is multiplied by (1 − degradation), so quality drops and weak documents fall below the
  retriever's minimum score.
- `tool_error_rate` (0–1): probability a calculator tool call fails as its backend would
  (`server_error`); the calculator agent answers that the tool is unavailable (HTTP 200), so
  only the tool's own failure ratio shows it (LLMToolErrorRatioHigh), no model-call alert.

Every knob is bounded (`KNOB_BOUNDS`, also published in the OpenAPI schema of PUT /admin/faults):
no value can overflow a computation or make a request wait without end. Whatever the knobs, a
chat request ends within REQUEST_TIMEOUT_SECONDS (504 `provider_timeout`, error type `timeout`,
like a provider that is too slow; demo_app/api/routes.py).

Environment defaults: `FAULT_ERROR_RATE`, `FAULT_RATE_LIMIT_RATE`, `FAULT_LATENCY_MULTIPLIER`,
`FAULT_EXTRA_TTFT_SECONDS`, `FAULT_OUTPUT_TOKEN_MULTIPLIER`, `FAULT_RETRIEVAL_DEGRADATION`,
`FAULT_TOOL_ERROR_RATE`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

ENV_PREFIX = "FAULT_"


class FaultProfileError(ValueError):
    """A knob has an invalid value. `field` names the knob, `reason` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# knob -> (lower bound, upper bound). Upper bounds: 20× latency or output is a drastic incident
# already; 120 s of extra time to first token outlasts the request timeout's default.
KNOB_BOUNDS: dict[str, tuple[float, float]] = {
    "error_rate": (0.0, 1.0),
    "rate_limit_rate": (0.0, 1.0),
    "latency_multiplier": (0.0, 20.0),
    "extra_ttft_seconds": (0.0, 120.0),
    "output_token_multiplier": (0.0, 20.0),
    "retrieval_degradation": (0.0, 1.0),
    "tool_error_rate": (0.0, 1.0),
}


@dataclass(frozen=True)
class FaultProfile:
    """A complete, validated set of fault knobs (the defaults mean "healthy")."""

    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    latency_multiplier: float = 1.0
    extra_ttft_seconds: float = 0.0
    output_token_multiplier: float = 1.0
    retrieval_degradation: float = 0.0
    tool_error_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, (low, high) in KNOB_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FaultProfileError(name, f"must be a number, got {type(value).__name__}")
            if not math.isfinite(value):
                raise FaultProfileError(name, "must be a finite number")
            if not low <= value <= high:
                raise FaultProfileError(
                    name, f"must be between {low:g} and {high:g}, got {value!r}"
                )
            object.__setattr__(self, name, float(value))

    @classmethod
    def knobs(cls) -> tuple[str, ...]:
        """Names of all knobs, in declaration order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultProfile:
        """A full profile from a mapping; omitted knobs take defaults, unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise FaultProfileError("body", "must be a JSON object")
        unknown = sorted(set(data) - set(cls.knobs()))
        if unknown:
            raise FaultProfileError(unknown[0], f"unknown knob; allowed: {', '.join(cls.knobs())}")
        return cls(**dict(data))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FaultProfile:
        """Defaults from `FAULT_<KNOB>` variables (e.g. FAULT_ERROR_RATE=0.2); empty = unset."""
        values: dict[str, float] = {}
        for name in cls.knobs():
            env_name = ENV_PREFIX + name.upper()
            raw = environ.get(env_name, "").strip()
            if not raw:
                continue
            try:
                values[name] = float(raw)
            except ValueError:
                raise FaultProfileError(env_name, f"must be a number, got {raw!r}") from None
        try:
            return cls(**values)
        except FaultProfileError as exc:
            raise FaultProfileError(ENV_PREFIX + exc.field.upper(), exc.reason) from None

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def is_healthy(self) -> bool:
        """True when every knob is at its default (no fault injected)."""
        return self == FaultProfile()


class FaultStore:
    """Holds the current FaultProfile; safe to read and replace from any thread or task."""

    def __init__(self, profile: FaultProfile | None = None) -> None:
        self._lock = threading.Lock()
        self._profile = profile or FaultProfile()

    def get(self) -> FaultProfile:
        with self._lock:
            return self._profile

    def set(self, profile: FaultProfile) -> None:
        if not isinstance(profile, FaultProfile):
            raise TypeError("FaultStore.set expects a FaultProfile")
        with self._lock:
            self._profile = profile

    def reset(self) -> None:
        """Back to the healthy defaults (not the env defaults)."""
        self.set(FaultProfile())
