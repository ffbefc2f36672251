"""docs/telemetry.md (the telemetry contract users read) says what
genai_telemetry/semconv.py says: metric names, label sets, buckets and bounded values. It needs
nothing outside the checkout, so it runs everywhere."""

from __future__ import annotations

import re

import pytest

from demo_app.api.errors import provider_error
from demo_app.providers.base import ProviderError
from genai_telemetry import semconv as sc
from harness import ROOT

DOC = (ROOT / "docs" / "telemetry.md").read_text()
METRICS = DOC.split("## Metrics", 1)[1].split("\n## ", 1)[0]


def _row(first_cell: str) -> list[str]:
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in METRICS.splitlines()
        if line.startswith("|")
    ]
    found = [r for r in rows if r[0] == first_cell]
    assert len(found) == 1, f"docs/telemetry.md § Metrics: one row for {first_cell}: {found}"
    return found[0]


def test_metric_table_lists_exactly_the_contract_metrics() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \| (?:histogram|counter|gauge)", METRICS, re.M))
    assert documented == set(sc.METRIC_LABELS)


@pytest.mark.parametrize("metric", sorted(sc.METRIC_LABELS))
def test_metric_row_has_exactly_the_contract_labels(metric: str) -> None:
    labels_cell = _row(f"`{metric}`")[2]
    documented = set(re.findall(r"`([a-z_]+)`", labels_cell.split("(")[0]))
    assert documented == set(sc.METRIC_LABELS[metric]), labels_cell


def test_bucket_lines_are_the_rendered_bounds() -> None:
    duration = " ".join(sc.le(b) for b in sc.DURATION_BUCKETS)
    tokens = " ".join(sc.le(b) for b in sc.TOKEN_BUCKETS)
    docs = " ".join(sc.le(b) for b in sc.RETRIEVAL_DOCUMENT_BUCKETS)
    chunks = " ".join(sc.le(b) for b in sc.CHUNK_BUCKETS)
    assert f"duration (s): `{duration}`" in METRICS
    assert f"chunk gaps (s): `{chunks}`" in METRICS
    assert f"tokens: `{tokens}`" in METRICS
    assert f"retrieval documents: `{docs}`" in METRICS
    assert f"score: `{sc.le(sc.SCORE_BUCKETS[0])} … {sc.le(sc.SCORE_BUCKETS[-1])}`" in METRICS


@pytest.mark.parametrize(
    ("label", "values"),
    [
        (sc.L_ERROR_TYPE, sc.ERROR_TYPES),
        (sc.L_FEATURE, sc.FEATURES),
        (sc.L_USER_TIER, sc.USER_TIERS),
    ],
)
def test_bounded_values_table(label: str, values: tuple[str, ...]) -> None:
    cell = _row(f"`{label}`")[1]
    # The empty value is written `""` in the docs.
    documented = {"" if v == '""' else v for v in re.findall(r"`([^`]*)`", cell)} - {sc.OTHER}
    assert documented == set(values) - {sc.OTHER}, cell
    assert sc.OTHER in cell, "unknown values map to _OTHER"


@pytest.mark.parametrize(
    ("label", "values"),
    [
        (sc.L_TOOL_NAME, sc.TOOL_NAMES),
        (sc.L_GUARDRAIL, sc.GUARDRAILS),
        (sc.L_GUARDRAIL_ACTION, sc.GUARDRAIL_ACTIONS),
        (sc.L_PROMPT_VERSION, sc.PROMPT_VERSIONS),
    ],
)
def test_bounded_values_of_the_tool_guardrail_and_version_labels(
    label: str, values: tuple[str, ...]
) -> None:
    """Every value documented, nothing more (lower-case code spans are values; `_OTHER`,
    `semconv.TOOL_NAMES` and `PROMPT_VERSIONS` are not)."""
    cell = _row(f"`{label}`")[1]
    assert set(re.findall(r"`([a-z0-9_]+)`", cell)) == set(values), cell


def test_thresholds_sit_on_bucket_bounds() -> None:
    # docs/slos.md: latency SLO at 5.12 s, TTFT at 1.28 s, faithfulness at 0.7.
    assert 5.12 in sc.DURATION_BUCKETS
    assert 1.28 in sc.DURATION_BUCKETS
    assert 0.7 in sc.SCORE_BUCKETS


@pytest.mark.parametrize(
    ("bound", "expected"),
    [(5.12, "5.12"), (1.0, "1.0"), (1024, "1024.0"), (1048576, "1.048576e+06"), (0.7, "0.7")],
)
def test_le_strings_are_go_floats(bound: float, expected: str) -> None:
    assert sc.le(bound) == expected


def test_bounded_maps_unknown_values_to_other() -> None:
    assert sc.bounded("pro", sc.USER_TIERS) == "pro"
    assert sc.bounded("user-1234", sc.USER_TIERS) == sc.OTHER
    assert sc.bounded(None, sc.FEATURES) == sc.OTHER


@pytest.mark.parametrize(
    ("error_type", "upstream"),
    [("server_error", 500), ("client_error", 400), ("client_error", 404), ("client_error", 401),
     ("rate_limited", 429), ("timeout", None), ("_OTHER", None)],
)  # fmt: skip
def test_status_table_gives_each_provider_error_its_answer(
    error_type: str, upstream: int | None
) -> None:
    mapped = provider_error(ProviderError("x", error_type=error_type, status_code=upstream))
    table = DOC.split("## HTTP status mapping", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if f"`{mapped.error}`" in line]
    assert len(rows) == 1, f"docs/telemetry.md § HTTP status mapping: one row for {mapped.error}"
    assert rows[0].split("|")[2].strip().startswith(str(mapped.status)), rows[0]
