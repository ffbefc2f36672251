"""The PromQL an on-call engineer copies from a runbook's "Query" lines (docs/runbooks/*.md).

Shared by the static check (test_runbook_queries.py: parses, metric and label names from the
contract, the recording rules or the stack's own metrics) and the live one
(tests/grafana/test_queries_live.py: each runs on a real Prometheus without an error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT

RUNBOOKS = ROOT / "docs" / "runbooks"
# A placeholder the reader fills in, and the value the checks put there.
PLACEHOLDERS = {"<slo>": "chat-latency"}
_QUERY_LINE = re.compile(r"^\s*- Query\b.*$", re.M)
_CODE = re.compile(r"`([^`]+)`")
# file names and genai-obs.yaml keys (`error_types.rate_limited`) beside the queries
_NOT_PROMQL = re.compile(r"^[\w./-]+\.(?:ya?ml|md|py)$|^[a-z_]+(?:\.[a-z_]+)+$")


@dataclass(frozen=True)
class RunbookQuery:
    runbook: str
    text: str  # with the placeholders filled in

    @property
    def id(self) -> str:
        return f"{self.runbook}: {self.text}"


def runbook_queries(directory: Path = RUNBOOKS) -> list[RunbookQuery]:
    """Every code span of every "- Query…" line but file names and configuration keys."""
    out = []
    for path in sorted(directory.glob("*.md")):
        for line in _QUERY_LINE.findall(path.read_text()):
            for span in _CODE.findall(line):
                if _NOT_PROMQL.match(span):
                    continue
                for placeholder, value in PLACEHOLDERS.items():
                    span = span.replace(placeholder, value)
                out.append(RunbookQuery(path.stem, span))
    return out
