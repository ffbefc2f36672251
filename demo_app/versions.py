"""The prompt-template / agent version this process runs, and its bounded metric label.

PROMPT_VERSION names the version (default v1); PROMPT_VERSIONS is the allow-list of values kept
as the `prompt_version` label (default semconv.PROMPT_VERSIONS); any other version is reported as
`_OTHER` on metrics while spans and logs keep the exact name. Read from the settings' environment
at start-up, so a bad value stops the app with a message naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from demo_app.config import ConfigError
from genai_telemetry import semconv as sc

PROMPT_VERSION_ENV = "PROMPT_VERSION"
PROMPT_VERSIONS_ENV = "PROMPT_VERSIONS"
DEFAULT_VERSION = "v1"
MAX_VERSIONS = 20  # series of llm_prompt_version_info per process stay ≤ 21
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


@dataclass(frozen=True)
class PromptVersion:
    name: str  # as configured (spans, logs)
    label: str  # bounded by the allow-list (metrics)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PromptVersion:
        raw_list = env.get(PROMPT_VERSIONS_ENV, "").strip()
        allowed = tuple(p.strip() for p in raw_list.split(",") if p.strip()) or sc.PROMPT_VERSIONS
        for value in allowed:
            _valid(PROMPT_VERSIONS_ENV, raw_list, value)
        if len(allowed) > MAX_VERSIONS:
            raise ConfigError(
                f"{PROMPT_VERSIONS_ENV}={raw_list!r}: at most {MAX_VERSIONS} versions"
            )
        name = env.get(PROMPT_VERSION_ENV, "").strip() or DEFAULT_VERSION
        _valid(PROMPT_VERSION_ENV, name, name)
        return cls(name, sc.bounded(name, allowed))


def _valid(var: str, raw: str, value: str) -> None:
    if value == sc.OTHER or not _NAME.fullmatch(value):
        raise ConfigError(
            f"{var}={raw!r}: {value!r} is not a version name (letters, digits, . _ -; "
            "at most 32 characters)"
        )
