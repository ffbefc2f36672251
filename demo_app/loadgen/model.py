"""What a scenario is: the data classes `scenarios.py` builds from `scenarios.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WATCHDOG = "Watchdog"

_ALERT_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\{(.*)\})?$")
_LABEL_RE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^",]*)"?\s*$')


@dataclass(frozen=True)
class AlertRef:
    """An alert name plus label matchers, written `Name` or `Name{label=value,...}`."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> AlertRef:
        m = _ALERT_RE.match(text.strip())
        if not m:
            raise ValueError(f"alert reference {text!r} is not Name or Name{{label=value,...}}")
        labels: list[tuple[str, str]] = []
        if m.group(2) is not None:
            for part in filter(None, (p.strip() for p in m.group(2).split(","))):
                lm = _LABEL_RE.match(part)
                if not lm:
                    raise ValueError(f"alert reference {text!r}: bad label matcher {part!r}")
                labels.append((lm.group(1), lm.group(2)))
        return cls(m.group(1), tuple(sorted(labels)))

    def matches(self, alert_labels: dict[str, str]) -> bool:
        """True when an alert's label set (incl. `alertname`) is this reference."""
        if alert_labels.get("alertname") != self.name:
            return False
        return all(alert_labels.get(k) == v for k, v in self.labels)

    def __str__(self) -> str:
        if not self.labels:
            return self.name
        return self.name + "{" + ",".join(f"{k}={v}" for k, v in self.labels) + "}"


@dataclass(frozen=True)
class Mix:
    """What the traffic looks like: streaming share and weighted choices for every request."""

    stream: float
    questions: dict[str, float]
    tiers: dict[str, float]
    features: dict[str, float]
    models: dict[str, float]
    feedback: float = 0.0  # share of answers the user rates (POST /v1/feedback)
    dislike: float = 0.0  # share of those verdicts negative whatever the answer
    # `file:line` of the `models` entry, for the run-time check against the app's models.
    models_at: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "questions": dict(self.questions),
            "tiers": dict(self.tiers),
            "features": dict(self.features),
            "models": dict(self.models),
            "feedback": self.feedback,
            "dislike": self.dislike,
        }


@dataclass(frozen=True)
class Phase:
    name: str
    duration: float  # seconds
    rate_factor: float  # multiplies the scenario's base rate
    faults: dict[str, float]  # the FULL profile for this phase ({} = healthy)


@dataclass(frozen=True)
class E2E:
    """How the end-to-end tier proves the scenario (tests/e2e)."""

    webhook: tuple[AlertRef, ...]  # must arrive at rag-api /v1/alerts through Alertmanager
    pending_ok: tuple[AlertRef, ...]  # `for:` outlasts the scenario: pending is enough
    resolve: tuple[AlertRef, ...]  # must resolve after the last phase (recovery)
    # Seconds the e2e tier plays the scenario in, its phases shortened in proportion (None: its
    # own length). Only for what needs no alert window filled (steady, traffic-spike).
    duration: float | None
    app_env: dict[str, str]  # extra rag-api environment (e.g. SIM_LATENCY_SCALE)
    # The mix of the healthy traffic sampled for the history and sent until the first phase,
    # when the scenario's own mix is its fault (guardrail-probe); None: the scenario's mix.
    history_mix: Mix | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    rate: float  # base requests per second
    phases: tuple[Phase, ...]
    mix: Mix
    expect_raise: tuple[AlertRef, ...]
    forbid: tuple[AlertRef, ...]
    forbid_any_other: bool  # `forbid: ["*"]`
    e2e: E2E
    line: int = 0

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.phases)

    @property
    def faulty(self) -> bool:
        return any(p.faults for p in self.phases)

    def fault_summary(self) -> str:
        if not self.faulty:
            return "none"
        parts = []
        for p in self.phases:
            knobs = ", ".join(f"{k}={v:g}" for k, v in p.faults.items()) or "none"
            parts.append(knobs if len(self.phases) == 1 else f"{p.name}: {knobs}")
        return "; ".join(parts)

    def is_forbidden(self, labels: dict[str, str]) -> bool:
        """Would an alert with these labels break the scenario's "must not raise" list?"""
        if labels.get("alertname") == WATCHDOG:
            return False
        if any(ref.matches(labels) for ref in self.forbid):
            return True
        return self.forbid_any_other and not any(ref.matches(labels) for ref in self.expect_raise)

    def scaled(self, *, rate: float | None = None, duration: float | None = None) -> Scenario:
        """The scenario with another base rate and/or total duration (phases keep proportions)."""
        phases = self.phases
        if duration is not None:
            factor = duration / self.duration
            phases = tuple(
                Phase(p.name, p.duration * factor, p.rate_factor, p.faults) for p in phases
            )
        return Scenario(
            self.name,
            self.description,
            self.rate if rate is None else rate,
            phases,
            self.mix,
            self.expect_raise,
            self.forbid,
            self.forbid_any_other,
            self.e2e,
            self.line,
        )


@dataclass
class ScenarioFile:
    path: Path
    default_mix: Mix
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.scenarios)

    def get(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            raise UnknownScenarioError(name, self.names()) from None


class UnknownScenarioError(KeyError):
    def __init__(self, name: str, valid: list[str]):
        super().__init__(name)
        self.name = name
        self.valid = valid

    def __str__(self) -> str:
        return f"unknown scenario {self.name!r}; valid scenarios: {', '.join(self.valid)}"
