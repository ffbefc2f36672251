"""docs/configuration.md's defaults are the app's: for every variable whose default the tables give
as a literal, setting that value changes nothing, and setting another one changes what rag-api
reads (or stops it with a configuration error), so the variable is read at all."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from demo_app.config import ConfigError, Settings
from demo_app.providers.openai_compatible import OpenAICompatibleProvider
from demo_app.versions import PromptVersion
from genai_telemetry.config import sdk_disabled
from harness import ROOT

DOC = (ROOT / "docs" / "configuration.md").read_text()
# A row of several variables with one default: the same knob per signal (OTEL_BSP_* / OTEL_BLRP_*,
# OTEL_TRACES_* / OTEL_LOGS_*); names equal without these words share the default.
_SIGNAL = re.compile(r"_(?:BSP|BLRP|TRACES|LOGS)(?=_)")


def documented_defaults(doc: str) -> dict[str, str]:
    """Variable → default, from table rows whose default cell is backticked literals only:
    `x` for every variable of the row (variables of one knob per signal), `x` / `y` pairwise;
    `NAME_RPS` / `_BURST` names NAME_BURST."""
    defaults: dict[str, str] = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z_][A-Z0-9_]*)`", cells[0])
        names = [n if not n.startswith("_") else names[0].rsplit("_", 1)[0] + n for n in names]
        values = re.fullmatch(r"`([^`]*)`((?: / `[^`]*`)*)", cells[1])
        if not names or not values:
            continue
        literals = [values.group(1), *re.findall(r"`([^`]*)`", values.group(2))]
        if len(literals) == len(names):
            defaults.update(zip(names, literals, strict=True))
        elif len(literals) == 1 and len({_SIGNAL.sub("", n) for n in names}) == 1:
            defaults.update(dict.fromkeys(names, literals[0]))
    return defaults


def _provider(env: Mapping[str, str]) -> tuple[object, ...]:
    p = OpenAICompatibleProvider.from_env(env)
    fields = (p.base_url, p.default_chat_model, p.default_embedding_model, p.provider_name)
    return (*fields, p.timeout_s, p.max_retries, dict(p.models()))


def what_rag_api_reads(env: Mapping[str, str]) -> object:
    """Everything the variables of docs/configuration.md set, or the error they stop it with."""
    try:
        return (
            Settings.from_env(env),
            sdk_disabled(env),
            PromptVersion.from_env(env),
            _provider(env),
        )
    except (ConfigError, ValueError) as error:
        return type(error)


def _other(value: str) -> str:
    """A different value of the same kind."""
    flipped = {"true": "false", "false": "true"}
    if value in flipped:
        return flipped[value]
    if re.fullmatch(r"\d+", value):
        return str(int(value) + 1)
    if re.fullmatch(r"\d+\.\d+", value):
        return str(float(value) + 1)
    return "x" + value


DEFAULTS = documented_defaults(DOC)


def test_the_scanner_reads_rows_pairs_and_signals() -> None:
    doc = (
        "| `A` | `1` | x |\n| `B_RPS` / `_BURST` | `2` / `20` | x |\n"
        "| `OTEL_BSP_Q`, `OTEL_BLRP_Q` | `5` | x |\n| `S`, `S_ARG` | `on` | x |\n"
        "| `C` | — (off) | x |\n| `D` | `7` (simulated) | x |\n"
    )
    assert documented_defaults(doc) == {
        "A": "1", "B_RPS": "2", "B_BURST": "20", "OTEL_BSP_Q": "5", "OTEL_BLRP_Q": "5"
    }  # fmt: skip
    assert len(DEFAULTS) > 35, "docs/configuration.md: its tables moved"


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_documented_default_is_the_default(name: str) -> None:
    unset = what_rag_api_reads({})
    assert what_rag_api_reads({name: DEFAULTS[name]}) == unset, f"{name}={DEFAULTS[name]}"
    other = _other(DEFAULTS[name])
    assert what_rag_api_reads({name: other}) != unset, f"{name}={other} is not read"
