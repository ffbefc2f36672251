"""OTEL_SDK_DISABLED: the spec's reading of `true`, and no silent ignoring of anything else."""

from __future__ import annotations

import pytest

from genai_telemetry.config import sdk_disabled


@pytest.mark.parametrize(
    ("raw", "disabled"),
    [(None, False), ("", False), ("false", False), ("FALSE", False), ("true", True),
     (" True ", True)],
)  # fmt: skip
def test_only_true_disables(raw: str | None, disabled: bool) -> None:
    environ = {} if raw is None else {"OTEL_SDK_DISABLED": raw}
    assert sdk_disabled(environ) is disabled


@pytest.mark.parametrize("raw", ["1", "yes", "on", "0", "no", "disabled"])
def test_anything_else_is_an_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match=f"OTEL_SDK_DISABLED='{raw}'"):
        sdk_disabled({"OTEL_SDK_DISABLED": raw})
