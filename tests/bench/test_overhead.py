"""bench/overhead.py's side-by-side baseline plumbing (no load is run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import common, overhead

SUFFIXES = ["", " @HEAD~3", " @v1.2"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("on", ("on", "")),
        ("on, no tracing", ("on, no tracing", "")),
        ("on @HEAD~3", ("on", " @HEAD~3")),
        ("on, 10% traces @v1.2", ("on, 10% traces", " @v1.2")),
    ],
)
def test_row_labels_split_into_variant_and_version(label: str, expected: tuple[str, str]) -> None:
    assert overhead._split(label, SUFFIXES) == expected


def test_checkout_app_extracts_the_package_at_a_ref(tmp_path: Path) -> None:
    source = common.checkout_app("HEAD", tmp_path / "base")
    assert (source / "demo_app" / "__main__.py").is_file()
    assert (source / "genai_telemetry" / "prices.yaml").is_file()
    assert not (source / "tests").exists()


def test_checkout_app_names_a_bad_ref(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no-such-ref"):
        common.checkout_app("no-such-ref", tmp_path / "base")
