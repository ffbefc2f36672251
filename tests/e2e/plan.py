"""How long the e2e tier plays each phase of a scenario, and what it waits for.

A real run (`make incident`) holds each phase's faults for the phase's length, clears them, and
the alerts the windows still hold go on firing (or not) afterwards. The e2e tier plays the same:
- a phase lasts its scenario length (scaled only where `e2e.duration` shortens a scenario that
  needs no alert window filled), whether or not its expected alerts have fired by then;
- after the last phase the faults are cleared and every alert is watched GRACE_S more: forbidden
  alerts for the whole run plus that grace, expected ones may still arrive in it;
- one exception keeps the tier in its time budget: a fault phase followed by a recovery phase
  (`e2e.resolve`) ends as soon as its alerts have paged (the fix comes when on-call is paged,
  never later than the phase's length), and the recovery phase lasts until they resolve (at most
  its length plus GRACE_S). Forbidden alerts are watched through both, and the recovery phase
  outlasts any grace.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo_app.loadgen.scenarios import AlertRef, Scenario

# What the windows hold when the faults are cleared can still raise an alert (a `for:` running
# out, a ratio crossing late): a minute of watching after the run.
GRACE_S = 60.0


@dataclass(frozen=True)
class PhasePlan:
    length: float  # seconds: the most the phase lasts
    goals: tuple[tuple[str, AlertRef], ...]  # ("raise" | "resolve", alert) to meet in it
    until_met: bool  # ends as soon as its goals are met (else it lasts `length`)


def phase_plans(s: Scenario) -> list[PhasePlan]:
    scale = s.e2e.duration / s.duration if s.e2e.duration else 1.0
    plans = []
    for i, phase in enumerate(s.phases):
        length = phase.duration * scale
        fixed_next = i + 1 < len(s.phases) and _is_recovery(s, i + 1)
        if phase.faults and fixed_next:
            plans.append(PhasePlan(length, _goals("raise", s.expect_raise), until_met=True))
        elif _is_recovery(s, i):
            goals = _goals("resolve", s.e2e.resolve)
            plans.append(PhasePlan(length + GRACE_S, goals, until_met=True))
        else:
            plans.append(PhasePlan(length, (), until_met=False))
    return plans


def final_goals(s: Scenario) -> tuple[tuple[str, AlertRef], ...]:
    """What must be met by the end of the grace: the expected alerts, unless a fix already
    waited for them."""
    if any(p.until_met and kind == "raise" for p in phase_plans(s) for kind, _ in p.goals):
        return ()
    return _goals("raise", s.expect_raise)


def grace(s: Scenario) -> float:
    """Seconds watched after the last phase: none after a recovery phase, which watched the
    alerts long after its faults ended."""
    return 0.0 if _is_recovery(s, len(s.phases) - 1) else GRACE_S


def _is_recovery(s: Scenario, i: int) -> bool:
    before = s.phases[:i]
    return bool(s.e2e.resolve) and not s.phases[i].faults and any(p.faults for p in before)


def _goals(kind: str, refs: tuple[AlertRef, ...]) -> tuple[tuple[str, AlertRef], ...]:
    return tuple((kind, ref) for ref in refs)
