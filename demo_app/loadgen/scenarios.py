"""Load and validate `scenarios.yaml`: the ONE data file describing every demo scenario.

Errors name the file and line (`demo_app/loadgen/scenarios.yaml:42: scenario 'error-burst': ...`),
so an operator editing it (or a file of their own: `--scenarios PATH`) sees where it is wrong.
The schema is small and checked here by hand (no extra dependency);
`tests/loadgen/test_scenarios.py` holds the contract.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from demo_app.faults import KNOB_BOUNDS
from demo_app.loadgen.model import (
    E2E,
    WATCHDOG,
    AlertRef,
    Mix,
    Phase,
    Scenario,
    ScenarioFile,
    UnknownScenarioError,
)
from demo_app.loadgen.yamllines import (
    Ctx,
    LineDict,
    ScenarioError,
    check_keys,
    line_of,
    load_with_lines,
    number,
    weights,
)

SCENARIOS_FILE = Path(__file__).with_name("scenarios.yaml")
# Requests per second one generator can pace (a scenario's rate, `--rate`).
MAX_RATE = 1000.0

# Fault knobs of PUT /admin/faults and their valid ranges: the app's own definition.
FAULT_KNOBS = KNOB_BOUNDS
# The question sources a request draws from (weights, normalised at use).
QUESTION_SOURCES = ("corpus", "off_topic", "arithmetic", "repeated", "injection", "pii")
MIX_KEYS = ("stream", "questions", "tiers", "features", "models")
FEEDBACK_KEYS = ("feedback", "dislike")  # optional mix keys (default 0: no feedback)
ANY_OTHER = "*"  # in `forbid`: every alert not listed in `raise` (Watchdog is always allowed)

__all__ = [
    "ANY_OTHER",
    "E2E",
    "FAULT_KNOBS",
    "SCENARIOS_FILE",
    "WATCHDOG",
    "AlertRef",
    "Mix",
    "Phase",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "UnknownScenarioError",
    "load_scenarios",
]


def _mix(ctx: Ctx, d: Any, where: str, base: Mix | None, line: int) -> Mix:
    optional = (*(MIX_KEYS if base else ()), *FEEDBACK_KEYS)
    check_keys(ctx, d, where, () if base else MIX_KEYS, optional, line)
    from genai_telemetry.semconv import FEATURES, USER_TIERS

    def pick(key: str, parse):
        if key in d:
            return parse(key)
        assert base is not None
        return getattr(base, key)

    own = "models" in d
    models_at = f"{ctx.label}:{line_of(d, 'models')}" if own else getattr(base, "models_at", "")
    return Mix(
        stream=pick("stream", lambda k: number(ctx, d, k, where, 0.0, 1.0)),
        questions=pick("questions", lambda k: weights(ctx, d, k, where, QUESTION_SOURCES)),
        tiers=pick("tiers", lambda k: weights(ctx, d, k, where, USER_TIERS)),
        features=pick("features", lambda k: weights(ctx, d, k, where, FEATURES)),
        # Any name here: which models the app serves depends on its provider (OPENAI_MODEL), so
        # the runner checks them against the running app before any traffic.
        models=pick("models", lambda k: weights(ctx, d, k, where, None)),
        models_at=models_at,
        **{
            k: number(ctx, d, k, where, 0.0, 1.0) if k in d else getattr(base, k, 0.0)
            for k in FEEDBACK_KEYS
        },
    )


def _faults(ctx: Ctx, phase: Any, where: str) -> dict[str, float]:
    d = phase.get("faults")
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise ctx.fail(line_of(phase, "faults"), where, "faults must be a mapping of knob: value")
    out = {}
    for k in d:
        if k not in FAULT_KNOBS:
            raise ctx.fail(
                line_of(d, k),
                where,
                f"unknown fault knob {k!r} (allowed: {', '.join(FAULT_KNOBS)})",
            )
        lo, hi = FAULT_KNOBS[k]
        out[k] = number(ctx, d, k, where, lo, hi)
    return out


def _alerts(ctx: Ctx, parent: Any, key: str, where: str, allow_any: bool = False):
    if key not in parent or parent[key] is None:
        return (), False
    lst = parent[key]
    line = line_of(parent, key)
    if not isinstance(lst, list):
        raise ctx.fail(line, where, f"{key} must be a list of alert names")
    refs: list[AlertRef] = []
    any_other = False
    for i, item in enumerate(lst):
        if allow_any and item == ANY_OTHER:
            any_other = True
            continue
        if not isinstance(item, str):
            why = f"{key}: entries must be alert names (got {item!r})"
            raise ctx.fail(line_of(lst, i, line), where, why)
        try:
            refs.append(AlertRef.parse(item))
        except ValueError as exc:
            raise ctx.fail(line_of(lst, i, line), where, f"{key}: {exc}") from None
    return tuple(refs), any_other


def _phases(ctx: Ctx, d: Any, where: str) -> tuple[Phase, ...]:
    phases_raw = d["phases"]
    if not isinstance(phases_raw, list) or not phases_raw:
        raise ctx.fail(line_of(d, "phases"), where, "phases must be a non-empty list")
    phases = []
    for i, p in enumerate(phases_raw):
        pw = f"{where}: phases[{i}]"
        line = line_of(phases_raw, i)
        check_keys(ctx, p, pw, ("name", "duration"), ("rate_factor", "faults"), line)
        if not isinstance(p["name"], str) or not p["name"]:
            raise ctx.fail(line_of(p, "name"), pw, "name must be a non-empty string")
        phases.append(
            Phase(
                name=p["name"],
                duration=number(ctx, p, "duration", pw, 1.0, 86400.0),
                rate_factor=number(ctx, p, "rate_factor", pw, 0.0, 1000.0)
                if "rate_factor" in p
                else 1.0,
                faults=_faults(ctx, p, pw),
            )
        )
    return tuple(phases)


def _expect(
    ctx: Ctx, d: Any, where: str
) -> tuple[tuple[AlertRef, ...], tuple[AlertRef, ...], bool]:
    """expect.raise, expect.forbid and whether forbid holds `*` (any other alert)."""
    ew = f"{where}: expect"
    expect = d["expect"]
    check_keys(ctx, expect, ew, ("raise", "forbid"), (), line_of(d, "expect"))
    raise_refs, _ = _alerts(ctx, expect, "raise", ew)
    forbid_refs, any_other = _alerts(ctx, expect, "forbid", ew, allow_any=True)
    for ref in raise_refs:
        if ref in forbid_refs:
            raise ctx.fail(line_of(expect, "forbid"), ew, f"{ref} is both raised and forbidden")
    return raise_refs, forbid_refs, any_other


def _e2e(
    ctx: Ctx,
    d: Any,
    where: str,
    raised: tuple[AlertRef, ...],
    default_mix: Mix,
    scenario_length: float,
) -> E2E:
    e2e_raw = LineDict() if d.get("e2e") is None else d["e2e"]
    e2e_where = f"{where}: e2e"
    e2e_keys = ("webhook", "pending_ok", "resolve", "duration", "app_env", "history_mix")
    check_keys(ctx, e2e_raw, e2e_where, (), e2e_keys, line_of(d, "e2e"))
    webhook, _ = _alerts(ctx, e2e_raw, "webhook", e2e_where)
    pending_ok, _ = _alerts(ctx, e2e_raw, "pending_ok", e2e_where)
    resolve, _ = _alerts(ctx, e2e_raw, "resolve", e2e_where)
    for ref in (*webhook, *pending_ok, *resolve):
        if ref not in raised:
            why = f"{ref} is checked in e2e but not listed in expect.raise"
            raise ctx.fail(line_of(e2e_raw), e2e_where, why)
    for ref in webhook:
        if ref in pending_ok:
            raise ctx.fail(
                line_of(e2e_raw), e2e_where, f"{ref} cannot be both webhook and pending_ok"
            )
    app_env = e2e_raw.get("app_env") or {}
    if not isinstance(app_env, dict) or not all(
        isinstance(v, str | int | float) for v in (*app_env, *app_env.values())
    ):
        why = "app_env must be a mapping of NAME: value"
        raise ctx.fail(line_of(e2e_raw, "app_env"), e2e_where, why)
    duration = None
    if "duration" in e2e_raw:  # a shortened run, never a longer one
        duration = number(ctx, e2e_raw, "duration", e2e_where, 1.0, scenario_length)
    if (history_mix := e2e_raw.get("history_mix")) not in (None, "default"):
        raise ctx.fail(line_of(e2e_raw, "history_mix"), e2e_where, "history_mix must be 'default'")
    return E2E(
        webhook=webhook,
        pending_ok=pending_ok,
        resolve=resolve,
        duration=duration,
        app_env={str(k): str(v) for k, v in app_env.items()},
        history_mix=default_mix if history_mix == "default" else None,
    )


def _scenario(ctx: Ctx, name: str, d: Any, default_mix: Mix, line: int) -> Scenario:
    where = f"scenario {name!r}"
    check_keys(ctx, d, where, ("description", "rate", "phases", "expect"), ("mix", "e2e"), line)
    desc = d["description"]
    if not isinstance(desc, str) or not desc.strip() or "\n" in desc.strip():
        raise ctx.fail(line_of(d, "description"), where, "description must be one line of text")
    rate = number(ctx, d, "rate", where, 0.01, MAX_RATE)
    mix = default_mix
    if "mix" in d:
        mix = _mix(ctx, d["mix"], f"{where}: mix", default_mix, line_of(d, "mix"))
    phases = _phases(ctx, d, where)
    raise_refs, forbid_refs, any_other = _expect(ctx, d, where)
    return Scenario(
        name=name,
        description=desc.strip(),
        rate=rate,
        phases=phases,
        mix=mix,
        expect_raise=raise_refs,
        forbid=forbid_refs,
        forbid_any_other=any_other,
        e2e=_e2e(ctx, d, where, raise_refs, default_mix, sum(p.duration for p in phases)),
        line=line,
    )


def load_scenarios(path: Path = SCENARIOS_FILE) -> ScenarioFile:
    """Parse and validate the scenario file; raises ScenarioError naming file and line."""
    ctx = Ctx(path)
    raw = load_with_lines(path, ctx.label)
    check_keys(ctx, raw, "", ("version", "mix", "scenarios"), (), line_of(raw, default=1))
    if raw["version"] != 1:
        raise ctx.fail(line_of(raw, "version"), "", f"unsupported version {raw['version']!r}")
    default_mix = _mix(ctx, raw["mix"], "mix", None, line_of(raw, "mix"))
    scen_raw = raw["scenarios"]
    if not isinstance(scen_raw, dict) or not scen_raw:
        raise ctx.fail(line_of(raw, "scenarios"), "", "scenarios must be a non-empty mapping")
    out = ScenarioFile(path, default_mix)
    for name in scen_raw:
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
            raise ctx.fail(
                line_of(scen_raw, name), "", f"scenario name {name!r} must be kebab-case"
            )
        out.scenarios[name] = _scenario(
            ctx, name, scen_raw[name], default_mix, line_of(scen_raw, name)
        )
    return out
